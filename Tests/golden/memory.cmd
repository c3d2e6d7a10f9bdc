echo "--- ADA_MEMORY=1G, then the session's setting"
ADA_MEMORY=1G $ADA run memory.ada; echo "[exit $?]"
echo "--- without ADA_MEMORY: a quarter of physical memory"
env -u ADA_MEMORY $ADA -e 'r = memory; print r.source, (r.bytes > 0)'; echo "[exit $?]"
echo "--- a malformed ADA_MEMORY is ignored"
ADA_MEMORY=lots $ADA -e 'print (memory).source'; echo "[exit $?]"
echo "--- the setting is saved with the session and replayed"
ADA_MEMORY=1G $ADA -e 'memory "64M"; save "mem.ada"' >/dev/null; grep -v '^#' mem.ada
printf 'print (memory).size, (memory).source\n' >>mem.ada
ADA_MEMORY=1G $ADA run mem.ada; echo "[exit $?]"
echo "--- errors: one line under the argument"
$ADA -e 'memory 0'; echo "[exit $?]"
$ADA -e 'memory 1.5'; echo "[exit $?]"
