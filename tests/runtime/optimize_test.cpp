// The executor's optimizer (edgec/runtime/optimize.hpp): folded constants and fused element-wise chains give the same
// bits as the graph as it is, on hand-built graphs that probe each rule and on real models; values the optimized
// graph no longer has, and runs with observers, fall back to the original graph.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "edgec/formats/onnx.hpp"
#include "edgec/runtime/executor.hpp"
#include "test_helpers.hpp"
#include "test_paths.hpp"
#include "test_random.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

Node node(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs, std::map<std::string, Attribute> attributes = {}) {
  Node n;
  n.op = std::move(op);
  n.name = outputs.empty() ? "" : outputs[0];
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.attributes = std::move(attributes);
  return n;
}

Tensor scalar(float v, std::vector<int64_t> dims = {}) { return ir_f32(std::move(dims), {v}); }

// A graph with an f32 input x (its type declared, so chains may start at it) and the named outputs.
Graph graph_with(int64_t opset, std::initializer_list<const char*> outputs) {
  Graph g;
  g.name = "g";
  g.opset_imports[""] = opset;
  g.inputs.push_back(ValueInfo{"x", {ValueKind::tensor, DType::f32, std::nullopt}});
  for (const char* name : outputs) {
    ValueInfo output;
    output.name = name;
    g.outputs.push_back(std::move(output));
  }
  return g;
}

bool same_bytes(const HostTensor& a, const HostTensor& b) {
  return a.dims() == b.dims() && a.dtype() == b.dtype() && a.size_bytes() == b.size_bytes() &&
         std::memcmp(a.raw(), b.raw(), a.size_bytes()) == 0;
}

// Runs `g` optimized and as it is on `inputs`; every output must be the same bytes. Returns the optimizer's report.
OptimizeReport check_same(const Graph& g, const std::map<std::string, HostTensor>& inputs) {
  const Executor plain(g, nullptr, ExecutorOptions{false});
  const Executor optimized(g);
  const auto want = plain.run(inputs), got = optimized.run(inputs);
  REQUIRE(want.size() == got.size());
  for (const auto& [name, value] : want) {
    INFO("output " << name);
    CHECK(same_bytes(value, got.at(name)));
  }
  return optimized.optimize_report();
}

