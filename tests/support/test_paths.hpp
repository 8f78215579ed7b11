#pragma once
// Where tests find real models. Each function returns an empty path (after printing a SKIP line) when the
// data is absent, so a test can `if (dir.empty()) return;`.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace edgec::test {

inline std::filesystem::path existing_or_skip(const std::filesystem::path& path, const std::string& what,
                                              const std::string& how_to_get) {
  if (std::filesystem::exists(path)) return path;
  std::cout << "SKIP: " << what << " not found at " << path.string() << " (" << how_to_get << ")\n";
  return {};
}

// ../shared/models, or $EDGEC_MODELS.
inline std::filesystem::path shared_models() {
  const char* env = std::getenv("EDGEC_MODELS");
  const std::filesystem::path base = env && *env ? std::filesystem::path(env)
                                                 : std::filesystem::path(EDGEC_SOURCE_DIR) / ".." / "shared" / "models";
  return existing_or_skip(base, "shared models", "set EDGEC_MODELS to the folder holding stories260k/ etc.");
}

inline std::filesystem::path shared_model(const std::string& name) {
  const auto base = shared_models();
  if (base.empty()) return {};
  return existing_or_skip(base / name, "shared model " + name, "set EDGEC_MODELS");
}

// PP-OCRv4 det/rec/cls ONNX models, fetched by scripts/fetch-test-data.sh into .cache/ppocr (or $EDGEC_PPOCR).
inline std::filesystem::path ppocr_models() {
  const char* env = std::getenv("EDGEC_PPOCR");
  const std::filesystem::path dir = env && *env ? std::filesystem::path(env)
                                                : std::filesystem::path(EDGEC_SOURCE_DIR) / ".cache" / "ppocr";
  return existing_or_skip(dir, "PP-OCRv4 models", "run scripts/fetch-test-data.sh");
}

// Real text images with known transcripts (Debian packages, see scripts/fetch-test-data.sh), fetched into
// .cache/ocr-images (or $EDGEC_OCR_IMAGES).
inline std::filesystem::path ocr_images() {
  const char* env = std::getenv("EDGEC_OCR_IMAGES");
  const std::filesystem::path dir = env && *env ? std::filesystem::path(env)
                                                : std::filesystem::path(EDGEC_SOURCE_DIR) / ".cache" / "ocr-images";
  return existing_or_skip(dir, "OCR test images", "run scripts/fetch-test-data.sh");
}

// ONNX conformance data from Debian's libonnx-testdata.
inline std::filesystem::path onnx_testdata() {
  const char* env = std::getenv("EDGEC_ONNX_TESTDATA");
  const std::filesystem::path dir = env && *env ? std::filesystem::path(env)
                                                : std::filesystem::path("/usr/share/libonnx-testdata/data");
  return existing_or_skip(dir, "libonnx-testdata", "apt-get install libonnx-testdata");
}

}  // namespace edgec::test
