#pragma once
// Shared by the .edgepack tests: scratch folders, whole-file byte access, a synthetic graph that uses every IR
// dtype and every attribute kind (subgraphs and tensor attributes included), and a deep graph comparison.
#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "scratch_dir.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/formats/edgepack.hpp"

namespace edgec::test::edgepack {

namespace fs = std::filesystem;

using edgec::test::ScratchDir;

inline std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A tensor of `dtype` x `dims` whose bytes are a deterministic pattern seeded by `seed`.
inline Tensor pattern_tensor(DType dtype, std::vector<int64_t> dims, int seed) {
  const auto count = element_count(dims).value();
  const auto size = dtype_storage_bytes(dtype, static_cast<uint64_t>(count)).value();
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 37 + static_cast<size_t>(seed) * 101 + 13) & 0xff);
  return Tensor::owning(dtype, std::move(dims), std::move(bytes));
}

inline Tensor string_tensor(const std::vector<std::string>& values) {
  std::vector<std::byte> bytes;
  for (const auto& value : values) {
    const auto length = static_cast<uint32_t>(value.size());
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::byte>(length >> (8 * b)));
    for (const char c : value) bytes.push_back(static_cast<std::byte>(c));
  }
  return Tensor::owning(DType::string, {static_cast<int64_t>(values.size())}, std::move(bytes));
}

inline Node make_node(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs, std::string name = "") {
  Node node;
  node.name = std::move(name);
  node.op = std::move(op);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  return node;
}

// A branch of the If node: reads `x` from the enclosing graph, has an initializer and a Constant of its own.
inline GraphPtr branch(const std::string& tag, int seed) {
  auto graph = std::make_shared<Graph>();
  graph->name = tag + "_branch";
  graph->initializers["bias_" + tag] = pattern_tensor(DType::f32, {4}, seed);
  Node constant = make_node("Constant", {}, {"k_" + tag}, "const_" + tag);
  constant.attributes["value"] = pattern_tensor(DType::f16, {2, 2}, seed + 1);
  graph->nodes.push_back(std::move(constant));
  graph->nodes.push_back(make_node("Add", {"x", "bias_" + tag}, {"out_" + tag}, "add_" + tag));
  graph->outputs.push_back({"out_" + tag, {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("batch"), Dim::of(4)}}});
  return graph;
}

