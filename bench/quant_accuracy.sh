#!/usr/bin/env bash
# Regenerates the quantization accuracy tables of docs/quantization.md with the edgec CLI:
#  - stories260k: perplexity, KL(fp32 || quantized) and top-1 agreement on the whole held-out stream
#    (eval/heldout_ids.i32: 93 windows of 256 tokens) for fp32, RTN, GPTQ, GPTQ + --mse-clip and AWQ at
#    W8 per-channel (--group 0), W4 g32 and W3 g32; calibrated on 128 sequences of 256 tokens the model
#    samples itself (--calib-kind generated). RTN needs no calibration and gets none.
#  - fmnist-vlm-a: exact-caption (and class / brightness / size) accuracy on all 10,000 Fashion-MNIST test images
#    for fp32, RTN / GPTQ / AWQ at W4 g32 and W2 g32, SmoothQuant W8A8 with per-token dynamic activations and
#    W8A8 with one static per-tensor activation scale; calibrated on 128 Fashion-MNIST *training* images
#    (Debian's dataset-fashion-mnist) with the prompt template and 16 tokens of the model's own answer.
# Markdown tables go to stdout, progress to stderr; "quantize s" is the wall-clock time of the whole `edgec quantize`
# command (model load and calibration data included). About 20 minutes on 2 cores.
#
#   bash bench/quant_accuracy.sh [EDGEC_BINARY [MODELS_DIR]]     (defaults: build/tools/edgec, ../shared/models)
#
# Environment: FASHION_MNIST_TRAIN (the calibration IDX file), SAMPLES (calibration samples, default 128),
# KEEP_WORK=1 keeps the quantized models (printed path).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) fails the script too

root=$(cd "$(dirname "$0")/.." && pwd)
edgec=${1:-$root/build/tools/edgec}
models=${2:-$root/../shared/models}
fashion=${FASHION_MNIST_TRAIN:-/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}
samples=${SAMPLES:-128}

