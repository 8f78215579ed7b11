#include "edgec/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace edgec::report {

std::string_view component_name(Component component) {
  switch (component) {
    case Component::vision: return "vision";
    case Component::projector: return "projector";
    case Component::language: return "language";
    case Component::other: return "other";
  }
  return "other";
}

std::optional<Component> component_from_name(std::string_view name) {
  for (Component c : {Component::vision, Component::projector, Component::language, Component::other})
    if (component_name(c) == name) return c;
  return std::nullopt;
}

std::string_view status_name(Status status) { return status == Status::passed ? "passed" : "failed"; }

std::optional<Status> status_from_name(std::string_view name) {
  if (name == "passed") return Status::passed;
  if (name == "failed") return Status::failed;
  return std::nullopt;
}

std::string_view gate_op_symbol(GateOp op) { return op == GateOp::at_most ? "<=" : ">="; }

std::optional<GateOp> gate_op_from_symbol(std::string_view symbol) {
  if (symbol == "<=") return GateOp::at_most;
  if (symbol == ">=") return GateOp::at_least;
  return std::nullopt;
}

bool gate_passes(GateOp op, double threshold, double actual) {
  if (std::isnan(actual) || std::isnan(threshold)) return false;
  return op == GateOp::at_most ? actual <= threshold : actual >= threshold;
}

Gate make_gate(std::string metric, GateOp op, double threshold, double actual) {
  return Gate{std::move(metric), op, threshold, actual, gate_passes(op, threshold, actual)};
}

Status status_of(const std::vector<Gate>& gates) {
  return std::all_of(gates.begin(), gates.end(), [](const Gate& g) { return g.passed; }) ? Status::passed
                                                                                         : Status::failed;
}

uint64_t total_bytes_before(const CompileReport& report) {
  uint64_t total = 0;
  for (const auto& s : report.sizes) total += s.bytes_before;
  return total;
}

uint64_t total_bytes_after(const CompileReport& report) {
  uint64_t total = 0;
  for (const auto& s : report.sizes) total += s.bytes_after;
  return total;
}

}  // namespace edgec::report
