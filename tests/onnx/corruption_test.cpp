// Hostile and broken files: every one either imports and validates, or fails with an input error that names
// the file on one line. Nothing crashes, hangs or allocates what the file does not hold.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <random>

#include "edgec/core/graph.hpp"
#include "onnx_test_support.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using namespace edgec;

namespace {

onnx::GraphProto branch(const std::string& name, const std::string& out, int64_t value) {
  onnx::GraphProto graph;
  graph.set_name(name);
  auto* node = graph.add_node();
  node->set_op_type("Constant");
  node->set_name(name + "/Constant");
  node->add_output(out);
  auto* attr = node->add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  auto* t = attr->mutable_t();
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(2);
  t->add_int64_data(value);
  t->add_int64_data(value + 1);
  test::add_tensor_value(graph.mutable_output(), out, onnx::TensorProto::INT64, {2});
  return graph;
}

// small_model() plus an If with two bodies, typed-field tensors, a string tensor, list attributes and
// symbolic dims: a compact file that exercises most of the importer.
onnx::ModelProto rich_model() {
  auto model = test::small_model();
  auto* graph = model.mutable_graph();
  auto* cond = test::add_tensor_value(graph->mutable_input(), "cond", onnx::TensorProto::BOOL, {});
  (void)cond;
  test::add_tensor_value(graph->mutable_output(), "z", onnx::TensorProto::INT64, {2});
  auto* sym = graph->add_value_info();
  sym->set_name("y");
  sym->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  sym->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("batch");
  sym->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(3);

  auto* half = graph->add_initializer();
  half->set_name("half");
  half->set_data_type(onnx::TensorProto::FLOAT16);
  half->add_dims(2);
  half->add_int32_data(0x3c00);  // 1.0
  half->add_int32_data(0xc000);  // -2.0
  auto* labels = graph->add_initializer();
  labels->set_name("labels");
  labels->set_data_type(onnx::TensorProto::STRING);
  labels->add_dims(2);
  labels->add_string_data("cat");
  labels->add_string_data("dog");

  auto* node = graph->add_node();
  node->set_name("/if/If");
  node->set_op_type("If");
  node->add_input("cond");
  node->add_output("z");
  auto* then_attr = node->add_attribute();
  then_attr->set_name("then_branch");
  then_attr->set_type(onnx::AttributeProto::GRAPH);
  *then_attr->mutable_g() = branch("then", "a", 1);
  auto* else_attr = node->add_attribute();
  else_attr->set_name("else_branch");
  else_attr->set_type(onnx::AttributeProto::GRAPH);
  *else_attr->mutable_g() = branch("else", "b", 7);

  auto* add = graph->mutable_node(0);
  auto* ints = add->add_attribute();
  ints->set_name("note_ints");
  ints->set_type(onnx::AttributeProto::INTS);
  ints->add_ints(4);
  ints->add_ints(-5);
  auto* strings = add->add_attribute();
  strings->set_name("note_strings");
  strings->set_type(onnx::AttributeProto::STRINGS);
  strings->add_strings("p");
  auto* floats = add->add_attribute();
  floats->set_name("note_floats");
  floats->set_type(onnx::AttributeProto::FLOATS);
  floats->add_floats(0.5f);
  return model;
}

struct Tally {
  size_t imported = 0, rejected = 0;
};

void try_import(const fs::path& path, Tally& tally) {
  const auto outcome = test::import_outcome(path, [&] {
    const Model model = onnx_format::import_onnx_file(path);
    validate_graph(model.graphs.at(0), path.string());
  });
  ++(outcome.ok ? tally.imported : tally.rejected);
}

void every_truncation(const std::string& bytes, const fs::path& path, const char* what) {
  Tally tally;
  for (size_t length = 0; length < bytes.size(); ++length) {
    test::write_bytes(path, bytes.substr(0, length));
    try_import(path, tally);
  }
  std::cout << "onnx truncation (" << what << ", " << bytes.size() << " bytes): " << tally.imported
            << " prefixes imported, " << tally.rejected << " rejected\n";
  CHECK(tally.rejected > 0);
  CHECK(tally.imported + tally.rejected == bytes.size());
}

void random_flips(const std::string& bytes, const fs::path& path, const char* what, int mutants, uint32_t seed) {
  std::mt19937 rng(seed);
  Tally tally;
  for (int i = 0; i < mutants; ++i) {
    std::string mutant = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % mutant.size();
      mutant[at] = static_cast<char>(static_cast<unsigned char>(mutant[at]) ^ (1u << (rng() % 8)));
    }
    test::write_bytes(path, mutant);
    try_import(path, tally);
  }
  std::cout << "onnx byte flips (" << what << "): " << tally.imported << " of " << mutants << " mutants imported, "
            << tally.rejected << " rejected\n";
  CHECK(tally.imported + tally.rejected == static_cast<size_t>(mutants));
}

