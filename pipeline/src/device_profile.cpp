// The device profile table (docs/recipes.md, "target"). Every profile runs 2/3/4/8-bit weights through edgec's
// kernels (AVX-512 VNNI, AVX2 or the portable C++ path) except aarch64-neon, which has no NEON kernels for 2 and 3
// bits yet; W8A8 (int8 activations) runs everywhere (VNNI, AVX2, portable).
#include "edgec/pipeline/device_profile.hpp"

#include <algorithm>
#include <array>

namespace edgec::pipeline {

namespace {

using quant::ActivationMode;

constexpr std::array<int, 4> kAllBits{2, 3, 4, 8};
constexpr std::array<int, 2> kNeonBits{4, 8};
constexpr std::array<ActivationMode, 3> kAllActivations{ActivationMode::float_, ActivationMode::int8_dynamic,
                                                        ActivationMode::int8_static};

constexpr std::array<DeviceProfile, 4> kProfiles{{
    {"x86-64-avx512", "x86-64 with AVX-512 (F, BW) and VNNI", kAllBits, kAllActivations},
    {"x86-64-avx2", "x86-64 with AVX2 and FMA", kAllBits, kAllActivations},
    {"x86-64", "any x86-64 (portable kernels)", kAllBits, kAllActivations},
    {"aarch64-neon", "64-bit ARM with NEON (no 2- or 3-bit kernels yet)", kNeonBits, kAllActivations},
}};

}  // namespace

bool DeviceProfile::runs_bits(int bits) const { return std::find(weight_bits.begin(), weight_bits.end(), bits) != weight_bits.end(); }

bool DeviceProfile::runs_activations(ActivationMode mode) const {
  return std::find(activation_modes.begin(), activation_modes.end(), mode) != activation_modes.end();
}

std::span<const DeviceProfile> device_profiles() { return kProfiles; }

const DeviceProfile* find_device_profile(std::string_view name) {
  for (const DeviceProfile& profile : kProfiles)
    if (profile.name == name) return &profile;
  return nullptr;
}

}  // namespace edgec::pipeline
