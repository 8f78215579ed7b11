// Every ONNX model we can find imports and validates; and some facts about real models match what the
// protobuf API says independently.
#include <algorithm>
#include <chrono>
#include <iostream>

#include "edgec/core/graph.hpp"
#include "onnx_test_support.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using namespace edgec;

namespace {

std::vector<fs::path> onnx_files_under(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".onnx") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Counts nodes of `op` in a graph and its subgraphs.
int64_t count_ops(const Graph& graph, const std::string& op) {
  int64_t count = 0;
  for (const auto& node : graph.nodes) {
    count += node.op == op;
    for (const auto& [key, value] : node.attributes) {
      if (const auto* g = std::get_if<GraphPtr>(&value)) count += count_ops(**g, op);
      if (const auto* gs = std::get_if<std::vector<GraphPtr>>(&value))
        for (const auto& g : *gs) count += count_ops(*g, op);
    }
  }
  return count;
}

std::string shape_string(const ValueInfo& info) {
  std::string text = std::string(dtype_name(info.type.dtype)) + " [";
  if (info.type.shape)
    for (size_t i = 0; i < info.type.shape->size(); ++i) {
      const Dim& d = (*info.type.shape)[i];
      text += (i ? "," : "") + (d.known() ? std::to_string(d.value) : d.symbol.empty() ? "?" : d.symbol);
    }
  return text + "]";
}

}  // namespace

