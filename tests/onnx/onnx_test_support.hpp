#pragma once
// Helpers shared by the ONNX tests: temporary folders, writing protos, hand-built models, and the one rule
// every failing import must follow (Error of category input, one line, starting with the path).
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"

namespace edgec::test {

// A fresh folder under the system temp dir, removed with everything in it when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag, const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    static std::atomic<int> counter{0};
    path_ = base /
            ("edgec-onnx-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Memory-backed scratch space for tests that rewrite a file thousands of times (ext4 flushes a truncated
// and rewritten file on close, which makes /tmp slow for that pattern).
inline std::filesystem::path scratch_base() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(std::filesystem::file_size(path)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(in.good());
  return bytes;
}

inline void write_model(const std::filesystem::path& path, const onnx::ModelProto& model) {
  std::string bytes;
  REQUIRE(model.SerializeToString(&bytes));
  write_bytes(path, bytes);
}

inline onnx::ModelProto read_model(const std::filesystem::path& path) {
  onnx::ModelProto model;
  const std::string bytes = read_bytes(path);
  REQUIRE(model.ParseFromString(bytes));
  return model;
}

// Outcome of an import that is allowed to fail: either a model, or an input error that names the path
// on a single line. Anything else (another exception type, another category) fails the test.
struct ImportOutcome {
  bool ok = false;
  std::string message;
};

template <class F>
ImportOutcome import_outcome(const std::filesystem::path& path, F&& import) {
  ImportOutcome outcome;
  try {
    import();
    outcome.ok = true;
  } catch (const Error& error) {
    outcome.message = error.what();
    CHECK(error.category() == ErrorCategory::input);
    // validate_graph names subgraphs as "<path> (subgraph of node 3 (If)): ...".
    CHECK_MESSAGE((outcome.message.starts_with(path.string() + ": ") ||
                   outcome.message.starts_with(path.string() + " (subgraph of ")),
                  outcome.message);
    CHECK_MESSAGE(outcome.message.find('\n') == std::string::npos, outcome.message);
  } catch (const std::exception& other) {
    FAIL("unexpected exception type: " << other.what());
  }
  return outcome;
}

// The message of the input error `import_onnx_file(path)` must throw.
inline std::string import_error(const std::filesystem::path& path) {
  const auto outcome = import_outcome(path, [&] { (void)onnx_format::import_onnx_file(path); });
  CHECK_MESSAGE(!outcome.ok, "expected an error importing " << path.string());
  return outcome.message;
}

// Builders for hand-made models.
inline onnx::ValueInfoProto* add_tensor_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                                              const std::string& name, int elem_type, std::vector<int64_t> dims) {
  auto* info = list->Add();
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  auto* shape = tensor->mutable_shape();
  for (const int64_t d : dims) shape->add_dim()->set_dim_value(d);
  return info;
}

inline void set_f32(onnx::TensorProto& tensor, const std::string& name, std::vector<int64_t> dims,
                    const std::vector<float>& values) {
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : dims) tensor.add_dims(d);
  tensor.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

// y = Add(x, w) with w an f32 [2,3] initializer; opset 17.
inline onnx::ModelProto small_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("edgec-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name("small");
  add_tensor_value(graph->mutable_input(), "x", onnx::TensorProto::FLOAT, {2, 3});
  add_tensor_value(graph->mutable_output(), "y", onnx::TensorProto::FLOAT, {2, 3});
  set_f32(*graph->add_initializer(), "w", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto* node = graph->add_node();
  node->set_name("/add/Add");
  node->set_op_type("Add");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  return model;
}

}  // namespace edgec::test
