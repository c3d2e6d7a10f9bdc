# The renderings of render.ada in ASCII mode (--ascii): what a terminal without Unicode shows.
$ADA run --ascii render.ada
echo "[exit $?]"
# ADA_ASCII=1 asks for the same; a UTF-8 locale without it draws with blocks and braille.
ADA_ASCII=1 $ADA -e 'plot (tensor [1, 3, 2]) height=4 width=40'
LC_ALL=C.UTF-8 $ADA -e 'plot (tensor [1, 3, 2]) height=4 width=40'
LC_ALL=C $ADA -e 'plot (tensor [1, 3, 2]) height=4 width=40'