// Every dtype of dtype.hpp as an initializer, every Attribute alternative, an If with two subgraphs, symbolic
// and unknown dims, value_info of several kinds, omitted optional inputs, scopes and opset imports.
inline Graph synthetic_graph() {
  Graph graph;
  graph.name = "synthetic";
  graph.inputs.push_back({"x", {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("batch"), Dim::of(4)}}});
  graph.inputs.push_back({"cond", {ValueKind::tensor, DType::boolean, std::vector<Dim>{}}});
  int seed = 0;
  for (const DType dtype : {DType::f32, DType::f16, DType::bf16, DType::f64, DType::i8, DType::u8, DType::i16, DType::u16,
                            DType::i32, DType::u32, DType::i64, DType::u64, DType::boolean, DType::i4, DType::u4,
                            DType::f8e4m3fn, DType::f8e4m3fnuz, DType::f8e5m2, DType::f8e5m2fnuz, DType::complex64,
                            DType::complex128})
    graph.initializers["w_" + std::string(dtype_name(dtype))] = pattern_tensor(dtype, {3, 5}, ++seed);
  graph.initializers["w_string"] = string_tensor({"", "edge", std::string("bin\0\xff", 5)});
  graph.initializers["w_empty"] = pattern_tensor(DType::f32, {0, 3}, 0);
  graph.initializers["w_scalar"] = pattern_tensor(DType::f32, {}, 1);
  graph.initializers["w_odd_u4"] = pattern_tensor(DType::u4, {7}, 2);  // 4 bytes, last nibble unused
  graph.initializers["w_large"] = pattern_tensor(DType::f32, {256, 64}, 3);
  // Zeros compress far beyond what the reader allocates up front: its zstd section decodes in growing steps.
  graph.initializers["w_zeros"] = Tensor::owning(DType::f32, {256, 256}, std::vector<std::byte>(256 * 256 * 4));

  Node constant = make_node("Constant", {}, {"c"}, "const");
  constant.attributes["value"] = pattern_tensor(DType::f32, {4}, 40);
  constant.scope = "model.const";
  graph.nodes.push_back(std::move(constant));

  Node custom = make_node("Everything", {"x", "", "c"}, {"e", ""}, "everything");
  custom.domain = "edgec.test";
  custom.scope = "language_model.model.layers.3.self_attn.q_proj";
  custom.attributes["i"] = int64_t{-42};
  custom.attributes["f"] = -0.0f;
  custom.attributes["f_nan"] = std::bit_cast<float>(uint32_t{0x7fc00123});  // a NaN payload survives bit for bit
  custom.attributes["s"] = std::string("text\0\xff with binary", 18);
  custom.attributes["s_empty"] = std::string();
  custom.attributes["t"] = pattern_tensor(DType::i64, {2, 3}, 41);
  custom.attributes["t_string"] = string_tensor({"a", "bc"});
  custom.attributes["g"] = branch("g", 50);
  custom.attributes["ints"] = std::vector<int64_t>{1, -2, std::numeric_limits<int64_t>::max()};
  custom.attributes["ints_empty"] = std::vector<int64_t>{};
  custom.attributes["floats"] = std::vector<float>{1.5f, -std::numeric_limits<float>::infinity(), 1e-40f};
  custom.attributes["strings"] = std::vector<std::string>{"one", "", "three"};
  custom.attributes["tensors"] = std::vector<Tensor>{pattern_tensor(DType::u8, {5}, 42), pattern_tensor(DType::bf16, {1, 2}, 43)};
  custom.attributes["tensors_empty"] = std::vector<Tensor>{};
  custom.attributes["graphs"] = std::vector<GraphPtr>{branch("l0", 60), branch("l1", 70)};
  graph.nodes.push_back(std::move(custom));

  Node cond = make_node("If", {"cond"}, {"y"}, "");  // unnamed: its attribute tensors are labelled "#2.…"
  cond.attributes["then_branch"] = branch("then", 80);
  cond.attributes["else_branch"] = branch("else", 90);
  graph.nodes.push_back(std::move(cond));
  graph.nodes.push_back(make_node("Add", {"y", "w_f32"}, {"z"}, "add"));

  graph.outputs.push_back({"z", {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("batch"), Dim{}}}});
  graph.outputs.push_back({"e", {ValueKind::sequence, DType::f32, std::nullopt}});
  graph.value_info["y"] = {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("batch"), Dim::of(4)}};
  graph.value_info["c"] = {ValueKind::optional, DType::undefined, std::vector<Dim>{}};
  graph.opset_imports[""] = 17;
  graph.opset_imports["edgec"] = 1;
  graph.opset_imports["edgec.test"] = 3;
  return graph;
}