std::string serialized(const onnx::ModelProto& model) {
  std::string bytes;
  REQUIRE(model.SerializeToString(&bytes));
  return bytes;
}

// A real model under 20 KB with an initializer: fmnist's embedding graph, else one from libonnx-testdata.
std::string small_real_model() {
  const auto shared = test::shared_model("fmnist-vlm-a");
  if (!shared.empty() && fs::exists(shared / "onnx" / "embed_tokens.onnx"))
    return test::read_bytes(shared / "onnx" / "embed_tokens.onnx");
  const auto testdata = test::onnx_testdata();
  if (!testdata.empty() && fs::exists(testdata / "pytorch-operator" / "test_operator_conv" / "model.onnx"))
    return test::read_bytes(testdata / "pytorch-operator" / "test_operator_conv" / "model.onnx");
  return {};
}

}  // namespace

TEST_CASE("the hand-built rich model imports with the values it was built from") {
  test::TempDir dir("rich");
  test::write_model(dir / "rich.onnx", rich_model());
  const Model model = onnx_format::import_onnx_file(dir / "rich.onnx");
  const Graph& g = model.graphs.at(0);
  CHECK(g.name == "rich");
  CHECK(model.metadata.at("graph_name") == "small");
  CHECK(model.metadata.at("producer_name") == "edgec-test");
  CHECK(g.initializers.at("half").dtype() == DType::f16);
  CHECK(g.initializers.at("half").to_f32() == std::vector<float>{1.0f, -2.0f});
  const auto labels = g.initializers.at("labels").bytes();
  CHECK(labels.size() == 2 * 4 + 6);
  CHECK(std::string(reinterpret_cast<const char*>(labels.data()) + 4, 3) == "cat");
  CHECK(g.value_info.at("y").shape->at(0).symbol == "batch");
  CHECK(g.value_info.at("y").shape->at(1).value == 3);
  REQUIRE(g.nodes.size() == 2);
  const auto& then_body = std::get<GraphPtr>(g.nodes[1].attributes.at("then_branch"));
  CHECK(then_body->nodes.at(0).op == "Constant");
  CHECK(std::get<Tensor>(then_body->nodes[0].attributes.at("value")).data<int64_t>()[1] == 2);
  CHECK(g.nodes[0].attr_ints("note_ints") == std::vector<int64_t>{4, -5});
}

TEST_CASE("every truncation of a small model imports or fails cleanly") {
  test::TempDir dir("truncate", test::scratch_base());
  every_truncation(serialized(rich_model()), dir / "rich.onnx", "hand-built rich model");
  if (const auto real = small_real_model(); !real.empty()) every_truncation(real, dir / "real.onnx", "real model");
}

TEST_CASE("2000 random byte-flip mutants import or fail cleanly") {
  test::TempDir dir("flips", test::scratch_base());
  random_flips(serialized(rich_model()), dir / "rich.onnx", "hand-built rich model", 2000, 20240501u);
  if (const auto real = small_real_model(); !real.empty()) random_flips(real, dir / "real.onnx", "real model", 2000, 7u);
}

