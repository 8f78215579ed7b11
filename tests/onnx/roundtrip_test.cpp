// import -> export -> onnx::checker -> reimport gives the same graph: ops, edges, attributes, and
// byte-identical tensors.
#include <onnx/checker.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <iostream>
#include <sstream>

#include "edgec/core/graph.hpp"
#include "onnx_test_support.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using namespace edgec;

namespace {

std::string tensor_diff(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) return "dtype " + std::string(dtype_name(a.dtype())) + " vs " + std::string(dtype_name(b.dtype()));
  if (a.dims() != b.dims()) return "dims " + dims_to_string(a.dims()) + " vs " + dims_to_string(b.dims());
  const auto x = a.bytes(), y = b.bytes();
  if (x.size() != y.size() || !std::equal(x.begin(), x.end(), y.begin())) return "bytes differ";
  return {};
}

std::string graph_diff(const Graph& a, const Graph& b, bool compare_names);

std::string attribute_diff(const Attribute& a, const Attribute& b) {
  if (a.index() != b.index()) return "kind " + std::to_string(a.index()) + " vs " + std::to_string(b.index());
  if (const auto* t = std::get_if<Tensor>(&a)) return tensor_diff(*t, std::get<Tensor>(b));
  if (const auto* g = std::get_if<GraphPtr>(&a)) return graph_diff(**g, *std::get<GraphPtr>(b), true);
  if (const auto* f = std::get_if<float>(&a))
    return std::bit_cast<uint32_t>(*f) == std::bit_cast<uint32_t>(std::get<float>(b)) ? "" : "float differs";
  if (const auto* ts = std::get_if<std::vector<Tensor>>(&a)) {
    const auto& us = std::get<std::vector<Tensor>>(b);
    if (ts->size() != us.size()) return "tensor count";
    for (size_t i = 0; i < ts->size(); ++i)
      if (auto d = tensor_diff((*ts)[i], us[i]); !d.empty()) return d;
    return {};
  }
  if (const auto* gs = std::get_if<std::vector<GraphPtr>>(&a)) {
    const auto& hs = std::get<std::vector<GraphPtr>>(b);
    if (gs->size() != hs.size()) return "graph count";
    for (size_t i = 0; i < gs->size(); ++i)
      if (auto d = graph_diff(*(*gs)[i], *hs[i], true); !d.empty()) return d;
    return {};
  }
  if (const auto* fs_ = std::get_if<std::vector<float>>(&a)) {
    const auto& gs_ = std::get<std::vector<float>>(b);
    if (fs_->size() != gs_.size()) return "float count";
    for (size_t i = 0; i < fs_->size(); ++i)
      if (std::bit_cast<uint32_t>((*fs_)[i]) != std::bit_cast<uint32_t>(gs_[i])) return "floats differ";
    return {};
  }
  if (const auto* i = std::get_if<int64_t>(&a)) return *i == std::get<int64_t>(b) ? "" : "int differs";
  if (const auto* s = std::get_if<std::string>(&a)) return *s == std::get<std::string>(b) ? "" : "string differs";
  if (const auto* is = std::get_if<std::vector<int64_t>>(&a))
    return *is == std::get<std::vector<int64_t>>(b) ? "" : "ints differ";
  return std::get<std::vector<std::string>>(a) == std::get<std::vector<std::string>>(b) ? "" : "strings differ";
}

bool same_type(const ValueType& a, const ValueType& b) {
  if (a.kind != b.kind || a.dtype != b.dtype || a.shape.has_value() != b.shape.has_value()) return false;
  if (!a.shape) return true;
  if (a.shape->size() != b.shape->size()) return false;
  for (size_t i = 0; i < a.shape->size(); ++i)
    if ((*a.shape)[i].value != (*b.shape)[i].value || (*a.shape)[i].symbol != (*b.shape)[i].symbol) return false;
  return true;
}

