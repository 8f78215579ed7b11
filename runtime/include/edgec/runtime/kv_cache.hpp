#pragma once
// Per-node key/value cache for edgec.Attention. A run that is given a cache (RunOptions::kv_cache) makes every
// causal Attention node append its new (RoPE-rotated) keys and values to the node's entry and attend over
// past + new tokens; non-causal nodes (vision towers) ignore it. The result equals the full-sequence formula
// of docs/ir-ops.md for the concatenated sequence. One cache holds one batch of sequences that advance
// together: every run appends the same number of tokens to every row.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgec::runtime {

class KvCache {
 public:
  // One Attention node's past: keys (after RoPE) and values, [batch, capacity, kv_heads*head_dim], of which
  // the first `length` tokens of each row are filled.
  struct Entry {
    int64_t batch = 0;
    int64_t width = 0;     // kv_heads * head_dim
    int64_t length = 0;
    int64_t capacity = 0;
    std::vector<float> keys;
    std::vector<float> values;
    // Makes room for `extra` more tokens per row (doubling, rows moved to their new stride).
    void reserve(int64_t extra);
    float* key_row(int64_t b, int64_t t) { return keys.data() + (b * capacity + t) * width; }
    float* value_row(int64_t b, int64_t t) { return values.data() + (b * capacity + t) * width; }
  };

  // `capacity_hint`: tokens per row to allocate up front (avoids regrowth when the total is known).
  explicit KvCache(int64_t capacity_hint = 0) : capacity_hint_(capacity_hint) {}

  // The entry of `node`, created empty for (batch, width) on first use; throws Error(input) when an existing
  // entry has another batch or width (a cache reused for a different batch).
  Entry& entry(const std::string& node, int64_t batch, int64_t width);
  // Tokens already cached per row (0 when empty); every node holds the same count after a complete run.
  int64_t length() const;
  void clear() { entries_.clear(); }
  size_t nodes() const { return entries_.size(); }

 private:
  int64_t capacity_hint_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace edgec::runtime