stories=$models/stories260k
vlm=$models/fmnist-vlm-a
for need in "$edgec" "$stories/config.json" "$vlm/config.json" "$fashion"; do
  [[ -e $need ]] || { echo "quant_accuracy.sh: missing $need" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/quant_accuracy.XXXXXX")
if [[ ${KEEP_WORK:-0} == 1 ]]; then
  echo "quantized models kept in $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

# A number from edgec's --json output (nlohmann's dump(2): one "key": value per line).
json_number() {
  local value
  value=$(sed -n "s/^ *\"$1\": \\([-+0-9.eE]*\\),\\{0,1\\}\$/\\1/p" "$2" | head -n 1)
  [[ -n $value ]] || { echo "quant_accuracy.sh: no \"$1\" in $2" >&2; exit 1; }
  echo "$value"
}
fixed() { LC_ALL=C printf "%.${1}f" "$2"; }
now() { date +%s.%N; }
elapsed() { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# quantize NAME MODEL ARGS...: writes $work/NAME, prints the wall-clock seconds.
quantize() {
  local name=$1 model=$2
  shift 2
  local start
  start=$(now)
  echo "quantize $name: $*" >&2
  "$edgec" quantize "$model" "$@" -o "$work/$name" --force >"$work/$name.log"
  elapsed "$start" "$(now)"
}

# ---------------------------------------------------------------------------------------------------------------
heldout=$stories/eval/heldout_ids.i32
lm_row() {  # lm_row LABEL MODEL QUANTIZE_SECONDS
  local out=$work/lm_eval.json
  "$edgec" eval "$2" --task lm-perplexity --data "$heldout" --reference "$stories" --json >"$out"
  local ppl kl top1
  ppl=$(json_number perplexity "$out")
  kl=$(json_number kl "$out")
  top1=$(json_number top1_agreement "$out")
  echo "| $1 | $(fixed 2 "$ppl") | $(fixed 4 "$kl") | $(fixed 4 "$top1") | $3 |"
}

generated=(--calib-kind generated --samples "$samples")
echo "| stories260k | perplexity | KL(fp32 ‖ q) nats/token | top-1 agreement | quantize s |"
echo "|---|---|---|---|---|"
lm_row "fp32" "$stories" "–"
for scheme in "8 0" "4 32" "3 32"; do
  read -r bits group <<<"$scheme"
  tag=w${bits}g${group}
  label=$([[ $group == 0 ]] && echo "W$bits per-channel" || echo "W$bits g$group")
  s=$(quantize "s-rtn-$tag" "$stories" --method rtn --bits "$bits" --group "$group")
  lm_row "RTN $label" "$work/s-rtn-$tag" "$s"
  s=$(quantize "s-gptq-$tag" "$stories" --method gptq --bits "$bits" --group "$group" "${generated[@]}")
  lm_row "GPTQ $label" "$work/s-gptq-$tag" "$s"
  s=$(quantize "s-gptqmse-$tag" "$stories" --method gptq --mse-clip --bits "$bits" --group "$group" "${generated[@]}")
  lm_row "GPTQ + mse-clip $label" "$work/s-gptqmse-$tag" "$s"
  s=$(quantize "s-awq-$tag" "$stories" --method awq --bits "$bits" --group "$group" "${generated[@]}")
  lm_row "AWQ $label" "$work/s-awq-$tag" "$s"
  rm -rf "$work"/s-*-"$tag"
done
echo

# ---------------------------------------------------------------------------------------------------------------
vlm_row() {  # vlm_row LABEL MODEL QUANTIZE_SECONDS
  local out=$work/vlm_eval.json
  "$edgec" eval "$2" --task vlm-caption --data "$vlm/eval" --json >"$out"
  local n key row="| $1 |"
  n=$(json_number n "$out")
  [[ $n == 10000 ]] || { echo "quant_accuracy.sh: $2 captioned $n images, expected 10000" >&2; exit 1; }
  for key in exact_acc class_acc brightness_acc size_acc parse_fail; do
    row+=" $(fixed 4 "$(json_number "$key" "$out")") |"
  done
  echo "$row $3 |"
}

images=(--calib "$fashion" --prompt-ids "$vlm/eval/prompt_template_ids.i32" --answer-tokens 16 --samples "$samples")
echo "| fmnist-vlm-a (10k test images) | exact | class | brightness | size | parse fail | quantize s |"
echo "|---|---|---|---|---|---|---|"
vlm_row "fp32" "$vlm" "–"
for bits in 4 2; do
  s=$(quantize "v-rtn-w$bits" "$vlm" --method rtn --bits "$bits" --group 32)
  vlm_row "RTN W$bits g32" "$work/v-rtn-w$bits" "$s"
  s=$(quantize "v-gptq-w$bits" "$vlm" --method gptq --bits "$bits" --group 32 "${images[@]}")
  vlm_row "GPTQ W$bits g32" "$work/v-gptq-w$bits" "$s"
  s=$(quantize "v-awq-w$bits" "$vlm" --method awq --bits "$bits" --group 32 "${images[@]}")
  vlm_row "AWQ W$bits g32" "$work/v-awq-w$bits" "$s"
  rm -rf "$work"/v-*-w"$bits"
done
# --method smoothquant alone means W8 per-channel symmetric weights + int8 per-token dynamic activations.
s=$(quantize v-sq-dynamic "$vlm" --method smoothquant "${images[@]}")
vlm_row "SmoothQuant W8A8 (per-token dynamic)" "$work/v-sq-dynamic" "$s"
# With --activations given the method keeps the command line's weight scheme, so W8 per-channel sym is spelt out.
s=$(quantize v-sq-static "$vlm" --method smoothquant --activations int8-static --bits 8 --group 0 --sym "${images[@]}")
vlm_row "SmoothQuant W8A8 (per-tensor static)" "$work/v-sq-static" "$s"
