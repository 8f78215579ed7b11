// PP-OCRv4 with every Conv and MatMul weight quantized (W8 per output channel, round to nearest) still reads the
// tesseract-sys page to its transcript: the real-model check of edgec.QConv (38 convolutions in rec, plain,
// pointwise and depthwise; PaddlePaddle's exporter stores their weights as Constant nodes).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "edgec/formats/image.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "edgec/runtime/ppocr.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
namespace ppocr = edgec::runtime::ppocr;

namespace {

// Quantizes one ONNX model of `from` into `to` (same file name); returns how many layers became QConv / QLinear.
std::pair<size_t, size_t> quantize_file(const fs::path& from, const fs::path& to, const std::string& name) {
  edgec::Model model = edgec::load_model(from / name);
  REQUIRE(model.graphs.size() == 1);
  edgec::quant::QuantizeOptions options;
  options.scheme.bits = 8;
  options.scheme.group_size = 0;
  const auto report = edgec::quant::quantize_graph(model.graphs[0], nullptr, options, "rtn");
  size_t convs = 0, linears = 0;
  for (const auto& layer : report.layers) (layer.op == "Conv" ? convs : linears)++;
  edgec::onnx_format::export_onnx(model.graphs[0], to / name);
  return {convs, linears};
}

}  // namespace

TEST_CASE("ppocr: PP-OCRv4 det + rec quantized to W8 per channel read the tesseract-sys page unchanged") {
  const auto models = edgec::test::ppocr_models();
  const auto images = edgec::test::ocr_images();
  if (models.empty() || images.empty()) return;
  const fs::path work = fs::temp_directory_path() / ("edgec_ppocr_w8_" + std::to_string(::getpid()));
  fs::create_directories(work);
  const auto [rec_convs, rec_linears] = quantize_file(models, work, "ch_PP-OCRv4_rec_infer.onnx");
  CHECK(rec_convs == 38);
  CHECK(rec_linears == 9);
  const auto [det_convs, det_linears] = quantize_file(models, work, "ch_PP-OCRv4_det_infer.onnx");
  CHECK(det_convs > 50);
  fs::copy_file(models / "ppocr_keys_v1.txt", work / "ppocr_keys_v1.txt");

  const ppocr::PpOcr reference(models), quantized(work);
  const edgec::Image image = edgec::load_image(images / "tesseract-sys-img.png");
  const auto expected = reference.read(image);
  const auto lines = quantized.read(image);
  REQUIRE(lines.size() == expected.size());
  REQUIRE(lines.size() == 4);
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i << ": " << lines[i].recognized.text);
    CHECK(lines[i].recognized.text == expected[i].recognized.text);
    CHECK(std::abs(lines[i].recognized.score - expected[i].recognized.score) < 0.01f);
  }
  fs::remove_all(work);
}
