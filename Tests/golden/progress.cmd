# Progress bars go to standard error only when it is a terminal, never with --quiet, and
# never into a notebook. script(1) gives the command a pseudo-terminal. ADA_PROGRESS_DELAY=0
# draws from the first step (normally only commands longer than half a second show one).
printf 'm = load\nr = perplexity m "austen:pride" windows=3 ctx=64\nprint round(r.ppl, 2)\n' > p.ada
export ADA_PROGRESS_DELAY=0
echo "--- standard error is a file: no progress"
$ADA run p.ada 2>err.txt
echo "[exit $?] progress lines on stderr: $(grep -c 'ETA' err.txt), bytes on stderr: $(wc -c <err.txt)"
echo "--- on a terminal: the bar shows, the notebook has none of it"
script -qec "$ADA run p.ada --notebook p.md" /dev/null >tty.txt 2>&1
echo "[exit $?] progress on the terminal: $(grep -c 'perplexity .*1/3.*ETA' tty.txt)"
echo "notebook lines with progress: $(grep -c 'ETA\|1/3' p.md)"
grep -A2 '^```text' p.md
echo "--- on a terminal with --quiet: no bar"
script -qec "$ADA run p.ada --quiet" /dev/null >quiet.txt 2>&1
echo "[exit $?] progress on the terminal: $(grep -c 'ETA' quiet.txt)"