TEST_CASE("files that are not ONNX models") {
  test::TempDir dir("not-onnx");
  test::write_bytes(dir / "text.onnx", "This is a text file, not a protobuf.\nSecond line.\n");
  CHECK(!test::import_error(dir / "text.onnx").empty());
  test::write_bytes(dir / "empty.onnx", "");
  CHECK(test::import_error(dir / "empty.onnx").find("empty") != std::string::npos);
  fs::create_directory(dir / "x.onnx");
  CHECK(test::import_error(dir / "x.onnx").find("folder") != std::string::npos);
  CHECK(test::import_error(dir / "missing.onnx").find("cannot open") != std::string::npos);
  // A folder import skips a directory named *.onnx and takes the real files.
  test::write_model(dir / "a.onnx", test::small_model());
  fs::remove(dir / "text.onnx");
  fs::remove(dir / "empty.onnx");
  const Model model = onnx_format::import_onnx_folder(dir.path());
  CHECK(model.graphs.size() == 1);
  CHECK(model.graphs[0].name == "a");
}

TEST_CASE("a file over 2 GiB is rejected before parsing (protobuf limit)") {
  test::TempDir dir("huge");
  const auto path = dir / "huge.onnx";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const bool sized = ::ftruncate(fd, (int64_t{1} << 31) + 16) == 0;  // sparse: takes no disk space
  ::close(fd);
  REQUIRE(sized);
  CHECK(test::import_error(path).find("2 GiB") != std::string::npos);
}

TEST_CASE("tensor headers that claim more than the file holds are rejected before allocating") {
  test::TempDir dir("claims");
  const auto path = dir / "m.onnx";
  auto with_w = [&](auto&& edit) {
    auto model = test::small_model();
    auto* w = model.mutable_graph()->mutable_initializer(0);
    edit(*w);
    test::write_model(path, model);
    return test::import_error(path);
  };
  auto has = [](const std::string& message, const std::string& text) {
    CHECK_MESSAGE(message.find(text) != std::string::npos, message);
  };
  has(with_w([](onnx::TensorProto& w) {
        w.clear_dims();
        w.add_dims(int64_t{1} << 30);
        w.add_dims(int64_t{1} << 30);
        w.set_raw_data("abcd");
      }),
      "initializer 'w': raw_data has 4 bytes but f32 [1073741824,1073741824] needs 4611686018427387904");
  has(with_w([](onnx::TensorProto& w) {
        w.clear_dims();
        w.add_dims(int64_t{1} << 62);
        w.add_dims(int64_t{1} << 62);
      }),
      "overflow the element count");
  has(with_w([](onnx::TensorProto& w) {
        w.clear_dims();
        w.add_dims(int64_t{1} << 61);
      }),
      "raw_data has 24 bytes but f32 [2305843009213693952] needs 9223372036854775808");
  has(with_w([](onnx::TensorProto& w) {
        w.clear_dims();
        w.add_dims(int64_t{1} << 62);
      }),
      "is too large to address");
  has(with_w([](onnx::TensorProto& w) { w.set_dims(0, -2); }), "dims[0] is -2");
  has(with_w([](onnx::TensorProto& w) { w.set_raw_data("123456789012"); }),
      "raw_data has 12 bytes but f32 [2,3] needs 24");
  has(with_w([](onnx::TensorProto& w) {
        w.clear_raw_data();
        w.add_float_data(1.0f);
      }),
      "float_data has 1 values but f32 [2,3] needs 6");
  has(with_w([](onnx::TensorProto& w) { w.clear_raw_data(); }), "has no data");
  has(with_w([](onnx::TensorProto& w) { w.set_data_type(99); }), "unknown data_type 99");
  has(with_w([](onnx::TensorProto& w) { w.set_data_type(0); }), "data_type is 0");
  has(with_w([](onnx::TensorProto& w) {
        w.set_data_type(onnx::TensorProto::INT8);
        w.clear_raw_data();
        w.clear_dims();
        w.add_dims(1);
        w.add_int32_data(300);
      }),
      "out of range for i8");
  has(with_w([](onnx::TensorProto& w) {
        w.set_data_type(onnx::TensorProto::STRING);
        w.clear_raw_data();
        w.add_string_data("one");
      }),
      "string_data has 1 values but string [2,3] needs 6");
  has(with_w([](onnx::TensorProto& w) { w.add_int64_data(1); }), "has int64_data but f32 tensors");
}

