// Graph -> ModelProto, written atomically: a temporary file in the destination folder, fsync, rename.
// A crash or a full disk never leaves a half-written model under the final name.
#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format {
namespace fs = std::filesystem;
using namespace detail;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Initializers' bytes collected for the external data file: (offset, tensor) in file order.
struct ExternalBlob {
  std::string location;  // the data file's name, relative to the model's folder
  uint64_t min_bytes = 0;
  uint64_t size = 0;
  std::vector<std::pair<uint64_t, Tensor>> tensors;

  // Appends `tensor` at the next 64-byte boundary and points `proto` at it.
  void add(const Tensor& tensor, onnx::TensorProto& proto) {
    const uint64_t offset = (size + 63) / 64 * 64;
    const uint64_t length = tensor.bytes().size();
    proto.set_data_location(onnx::TensorProto::EXTERNAL);
    const std::pair<const char*, std::string> entries[] = {
        {"location", location}, {"offset", std::to_string(offset)}, {"length", std::to_string(length)}};
    for (const auto& [key, value] : entries) {
      auto& entry = *proto.add_external_data();
      entry.set_key(key);
      entry.set_value(value);
    }
    tensors.emplace_back(offset, tensor);
    size = offset + length;
  }
};

class GraphExporter {
 public:
  explicit GraphExporter(std::string where, ExternalBlob* external = nullptr) : where_(std::move(where)), external_(external) {}

  void graph(const Graph& graph, onnx::GraphProto& proto, int depth) {
    if (depth > kMaxNesting)
      throw_input_error(where_, "subgraphs nest more than " + std::to_string(kMaxNesting) + " levels deep");
    proto.set_name(graph.name);
    for (const auto& info : graph.inputs) value_info(info.name, info.type, *proto.add_input());
    for (const auto& info : graph.outputs) value_info(info.name, info.type, *proto.add_output());
    for (const auto& [name, type] : graph.value_info) value_info(name, type, *proto.add_value_info());
    for (const auto& [name, tensor] : graph.initializers) {
      auto& out = *proto.add_initializer();
      out.set_name(name);
      // Only the top-level graph's initializers go external (subgraph tensors are small and rare).
      const bool external = external_ && depth == 0 && tensor.dtype() != DType::string && tensor.bytes().size() >= external_->min_bytes;
      export_tensor(tensor, out, where_ + ": initializer " + quote_name(name), !external);
      if (external) external_->add(tensor, out);
    }
    for (const auto& node : graph.nodes) this->node(node, *proto.add_node(), depth);
  }

  // Every domain a node uses, subgraphs included, so the opset list can cover them.
  static void collect_domains(const Graph& graph, std::set<std::string>& domains) {
    for (const auto& node : graph.nodes) {
      domains.insert(node.domain);
      for (const auto& [key, value] : node.attributes) {
        if (const auto* g = std::get_if<GraphPtr>(&value); g && *g) collect_domains(**g, domains);
        if (const auto* gs = std::get_if<std::vector<GraphPtr>>(&value))
          for (const auto& g : *gs)
            if (g) collect_domains(*g, domains);
      }
    }
  }

 private:
  static void value_info(const std::string& name, const ValueType& type, onnx::ValueInfoProto& proto) {
    proto.set_name(name);
    if (type.kind != ValueKind::unknown) export_type(type, *proto.mutable_type());
  }

  void node(const Node& node, onnx::NodeProto& proto, int depth) {
    proto.set_name(node.name);
    proto.set_op_type(node.op);
    if (!node.domain.empty()) proto.set_domain(node.domain);
    for (const auto& input : node.inputs) proto.add_input(input);
    for (const auto& output : node.outputs) proto.add_output(output);
    for (const auto& [key, value] : node.attributes) {
      auto& attr = *proto.add_attribute();
      attr.set_name(key);
      attribute(value, attr, "node " + quote_name(node.name) + " attribute " + quote_name(key), depth);
    }
  }

  GraphPtr checked(const GraphPtr& graph, const std::string& field) const {
    if (!graph) throw_input_error(where_, field + ": subgraph is null");
    return graph;
  }

