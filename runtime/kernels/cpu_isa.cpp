#include "kernels/cpu_isa.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "edgec/core/error.hpp"

namespace edgec::runtime::detail {

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    f.avx512 = f.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    f.vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
    f.bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
#endif
    return f;
  }();
  return features;
}

Isa isa_limit() {
  const CpuFeatures& cpu = cpu_features();
  const Isa best = cpu.avx512 ? Isa::avx512 : cpu.avx2 ? Isa::avx2 : Isa::portable;
  const char* env = std::getenv("EDGEC_ISA");
  if (!env || !*env) return best;
  const std::string value = env;
  Isa cap = Isa::avx512;
  if (value == "portable") cap = Isa::portable;
  else if (value == "avx2") cap = Isa::avx2;
  else if (value != "avx512" && value != "auto")
    throw Error(ErrorCategory::input, "EDGEC_ISA='" + value + "' is not one of portable, avx2, avx512, auto");
  return std::min(best, cap);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace edgec::runtime::detail