// x [1, C, H, W] -> Conv 3x3 (+ bias) -> hard swish as PP-OCR exports it (Add 3, Clip 0..6, Mul x, Div 6) ->
// Mul by a per-channel [C,1,1] constant -> Add 0.25.
Graph conv_hard_swish(int64_t channels) {
  Graph g = graph_with(13, {"y"});
  edgec::test::Random rng(3);
  g.initializers["w"] = ir_f32({channels, channels, 3, 3}, rng.normals(static_cast<size_t>(channels * channels * 9), 0.3));
  g.initializers["b"] = ir_f32({channels}, rng.normals(static_cast<size_t>(channels)));
  g.initializers["three"] = scalar(3.0f);
  g.initializers["zero"] = scalar(0.0f);
  g.initializers["six"] = scalar(6.0f);
  g.initializers["scale"] = ir_f32({channels, 1, 1}, rng.normals(static_cast<size_t>(channels)));
  g.initializers["shift"] = scalar(0.25f, {1});
  g.nodes.push_back(node("Conv", {"x", "w", "b"}, {"c"}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  g.nodes.push_back(node("Add", {"c", "three"}, {"t1"}));
  g.nodes.push_back(node("Clip", {"t1", "zero", "six"}, {"t2"}));
  g.nodes.push_back(node("Mul", {"c", "t2"}, {"t3"}));
  g.nodes.push_back(node("Div", {"t3", "six"}, {"t4"}));
  g.nodes.push_back(node("Mul", {"scale", "t4"}, {"t5"}));
  g.nodes.push_back(node("Add", {"t5", "shift"}, {"y"}));
  return g;
}

HostTensor random_input(std::vector<int64_t> dims, uint64_t seed) {
  int64_t n = 1;
  for (const auto d : dims) n *= d;
  edgec::test::Random rng(seed);
  return f32(std::move(dims), rng.normals(static_cast<size_t>(n), 2.0));
}

}  // namespace

TEST_CASE("optimizer: Conv + bias + hard swish + per-channel affine fuse into one node with the same bits") {
  const Graph g = conv_hard_swish(24);
  const auto report = check_same(g, {{"x", random_input({1, 24, 13, 37}, 1)}});
  CHECK(report.chains == 1);
  CHECK(report.epilogues == 1);
  CHECK(report.chain_nodes == 6);
}

TEST_CASE("optimizer: a value read outside the chain or a graph output is not fused away") {
  Graph g = conv_hard_swish(8);
  // t2 is also a graph output, c also feeds another node: the Conv keeps its output, the chain stops before t2's reader.
  g.outputs.push_back(ValueInfo{"t2", {}});
  g.outputs.push_back(ValueInfo{"c_copy", {}});
  g.nodes.push_back(node("Relu", {"c"}, {"c_copy"}));
  const auto report = check_same(g, {{"x", random_input({2, 8, 5, 6}, 2)}});
  CHECK(report.epilogues == 0);
  // Optimized or not, every output is produced; the values inside the chains are still available on request
  // (the executor runs the original graph for them).
  const Executor optimized(g);
  RunOptions options;
  options.outputs = {"t3", "y"};
  const auto both = optimized.run({{"x", random_input({2, 8, 5, 6}, 2)}}, options);
  const Executor plain(g, nullptr, ExecutorOptions{false});
  const auto want = plain.run({{"x", random_input({2, 8, 5, 6}, 2)}}, options);
  CHECK(same_bytes(both.at("t3"), want.at("t3")));
}

TEST_CASE("optimizer: standalone chains, constants on the left, opset-10 Clip, and a scalar of higher rank") {
  Graph g = graph_with(10, {"y"});
  g.initializers["two"] = scalar(2.0f);
  g.initializers["half"] = scalar(0.5f, {1, 1, 1});  // rank 3: broadcasting [4, 5] with it gives [1, 4, 5]
  g.nodes.push_back(node("Sub", {"two", "x"}, {"a"}));
  g.nodes.push_back(node("Clip", {"a"}, {"b"}, {{"min", -1.5f}, {"max", 1.5f}}));
  g.nodes.push_back(node("Div", {"two", "b"}, {"c"}));
  g.nodes.push_back(node("Sigmoid", {"c"}, {"d"}));
  g.nodes.push_back(node("Mul", {"d", "half"}, {"e"}));
  g.nodes.push_back(node("Tanh", {"e"}, {"y"}));
  const auto report = check_same(g, {{"x", random_input({4, 5}, 3)}});
  CHECK(report.chains == 1);
  CHECK(report.chain_nodes == 6);
  const auto y = Executor(g).run({{"x", random_input({4, 5}, 3)}}).at("y");
  CHECK(y.dims() == std::vector<int64_t>{1, 4, 5});
}

TEST_CASE("optimizer: constants are folded (DequantizeLinear of a weight, Constant nodes), large expansions are not") {
  Graph g = graph_with(13, {"y", "z"});
  std::vector<std::byte> codes(64);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::byte>(i * 37);
  g.initializers["wq"] = Tensor::owning(DType::i8, {8, 8}, codes);
  g.initializers["ws"] = scalar(0.02f);
  g.initializers["wz"] = Tensor::owning(DType::i8, {}, std::vector<std::byte>{std::byte{3}});
  g.initializers["big_shape"] = Tensor::owning(DType::i64, {1}, [] {
    std::vector<std::byte> b(8);
    const int64_t n = 1 << 20;  // 4 MiB of floats from 8 bytes: not folded
    std::memcpy(b.data(), &n, 8);
    return b;
  }());
  g.nodes.push_back(node("DequantizeLinear", {"wq", "ws", "wz"}, {"w"}));
  g.nodes.push_back(node("Constant", {}, {"k"}, {{"value", scalar(1.5f)}}));
  g.nodes.push_back(node("MatMul", {"x", "w"}, {"m"}));
  g.nodes.push_back(node("Mul", {"m", "k"}, {"y"}));
  g.nodes.push_back(node("ConstantOfShape", {"big_shape"}, {"z"}));
  const auto report = check_same(g, {{"x", random_input({3, 8}, 4)}});
  CHECK(report.folded == 2);  // the Constant node and the DequantizeLinear
  CHECK(report.epilogues == 1);
}

TEST_CASE("optimizer: observers see the original nodes") {
  const Graph g = conv_hard_swish(4);
  Executor executor(g);
  REQUIRE(executor.optimize_report().epilogues == 1);
  struct Count : Observer {
    int nodes = 0;
    void after_node(const Node&, std::span<const HostTensor* const>, std::span<const HostTensor>) override { ++nodes; }
  } count;
  executor.add_observer(count);
  executor.run({{"x", random_input({1, 4, 6, 6}, 5)}});
  CHECK(count.nodes == 7);
}

TEST_CASE("optimizer: real models give the same bits optimized (PP-OCRv4 det, rec and cls, fmnist-vit-a, the tower of fmnist-vlm-a)") {
  const auto ppocr = edgec::test::ppocr_models();
  if (!ppocr.empty()) {
    const std::vector<std::pair<std::string, std::vector<int64_t>>> models{{"ch_PP-OCRv4_det_infer.onnx", {1, 3, 64, 96}},
                                                                            {"ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}},
                                                                            {"ch_ppocr_mobile_v2.0_cls_infer.onnx", {1, 3, 48, 192}}};
    for (const auto& [file, dims] : models) {
      INFO(file);
      const Model model = onnx_format::import_onnx_file(ppocr / file);
      const auto report = check_same(model.graphs[0], {{model.graphs[0].inputs[0].name, random_input(dims, 6)}});
      CHECK(report.chains > 0);
    }
  }
  const auto vit = edgec::test::shared_model("fmnist-vit-a");
  if (!vit.empty()) {
    const Model model = onnx_format::import_onnx_file(vit / "onnx/model.onnx");
    const auto report = check_same(model.graphs[0], {{"pixel_values", random_input({4, 1, 28, 28}, 7)}});
    CHECK(report.folded > 50);
  }
  const auto vlm = edgec::test::shared_model("fmnist-vlm-a");
  if (!vlm.empty()) {
    const Model model = onnx_format::import_onnx_file(vlm / "onnx/vision_encoder.onnx");
    check_same(model.graphs[0], {{model.graphs[0].inputs[0].name, random_input({2, 1, 28, 28}, 8)}});
  }
}

TEST_CASE("optimizer: an activation's QuantizeLinear + DequantizeLinear pair (u8 and i8) fuses, and a chain never ends quantized") {
  Graph g = graph_with(13, {"y", "codes"});
  g.initializers["s1"] = scalar(0.05f);
  g.initializers["z1"] = Tensor::owning(DType::u8, {}, std::vector<std::byte>{std::byte{128}});
  g.initializers["s2"] = scalar(0.02f);
  g.initializers["z2"] = Tensor::owning(DType::i8, {}, std::vector<std::byte>{std::byte{0xFD}});  // -3
  g.nodes.push_back(node("QuantizeLinear", {"x", "s1", "z1"}, {"q1"}));
  g.nodes.push_back(node("DequantizeLinear", {"q1", "s1", "z1"}, {"d1"}));
  g.nodes.push_back(node("Relu", {"d1"}, {"r"}));
  g.nodes.push_back(node("QuantizeLinear", {"r", "s2", "z2"}, {"q2"}));
  g.nodes.push_back(node("DequantizeLinear", {"q2", "s2", "z2"}, {"y"}));
  // A quantized value the graph returns stays a QuantizeLinear of its own.
  g.nodes.push_back(node("QuantizeLinear", {"y", "s2", "z2"}, {"codes"}));
  auto input = random_input({3, 50}, 9);
  input = f32({3, 50}, [&] {
    auto v = input.to_f32();
    v[0] = std::numeric_limits<float>::quiet_NaN();  // NaN quantizes to 0
    v[1] = 1e30f;                                     // saturates
    return v;
  }());
  const auto report = check_same(g, {{"x", input}});
  CHECK(report.chains == 1);
  CHECK(report.chain_nodes == 5);
}
