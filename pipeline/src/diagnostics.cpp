#include "diagnostics.hpp"

#include <algorithm>
#include <tuple>

#include "edgec/core/error.hpp"

namespace edgec::pipeline {

std::string SourceRef::prefix() const {
  if (!set_argument.empty()) return "--set " + set_argument;
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace detail {

void Diagnostics::error(const SourceRef& where, std::string message) { errors_.push_back(Entry{where, std::move(message)}); }

std::string Diagnostics::text() const {
  std::vector<const Entry*> sorted;
  for (const Entry& entry : errors_) sorted.push_back(&entry);
  // Command-line values first (in the order given), then file positions; stable, so one position keeps the order
  // in which the checks ran.
  const auto key = [](const Entry* e) { return std::make_tuple(e->where.set_argument.empty(), e->where.line, e->where.column); };
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Entry* a, const Entry* b) { return key(a) < key(b); });
  std::string text;
  std::vector<std::string> seen;
  for (const Entry* entry : sorted) {
    std::string line = entry->where.prefix() + ": " + entry->message;
    if (std::find(seen.begin(), seen.end(), line) != seen.end()) continue;
    if (!text.empty()) text += '\n';
    text += line;
    seen.push_back(std::move(line));
  }
  return text;
}

void Diagnostics::throw_if_any() const {
  if (!errors_.empty()) throw Error(ErrorCategory::usage, text());
}

}  // namespace detail
}  // namespace edgec::pipeline
