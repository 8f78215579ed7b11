#!/usr/bin/env bash
# edgec against llama.cpp on a Llama of TinyLlama-1.1B's shape, in one run: bench_llm (edgec: bf16 from the
# safetensors, W8 per channel and W4 g32 by round-to-nearest; prefill of 64 tokens, decode of 32; the read bandwidth
# measured first) and bench/peers/llama_cpp.sh (llama-bench on F16, Q8_0, Q4_0 GGUFs of the same shape). Prints one
# markdown table per thread count and writes both JSON documents to OUT_DIR (default .cache/bench/results).
#   bash bench/llm_vs_llama_cpp.sh [--no-peer]
# Needs build/bench/bench_llm (cmake --build build). The first run fetches and builds llama.cpp from the npm package
# node-llama-cpp (a few minutes; see bench/peers/README.md) and writes 4 GB of models under .cache/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT_DIR:-$root/.cache/bench/results}
mkdir -p "$out"
peer=1
[[ ${1:-} == --no-peer ]] && peer=0
bench="$root/build/bench/bench_llm"
[[ -x $bench ]] || { echo "llm_vs_llama_cpp.sh: build first (cmake --build build): no $bench" >&2; exit 2; }

"$bench" --json > "$out/edgec_llm.json"
if ((peer)); then
  bash "$root/bench/peers/llama_cpp.sh" setup >&2
  bash "$root/bench/peers/llama_cpp.sh" model >&2
  bash "$root/bench/peers/llama_cpp.sh" run > "$out/llama_cpp.json"
fi

jq -r --slurpfile peer <( ((peer)) && cat "$out/llama_cpp.json" || echo '{"results": []}') '
  . as $e
  | ($peer[0].results // []) as $p
  | "read bandwidth: " + ([$e.read_bandwidth_gbs | to_entries[] | "\(.key) thread(s) \(.value * 10 | round / 10) GB/s"] | join(", "))
    + " with 4 KiB pages; " + ([$e.read_bandwidth_huge_pages_gbs | to_entries[] | "\(.key) thread(s) \(.value * 10 | round / 10) GB/s"] | join(", "))
    + " with 2 MiB pages (% of bandwidth: of the first / of the second)",
    "",
    "| weights | threads | edgec prefill tok/s | llama.cpp prefill tok/s | edgec decode tok/s | GB/s | % of bandwidth | llama.cpp decode tok/s | GB/s | % of bandwidth |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ( $e.results[] as $r
      | ({"bf16": "F16", "w8": "Q8_0", "w4g32": "Q4_0", "w4g128": "Q4_0"}[$r.variant]) as $type
      | ([$p[] | select(.type == $type and .threads == $r.threads)] | first) as $q
      | ($e.read_bandwidth_gbs[($r.threads | tostring)]) as $bw
      | ($e.read_bandwidth_huge_pages_gbs[($r.threads | tostring)]) as $hbw
      | "| \($r.variant) vs \($type) | \($r.threads) | \($r.prefill_tokens_per_s * 10 | round / 10) | \(if $q then ($q.prefill_tok_s_median * 10 | round / 10) else "-" end) | \($r.decode_tokens_per_s * 10 | round / 10) | \($r.decode_gbs * 10 | round / 10) | \($r.bandwidth_fraction * 100 | round) / \($r.huge_page_bandwidth_fraction * 100 | round) | \(if $q then ($q.decode_tok_s_median * 10 | round / 10) else "-" end) | \(if $q then ($q.decode_weight_gb_s_median * 10 | round / 10) else "-" end) | \(if $q then "\($q.decode_weight_gb_s_median / $bw * 100 | round) / \($q.decode_weight_gb_s_median / $hbw * 100 | round)" else "-" end) |" )
' "$out/edgec_llm.json"
echo
if ((peer)); then echo "JSON: $out/edgec_llm.json and $out/llama_cpp.json"; else echo "JSON: $out/edgec_llm.json"; fi