inline EdgepackExtras synthetic_extras() {
  EdgepackExtras extras;
  extras.model.architecture = "Synthetic";
  extras.model.components = {{"language_model", {"language_model.", "lm_head"}}, {"vision_tower", {"vision_tower."}}};
  extras.model.metadata = {{"hidden_size", "4"}, {"producer", "tests"}};
  extras.target.device = "rk3588";
  extras.target.properties = {{"isa", "armv8.2-a+dotprod"}, {"memory_mb", "8192"}, {"npu", "none"}};
  extras.provenance.edgec_version = "0.1.0-test";
  extras.provenance.recipe = "target: rk3588\nquantize:\n  method: gptq\n  bits: 4\n";
  extras.provenance.inputs = {
      {"model", "models/x/model.safetensors", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"calibration", "data/calib.i32", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
  GoldenSample sample;
  sample.name = "bos";
  sample.inputs["x"] = pattern_tensor(DType::f32, {1, 4}, 100);
  sample.inputs["cond"] = pattern_tensor(DType::boolean, {}, 101);
  sample.outputs["z"] = pattern_tensor(DType::f32, {1, 4}, 102);
  sample.tolerances["z"] = {1e-4, 1e-3};
  extras.golden.push_back(sample);
  GoldenSample second;
  second.name = "zeros";
  second.inputs["x"] = Tensor::from_values<float>(DType::f32, {1, 4}, std::vector<float>(4, 0.0f));
  second.outputs["z"] = Tensor::from_values<float>(DType::f32, {1, 4}, std::vector<float>(4, 0.0f));
  extras.golden.push_back(second);
  extras.files["config.json"] = "{\"architectures\": [\"Synthetic\"]}\n";
  extras.files["tok512.bin"] = std::string("\x00\x01\x02\xff binary", 11);
  extras.files["empty.txt"] = "";
  return extras;
}

// --- deep comparison ---

inline bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.dims() != b.dims() || a.bytes().size() != b.bytes().size()) return false;
  return a.bytes().empty() || std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size()) == 0;
}

inline bool same_type(const ValueType& a, const ValueType& b) {
  if (a.kind != b.kind || a.dtype != b.dtype || a.shape.has_value() != b.shape.has_value()) return false;
  if (!a.shape) return true;
  if (a.shape->size() != b.shape->size()) return false;
  for (size_t i = 0; i < a.shape->size(); ++i) {
    const Dim &x = (*a.shape)[i], &y = (*b.shape)[i];
    if (x.known() != y.known() || (x.known() && x.value != y.value) || (!x.known() && x.symbol != y.symbol)) return false;
  }
  return true;
}

inline void check_same_values(const std::vector<ValueInfo>& a, const std::vector<ValueInfo>& b, const std::string& what) {
  REQUIRE_MESSAGE(a.size() == b.size(), what);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK_MESSAGE(a[i].name == b[i].name, what);
    CHECK_MESSAGE(same_type(a[i].type, b[i].type), what << " " << a[i].name);
  }
}

inline void check_same_graph(const Graph& a, const Graph& b);

inline void check_same_attribute(const Attribute& a, const Attribute& b, const std::string& what) {
  REQUIRE_MESSAGE(a.index() == b.index(), what);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const auto& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, float>) CHECK_MESSAGE(std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y), what);
        else if constexpr (std::is_same_v<T, std::vector<float>>) {
          REQUIRE_MESSAGE(x.size() == y.size(), what);
          for (size_t i = 0; i < x.size(); ++i) CHECK_MESSAGE(std::bit_cast<uint32_t>(x[i]) == std::bit_cast<uint32_t>(y[i]), what);
        } else if constexpr (std::is_same_v<T, Tensor>) CHECK_MESSAGE(same_tensor(x, y), what);
        else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
          REQUIRE_MESSAGE(x.size() == y.size(), what);
          for (size_t i = 0; i < x.size(); ++i) CHECK_MESSAGE(same_tensor(x[i], y[i]), what << "[" << i << "]");
        } else if constexpr (std::is_same_v<T, GraphPtr>) {
          REQUIRE_MESSAGE((x && y), what);
          check_same_graph(*x, *y);
        } else if constexpr (std::is_same_v<T, std::vector<GraphPtr>>) {
          REQUIRE_MESSAGE(x.size() == y.size(), what);
          for (size_t i = 0; i < x.size(); ++i) check_same_graph(*x[i], *y[i]);
        } else CHECK_MESSAGE(x == y, what);
      },
      a);
}

