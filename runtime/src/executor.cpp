#include "edgec/runtime/executor.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

#include "edgec/core/error.hpp"

namespace edgec::runtime {

int64_t opset_of(const Graph& graph, std::string_view domain) {
  const std::string_view canonical = canonical_domain(domain);
  for (const auto& [name, version] : graph.opset_imports)
    if (canonical_domain(name) == canonical) return version;
  return canonical.empty() ? kDefaultOnnxOpset : 1;
}

namespace {
// Unnamed nodes (common in ONNX files) are named by position and first output, so a message still says
// which node it is.
std::string label(const Node& node, size_t index) {
  if (!node.name.empty()) return "'" + node.name + "'";
  return "#" + std::to_string(index) + (node.outputs.empty() ? std::string() : " (output '" + node.outputs[0] + "')");
}
}  // namespace

void check_supported(const Graph& graph, const OpRegistry& registry) {
  std::string missing;
  int count = 0;
  for (size_t index = 0; index < graph.nodes.size(); ++index) {
    const Node& node = graph.nodes[index];
    const KernelEntry* entry = registry.find(node.domain, node.op);
    if (!entry) {
      if (++count <= 8)
        missing += std::string(count > 1 ? "; " : "") + "op '" + node.op + "' (domain '" + node.domain +
                   "') at node " + label(node, index);
      continue;
    }
    if (entry->check) {
      try {
        entry->check(node, opset_of(graph, node.domain));
      } catch (const Error& error) {
        throw Error(ErrorCategory::input, "runtime: node " + label(node, index) + " (" + node.qualified_op() +
                                              ") is not supported: " + error.what());
      }
    }
  }
  if (count > 0)
    throw Error(ErrorCategory::input, "runtime: graph '" + graph.name + "' has " + std::to_string(count) +
                                          " node(s) with no kernel: " + missing + (count > 8 ? "; ..." : ""));
}

Executor::Executor(const Graph& graph, std::shared_ptr<const OpRegistry> registry, ExecutorOptions options)
    : graph_(graph), registry_(std::move(registry)) {
  if (!registry_) registry_ = std::make_shared<const OpRegistry>(make_default_registry());
  check_supported(graph_, *registry_);
  original_ = make_plan(graph_);
  if (options.optimize) {
    auto optimized = std::make_unique<Graph>(optimize_graph(graph_, *registry_, &optimize_report_));
    if (optimize_report_.folded + optimize_report_.chains > 0) {
      optimized_graph_ = std::move(optimized);
      optimized_ = make_plan(*optimized_graph_);
    }
  }
}

Executor::Plan Executor::make_plan(const Graph& graph) const {
  Plan plan;
  plan.graph = &graph;
  auto slot = [&](const std::string& name) {
    const auto [it, inserted] = plan.slots.emplace(name, static_cast<int>(plan.slot_names.size()));
    if (inserted) plan.slot_names.push_back(name);
    return it->second;
  };
  std::set<std::string, std::less<>> graph_inputs;
  for (const auto& info : graph.inputs) {
    slot(info.name);
    graph_inputs.insert(info.name);
  }
  std::vector<uint8_t> is_constant;
  for (const auto& [name, tensor] : graph.initializers) slot(name);
  plan.initializer_values.resize(plan.slot_names.size());
  is_constant.resize(plan.slot_names.size(), 0);
  for (const auto& [name, tensor] : graph.initializers) {
    const int index = plan.slots.at(name);
    plan.initializer_values[static_cast<size_t>(index)] = HostTensor::from_ir(tensor);
    // An initializer that is also a graph input is only a default: the caller may replace it.
    is_constant[static_cast<size_t>(index)] = graph_inputs.count(name) ? 0 : 1;
  }
  for (const Node& node : graph.nodes) {
    Step step{&node, registry_->find(node.domain, node.op), opset_of(graph, node.domain), {}, {}, {}};
    for (const auto& name : node.inputs) {
      const int index = name.empty() ? -1 : slot(name);
      step.inputs.push_back(index);
      if (plan.slot_names.size() > is_constant.size()) is_constant.resize(plan.slot_names.size(), 0);
      step.constant_inputs.push_back(index >= 0 ? is_constant[static_cast<size_t>(index)] : 0);
    }
    for (const auto& name : node.outputs) step.outputs.push_back(name.empty() ? -1 : slot(name));
    is_constant.resize(plan.slot_names.size(), 0);
    if (node.op == "Constant" && canonical_domain(node.domain).empty())
      for (const int index : step.outputs)
        if (index >= 0) is_constant[static_cast<size_t>(index)] = 1;
    if (!step.kernel)
      throw Error(ErrorCategory::internal, "runtime: no kernel for " + node.qualified_op() + " in the executor's plan");
    plan.steps.push_back(std::move(step));
  }
  plan.initializer_values.resize(plan.slot_names.size());
  return plan;
}

int Executor::Plan::slot_of(const std::string& name) const {
  const auto it = slots.find(name);
  return it == slots.end() ? -1 : it->second;
}

// The optimized plan, unless observers need the original nodes or a value asked for exists only in the original.
const Executor::Plan& Executor::plan_for(const RunOptions& options) const {
  if (!optimized_graph_ || !observers_.empty()) return original_;
  for (const auto& name : options.outputs)
    if (optimized_.slot_of(name) < 0) return original_;
  return optimized_;
}

std::map<std::string, HostTensor> Executor::run(const std::map<std::string, HostTensor>& inputs,
                                                const RunOptions& options) const {
  using Clock = std::chrono::steady_clock;
  const auto run_start = Clock::now();
  const Plan& plan = plan_for(options);
  std::vector<HostTensor> values = plan.initializer_values;
  for (const auto& [name, tensor] : inputs) {
    const int index = plan.slot_of(name);
    const bool is_input = std::any_of(graph_.inputs.begin(), graph_.inputs.end(),
                                      [&](const ValueInfo& info) { return info.name == name; });
    if (index < 0 || !is_input)
      throw Error(ErrorCategory::input, "runtime: graph '" + graph_.name + "' has no input named '" + name + "'");
    values[static_cast<size_t>(index)] = tensor;
  }
  for (const auto& info : graph_.inputs)
    if (!values[static_cast<size_t>(plan.slots.at(info.name))].defined())
      throw Error(ErrorCategory::input, "runtime: graph '" + graph_.name + "' input '" + info.name + "' was not given");

  // The values the caller gets back, and the step after which every other value can be released.
  std::vector<std::string> wanted = options.outputs;
  if (wanted.empty())
    for (const auto& info : graph_.outputs) wanted.push_back(info.name);
  std::vector<uint8_t> keep(plan.slot_names.size(), 0);
  for (const auto& name : wanted) {
    const int index = plan.slot_of(name);
    if (index < 0) throw Error(ErrorCategory::input, "runtime: graph '" + graph_.name + "' has no value '" + name + "'");
    keep[static_cast<size_t>(index)] = 1;
  }
  constexpr size_t kUnused = static_cast<size_t>(-1);
  std::vector<size_t> last_use(plan.slot_names.size(), kUnused);
  for (size_t i = 0; i < plan.steps.size(); ++i)
    for (const int index : plan.steps[i].inputs)
      if (index >= 0) last_use[static_cast<size_t>(index)] = i;

  std::vector<const HostTensor*> args;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step& step = plan.steps[i];
    args.clear();
    for (const int index : step.inputs) {
      const HostTensor* value = index >= 0 ? &values[static_cast<size_t>(index)] : nullptr;
      if (value && !value->defined())
        throw Error(ErrorCategory::input, "runtime: node '" + step.node->name + "' (" + step.node->qualified_op() +
                                              "): input '" + plan.slot_names[static_cast<size_t>(index)] +
                                              "' has no value (an omitted optional output?)");
      args.push_back(value);
    }
    const KernelContext ctx(*step.node, args, step.opset, observers_, step.constant_inputs, options.kv_cache);
    if (!observers_.empty())
      for (Observer* observer : observers_) observer->before_node(*step.node, args);
    std::vector<HostTensor> results;
    const auto kernel_start = options.profile ? Clock::now() : Clock::time_point{};
    try {
      results = step.kernel->run(ctx);
    } catch (const Error& error) {
      // Kernel helpers outside ctx.fail do not know the node: name it here.
      const std::string message = error.what();
      if (message.rfind("runtime: node ", 0) == 0) throw;
      throw Error(error.category(), "runtime: node " + label(*step.node, i) + " (" + step.node->qualified_op() +
                                        "): " + message);
    }
    if (options.profile)
      options.profile->add_node(step.node->name.empty() ? label(*step.node, i) : step.node->name, *step.node,
                                std::chrono::duration<double, std::milli>(Clock::now() - kernel_start).count());
    if (results.size() != step.outputs.size())
      throw Error(ErrorCategory::internal, "runtime: kernel for node '" + step.node->name + "' returned " +
                                               std::to_string(results.size()) + " outputs, node has " +
                                               std::to_string(step.outputs.size()));
    if (!observers_.empty())
      for (Observer* observer : observers_) observer->after_node(*step.node, args, results);
    for (size_t k = 0; k < results.size(); ++k)
      if (const int index = step.outputs[k]; index >= 0) {
        // An output nothing reads and nobody asked for is dropped at once.
        if (last_use[static_cast<size_t>(index)] == kUnused && !keep[static_cast<size_t>(index)]) continue;
        values[static_cast<size_t>(index)] = std::move(results[k]);
      }
    // Release what no later node reads (initializers too: their bytes stay with the graph).
    for (const int index : step.inputs)
      if (index >= 0 && last_use[static_cast<size_t>(index)] == i && !keep[static_cast<size_t>(index)])
        values[static_cast<size_t>(index)] = HostTensor{};
  }

  std::map<std::string, HostTensor> out;
  for (const auto& name : wanted) {
    HostTensor& value = values[static_cast<size_t>(plan.slots.at(name))];
    if (!value.defined())
      throw Error(ErrorCategory::input, "runtime: graph '" + graph_.name + "' value '" + name + "' was never computed");
    out[name] = value;
  }
  if (options.profile) options.profile->add_run(std::chrono::duration<double, std::milli>(Clock::now() - run_start).count());
  return out;
}

}  // namespace edgec::runtime