TEST_CASE("every libonnx-testdata and PP-OCR model imports and validates") {
  std::vector<fs::path> files;
  const auto testdata = test::onnx_testdata();
  if (!testdata.empty()) files = onnx_files_under(testdata);
  const size_t testdata_count = files.size();
  if (const auto ppocr = test::ppocr_models(); !ppocr.empty())
    for (const auto& f : onnx_files_under(ppocr)) files.push_back(f);
  if (files.empty()) return;

  const auto start = std::chrono::steady_clock::now();
  size_t imported = 0, with_subgraphs = 0;
  for (const auto& file : files) {
    CAPTURE(file.string());
    try {
      const Model model = onnx_format::import_onnx_file(file);
      REQUIRE(model.graphs.size() == 1);
      CHECK(model.format == "onnx");
      CHECK(model.graphs[0].name == file.stem().string());
      CHECK(!model.graphs[0].opset_imports.empty());
      validate_graph(model.graphs[0], file.string());
      with_subgraphs += count_ops(model.graphs[0], "If") + count_ops(model.graphs[0], "Loop") +
                        count_ops(model.graphs[0], "Scan") > 0;
      ++imported;
    } catch (const std::exception& error) {
      FAIL_CHECK(error.what());
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "onnx corpus: imported " << imported << " of " << files.size() << " models (" << testdata_count
            << " from libonnx-testdata, " << with_subgraphs << " with If/Loop/Scan) in " << seconds << " s\n";
  CHECK(imported == files.size());
  if (!testdata.empty()) CHECK(testdata_count > 1000);
  CHECK(with_subgraphs > 10);
}

TEST_CASE("PP-OCRv4 rec: opset, Constant nodes and their parameters match the protobuf's own count") {
  const auto dir = test::ppocr_models();
  if (dir.empty()) return;
  const auto file = dir / "ch_PP-OCRv4_rec_infer.onnx";

  // Reference, straight from the protobuf.
  const onnx::ModelProto proto = test::read_model(file);
  int64_t ref_constants = 0, ref_elements = 0, ref_float_elements = 0;
  for (const auto& node : proto.graph().node()) {
    if (node.op_type() != "Constant") continue;
    ++ref_constants;
    for (const auto& attr : node.attribute())
      if (attr.name() == "value") {
        int64_t n = 1;
        for (const auto d : attr.t().dims()) n *= d;
        ref_elements += n;
        if (attr.t().data_type() == onnx::TensorProto::FLOAT) ref_float_elements += n;
      }
  }

  const Model model = onnx_format::import_onnx_file(file);
  const Graph& graph = model.graphs.at(0);
  CHECK(graph.opset_imports.at("") == proto.opset_import(0).version());
  CHECK(graph.opset_imports.at("") == 9);
  CHECK(graph.initializers.empty());  // Paddle2ONNX keeps every weight in a Constant node
  int64_t constants = 0, elements = 0;
  for (const auto& node : graph.nodes) {
    if (node.op != "Constant") continue;
    ++constants;
    const auto& value = std::get<Tensor>(node.attributes.at("value"));
    CHECK(!value.is_view());
    CHECK(value.bytes().size() == *dtype_storage_bytes(value.dtype(), static_cast<uint64_t>(value.elements())));
    elements += value.elements();
  }
  CHECK(constants == ref_constants);
  CHECK(elements == ref_elements);
  CHECK(constants == 325);
  CHECK(elements == 2690312);
  CHECK(graph.nodes.size() == static_cast<size_t>(proto.graph().node_size()));
  REQUIRE(graph.inputs.size() == 1);
  CHECK(graph.inputs[0].name == "x");
  CHECK(shape_string(graph.inputs[0]) == "f32 [p2o.DynamicDimension.0,3,48,p2o.DynamicDimension.1]");
  REQUIRE(graph.outputs.size() == 1);
  CHECK(shape_string(graph.outputs[0]) == "f32 [p2o.DynamicDimension.2,p2o.DynamicDimension.3,6625]");

  // Model-wide parameter statistics see the Constant tensors too (they count floating-point ones only).
  const auto stats = parameter_stats(model);
  int64_t counted = 0;
  for (const auto& [component, s] : stats) counted += s.parameters;
  CHECK(counted == ref_float_elements);
  CHECK(ref_float_elements < ref_elements);
}

TEST_CASE("fmnist-vlm-a ONNX folder: three graphs with the documented inputs and outputs") {
  const auto dir = test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Model model = onnx_format::import_onnx_folder(dir / "onnx");
  CHECK(model.format == "onnx");
  REQUIRE(model.graphs.size() == 3);
  REQUIRE(model.files.size() == 3);
  CHECK(model.files[0].filename() == "decoder.onnx");
  CHECK(model.files[1].filename() == "embed_tokens.onnx");
  CHECK(model.files[2].filename() == "vision_encoder.onnx");
  CHECK(model.metadata.at("producer_name") == "pytorch");
  CHECK(model.metadata.at("ir_version") == "8");
  CHECK(model.metadata.at("decoder.producer_version") == "1.13.0");

  const Graph& decoder = model.graphs[0];
  CHECK(decoder.name == "decoder");
  CHECK(decoder.opset_imports.at("") == 17);
  REQUIRE(decoder.inputs.size() == 2);
  CHECK(decoder.inputs[0].name == "inputs_embeds");
  CHECK(shape_string(decoder.inputs[0]) == "f32 [batch,seq,128]");
  CHECK(decoder.inputs[1].name == "position_ids");
  CHECK(shape_string(decoder.inputs[1]) == "i64 [batch,seq]");
  REQUIRE(decoder.outputs.size() == 1);
  CHECK(decoder.outputs[0].name == "logits");
  CHECK(shape_string(decoder.outputs[0]) == "f32 [batch,seq,27]");

  const Graph& embed = model.graphs[1];
  CHECK(embed.name == "embed_tokens");
  REQUIRE(embed.inputs.size() == 1);
  CHECK(embed.inputs[0].name == "input_ids");
  CHECK(shape_string(embed.inputs[0]) == "i64 [batch,seq]");
  REQUIRE(embed.outputs.size() == 1);
  CHECK(embed.outputs[0].name == "inputs_embeds");
  CHECK(shape_string(embed.outputs[0]) == "f32 [batch,seq,128]");
  REQUIRE(embed.nodes.size() == 1);
  CHECK(embed.nodes[0].op == "Gather");
  CHECK(embed.nodes[0].scope == "/emb/Gather");  // the node name carries the module path
  // The embedding table: vocab 27 x hidden 128.
  const Tensor* table = embed.initializer(embed.nodes[0].inputs[0]);
  REQUIRE(table != nullptr);
  CHECK(table->dtype() == DType::f32);
  CHECK(table->dims() == std::vector<int64_t>{27, 128});

  const Graph& vision = model.graphs[2];
  CHECK(vision.name == "vision_encoder");
  REQUIRE(vision.inputs.size() == 1);
  CHECK(vision.inputs[0].name == "pixel_values");
  CHECK(shape_string(vision.inputs[0]) == "f32 [batch,1,28,28]");
  REQUIRE(vision.outputs.size() == 1);
  CHECK(vision.outputs[0].name == "image_embeds");
  CHECK(shape_string(vision.outputs[0]) == "f32 [batch,49,128]");
  CHECK(vision.nodes.front().op == "Conv");
  CHECK(vision.nodes.front().scope == "/vision_tower/embeddings/patch_embedding/Conv");
}

TEST_CASE("a folder import rejects a missing folder and a folder without models") {
  test::TempDir dir("folder");
  const auto missing = dir / "nope";
  CHECK_THROWS_AS(onnx_format::import_onnx_folder(missing), Error);
  const auto outcome = test::import_outcome(dir.path(), [&] { (void)onnx_format::import_onnx_folder(dir.path()); });
  CHECK(!outcome.ok);
  CHECK(outcome.message.find("no *.onnx") != std::string::npos);
}
