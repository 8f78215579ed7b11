#include "edgec/runtime/kv_cache.hpp"

#include <algorithm>
#include <cstring>

#include "edgec/core/error.hpp"

namespace edgec::runtime {

void KvCache::Entry::reserve(int64_t extra) {
  const int64_t needed = length + extra;
  if (needed <= capacity) return;
  const int64_t grown = std::max(needed, capacity * 2);
  std::vector<float> new_keys(static_cast<size_t>(batch * grown * width));
  std::vector<float> new_values(new_keys.size());
  // Rows keep their own stride (capacity), so each row's filled prefix moves separately.
  for (int64_t b = 0; b < batch && length > 0; ++b) {
    const auto bytes = static_cast<size_t>(length * width) * sizeof(float);
    std::memcpy(new_keys.data() + b * grown * width, keys.data() + b * capacity * width, bytes);
    std::memcpy(new_values.data() + b * grown * width, values.data() + b * capacity * width, bytes);
  }
  keys = std::move(new_keys);
  values = std::move(new_values);
  capacity = grown;
}

KvCache::Entry& KvCache::entry(const std::string& node, int64_t batch, int64_t width) {
  auto it = entries_.find(node);
  if (it == entries_.end()) {
    Entry fresh;
    fresh.batch = batch;
    fresh.width = width;
    fresh.reserve(capacity_hint_);
    it = entries_.emplace(node, std::move(fresh)).first;
  }
  Entry& e = it->second;
  if (e.batch != batch || e.width != width)
    throw Error(ErrorCategory::input, "kv cache: node '" + node + "' holds batch " + std::to_string(e.batch) + " x width " +
                                          std::to_string(e.width) + ", the run gives batch " + std::to_string(batch) +
                                          " x width " + std::to_string(width) + " (clear the cache for a new batch)");
  return e;
}

int64_t KvCache::length() const {
  int64_t result = 0;
  for (const auto& [name, e] : entries_) result = std::max(result, e.length);
  return result;
}

}  // namespace edgec::runtime
