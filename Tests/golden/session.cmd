$ADA run session.ada
echo "[exit $?]"
echo "--- the saved file"
cat saved.ada
echo "--- its replay"
$ADA run saved.ada
echo "[exit $?]"
echo "--- save never clobbers silently"
$ADA -e 'x = 1; save "saved.ada"'
echo "[exit $?]"
$ADA -e 'x = 1; save "saved.ada" overwrite=true'
echo "[exit $?]"
cat saved.ada
echo "--- a session run with --set records the value it used"
rm saved.ada
$ADA run session.ada --set bits=5 | tail -n 1
cat saved.ada
$ADA run saved.ada | tail -n 1
