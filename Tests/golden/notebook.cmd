# Notebooks: `ada run FILE --notebook OUT.md|OUT.ipynb` and `save notebook` in a session.
echo "--- Markdown"
$ADA run notebook.ada --notebook out.md >/dev/null
echo "[exit $?]"
cat out.md
ls out_files
python3 -c 'import sys, xml.dom.minidom; [xml.dom.minidom.parse(f) for f in sys.argv[1:]]; print(len(sys.argv) - 1, "well-formed SVG files")' out_files/*.svg
echo "--- Jupyter"
$ADA run notebook.ada --notebook out.ipynb >/dev/null
echo "[exit $?]"
python3 "$ADA_REPO/Tests/golden/nbcheck.py" out.ipynb
echo "--- no temporary files left"
ls -A | grep -c tmp
echo "--- a script that fails: the notebook ends with the failing statement and its error"
printf 'x = 1\nprint "before"\ny = x + "a"\nprint "never"\n' > fails.ada
$ADA run fails.ada --notebook fails.md 2>/dev/null
echo "[exit $?]"
cat fails.md
echo "--- bad notebook names are refused before anything runs"
$ADA run notebook.ada --notebook out.txt; echo "[exit $?]"
$ADA run notebook.ada --notebook nowhere/out.md; echo "[exit $?]"
echo "--- save notebook in a session (statements read from standard input)"
printf 'x = 6\nx * 7\nhelp round\nplot (tensor [1, 4, 9]) title="squares" height=6\nsave notebook "s.md"\nsave notebook "s.ipynb"\n' | $ADA >/dev/null
echo "[exit $?]"
cat s.md
ls s_files
python3 "$ADA_REPO/Tests/golden/nbcheck.py" s.ipynb
echo "--- never clobbers silently; .md or .ipynb only; a file name is needed"
for stmt in 'save notebook "s.md"' 'save notebook "s.md" overwrite=true' 'save notebook "s.txt"' 'save notebook'; do
  echo "$stmt" | $ADA 2>&1
  echo "[exit $?]"
done