  void attribute(const Attribute& value, onnx::AttributeProto& attr, const std::string& field, int depth) {
    using onnx::AttributeProto;
    std::visit(
        Overloaded{
            [&](int64_t v) {
              attr.set_type(AttributeProto::INT);
              attr.set_i(v);
            },
            [&](float v) {
              attr.set_type(AttributeProto::FLOAT);
              attr.set_f(v);
            },
            [&](const std::string& v) {
              // A TYPE_PROTO attribute travels through the IR as text (see onnx_import.cpp).
              if (v.starts_with(kTypeProtoPrefix) &&
                  google::protobuf::TextFormat::ParseFromString(v.substr(kTypeProtoPrefix.size()), attr.mutable_tp())) {
                attr.set_type(AttributeProto::TYPE_PROTO);
                return;
              }
              attr.clear_tp();
              attr.set_type(AttributeProto::STRING);
              attr.set_s(v);
            },
            [&](const Tensor& v) {
              attr.set_type(AttributeProto::TENSOR);
              export_tensor(v, *attr.mutable_t(), where_ + ": " + field);
            },
            [&](const GraphPtr& v) {
              attr.set_type(AttributeProto::GRAPH);
              graph(*checked(v, field), *attr.mutable_g(), depth + 1);
            },
            [&](const std::vector<int64_t>& v) {
              attr.set_type(AttributeProto::INTS);
              for (const auto x : v) attr.add_ints(x);
            },
            [&](const std::vector<float>& v) {
              attr.set_type(AttributeProto::FLOATS);
              for (const auto x : v) attr.add_floats(x);
            },
            [&](const std::vector<std::string>& v) {
              attr.set_type(AttributeProto::STRINGS);
              for (const auto& x : v) attr.add_strings(x);
            },
            [&](const std::vector<Tensor>& v) {
              attr.set_type(AttributeProto::TENSORS);
              for (const auto& x : v) export_tensor(x, *attr.add_tensors(), where_ + ": " + field);
            },
            [&](const std::vector<GraphPtr>& v) {
              attr.set_type(AttributeProto::GRAPHS);
              for (const auto& g : v) graph(*checked(g, field), *attr.add_graphs(), depth + 1);
            },
        },
        value);
  }

  std::string where_;
  ExternalBlob* external_;
};

// Owns the temporary file until commit(): on any failure the destructor closes and removes it.
class AtomicFile {
 public:
  explicit AtomicFile(const fs::path& out)
      : out_(out), temp_(out.string() + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create temporary file " + temp_.string());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }

  int fd() const { return fd_; }

  void commit() {
    if (::fsync(fd_) != 0) fail("cannot flush to disk");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close " + temp_.string());
    if (::rename(temp_.c_str(), out_.c_str()) != 0) fail("cannot rename " + temp_.string() + " into place");
    committed_ = true;
  }

  [[noreturn]] void fail(const std::string& what, int error = errno) const {
    throw_input_error(out_.string(), what + ": " + std::strerror(error));
  }

 private:
  fs::path out_;
  fs::path temp_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_all(AtomicFile& file, const std::byte* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(file.fd(), data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      file.fail("cannot write");
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
}

void write_external(const ExternalBlob& blob, const fs::path& path) {
  AtomicFile file(path);
  uint64_t at = 0;
  const std::byte zeros[64] = {};
  for (const auto& [offset, tensor] : blob.tensors) {
    write_all(file, zeros, static_cast<size_t>(offset - at));
    const auto bytes = tensor.bytes();
    write_all(file, bytes.data(), bytes.size());
    at = offset + bytes.size();
  }
  file.commit();
}

uint64_t initializer_bytes(const Graph& graph) {
  uint64_t total = 0;
  for (const auto& [name, tensor] : graph.initializers) total += tensor.bytes().size();
  return total;
}

}  // namespace

void export_onnx(const Graph& graph, const fs::path& out, const OnnxExportOptions& options) {
  const std::string where = out.string();
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("edgec");
  auto opsets = graph.opset_imports;
  if (opsets.empty()) opsets = {{"", 17}, {std::string(kEdgecDomain), 1}};
  std::set<std::string> domains;
  GraphExporter::collect_domains(graph, domains);
  for (const auto& domain : domains)
    if (!opsets.count(domain) && !(domain == "ai.onnx" && opsets.count("")) && !(domain.empty() && opsets.count("ai.onnx")))
      opsets.emplace(domain, 1);  // a domain the graph uses but does not declare: ONNX requires an entry
  for (const auto& [domain, version] : opsets) {
    auto& opset = *model.add_opset_import();
    opset.set_domain(domain);
    opset.set_version(version);
  }
  const bool external = options.external == ExternalData::always ||
                        (options.external == ExternalData::automatic && initializer_bytes(graph) >= kAutoExternalBytes);
  ExternalBlob blob{out.filename().string() + ".data", options.external_min_bytes, 0, {}};
  GraphExporter(where, external ? &blob : nullptr).graph(graph, *model.mutable_graph(), 0);

  const size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    throw_input_error(where, "the model is " + std::to_string(size) +
                                 " bytes, over protobuf's 2 GiB limit for one message (export its weights as external data)");
  const fs::path data_path = out.parent_path() / blob.location;
  if (!blob.tensors.empty()) write_external(blob, data_path);
  AtomicFile file(out);
  {
    google::protobuf::io::FileOutputStream stream(file.fd());
    if (!model.SerializeToZeroCopyStream(&stream) || !stream.Flush()) file.fail("cannot write", stream.GetErrno());
  }
  file.commit();
}

}  // namespace edgec::onnx_format
