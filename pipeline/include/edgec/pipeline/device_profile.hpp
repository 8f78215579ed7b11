#pragma once
// Device profiles a recipe's `target.device` names, and what edgec's kernels run on each. This table is the one
// place that says so: validation rejects a stage whose bits or activations its target cannot run.
#include <span>
#include <string_view>

#include "edgec/quant/scheme.hpp"

namespace edgec::pipeline {

struct DeviceProfile {
  std::string_view name;          // "x86-64-avx512"
  std::string_view description;
  std::span<const int> weight_bits;                          // weight bits its kernels execute
  std::span<const quant::ActivationMode> activation_modes;   // float, int8 per token, int8 per tensor

  bool runs_bits(int bits) const;
  bool runs_activations(quant::ActivationMode mode) const;
};

std::span<const DeviceProfile> device_profiles();
// nullptr when no profile has that name.
const DeviceProfile* find_device_profile(std::string_view name);

}  // namespace edgec::pipeline
