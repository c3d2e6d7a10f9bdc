# docs/examples/lesson-3-gptq.ada: its key outputs.
$ADA run --ascii "$ADA_REPO/docs/examples/lesson-3-gptq.ada" >out.txt 2>&1
echo "[exit $?]"
echo "--- one layer: GPTQ's weight error is larger than RTN's, its output error smaller"
awk '/^GPTQ: weight error/ { print ($5 > 1 && $10 < 1) ? "ok" : "FAIL " $0 }' out.txt
awk '/^per-IC: output error/ { print ($6 < $5 + 0 ? "FAIL " : "") "per-IC: GPTQ " ($7 < $5 ? "below" : "above") " RTN" }' out.txt
grep -c "|ŵ − w| of blk.3.ffn_down" out.txt
awk '/^largest/ { print ($8 > $6) ? "ok: GPTQ moves some weights further than RTN" : "FAIL " $0 }' out.txt
echo "--- the whole model: GPTQ's perplexity below RTN's"
awk '/per-OC perplexity/ { p[$1] = $5 } END { print (p["gptq"] < p["rtn"]) ? "ok" : "FAIL " p["rtn"] " " p["gptq"] }' out.txt
