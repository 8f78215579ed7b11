// The PP-OCR system: detection, crops in reading order, recognition (PaddleOCR's TextSystem without the angle
// classifier).
#include "edgec/runtime/ppocr.hpp"

#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"

namespace edgec::runtime::ppocr {

namespace {

Model load_single_graph(const std::filesystem::path& file) {
  Model model = onnx_format::import_onnx_file(file);
  if (model.graphs.size() != 1 || model.graphs[0].inputs.empty() || model.graphs[0].outputs.empty())
    throw_input_error(file.string(), "expected one graph with an image input and one output");
  return model;
}

const HostTensor& only_output(const std::map<std::string, HostTensor>& outputs, const Graph& graph) {
  return outputs.at(graph.outputs.at(0).name);
}

}  // namespace

std::string transcript(const std::vector<TextLine>& lines) {
  std::string out;
  for (const TextLine& line : lines) {
    if (!out.empty()) out += '\n';
    out += line.recognized.text;
  }
  return out;
}

PpOcr::PpOcr(const std::filesystem::path& det_model, const std::filesystem::path& rec_model,
             const std::filesystem::path& keys, Options options)
    : options_(options),
      det_model_(load_single_graph(det_model)),
      rec_model_(load_single_graph(rec_model)),
      charset_(load_charset(keys)),
      det_(det_model_.graphs[0]),
      rec_(rec_model_.graphs[0]) {}

PpOcr::PpOcr(const std::filesystem::path& dir, Options options)
    : PpOcr(dir / "ch_PP-OCRv4_det_infer.onnx", dir / "ch_PP-OCRv4_rec_infer.onnx", dir / "ppocr_keys_v1.txt",
            options) {}

HostTensor PpOcr::detection_map(const Image& image) const {
  const Graph& graph = det_.graph();
  return only_output(det_.run({{graph.inputs[0].name, det_preprocess(image, options_.det)}}), graph);
}

std::vector<Box> PpOcr::detect(const Image& image) const {
  const HostTensor map = detection_map(image);
  const auto& d = map.dims();
  if (d.size() != 4 || d[0] != 1 || d[1] != 1)
    throw Error(ErrorCategory::input, "ppocr detection: expected a [1, 1, H, W] probability map, got " + describe(map));
  const std::vector<float> values = map.to_f32();
  return sort_boxes(db_boxes(values, static_cast<int>(d[3]), static_cast<int>(d[2]), image.width, image.height,
                             options_.det));
}

Recognized PpOcr::recognize(const Image& line) const {
  const Graph& graph = rec_.graph();
  const HostTensor probs = only_output(rec_.run({{graph.inputs[0].name, rec_preprocess(line, options_.rec)}}), graph);
  const auto& d = probs.dims();
  if (d.size() != 3 || d[0] != 1)
    throw Error(ErrorCategory::input, "ppocr recognition: expected [1, T, classes] probabilities, got " + describe(probs));
  const std::vector<float> values = probs.to_f32();
  return ctc_greedy_decode(values, d[1], d[2], charset_);
}

std::vector<TextLine> PpOcr::read(const Image& image) const {
  std::vector<TextLine> lines;
  for (const Box& box : detect(image)) {
    Recognized recognized = recognize(crop_box(image, box));
    if (recognized.score >= options_.rec.drop_score) lines.push_back({box, std::move(recognized)});
  }
  return lines;
}

}  // namespace edgec::runtime::ppocr
