#pragma once
// Kernels are plain functions looked up once per node by (domain, op) when an Executor is built. A kernel
// receives the node, its input tensors and the opset of its domain, infers output shapes from the actual
// inputs and returns one tensor per node output (an undefined tensor for an omitted optional output).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/host_tensor.hpp"
#include "edgec/runtime/observer.hpp"

namespace edgec::runtime {

class KvCache;

class KernelContext {
 public:
  KernelContext(const Node& node, std::span<const HostTensor* const> inputs, int64_t opset,
                std::span<Observer* const> observers, std::span<const uint8_t> constant_inputs,
                KvCache* kv_cache = nullptr)
      : node_(node), inputs_(inputs), opset_(opset), observers_(observers), constant_(constant_inputs),
        kv_cache_(kv_cache) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t input_count() const { return inputs_.size(); }
  size_t output_count() const { return node_.outputs.size(); }
  // False for an omitted optional input ("" in the node, or past the end).
  bool has_input(size_t index) const { return index < inputs_.size() && inputs_[index] != nullptr; }
  // Throws Error(input) naming the node when the input is absent.
  const HostTensor& input(size_t index) const;
  bool output_wanted(size_t index) const { return index < node_.outputs.size() && !node_.outputs[index].empty(); }
  // The input is an initializer or a Constant node's output (a weight, not an activation).
  bool constant_input(size_t index) const { return index < constant_.size() && constant_[index] != 0; }

  bool observed() const { return !observers_.empty(); }
  void notify_linear_input(const HostTensor& input) const {
    for (Observer* observer : observers_) observer->linear_input(node_, input);
  }
  void notify_linear_output(const HostTensor& output) const {
    for (Observer* observer : observers_) observer->linear_output(node_, output);
  }

  // The run's key/value cache (RunOptions::kv_cache), or nullptr: only edgec.Attention uses it.
  KvCache* kv_cache() const { return kv_cache_; }

  // Error(input) "node 'name' (Op): what".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const Node& node_;
  std::span<const HostTensor* const> inputs_;
  int64_t opset_;
  std::span<Observer* const> observers_;
  std::span<const uint8_t> constant_;
  KvCache* kv_cache_;
};

using KernelFn = std::vector<HostTensor> (*)(const KernelContext& ctx);
// Optional static check of a node's attributes, run by check_supported before anything executes; throws
// Error(input) when the node uses a variant the kernel does not implement (e.g. Resize antialias).
using CheckFn = void (*)(const Node& node, int64_t opset);

struct KernelEntry {
  KernelFn run = nullptr;
  CheckFn check = nullptr;
};

class OpRegistry {
 public:
  // "" and "ai.onnx" name the same domain.
  void add(std::string_view domain, std::string_view op, KernelFn run, CheckFn check = nullptr);
  const KernelEntry* find(std::string_view domain, std::string_view op) const;
  // Every registered op as "Conv" or "edgec.Linear", sorted.
  std::vector<std::string> ops() const;

 private:
  std::map<std::pair<std::string, std::string>, KernelEntry, std::less<>> entries_;
};

// A registry with every kernel edgec ships. Built fresh on each call (no global state); executors share
// one through a shared_ptr.
OpRegistry make_default_registry();

// Canonical domain name ("ai.onnx" -> "").
std::string_view canonical_domain(std::string_view domain);

}  // namespace edgec::runtime
