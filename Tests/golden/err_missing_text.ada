# A missing text file.
calib = text "my_corpus.txt" windows=4
