#pragma once
// Runs an IR graph on the CPU, node by node in the graph's (topological) order. Every kernel is resolved
// and every node's attributes checked when the Executor is built, so an unsupported op is reported before
// anything runs. Intermediate values are released right after their last use.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/host_tensor.hpp"
#include "edgec/runtime/kv_cache.hpp"
#include "edgec/runtime/observer.hpp"
#include "edgec/runtime/op_registry.hpp"
#include "edgec/runtime/optimize.hpp"
#include "edgec/runtime/profile.hpp"

namespace edgec::runtime {

// Default-domain opset assumed when a graph declares none (graphs built by hand or by the HF importers).
inline constexpr int64_t kDefaultOnnxOpset = 21;

// Opset of `domain` in `graph` (kDefaultOnnxOpset for the ONNX domain, 1 otherwise, when undeclared).
int64_t opset_of(const Graph& graph, std::string_view domain);

// Throws Error(input) listing every node whose op has no kernel ("op 'Foo' (domain 'x') at node 'n'"),
// or the first node a kernel's static check rejects.
void check_supported(const Graph& graph, const OpRegistry& registry);

struct RunOptions {
  // Values to return besides nothing: empty means the graph outputs. Intermediate values may be named.
  std::vector<std::string> outputs;
  // Not owned. When set, causal edgec.Attention nodes append to it and attend over the cached tokens too
  // (generation: prefill, then one token per run). See kv_cache.hpp.
  KvCache* kv_cache = nullptr;
  // Not owned. When set, every kernel's wall time is added to it (per node and per op), and the run's.
  Profile* profile = nullptr;
};

struct ExecutorOptions {
  // Run an optimized copy of the graph (optimize.hpp: constants folded, element-wise chains fused; the same bits).
  // The original graph still runs whenever observers are attached or a run asks for a value the copy fused away.
  bool optimize = true;
};

class Executor {
 public:
  // `graph` must outlive the executor. A null registry means make_default_registry().
  explicit Executor(const Graph& graph, std::shared_ptr<const OpRegistry> registry = nullptr, ExecutorOptions options = {});

  // Observers are not owned and must outlive every run they are attached for. Runs with observers execute the
  // original graph's nodes (an observer sees every node and linear layer as the graph has them).
  void add_observer(Observer& observer) { observers_.push_back(&observer); }
  void clear_observers() { observers_.clear(); }

  // `inputs` by graph input name; an input with an initializer of the same name may be omitted (the
  // initializer is its default). Throws Error(input) for a missing input or a kernel failure, naming the node.
  std::map<std::string, HostTensor> run(const std::map<std::string, HostTensor>& inputs,
                                        const RunOptions& options = {}) const;

  // The graph as given (not the optimized copy).
  const Graph& graph() const { return graph_; }
  // What the optimizer did (all zero when ExecutorOptions::optimize is off or nothing applied).
  const OptimizeReport& optimize_report() const { return optimize_report_; }

 private:
  struct Step {
    const Node* node;
    const KernelEntry* kernel;
    int64_t opset;
    std::vector<int> inputs;    // value slot per input, -1 when omitted
    std::vector<int> outputs;   // value slot per output, -1 when omitted
    std::vector<uint8_t> constant_inputs;  // 1 when the input is an initializer or Constant output
  };
  // One graph made runnable: value slots, steps, initializers as host tensors.
  struct Plan {
    const Graph* graph = nullptr;
    std::map<std::string, int, std::less<>> slots;   // value name -> slot
    std::vector<std::string> slot_names;
    std::vector<Step> steps;
    std::vector<HostTensor> initializer_values;      // one per slot (undefined unless an initializer)
    int slot_of(const std::string& name) const;
  };
  Plan make_plan(const Graph& graph) const;
  const Plan& plan_for(const RunOptions& options) const;

  const Graph& graph_;
  std::shared_ptr<const OpRegistry> registry_;
  std::vector<Observer*> observers_;
  Plan original_;
  std::unique_ptr<Graph> optimized_graph_;  // null when not optimized
  Plan optimized_;
  OptimizeReport optimize_report_;
};

}  // namespace edgec::runtime
