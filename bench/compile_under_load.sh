#!/usr/bin/env bash
# `edgec compile` of every example recipe on an idle machine and next to another CPU-bound process (one busy loop,
# the normal state of a shared CI runner), at edgec's default thread count (every CPU). Prints the seconds of each
# and their ratio. edgec's thread pool hands work out in chunks and bounds its spin (docs/runtime.md, "Threads"), so
# the busy neighbour should cost about its share of one core, not a multiple (with OpenMP's spinning waits the
# stories260k compile took 93 s instead of 14 s).
#   bash bench/compile_under_load.sh [recipes/X.yaml ...]     (default: recipes/*.yaml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
edgec="$root/build/tools/edgec"
[[ -x $edgec ]] || { echo "compile_under_load.sh: build first (cmake --build build): no $edgec" >&2; exit 2; }
recipes=("$@")
((${#recipes[@]})) || recipes=(recipes/*.yaml)
work=$(mktemp -d)
hog=""
trap '[[ -n $hog ]] && kill "$hog" 2>/dev/null; rm -rf "$work"' EXIT

seconds() {  # seconds of one compile of recipe $1
  local start end
  start=$(date +%s.%N)
  "$edgec" compile "$1" -o "$work/out" --quiet >/dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}

echo "| recipe | idle s | with a busy neighbour s | ratio |"
echo "|---|---|---|---|"
for recipe in "${recipes[@]}"; do
  seconds "$recipe" >/dev/null  # warm-up: page cache, calibration images decoded once
  idle=$(seconds "$recipe")
  (while :; do :; done) &
  hog=$!
  loaded=$(seconds "$recipe")
  kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null || true
  hog=""
  printf '| %s | %.1f | %.1f | %.2f |\n' "$(basename "$recipe" .yaml)" "$idle" "$loaded" "$(awk -v a="$loaded" -v b="$idle" 'BEGIN { print a / b }')"
done
