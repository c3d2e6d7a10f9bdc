# docs/examples/lesson-4-adadim.ada: its key outputs.
$ADA run --ascii "$ADA_REPO/docs/examples/lesson-4-adadim.ada" >out.txt 2>&1
echo "[exit $?]"
echo "--- the choice map: every value projection per-IC"
grep -E "^  (block|v) " out.txt | sed 's/ *$//'
echo "--- block 11: ffn_down chooses per-IC"
grep -E "^blk\.11\.ffn_down" out.txt | awk '{print $1, $2}'
echo "--- perplexity: AdaDim below per-OC"
awk 'NF == 2 && ($1 == "fp" || $1 == "oc" || $1 == "ada") { p[$1] = $2 } END { print (p["fp"] < p["ada"] && p["ada"] < p["oc"]) ? "ok" : "FAIL " p["fp"] " " p["oc"] " " p["ada"] }' out.txt
