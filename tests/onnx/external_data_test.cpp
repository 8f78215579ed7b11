// External data: a view into a file inside the model's folder, and nothing outside it.
#include "edgec/core/graph.hpp"
#include "onnx_test_support.hpp"

namespace fs = std::filesystem;
using namespace edgec;

namespace {

// small_model() with `w` moved to external data at `location`, `offset` (and optionally `length`).
onnx::ModelProto external_model(const std::string& location, const std::string& offset, const std::string& length = "") {
  auto model = test::small_model();
  auto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* key, const std::string& value) {
    auto* entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add("location", location);
  if (!offset.empty()) add("offset", offset);
  if (!length.empty()) add("length", length);
  return model;
}

// 16 bytes of padding, then the six floats of `w`.
std::string weights_file() {
  const std::vector<float> values{10, 20, 30, 40, 50, 60};
  return std::string(16, 'x') + std::string(reinterpret_cast<const char*>(values.data()), 24);
}

}  // namespace

TEST_CASE("external data imports as a view with the right values") {
  test::TempDir dir("external");
  fs::create_directories(dir / "data");
  test::write_bytes(dir / "data" / "weights.bin", weights_file());
  test::write_model(dir / "model.onnx", external_model("data/weights.bin", "16", "24"));

  const Model model = onnx_format::import_onnx_file(dir / "model.onnx");
  const Tensor& w = model.graphs.at(0).initializers.at("w");
  CHECK(w.is_view());
  CHECK(w.dtype() == DType::f32);
  CHECK(w.dims() == std::vector<int64_t>{2, 3});
  CHECK(w.to_f32() == std::vector<float>{10, 20, 30, 40, 50, 60});

  // Without offset/length: the data starts at 0 and dims decide the length.
  test::write_bytes(dir / "plain.bin", weights_file().substr(16));
  test::write_model(dir / "plain.onnx", external_model("plain.bin", ""));
  const Model plain = onnx_format::import_onnx_file(dir / "plain.onnx");
  CHECK(plain.graphs.at(0).initializers.at("w").to_f32() == std::vector<float>{10, 20, 30, 40, 50, 60});

  // The view outlives the model it came from; export inlines it.
  Tensor kept = w;
  onnx_format::export_onnx(model.graphs[0], dir / "inline.onnx");
  const auto exported = test::read_model(dir / "inline.onnx");
  CHECK(exported.graph().initializer(0).data_location() == onnx::TensorProto::DEFAULT);
  CHECK(exported.graph().initializer(0).raw_data().size() == 24);
  CHECK(kept.to_f32().at(5) == 60);
}

TEST_CASE("external data locations outside the model's folder are rejected") {
  test::TempDir outer("external-outer");
  const auto dir = outer / "model";
  fs::create_directories(dir / "sub");
  test::write_bytes(outer / "x.bin", weights_file());
  test::write_bytes(dir / "inside.bin", weights_file());
  fs::create_symlink(outer / "x.bin", dir / "link.bin");
  fs::create_directory_symlink(outer.path(), dir / "up");

  struct Case {
    std::string location;
    std::string expect;
  };
  for (const Case& c : {Case{"/etc/passwd", "is absolute"}, Case{"../x.bin", "contains '..'"},
                        Case{"sub/../../x.bin", "contains '..'"}, Case{"sub/../inside.bin", "contains '..'"},
                        Case{"link.bin", "outside the model's folder"}, Case{"up/x.bin", "outside the model's folder"},
                        Case{"missing.bin", "cannot be opened"}, Case{"sub", "not a regular file"},
                        Case{"", "is empty"}}) {
    CAPTURE(c.location);
    test::write_model(dir / "model.onnx", external_model(c.location, "16"));
    const std::string message = test::import_error(dir / "model.onnx");
    CHECK_MESSAGE(message.find(c.expect) != std::string::npos, message);
    CHECK(message.find("initializer 'w'") != std::string::npos);
  }
  // A symlink that stays inside the folder is fine.
  fs::create_symlink(dir / "inside.bin", dir / "alias.bin");
  test::write_model(dir / "model.onnx", external_model("alias.bin", "16"));
  CHECK(onnx_format::import_onnx_file(dir / "model.onnx").graphs[0].initializers.at("w").is_view());
}