inline void check_same_graph(const Graph& a, const Graph& b) {
  const std::string what = "graph " + a.name;
  CHECK(a.name == b.name);
  check_same_values(a.inputs, b.inputs, what + " inputs");
  check_same_values(a.outputs, b.outputs, what + " outputs");
  REQUIRE_MESSAGE(a.initializers.size() == b.initializers.size(), what);
  for (const auto& [name, tensor] : a.initializers) {
    REQUIRE_MESSAGE(b.initializers.count(name), what << " initializer " << name);
    CHECK_MESSAGE(same_tensor(tensor, b.initializers.at(name)), what << " initializer " << name);
  }
  REQUIRE_MESSAGE(a.nodes.size() == b.nodes.size(), what);
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    CHECK(x.name == y.name);
    CHECK(x.op == y.op);
    CHECK(x.domain == y.domain);
    CHECK(x.scope == y.scope);
    CHECK(x.inputs == y.inputs);
    CHECK(x.outputs == y.outputs);
    REQUIRE_MESSAGE(x.attributes.size() == y.attributes.size(), what << " node " << i);
    for (const auto& [key, value] : x.attributes) {
      REQUIRE_MESSAGE(y.attributes.count(key), what << " node " << i << " attribute " << key);
      check_same_attribute(value, y.attributes.at(key), what + " node " + std::to_string(i) + " attribute " + key);
    }
  }
  REQUIRE_MESSAGE(a.value_info.size() == b.value_info.size(), what);
  for (const auto& [name, type] : a.value_info) {
    REQUIRE_MESSAGE(b.value_info.count(name), what << " value_info " << name);
    CHECK_MESSAGE(same_type(type, b.value_info.at(name)), what << " value_info " << name);
  }
  CHECK(a.opset_imports == b.opset_imports);
}

inline void check_same_extras(const EdgepackExtras& a, const EdgepackExtras& b) {
  CHECK(a.model.architecture == b.model.architecture);
  REQUIRE(a.model.components.size() == b.model.components.size());
  for (size_t i = 0; i < a.model.components.size(); ++i) {
    CHECK(a.model.components[i].name == b.model.components[i].name);
    CHECK(a.model.components[i].scope_prefixes == b.model.components[i].scope_prefixes);
  }
  CHECK(a.model.metadata == b.model.metadata);
  CHECK(a.target.device == b.target.device);
  CHECK(a.target.properties == b.target.properties);
  CHECK(a.provenance.edgec_version == b.provenance.edgec_version);
  CHECK(a.provenance.recipe == b.provenance.recipe);
  REQUIRE(a.provenance.inputs.size() == b.provenance.inputs.size());
  for (size_t i = 0; i < a.provenance.inputs.size(); ++i) {
    CHECK(a.provenance.inputs[i].role == b.provenance.inputs[i].role);
    CHECK(a.provenance.inputs[i].path == b.provenance.inputs[i].path);
    CHECK(a.provenance.inputs[i].sha256 == b.provenance.inputs[i].sha256);
  }
  REQUIRE(a.golden.size() == b.golden.size());
  for (size_t i = 0; i < a.golden.size(); ++i) {
    const auto &x = a.golden[i], &y = b.golden[i];
    CHECK(x.name == y.name);
    for (const auto side : {&GoldenSample::inputs, &GoldenSample::outputs}) {
      REQUIRE((x.*side).size() == (y.*side).size());
      for (const auto& [name, tensor] : x.*side) {
        REQUIRE_MESSAGE((y.*side).count(name), x.name << " " << name);
        CHECK_MESSAGE(same_tensor(tensor, (y.*side).at(name)), x.name << " " << name);
      }
    }
    REQUIRE(x.tolerances.size() == y.tolerances.size());
    for (const auto& [name, bound] : x.tolerances) {
      CHECK(bound.abs == y.tolerances.at(name).abs);
      CHECK(bound.rel == y.tolerances.at(name).rel);
    }
  }
  CHECK(a.files == b.files);
}

}  // namespace edgec::test::edgepack
