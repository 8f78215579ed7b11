#pragma once
// Internal: the logits of each row's last position, [B, S, V] -> [B, V].
#include <cstring>

#include "edgec/core/error.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::runtime::detail {

inline HostTensor last_position(const HostTensor& logits) {
  if (logits.dtype() != DType::f32 || logits.rank() != 3)
    throw Error(ErrorCategory::input, "generation: logits must be f32 [B,S,V], got " + describe(logits));
  const int64_t batch = logits.dims()[0], seq = logits.dims()[1], vocab = logits.dims()[2];
  HostTensor out = HostTensor::empty(DType::f32, {batch, vocab});
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(out.mutable_data<float>() + b * vocab, logits.data<float>() + (b * seq + seq - 1) * vocab,
                static_cast<size_t>(vocab) * sizeof(float));
  return out;
}

inline HostTensor token_tensor(const std::vector<std::vector<int64_t>>& rows, int64_t first_position, bool positions) {
  const auto batch = static_cast<int64_t>(rows.size());
  const auto seq = rows.empty() ? int64_t{0} : static_cast<int64_t>(rows[0].size());
  std::vector<int64_t> values;
  values.reserve(static_cast<size_t>(batch * seq));
  for (const auto& row : rows) {
    if (static_cast<int64_t>(row.size()) != seq)
      throw Error(ErrorCategory::input, "generation: every prompt of a batch must have the same length (" +
                                            std::to_string(seq) + " and " + std::to_string(row.size()) + ")");
    for (int64_t s = 0; s < seq; ++s) values.push_back(positions ? first_position + s : row[static_cast<size_t>(s)]);
  }
  return HostTensor::from_values<int64_t>(DType::i64, {batch, seq}, values);
}

}  // namespace edgec::runtime::detail
