# A lexical error: an unterminated string.
name = "austen:emma