std::string values_diff(const std::vector<ValueInfo>& a, const std::vector<ValueInfo>& b, const char* what) {
  if (a.size() != b.size()) return std::string(what) + " count";
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return std::string(what) + " name " + a[i].name + " vs " + b[i].name;
    if (!same_type(a[i].type, b[i].type)) return std::string(what) + " type of " + a[i].name;
  }
  return {};
}

std::string graph_diff(const Graph& a, const Graph& b, bool compare_names) {
  if (compare_names && a.name != b.name) return "graph name " + a.name + " vs " + b.name;
  if (auto d = values_diff(a.inputs, b.inputs, "input"); !d.empty()) return d;
  if (auto d = values_diff(a.outputs, b.outputs, "output"); !d.empty()) return d;
  if (a.value_info.size() != b.value_info.size()) return "value_info count";
  for (const auto& [name, type] : a.value_info)
    if (!b.value_info.count(name) || !same_type(type, b.value_info.at(name))) return "value_info " + name;
  if (a.opset_imports != b.opset_imports) return "opset_imports";
  if (a.initializers.size() != b.initializers.size()) return "initializer count";
  for (const auto& [name, tensor] : a.initializers) {
    const Tensor* other = b.initializer(name);
    if (!other) return "initializer " + name + " missing";
    if (auto d = tensor_diff(tensor, *other); !d.empty()) return "initializer " + name + ": " + d;
  }
  if (a.nodes.size() != b.nodes.size()) return "node count";
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    const std::string at = "node " + std::to_string(i) + " (" + x.op + " " + x.name + ")";
    if (x.name != y.name || x.op != y.op || x.domain != y.domain || x.scope != y.scope) return at + " identity";
    if (x.inputs != y.inputs || x.outputs != y.outputs) return at + " edges";
    if (x.attributes.size() != y.attributes.size()) return at + " attribute count";
    for (const auto& [key, value] : x.attributes) {
      if (!y.attributes.count(key)) return at + " attribute " + key + " missing";
      if (auto d = attribute_diff(value, y.attributes.at(key)); !d.empty()) return at + " attribute " + key + ": " + d;
    }
  }
  return {};
}

bool checker_accepts(const onnx::ModelProto& model, std::string& why) {
  try {
    onnx::checker::check_model(model);
    return true;
  } catch (const std::exception& error) {
    why = error.what();
    return false;
  }
}

struct RoundTripResult {
  bool checked = false;  // the original passed the checker, so the export had to as well
};

// The full round trip for one file; returns whether the checker took part.
RoundTripResult round_trip(const fs::path& file, const fs::path& out) {
  CAPTURE(file.string());
  RoundTripResult result;
  const Model first = onnx_format::import_onnx_file(file);
  onnx_format::export_onnx(first.graphs.at(0), out);
  CHECK(!fs::exists(out.string() + ".tmp." + std::to_string(::getpid())));

  std::string original_why, exported_why;
  const bool original_ok = checker_accepts(test::read_model(file), original_why);
  const onnx::ModelProto exported = test::read_model(out);
  CHECK(exported.ir_version() == 8);
  const bool exported_ok = checker_accepts(exported, exported_why);
  if (original_ok) {
    CHECK_MESSAGE(exported_ok, exported_why);
    result.checked = true;
  }

  const Model second = onnx_format::import_onnx_file(out);
  // The graph name follows the file stem; everything else must be identical.
  const std::string diff = graph_diff(first.graphs[0], second.graphs[0], false);
  CHECK_MESSAGE(diff.empty(), diff);
  return result;
}

