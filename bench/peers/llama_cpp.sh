#!/usr/bin/env bash
# Peer benchmark: llama.cpp (llama-bench) on a Llama with TinyLlama-1.1B's exact shape and random weights.
#
#   bash bench/peers/llama_cpp.sh [setup|model|run|all]...     (no argument = setup model run)
#
#   setup  npm-packs node-llama-cpp@$NLC_VERSION (it ships llama.cpp as a git bundle), clones the bundle and builds
#          only llama-bench and llama-quantize (CPU, Release, GGML_NATIVE=OFF, AVX-512 on, AMX off, OpenMP on).
#   model  writes a TinyLlama-shaped F16 GGUF with random weights (write_gguf.cpp), then Q8_0 and Q4_0 with
#          llama-quantize --pure.
#   run    llama-bench pp$N_PROMPT and tg$N_GEN at 1 and 2 threads for F16, Q8_0, Q4_0, and prints one JSON
#          summary on stdout (everything else goes to stderr).
#
# Everything lives in $EDGEC_PEERS_CACHE (default <repo>/.cache/peers/llama.cpp). Nothing is downloaded except the
# npm tarball; edgec's own build never depends on any of this. Each step is idempotent (marker files).
#
# Environment knobs: JOBS (build parallelism, default: nproc), REPS (llama-bench repetitions, default 3),
# N_PROMPT (64), N_GEN (32), THREADS ("1,2"), TYPES ("F16 Q8_0 Q4_0"), SEED (1234), WAIT_QUIET (seconds to wait
# before each model's run for other work to stop using the CPUs, default 0).
set -euo pipefail

# ---- pins ---------------------------------------------------------------------------------------------------------
NLC_VERSION="3.22.1"
NLC_INTEGRITY="sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=="
LLAMA_CPP_TAG="v0.5.0"                                         # node-llama-cpp's llama/llama.cpp.info.json
LLAMA_CPP_COMMIT="de3ff815ea7d559ee917f063901b8986f038abc6"    # HEAD of llama/gitRelease.bundle (one squashed commit)

# ---- paths / knobs ------------------------------------------------------------------------------------------------
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${EDGEC_PEERS_CACHE:-$REPO/.cache/peers/llama.cpp}"
SRC="$CACHE/src"
BUILD="$CACHE/build"
MODELS="$CACHE/models"
RESULTS="$CACHE/results"
TOOLS="$CACHE/tools"
BENCH_BIN="$BUILD/bin/llama-bench"
QUANT_BIN="$BUILD/bin/llama-quantize"
WRITER_BIN="$TOOLS/write_gguf"
JOBS="${JOBS:-$(nproc)}"
REPS="${REPS:-3}"
N_PROMPT="${N_PROMPT:-64}"
N_GEN="${N_GEN:-32}"
THREADS="${THREADS:-1,2}"
TYPES="${TYPES:-F16 Q8_0 Q4_0}"
SEED="${SEED:-1234}"
WAIT_QUIET="${WAIT_QUIET:-0}"

log() { printf '[llama_cpp.sh] %s\n' "$*" >&2; }
die() { printf '[llama_cpp.sh] ERROR: %s\n' "$*" >&2; exit 1; }

