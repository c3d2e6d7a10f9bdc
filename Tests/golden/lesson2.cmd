# docs/examples/lesson-2-outliers.ada: its key outputs.
$ADA run --ascii "$ADA_REPO/docs/examples/lesson-2-outliers.ada" >out.txt 2>&1
echo "[exit $?]"
echo "--- the largest outlier channel"
grep -m1 "^blk\." out.txt | awk '{print $1, $2}'
echo "--- the profile plot and the explanation"
grep -c "max|x| per input channel of blk.11.ffn_down" out.txt
grep -o "channel 1229 has the largest activations" out.txt
grep -o "per-OC: channel 1229 shares each row's group with columns 1152…1279" out.txt
grep -o "here per-IC gives the smaller output error" out.txt
grep -o -- "|ŵ − w| of blk.11.ffn_down" out.txt
echo "--- perplexity: full precision < per-OC < per-IC"
awk '$1 == "fp" || $1 == "oc" || $1 == "ic" { if (NF == 2) p[$1] = $2 } END { print (p["fp"] < p["oc"] && p["oc"] < p["ic"]) ? "ok" : "FAIL " p["fp"] " " p["oc"] " " p["ic"] }' out.txt