std::vector<fs::path> sorted_onnx_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".onnx") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("round trip: every libonnx-testdata model") {
  const auto testdata = test::onnx_testdata();
  if (testdata.empty()) return;
  test::TempDir dir("roundtrip", test::scratch_base());
  // The checker is really consulted: it refuses a node reading a value nothing defines.
  auto broken = test::small_model();
  broken.mutable_graph()->mutable_node(0)->set_input(1, "undefined");
  std::string why;
  CHECK(!checker_accepts(broken, why));
  CHECK(checker_accepts(test::small_model(), why));
  const auto start = std::chrono::steady_clock::now();
  size_t count = 0, checked = 0;
  for (const auto& file : sorted_onnx_files(testdata)) {
    checked += round_trip(file, dir / "out.onnx").checked;
    ++count;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "onnx round trip: " << count << " testdata models, " << checked
            << " of them also through onnx::checker, in " << seconds << " s\n";
  CHECK(count > 1000);
  CHECK(checked > 900);
}

TEST_CASE("round trip: models with subgraphs keep their bodies") {
  const auto testdata = test::onnx_testdata();
  if (testdata.empty()) return;
  test::TempDir dir("roundtrip-sub", test::scratch_base());
  for (const char* name : {"test_if", "test_loop11", "test_scan9_sum", "test_if_seq", "test_if_opt", "test_loop16_seq_none"}) {
    const auto file = testdata / "node" / name / "model.onnx";
    if (!fs::exists(file)) continue;
    round_trip(file, dir / "out.onnx");
    const Model model = onnx_format::import_onnx_file(file);
    bool has_body = false;
    for (const auto& node : model.graphs[0].nodes)
      for (const auto& [key, value] : node.attributes)
        if (const auto* g = std::get_if<GraphPtr>(&value)) has_body = has_body || (*g && !(*g)->nodes.empty());
    CHECK_MESSAGE(has_body, name);
  }
  // The Optional op's TYPE_PROTO attribute survives as such.
  const auto opt = testdata / "node" / "test_if_opt" / "model.onnx";
  if (fs::exists(opt)) {
    onnx_format::export_onnx(onnx_format::import_onnx_file(opt).graphs[0], dir / "opt.onnx");
    auto type_protos = [](const onnx::ModelProto& proto) {
      std::vector<std::string> found;
      for (const auto& node : proto.graph().node())
        for (const auto& attr : node.attribute())
          if (attr.has_g())
            for (const auto& inner : attr.g().node())
              for (const auto& a : inner.attribute())
                if (a.type() == onnx::AttributeProto::TYPE_PROTO) found.push_back(a.tp().SerializeAsString());
      return found;
    };
    const auto original = type_protos(test::read_model(opt));
    const auto exported = type_protos(test::read_model(dir / "opt.onnx"));
    CHECK(original.size() == 1);
    CHECK(exported == original);
    const bool found = !exported.empty();
    CHECK(found);
  }
}

TEST_CASE("round trip: PP-OCR models") {
  const auto dir = test::ppocr_models();
  if (dir.empty()) return;
  test::TempDir out("roundtrip-ppocr");
  for (const auto& file : sorted_onnx_files(dir)) CHECK(round_trip(file, out / "out.onnx").checked);
}

TEST_CASE("round trip: fmnist-vlm-a ONNX graphs") {
  const auto dir = test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  test::TempDir out("roundtrip-fmnist");
  for (const auto& file : sorted_onnx_files(dir / "onnx")) CHECK(round_trip(file, out / file.filename().string()).checked);
}

TEST_CASE("export: an edgec graph without opsets gets ai.onnx 17 and edgec 1, all attribute kinds survive") {
  Graph graph;
  graph.name = "g";
  graph.inputs.push_back({"x", {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("batch"), Dim::of(4)}}});
  graph.outputs.push_back({"y", {ValueKind::tensor, DType::f32, std::nullopt}});
  const std::vector<float> w{1.5f, -2.0f, 3.25f, 0.0f};
  graph.initializers["w"] = Tensor::from_values<float>(DType::f32, {4}, w);
  const std::vector<uint8_t> packed{0x21, 0x03};  // i4 [3]: 1, 2, 3
  graph.initializers["q"] = Tensor::from_values<uint8_t>(DType::i4, {3}, packed);
  const std::vector<uint8_t> f8{0x38, 0xb8};
  graph.initializers["f8"] = Tensor::from_values<uint8_t>(DType::f8e4m3fn, {2}, f8);
  std::vector<std::byte> records;
  for (const std::string s : {"ab", "", "xyz"}) {
    const auto n = static_cast<uint32_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(&n);
    records.insert(records.end(), p, p + 4);
    for (const char c : s) records.push_back(static_cast<std::byte>(c));
  }
  graph.initializers["labels"] = Tensor::owning(DType::string, {3}, records);

  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->outputs.push_back({"x", {}});

  Node node;
  node.name = "lin";
  node.scope = "lin";
  node.op = "Linear";
  node.domain = std::string(kEdgecDomain);
  node.inputs = {"x", "w", ""};
  node.outputs = {"y"};
  node.attributes["i"] = int64_t{-7};
  node.attributes["f"] = 0.25f;
  node.attributes["s"] = std::string("text");
  node.attributes["t"] = graph.initializers["w"];
  node.attributes["g"] = body;
  node.attributes["ints"] = std::vector<int64_t>{1, 2, 3};
  node.attributes["floats"] = std::vector<float>{0.5f};
  node.attributes["strings"] = std::vector<std::string>{"a", "b"};
  node.attributes["tensors"] = std::vector<Tensor>{graph.initializers["q"], graph.initializers["labels"]};
  node.attributes["graphs"] = std::vector<GraphPtr>{body, body};
  node.attributes["empty"] = std::vector<int64_t>{};
  graph.nodes.push_back(node);
  validate_graph(graph, "built");

  test::TempDir dir("export");
  onnx_format::export_onnx(graph, dir / "g.onnx");
  const auto proto = test::read_model(dir / "g.onnx");
  CHECK(proto.ir_version() == 8);
  REQUIRE(proto.opset_import_size() == 2);
  CHECK(proto.opset_import(0).domain() == "");
  CHECK(proto.opset_import(0).version() == 17);
  CHECK(proto.opset_import(1).domain() == "edgec");
  CHECK(proto.opset_import(1).version() == 1);
  const Model back = onnx_format::import_onnx_file(dir / "g.onnx");
  const Graph& g2 = back.graphs.at(0);
  CHECK(g2.opset_imports == std::map<std::string, int64_t>{{"", 17}, {"edgec", 1}});
  graph.opset_imports = g2.opset_imports;
  const std::string diff = graph_diff(graph, g2, false);
  CHECK_MESSAGE(diff.empty(), diff);
  CHECK(g2.initializers.at("w").to_f32() == w);
  CHECK(std::get<int64_t>(g2.nodes[0].attributes.at("i")) == -7);
  CHECK(std::get<std::vector<std::string>>(g2.nodes[0].attributes.at("strings")) == std::vector<std::string>{"a", "b"});
  CHECK(proto.graph().initializer_size() == 4);
  for (const auto& init : proto.graph().initializer())
    if (init.name() == "labels") CHECK(init.string_data_size() == 3);

  // No stray temporary file, and a second export replaces the first atomically.
  onnx_format::export_onnx(graph, dir / "g.onnx");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  CHECK(files == 1);
}

TEST_CASE("export: an unwritable destination is an input error naming the path, and leaves nothing behind") {
  Graph graph;
  graph.name = "g";
  graph.outputs.push_back({"x", {}});
  graph.inputs.push_back({"x", {ValueKind::tensor, DType::f32, std::vector<Dim>{}}});
  test::TempDir dir("export-fail");
  const auto out = dir / "missing-folder" / "g.onnx";
  try {
    onnx_format::export_onnx(graph, out);
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    CHECK(std::string(error.what()).starts_with(out.string() + ":"));
  }
  // Exporting onto a folder: the rename fails and the temporary file is removed.
  fs::create_directories(dir / "taken.onnx" / "x");
  CHECK_THROWS_AS(onnx_format::export_onnx(graph, dir / "taken.onnx"), Error);
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  CHECK(files == 1);  // only taken.onnx/
}
