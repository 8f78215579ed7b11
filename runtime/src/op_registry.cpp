#include "edgec/runtime/op_registry.hpp"

#include "edgec/core/error.hpp"

namespace edgec::runtime {

std::string_view canonical_domain(std::string_view domain) { return domain == "ai.onnx" ? std::string_view{} : domain; }

const HostTensor& KernelContext::input(size_t index) const {
  if (!has_input(index)) fail("input " + std::to_string(index) + " is required but absent");
  return *inputs_[index];
}

void KernelContext::fail(const std::string& what) const {
  // Unnamed nodes (common in ONNX files) are named by their first output.
  const std::string label = !node_.name.empty() || node_.outputs.empty()
                                ? "'" + node_.name + "'"
                                : "(output '" + node_.outputs[0] + "')";
  throw Error(ErrorCategory::input, "runtime: node " + label + " (" + node_.qualified_op() + "): " + what);
}

void OpRegistry::add(std::string_view domain, std::string_view op, KernelFn run, CheckFn check) {
  entries_[{std::string(canonical_domain(domain)), std::string(op)}] = KernelEntry{run, check};
}

const KernelEntry* OpRegistry::find(std::string_view domain, std::string_view op) const {
  const auto it = entries_.find(std::pair<std::string, std::string>(canonical_domain(domain), op));
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::ops() const {
  std::vector<std::string> out;
  for (const auto& [key, entry] : entries_) out.push_back(key.first.empty() ? key.second : key.first + "." + key.second);
  return out;
}

}  // namespace edgec::runtime
