#pragma once
// Hooks calibration and debugging attach to an Executor. The executor checks one `empty()` per node when
// no observer is attached, and kernels check one pointer before a Linear hook: unused hooks cost nothing.
#include <span>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::runtime {

class Observer {
 public:
  Observer() = default;
  Observer(const Observer&) = default;
  Observer& operator=(const Observer&) = default;
  virtual ~Observer() = default;

  // `inputs` holds nullptr for omitted optional inputs.
  virtual void before_node(const Node& /*node*/, std::span<const HostTensor* const> /*inputs*/) {}
  virtual void after_node(const Node& /*node*/, std::span<const HostTensor* const> /*inputs*/,
                          std::span<const HostTensor> /*outputs*/) {}
  // A linear layer's activation input (before the weight is applied, [..., in_features]) and its
  // output (after the bias). Called by edgec.Linear, and by MatMul/Gemm whose weight is a constant.
  virtual void linear_input(const Node& /*node*/, const HostTensor& /*input*/) {}
  virtual void linear_output(const Node& /*node*/, const HostTensor& /*output*/) {}
};

}  // namespace edgec::runtime
