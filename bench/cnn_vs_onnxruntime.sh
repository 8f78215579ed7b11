#!/usr/bin/env bash
# edgec against ONNX Runtime on the same ONNX files and the same inputs, in one run: PP-OCRv4 det (the 960x128 input
# bench_ocr feeds it) and rec (one 48x320 line), the PP-OCR mobile cls (a MobileNetV3-style CNN, 48x192),
# fmnist-vit-a at batch 1 and 64, and an int8 QDQ copy of PP-OCRv4 det that bench/make_qdq_cnn writes (per-channel
# int8 weights, u8 activations: the layout of ONNX Runtime's static quantizer, which ONNX Runtime runs on its int8
# kernels; no pre-quantized QDQ CNN is published on the npm registry, bench/peers/README.md).
# Inputs are seeded uniform [0,1) tensors written by the peer (bench/peers/ort_bench.mjs --save-inputs); each model is
# timed at 1 and 2 threads (median of RUNS runs after a warm-up; ONNX Runtime with its default spinning threads and
# graph optimisation "all"), and edgec's output is compared with ONNX Runtime's.
#   bash bench/cnn_vs_onnxruntime.sh            (RUNS=30 by default)
# Needs build/tools/edgec; the first run npm-installs onnxruntime-node into .cache/peers (bench/peers/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-30}
work=${OUT_DIR:-$root/.cache/bench/cnn}
edgec="$root/build/tools/edgec"
[[ -x $edgec ]] || { echo "cnn_vs_onnxruntime.sh: build first (cmake --build build): no $edgec" >&2; exit 2; }
models=${EDGEC_MODELS:-$root/../shared/models}
ppocr=${EDGEC_PPOCR:-$root/.cache/ppocr}
bash "$root/bench/peers/onnxruntime.sh" setup >&2

cases=(
  "ppocrv4-det|$ppocr/ch_PP-OCRv4_det_infer.onnx|x|1,3,128,960"
  "ppocrv4-rec|$ppocr/ch_PP-OCRv4_rec_infer.onnx|x|1,3,48,320"
  "ppocr-cls|$ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|x|1,3,48,192"
  "fmnist-vit-a b1|$models/fmnist-vit-a/onnx/model.onnx|pixel_values|1,1,28,28"
  "fmnist-vit-a b64|$models/fmnist-vit-a/onnx/model.onnx|pixel_values|64,1,28,28"
)
qdq="$root/.cache/bench/ppocrv4-det-qdq.onnx"
mkdir -p "$(dirname "$qdq")"
[[ -x $root/build/bench/make_qdq_cnn && -f $ppocr/ch_PP-OCRv4_det_infer.onnx ]] &&
  "$root/build/bench/make_qdq_cnn" "$ppocr/ch_PP-OCRv4_det_infer.onnx" "$qdq" 1,3,128,960 >&2 &&
  cases+=("ppocrv4-det int8 QDQ|$qdq|x|1,3,128,960")

echo "| model | input | threads | edgec ms | ONNX Runtime ms | edgec / ORT | max abs diff (max abs value) |"
echo "|---|---|---|---|---|---|---|"
for spec in "${cases[@]}"; do
  IFS='|' read -r name file input dims <<< "$spec"
  [[ -f $file ]] || { echo "cnn_vs_onnxruntime.sh: SKIP $name: no $file" >&2; continue; }
  dir="$work/${name// /_}"
  rm -rf "$dir" && mkdir -p "$dir/ort" "$dir/edgec"
  for threads in 1 2; do
    ort=$(bash "$root/bench/peers/onnxruntime.sh" run "$file" --random "$input=$dims" --threads "$threads" --runs "$runs" \
          --save-inputs "$dir" --output-dir "$dir/ort" 2>/dev/null)
    out_name=$(jq -r '.outputs[0].name' <<< "$ort")
    ours=$("$edgec" run "$file" --input "$input=$dir/$input.npy" --output "$out_name=$dir/edgec/out.npy" --repeat "$runs" \
           --threads "$threads" --json)
    ort_ms=$(jq -r '.median_ms' <<< "$ort")
    our_ms=$(jq -r '.timings.run_ms' <<< "$ours")
    diff=$(node "$root/bench/peers/npy_diff.mjs" "$dir/edgec/out.npy" "$dir/ort/${out_name//[^A-Za-z0-9._-]/_}.npy")
    printf '| %s | %s | %s | %.2f | %.2f | %.2f | %s (%s) |\n' "$name" "$dims" "$threads" "$our_ms" "$ort_ms" \
      "$(jq -n "$our_ms / $ort_ms")" "$(jq -r '.max_abs_diff' <<< "$diff")" "$(jq -r '.max_abs_value' <<< "$diff")"
  done
done
