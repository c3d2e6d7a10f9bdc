# perplexity's protocol arguments: each bad one gets a one-line error with the caret under it.
# A negative character count, an odd context for llama.cpp's protocol, a text too short for
# one chunk, more chunks than the text holds, a misspelt protocol word (found by `ada check`
# before anything runs), and the same errors from `ada ppl`.
$ADA -e 'm = load
perplexity m "austen:pride" chars=-1'; echo "[exit $?]"
$ADA -e 'm = load
perplexity m "austen:pride" protocol=llama.cpp ctx=511'; echo "[exit $?]"
$ADA -e 'm = load
perplexity m "austen:pride" protocol=llama.cpp chars=1000'; echo "[exit $?]"
$ADA -e 'm = load
perplexity m "austen:pride" protocol=llama.cpp chars=5000 windows=10'; echo "[exit $?]"
printf 'm = load\nr = perplexity m "austen:pride" protocol=llama.cp\n' >typo.ada
$ADA check typo.ada; echo "[exit $?]"
$ADA ppl --protocol llama.cpp --chars 1000; echo "[exit $?]"
$ADA ppl --protocol llama.cpp --ctx 255 --chars 5000; echo "[exit $?]"
$ADA ppl --chars=-3; echo "[exit $?]"
$ADA ppl --protocol llama; echo "[exit $?]"