TEST_CASE("graph structure errors: undefined values, duplicates, cycles, names, opsets") {
  test::TempDir dir("structure");
  const auto path = dir / "m.onnx";
  auto error_of = [&](auto&& edit) {
    auto model = test::small_model();
    edit(model);
    test::write_model(path, model);
    return test::import_error(path);
  };
  auto has = [](const std::string& message, const std::string& text) {
    CHECK_MESSAGE(message.find(text) != std::string::npos, message);
  };
  has(error_of([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(0)->set_input(1, "nowhere"); }), "'nowhere'");
  has(error_of([](onnx::ModelProto& m) { *m.mutable_graph()->add_node() = m.graph().node(0); }),
      "defined more than once");
  has(error_of([](onnx::ModelProto& m) { *m.mutable_graph()->add_initializer() = m.graph().initializer(0); }),
      "initializer 'w' is defined twice");
  has(error_of([](onnx::ModelProto& m) {
        auto* g = m.mutable_graph();
        g->mutable_node(0)->set_input(0, "b");
        auto* other = g->add_node();
        other->set_op_type("Relu");
        other->add_input("y");
        other->add_output("b");
      }),
      "cycle");
  has(error_of([](onnx::ModelProto& m) { m.mutable_graph()->mutable_output(0)->set_name("ghost"); }),
      "graph output 'ghost'");
  has(error_of([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(0)->set_name("bad\nname"); }),
      "control characters");
  has(error_of([](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(22); }),
      "default-domain opset 22 is not supported (supported: 1-21)");
  has(error_of([](onnx::ModelProto& m) { m.clear_graph(); }), "no graph");
  has(error_of([](onnx::ModelProto& m) {
        auto* attr = m.mutable_graph()->mutable_node(0)->add_attribute();
        attr->set_name("sparse");
        attr->set_type(onnx::AttributeProto::SPARSE_TENSOR);
      }),
      "SPARSE_TENSOR is not supported yet");
  has(error_of([](onnx::ModelProto& m) { m.add_functions()->set_name("f"); }), "functions");

  // Opset 21 and other domains at any version import; nodes out of order are sorted.
  auto model = test::small_model();
  model.mutable_opset_import(0)->set_version(21);
  auto* ml = model.add_opset_import();
  ml->set_domain("com.microsoft");
  ml->set_version(1);
  auto* g = model.mutable_graph();
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->add_input("y");
  relu->add_output("r");
  g->mutable_node()->SwapElements(0, 1);
  test::add_tensor_value(g->mutable_output(), "r", onnx::TensorProto::FLOAT, {2, 3});
  test::write_model(path, model);
  const Model imported = onnx_format::import_onnx_file(path);
  CHECK(imported.graphs[0].opset_imports.at("") == 21);
  CHECK(imported.graphs[0].opset_imports.at("com.microsoft") == 1);
  CHECK(imported.graphs[0].nodes.at(0).op == "Add");
  CHECK(imported.graphs[0].nodes.at(0).scope == "/add/Add");
  CHECK(imported.graphs[0].nodes.at(1).op == "Relu");
}

TEST_CASE("deeply nested subgraphs are refused without exhausting the stack") {
  test::TempDir dir("nested");
  auto model = test::small_model();
  onnx::GraphProto inner;
  inner.set_name("leaf");
  for (int depth = 0; depth < 300; ++depth) {
    onnx::GraphProto outer;
    outer.set_name("level" + std::to_string(depth));
    auto* node = outer.add_node();
    node->set_op_type("If");
    node->add_input("cond");
    auto* attr = node->add_attribute();
    attr->set_name("then_branch");
    attr->set_type(onnx::AttributeProto::GRAPH);
    *attr->mutable_g() = std::move(inner);
    inner = std::move(outer);
  }
  auto* attr = model.mutable_graph()->mutable_node(0)->add_attribute();
  attr->set_name("deep");
  attr->set_type(onnx::AttributeProto::GRAPH);
  *attr->mutable_g() = std::move(inner);
  test::write_model(dir / "deep.onnx", model);
  CHECK(!test::import_error(dir / "deep.onnx").empty());
}