TMPDIRS=()
cleanup() { local d; for d in "${TMPDIRS[@]+"${TMPDIRS[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# Sets TMP_DIR to a fresh temp dir that the EXIT trap removes (no command substitution: it would lose TMPDIRS).
mktemp_dir() { TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/edgec-peer-llama.XXXXXX")"; TMPDIRS+=("$TMP_DIR"); }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }
# npm-style Subresource Integrity string (sha512-<base64>) of a file.
sri() { node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"; }

# The configuration that the setup marker certifies; changing any of it forces a rebuild.
CMAKE_FLAGS=(
  -G Ninja
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF
  -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF
  -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
  -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON
  -DGGML_AVX512_VBMI=OFF -DGGML_AVX_VNNI=OFF
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
  -DGGML_OPENMP=ON -DGGML_OPENMP_FETCH=OFF
  -DGGML_CUDA=OFF -DGGML_HIP=OFF -DGGML_MUSA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_SYCL=OFF
  -DGGML_OPENCL=OFF -DGGML_WEBGPU=OFF -DGGML_RPC=OFF -DGGML_BLAS=OFF -DGGML_CPU_KLEIDIAI=OFF -DGGML_CCACHE=OFF
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_LLGUIDANCE=OFF
  -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
)
setup_stamp() { printf 'node-llama-cpp@%s %s %s %s\n' "$NLC_VERSION" "$LLAMA_CPP_TAG" "$LLAMA_CPP_COMMIT" "${CMAKE_FLAGS[*]}"; }

# ---- setup --------------------------------------------------------------------------------------------------------
step_setup() {
  local marker="$CACHE/.setup-done"
  if [[ -f "$marker" && -x "$BENCH_BIN" && -x "$QUANT_BIN" ]] && [[ "$(cat "$marker")" == "$(setup_stamp)" ]]; then
    log "setup: up to date (node-llama-cpp@$NLC_VERSION, llama.cpp $LLAMA_CPP_TAG ${LLAMA_CPP_COMMIT:0:12})"
    return 0
  fi
  need npm "install Node.js/npm"; need node "install Node.js"; need git "apt-get install git"; need cmake "apt-get install cmake"
  need ninja "apt-get install ninja-build"; need g++ "apt-get install g++"; need tar "apt-get install tar"
  mkdir -p "$CACHE"
  rm -f "$marker"
  local tmp tgz="$CACHE/node-llama-cpp-$NLC_VERSION.tgz"
  mktemp_dir; tmp="$TMP_DIR"

  if [[ -f "$tgz" ]] && [[ "$(sri "$tgz")" == "$NLC_INTEGRITY" ]]; then
    log "setup: using cached $tgz"
  else
    log "setup: npm pack node-llama-cpp@$NLC_VERSION"
    local packed
    packed="$(cd "$tmp" && npm pack --loglevel=error "node-llama-cpp@$NLC_VERSION" 2>"$tmp/npm.err")" \
      || { cat "$tmp/npm.err" >&2; die "npm pack node-llama-cpp@$NLC_VERSION failed (is the npm registry reachable?)"; }
    packed="$(printf '%s\n' "$packed" | tail -n1)"
    [[ -f "$tmp/$packed" ]] || die "npm pack produced no tarball (got '$packed')"
    local got; got="$(sri "$tmp/$packed")"
    [[ "$got" == "$NLC_INTEGRITY" ]] || die "node-llama-cpp@$NLC_VERSION integrity mismatch: $got != $NLC_INTEGRITY"
    mv -f "$tmp/$packed" "$tgz"
  fi

  log "setup: extracting the llama.cpp git bundle"
  tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json \
    || die "could not extract llama/gitRelease.bundle from $tgz"
  local tag
  tag="$(sed -n 's/.*"tag"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$tmp/package/llama/llama.cpp.info.json")"
  [[ "$tag" == "$LLAMA_CPP_TAG" ]] || die "bundle says llama.cpp tag '$tag', script pins '$LLAMA_CPP_TAG'"
  git bundle verify -q "$tmp/package/llama/gitRelease.bundle" >/dev/null 2>&1 || die "git bundle verify failed"
  rm -rf "$SRC.new"
  git -c advice.detachedHead=false clone -q "$tmp/package/llama/gitRelease.bundle" "$SRC.new" \
    || die "git clone of the bundle failed"
  local head
  head="$(git -C "$SRC.new" rev-parse HEAD)"
  [[ "$head" == "$LLAMA_CPP_COMMIT" ]] || die "bundle HEAD $head != pinned $LLAMA_CPP_COMMIT"
  rm -rf "$SRC" "$BUILD"
  mv "$SRC.new" "$SRC"

  log "setup: configuring (cmake, Ninja, Release)"
  nice -n 19 cmake -S "$SRC" -B "$BUILD" "${CMAKE_FLAGS[@]}" >"$CACHE/cmake-configure.log" 2>&1 \
    || { tail -n 40 "$CACHE/cmake-configure.log" >&2; die "cmake configure failed (log: $CACHE/cmake-configure.log)"; }
  grep -q 'Found OpenMP' "$CACHE/cmake-configure.log" || log "setup: WARNING: cmake did not report OpenMP"
  log "setup: building llama-bench llama-quantize (-j$JOBS, nice 19; log: $CACHE/build.log)"
  nice -n 19 cmake --build "$BUILD" --target llama-bench llama-quantize -j "$JOBS" >"$CACHE/build.log" 2>&1 \
    || { tail -n 40 "$CACHE/build.log" >&2; die "build failed (log: $CACHE/build.log)"; }
  [[ -x "$BENCH_BIN" && -x "$QUANT_BIN" ]] || die "build finished but $BENCH_BIN / $QUANT_BIN are missing"
  # The VM raises SIGILL on AMX: make sure no AMX tile instruction made it into the binary.
  # (grep -c reads all input: grep -q would SIGPIPE objdump, and pipefail would then hide a match.)
  if command -v objdump >/dev/null 2>&1; then
    local n_amx
    n_amx="$(objdump -d --no-show-raw-insn "$BENCH_BIN" | grep -cE '\b(ldtilecfg|tileloadd|tdpbssd|tdpbf16ps)\b' || true)"
    [[ "$n_amx" == 0 ]] || die "llama-bench contains $n_amx AMX instructions although AMX is off"
  fi
  "$BENCH_BIN" --version >&2 2>&1 || true
  setup_stamp >"$marker"
  log "setup: done"
}

# ---- model --------------------------------------------------------------------------------------------------------
model_path() { printf '%s/tinyllama-shape-%s.gguf\n' "$MODELS" "$(tr '[:upper:]' '[:lower:]' <<<"$1")"; }

build_writer() {
  need g++ "apt-get install g++"
  mkdir -p "$TOOLS"
  local sum; sum="$(sha256sum "$HERE/write_gguf.cpp" | cut -d' ' -f1)"
  if [[ -x "$WRITER_BIN" && -f "$WRITER_BIN.src-sha256" && "$(cat "$WRITER_BIN.src-sha256")" == "$sum" ]]; then
    return 0
  fi
  log "model: compiling write_gguf.cpp"
  nice -n 19 g++ -std=c++20 -O2 -Wall -Wextra -o "$WRITER_BIN.tmp" "$HERE/write_gguf.cpp" \
    || die "compiling $HERE/write_gguf.cpp failed"
  mv -f "$WRITER_BIN.tmp" "$WRITER_BIN"
  printf '%s\n' "$sum" >"$WRITER_BIN.src-sha256"
}

step_model() {
  [[ -x "$QUANT_BIN" ]] || die "llama-quantize not built: run '$0 setup' first"
  build_writer
  mkdir -p "$MODELS"
  local wsum; wsum="$(cat "$WRITER_BIN.src-sha256")"
  local f16; f16="$(model_path F16)"
  local stamp_f16="writer=$wsum seed=$SEED"
  if [[ -f "$f16" && -f "$f16.stamp" && "$(cat "$f16.stamp")" == "$stamp_f16" ]]; then
    log "model: F16 up to date ($f16)"
  else
    rm -f "$f16" "$f16.stamp"
    log "model: writing F16 GGUF with random weights (seed $SEED)"
    "$WRITER_BIN" "$f16.tmp" "$SEED" >&2 || { rm -f "$f16.tmp"; die "write_gguf failed"; }
    mv -f "$f16.tmp" "$f16"
    printf '%s\n' "$stamp_f16" >"$f16.stamp"
  fi
  local t out stamp
  for t in $TYPES; do
    [[ "$t" == F16 ]] && continue
    out="$(model_path "$t")"
    stamp="from=$(cat "$f16.stamp") llama.cpp=$LLAMA_CPP_COMMIT quantize=--pure $t"
    if [[ -f "$out" && -f "$out.stamp" && "$(cat "$out.stamp")" == "$stamp" ]]; then
      log "model: $t up to date ($out)"; continue
    fi
    rm -f "$out" "$out.stamp"
    log "model: llama-quantize --pure $t"
    nice -n 19 "$QUANT_BIN" --pure "$f16" "$out.tmp" "$t" "$(nproc)" >"$MODELS/quantize-$t.log" 2>&1 \
      || { rm -f "$out.tmp"; tail -n 30 "$MODELS/quantize-$t.log" >&2; die "llama-quantize $t failed"; }
    mv -f "$out.tmp" "$out"
    printf '%s\n' "$stamp" >"$out.stamp"
  done
  log "model: done"
}

# ---- run ----------------------------------------------------------------------------------------------------------
# Fraction (0..1) of all CPUs busy over one second, i.e. other work competing with the benchmark.
cpu_busy() {
  local a b
  read -r -a a </proc/stat; sleep 1; read -r -a b </proc/stat
  awk -v a="${a[*]:1}" -v b="${b[*]:1}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); tot = 0; idle = 0
    for (i = 1; i <= n && i <= 8; i++) { d = y[i] - x[i]; tot += d; if (i == 4 || i == 5) idle += d }
    busy = 0; if (tot > 0) busy = 1 - idle / tot
    printf("%.3f\n", busy) }'
}

step_run() {
  [[ -x "$BENCH_BIN" ]] || die "llama-bench not built: run '$0 setup' first"
  [[ -x "$WRITER_BIN" ]] || build_writer
  need node "install Node.js"
  mkdir -p "$RESULTS"
  local t m raw info busy waited
  for t in $TYPES; do
    m="$(model_path "$t")"
    [[ -f "$m" ]] || die "$m is missing: run '$0 model' first"
    raw="$RESULTS/llama-bench-$t.json"; info="$RESULTS/gguf-info-$t.json"
    "$WRITER_BIN" --info "$m" >"$info" || die "reading tensor sizes of $m failed"
    busy="$(cpu_busy)"; waited=0
    while (( waited < WAIT_QUIET )) && awk -v b="$busy" 'BEGIN { exit !(b > 0.10) }'; do
      sleep 4; waited=$((waited + 5)); busy="$(cpu_busy)"
    done
    awk -v b="$busy" 'BEGIN { exit !(b > 0.10) }' \
      && log "run: WARNING: ${busy} of the CPUs were busy with other work just before the $t run; numbers will be noisy"
    printf '{"cpu_busy_before": %s, "loadavg_before": "%s", "waited_s": %d}\n' \
      "$busy" "$(cut -d' ' -f1-3 /proc/loadavg)" "$waited" >"$RESULTS/env-$t.json"
    log "run: llama-bench $t: -p $N_PROMPT -n $N_GEN -t $THREADS -r $REPS"
    "$BENCH_BIN" -m "$m" -p "$N_PROMPT" -n "$N_GEN" -t "$THREADS" -r "$REPS" -o json \
      >"$raw.tmp" 2>"$RESULTS/llama-bench-$t.log" \
      || { tail -n 30 "$RESULTS/llama-bench-$t.log" >&2; die "llama-bench $t failed (log: $RESULTS/llama-bench-$t.log)"; }
    mv -f "$raw.tmp" "$raw"
  done
  RESULTS="$RESULTS" TYPES="$TYPES" NLC_VERSION="$NLC_VERSION" LLAMA_CPP_TAG="$LLAMA_CPP_TAG" \
  LLAMA_CPP_COMMIT="$LLAMA_CPP_COMMIT" REPS="$REPS" N_PROMPT="$N_PROMPT" N_GEN="$N_GEN" SEED="$SEED" \
  CMAKE_FLAGS="${CMAKE_FLAGS[*]}" node - <<'EOF' || die "summarising the llama-bench output failed"
const fs = require("fs");
const env = process.env;
const results = [];
let meta = null;
for (const type of env.TYPES.split(/\s+/).filter(Boolean)) {
  const rows = JSON.parse(fs.readFileSync(`${env.RESULTS}/llama-bench-${type}.json`, "utf8"));
  const info = JSON.parse(fs.readFileSync(`${env.RESULTS}/gguf-info-${type}.json`, "utf8"));
  const byThreads = new Map();
  for (const r of rows) {
    meta = meta || r;
    const e = byThreads.get(r.n_threads) || {};
    const kind = r.n_prompt > 0 && r.n_gen === 0 ? "prefill" : r.n_gen > 0 && r.n_prompt === 0 ? "decode" : null;
    if (!kind) continue;
    e[kind] = r;
    byThreads.set(r.n_threads, e);
  }
  const env_t = JSON.parse(fs.readFileSync(`${env.RESULTS}/env-${type}.json`, "utf8"));
  for (const [threads, e] of [...byThreads.entries()].sort((a, b) => a[0] - b[0])) {
    const round = (x, d = 3) => (x == null || !isFinite(x) ? null : Number(x.toFixed(d)));
    const median = (a) => { const s = [...a].sort((x, y) => x - y); const n = s.length;
                            return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null; };
    const stats = (r) => r ? { mean: round(r.avg_ts), stddev: round(r.stddev_ts), median: round(median(r.samples_ts)),
                               max: round(Math.max(...r.samples_ts)), samples: r.samples_ts.map((x) => round(x)) } : null;
    const pf = stats(e.prefill), dc = stats(e.decode);
    const gbs = (x) => (x == null ? null : round(info.decode_weight_bytes * x / 1e9));
    results.push({
      type, threads,
      prefill_tokens: e.prefill ? e.prefill.n_prompt : null,
      prefill_tok_s: pf && pf.mean, prefill_tok_s_stddev: pf && pf.stddev,
      prefill_tok_s_median: pf && pf.median, prefill_tok_s_max: pf && pf.max,
      decode_tokens: e.decode ? e.decode.n_gen : null,
      decode_tok_s: dc && dc.mean, decode_tok_s_stddev: dc && dc.stddev,
      decode_tok_s_median: dc && dc.median, decode_tok_s_max: dc && dc.max,
      file_bytes: info.file_bytes,
      tensor_bytes: info.tensor_bytes,
      token_embd_bytes: info.token_embd_bytes,
      decode_weight_bytes_per_token: info.decode_weight_bytes,
      decode_weight_gb_s: gbs(dc && dc.mean),
      decode_weight_gb_s_median: gbs(dc && dc.median),
      tensor_types: info.tensor_types,
      model_size_reported_by_llama_bench: (e.prefill || e.decode).model_size,
      prefill_samples_tok_s: pf && pf.samples, decode_samples_tok_s: dc && dc.samples,
      cpu_busy_before: env_t.cpu_busy_before, loadavg_before: env_t.loadavg_before,
    });
  }
}
const out = {
  peer: "llama.cpp",
  tool: "llama-bench",
  node_llama_cpp: env.NLC_VERSION,
  llama_cpp_tag: env.LLAMA_CPP_TAG,
  llama_cpp_commit: env.LLAMA_CPP_COMMIT,
  build_commit: meta && meta.build_commit, build_number: meta && meta.build_number,
  cpu_info: meta && meta.cpu_info, backends: meta && meta.backends,
  build_flags: env.CMAKE_FLAGS,
  model: {
    shape: "TinyLlama-1.1B (llama): hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 KV heads, head_dim 64, vocab 32000, rms_norm_eps 1e-5, rope_theta 10000, untied lm_head",
    weights: `random N(0, 0.02), norms 1.0, seed ${env.SEED}; F16 written by write_gguf.cpp, Q8_0/Q4_0 by llama-quantize --pure`,
  },
  settings: {
    n_prompt: Number(env.N_PROMPT), n_gen: Number(env.N_GEN), repetitions: Number(env.REPS),
    n_batch: meta && meta.n_batch, n_ubatch: meta && meta.n_ubatch,
    flash_attn: meta && ({ "-1": "auto", "0": "off", "1": "on" }[String(meta.flash_attn)] ?? meta.flash_attn),
    type_k: meta && meta.type_k, type_v: meta && meta.type_v, load_mode: meta && (meta.load_mode ?? meta.use_mmap),
  },
  bytes_note: "decode_weight_bytes_per_token = bytes of every tensor in the GGUF except token_embd.weight " +
    "(i.e. all 22 layers' attn_q/k/v/output + ffn_gate/up/down + the norms + output_norm + output.weight/lm_head), " +
    "the weights a decode step streams once; token_embd is excluded because one row of it is read per token. " +
    "KV-cache and activation traffic are not counted. decode_weight_gb_s = decode_weight_bytes_per_token * decode_tok_s / 1e9 " +
    "(decode_weight_gb_s_median uses decode_tok_s_median).",
  noise_note: "tok/s are llama-bench's per-repetition means; *_median and *_max are over its repetitions. cpu_busy_before " +
    "is the fraction of all CPUs busy with other work in the second before each model's run; on this shared 2-core " +
    "machine a busy other core wrecks the 2-thread numbers (OpenMP threads wait on a descheduled peer).",
  results,
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
EOF
}

# ---- main ---------------------------------------------------------------------------------------------------------
main() {
  local steps=("$@")
  [[ ${#steps[@]} -gt 0 ]] || steps=(setup model run)
  local s
  [[ "${steps[0]}" == all ]] && steps=(setup model run)
  for s in "${steps[@]}"; do
    case "$s" in setup|model|run) ;; -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *) die "unknown step '$s' (expected setup, model, run or all)" ;; esac
  done
  local t0
  for s in "${steps[@]}"; do
    t0=$SECONDS
    "step_$s"
    log "$s: took $((SECONDS - t0)) s"
  done
}
main "$@"
