# memory with a size that is not one.
memory "2X"