TEST_CASE("external data ranges are checked against the file and against dtype x dims") {
  test::TempDir dir("external-range");
  test::write_bytes(dir / "w.bin", weights_file());  // 40 bytes
  struct Case {
    std::string offset, length, expect;
  };
  for (const Case& c : {Case{"41", "", "past the end"}, Case{"17", "", "has 23 bytes after offset 17"},
                        Case{"16", "20", "'length' is 20 but f32 [2,3] needs 24"},
                        Case{"99999999999999999999999", "", "expected a non-negative decimal integer"},
                        Case{"-1", "", "expected a non-negative decimal integer"},
                        Case{"18446744073709551615", "", "past the end"}}) {
    CAPTURE(c.offset);
    test::write_model(dir / "model.onnx", external_model("w.bin", c.offset, c.length));
    const std::string message = test::import_error(dir / "model.onnx");
    CHECK_MESSAGE(message.find(c.expect) != std::string::npos, message);
  }
  // Inline data beside EXTERNAL is contradictory.
  auto both = external_model("w.bin", "16");
  both.mutable_graph()->mutable_initializer(0)->add_float_data(1.0f);
  test::write_model(dir / "both.onnx", both);
  CHECK(test::import_error(dir / "both.onnx").find("also inline data") != std::string::npos);
}

TEST_CASE("export_onnx with external data: 64-byte aligned offsets, small tensors inline, re-imported as mapped views") {
  test::TempDir dir("external_export");
  Graph g;
  g.name = "g";
  g.inputs.push_back(ValueInfo{"x", {}});
  g.outputs.push_back(ValueInfo{"y", {}});
  std::vector<std::byte> big(3000), odd(1027), small(8);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7);
  for (size_t i = 0; i < odd.size(); ++i) odd[i] = static_cast<std::byte>(i * 13 + 1);
  g.initializers["a_big"] = Tensor::owning(DType::f32, {750}, big);
  g.initializers["b_odd"] = Tensor::owning(DType::u8, {1027}, odd);
  g.initializers["c_small"] = Tensor::owning(DType::f32, {2}, small);
  Node node;
  node.op = "Add";
  node.inputs = {"x", "a_big"};
  node.outputs = {"y"};
  g.nodes.push_back(node);
  onnx_format::OnnxExportOptions options;
  options.external = onnx_format::ExternalData::always;
  onnx_format::export_onnx(g, dir / "model.onnx", options);
  // a_big at 0, b_odd at 3008 (the next multiple of 64), c_small inline.
  REQUIRE(fs::file_size(dir / "model.onnx.data") == 3008 + 1027);
  const Model model = onnx_format::import_onnx_file(dir / "model.onnx");
  const Graph& back = model.graphs.at(0);
  CHECK(back.initializers.at("a_big").is_view());
  CHECK(back.initializers.at("b_odd").is_view());
  CHECK_FALSE(back.initializers.at("c_small").is_view());
  CHECK(reinterpret_cast<uintptr_t>(back.initializers.at("b_odd").bytes().data()) % 64 == 0);
  for (const auto& [name, tensor] : g.initializers) {
    const auto got = back.initializers.at(name).bytes();
    CHECK(std::equal(got.begin(), got.end(), tensor.bytes().begin(), tensor.bytes().end()));
  }
  // automatic: a model this small stays one file.
  onnx_format::export_onnx(g, dir / "inline.onnx");
  CHECK_FALSE(fs::exists(dir / "inline.onnx.data"));
  CHECK_FALSE(onnx_format::import_onnx_file(dir / "inline.onnx").graphs.at(0).initializers.at("a_big").is_view());
}
