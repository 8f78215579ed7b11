// edgec.QLinear (docs/ir-ops.md): a Linear whose weight is group-wise quantized (libcore quant_layout.hpp).
// This file validates the node, picks the code path for the CPU (and EDGEC_ISA), prepares the activations,
// splits the output channels over the thread pool and holds the portable paths; the SIMD kernels are in
// qlinear_avx2.cpp and qlinear_avx512.cpp (docs/runtime.md, "Quantized kernels").
//
// Determinism: each output element is computed by one thread, in an order fixed by the shape and the path, so
// results do not depend on the thread count. The W8A8 paths are bit-identical to one another: the group sums
// are exact integers and the float steps are the same, in the same order, everywhere:
//     acc = 0; for g ascending: acc = fma(s[n,g], float(isum[t,n,g]), acc);   y = fma(sx[t], acc, b[n])
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/core/quant_layout.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/qlinear_dequant.hpp"
#include "kernels/qlinear_driver.hpp"
#include "kernels/qlinear_kernels.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

using qlinear::FloatRows;
using qlinear::Int8Rows;
using qlinear::Weights;

enum class Activations { f32, int8_dynamic, int8_static };

struct Attrs {
  int bits = 0;
  int64_t group_size = 0;
  int64_t in_features = 0;
  Activations activations = Activations::f32;
};

// Reads and checks the attributes; returns "" when they are valid, else what is wrong.
std::string read_attrs(const Node& node, Attrs& out) {
  const auto int_attr = [&](const char* key, int64_t& value) -> std::string {
    const auto it = node.attributes.find(key);
    if (it == node.attributes.end()) return std::string("attribute '") + key + "' is missing";
    const auto* v = std::get_if<int64_t>(&it->second);
    if (!v) return std::string("attribute '") + key + "' must be an int";
    value = *v;
    return {};
  };
  int64_t bits = 0;
  if (auto problem = int_attr("bits", bits); !problem.empty()) return problem;
  if (auto problem = int_attr("group_size", out.group_size); !problem.empty()) return problem;
  if (auto problem = int_attr("in_features", out.in_features); !problem.empty()) return problem;
  if (bits < 0 || bits > 8 || !quant_bits_supported(static_cast<int>(bits)))
    return "bits=" + std::to_string(bits) + " is not supported (2, 3, 4 or 8)";
  out.bits = static_cast<int>(bits);
  if (out.in_features < 1) return "in_features=" + std::to_string(out.in_features) + " must be at least 1";
  if (out.group_size < 1 || out.group_size > out.in_features)
    return "group_size=" + std::to_string(out.group_size) + " must be in [1, in_features=" + std::to_string(out.in_features) + "]";
  if (node.has_attribute("activations") && !std::holds_alternative<std::string>(node.attributes.at("activations")))
    return "attribute 'activations' must be a string";
  const std::string activations = node.attr_string("activations", "float");
  if (activations == "float") out.activations = Activations::f32;
  else if (activations == "int8_dynamic") out.activations = Activations::int8_dynamic;
  else if (activations == "int8_static") out.activations = Activations::int8_static;
  else return "activations='" + activations + "' is not supported (float, int8_dynamic, int8_static)";
  if (out.activations != Activations::f32 && out.bits != 8)
    return "activations='" + activations + "' requires bits=8, got bits=" + std::to_string(out.bits);
  return {};
}

// ---- portable paths -------------------------------------------------------------------------------------------

void load_scales(const Weights& w, int64_t row, float* out) {
  if (w.scales_f32) {
    std::memcpy(out, w.scales_f32 + row * w.groups, static_cast<size_t>(w.groups) * sizeof(float));
    return;
  }
  for (int64_t g = 0; g < w.groups; ++g) out[g] = f16_to_f32(w.scales_f16[row * w.groups + g]);
}

// The codes of one row as integers.
void unpack_row(const Weights& w, int64_t row, int32_t* out) {
  const uint8_t* p = w.codes + row * w.row_bytes;
  const int64_t k = w.k;
  switch (w.bits) {
    case 8:
      for (int64_t i = 0; i < k; ++i) out[i] = p[i];
      return;
    case 4:
      for (int64_t i = 0; i + 1 < k; i += 2) {
        out[i] = p[i / 2] & 0x0F;
        out[i + 1] = p[i / 2] >> 4;
      }
      if (k % 2) out[k - 1] = p[k / 2] & 0x0F;
      return;
    case 2: {
      int64_t i = 0;
      for (; i + 3 < k; i += 4) {
        const uint8_t b = p[i / 4];
        out[i] = b & 3;
        out[i + 1] = (b >> 2) & 3;
        out[i + 2] = (b >> 4) & 3;
        out[i + 3] = b >> 6;
      }
      for (; i < k; ++i) out[i] = unpack_code(p, 2, i);
      return;
    }
    default:
      for (int64_t i = 0; i < k; ++i) out[i] = unpack_code(p, w.bits, i);
  }
}

// Dequantized row, w[k] = (q - z) * s, the value every path agrees to within float rounding.
void dequantize_row(const Weights& w, int64_t row, int32_t* codes, float* scales, float* out) {
  unpack_row(w, row, codes);
  load_scales(w, row, scales);
  for (int64_t g = 0; g < w.groups; ++g) {
    const int64_t k0 = g * w.group_size, k1 = std::min(w.k, k0 + w.group_size);
    const int z = w.zero(row, g);
    for (int64_t k = k0; k < k1; ++k) out[k] = static_cast<float>(codes[k] - z) * scales[g];
  }
}

// Weight-only, portable. One row: per channel, per group s * sum (q - z) * x with eight partial sums. Several
// rows: blocks of channels are dequantized to f32 and multiplied with the f32 GEMM (gemm.hpp).
constexpr int64_t kPortableBlock = 16;  // the driver's channel block: runs of blocks give the same partition

void wo_portable(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end) {
  const int64_t K = w.k;
  std::vector<int32_t> codes(static_cast<size_t>(K));
  std::vector<float> scales(static_cast<size_t>(w.groups));
  if (x.rows == 1) {
    for (int64_t n = n_begin; n < n_end; ++n) {
      unpack_row(w, n, codes.data());
      load_scales(w, n, scales.data());
      float acc = 0.0f;
      for (int64_t g = 0; g < w.groups; ++g) {
        const int64_t k0 = g * w.group_size, len = std::min(w.k, k0 + w.group_size) - k0;
        const int z = w.zero(n, g);
        float part[8] = {};
        int64_t i = 0;
        for (; i + 8 <= len; i += 8)
          for (int l = 0; l < 8; ++l) part[l] += static_cast<float>(codes[k0 + i + l] - z) * x.x[k0 + i + l];
        for (; i < len; ++i) part[0] += static_cast<float>(codes[k0 + i] - z) * x.x[k0 + i];
        const float sum = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
        acc += scales[g] * sum;
      }
      y[n] = acc + (w.bias ? w.bias[n] : 0.0f);
    }
    return;
  }
  std::vector<float> scratch(static_cast<size_t>(kPortableBlock * K));
  for (int64_t n0 = n_begin; n0 < n_end; n0 += kPortableBlock) {
    const int64_t count = std::min(kPortableBlock, n_end - n0);
    for (int64_t j = 0; j < count; ++j) dequantize_row(w, n0 + j, codes.data(), scales.data(), scratch.data() + j * K);
    gemm<float>(x.rows, count, K, x.x, K, scratch.data(), K, true, y + n0, w.n);
    if (w.bias)
      for (int64_t t = 0; t < x.rows; ++t)
        for (int64_t j = 0; j < count; ++j) y[t * w.n + n0 + j] += w.bias[n0 + j];
  }
}

// W8A8, portable: the contract's formula, straight.
void w8a8_portable(const Weights& w, const Int8Rows& x, float* y, int64_t n_begin, int64_t n_end) {
  const int64_t K = w.k;
  std::vector<int32_t> codes(static_cast<size_t>(K));
  std::vector<float> scales(static_cast<size_t>(w.groups));
  for (int64_t n = n_begin; n < n_end; ++n) {
    unpack_row(w, n, codes.data());
    load_scales(w, n, scales.data());
    for (int64_t t = 0; t < x.rows; ++t) {
      const int8_t* xq = x.xq + t * x.row_stride;
      float acc = 0.0f;
      for (int64_t g = 0; g < w.groups; ++g) {
        const int64_t k0 = g * w.group_size, len = std::min(K, k0 + w.group_size) - k0;
        const int32_t z = w.zero(n, g);
        const int8_t* xg = xq + g * x.group_stride;
        int64_t sum = 0;  // exact; the contract's int32 sum (the SIMD paths wrap like int32 if it ever overflowed)
        for (int64_t i = 0; i < len; ++i) sum += (codes[k0 + i] - z) * xg[i];
        acc = std::fma(scales[g], static_cast<float>(static_cast<int32_t>(sum)), acc);
      }
      y[t * w.n + n] = std::fma(x.sx[t], acc, w.bias ? w.bias[n] : 0.0f);
    }
  }
}

float absmax_portable(const float* x, int64_t k) {
  float best = 0.0f;
  for (int64_t i = 0; i < k; ++i) {
    const float a = std::fabs(x[i]);
    if (a > best) best = a;  // NaN is ignored
  }
  return best;
}

void quantize_row_portable(const float* x, int64_t k, int64_t group_size, int64_t group_stride, float sx, int8_t* xq,
                           int32_t* xsum) {
  const int64_t groups = (k + group_size - 1) / group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * group_size, len = std::min(group_size, k - k0);
    int8_t* out = xq + g * group_stride;
    int32_t total = 0;
    for (int64_t i = 0; i < len; ++i) {
      float r = std::nearbyint(x[k0 + i] / sx);  // round half to even (default rounding mode)
      if (!(r >= -127.0f)) r = -127.0f;            // also NaN, like the SIMD clamps
      if (r > 127.0f) r = 127.0f;
      out[i] = static_cast<int8_t>(r);
      total += static_cast<int32_t>(r);
    }
    std::fill(out + len, out + group_stride, int8_t{0});
    xsum[g] = total;
  }
}

// ---- driver ---------------------------------------------------------------------------------------------------

// Output channels are cut into blocks of this many (a multiple of every kernel's tile), a partition fixed by the
// shape. Every output is computed inside its block in an order that depends on the shape only, never on the thread
// that runs the block, so the pool may hand runs of blocks out dynamically: a thread that the OS pre-empts (the
// machine is shared) does not hold the others up at the end of the loop. The body gets a run of whole blocks
// [first * 16, last * 16) and loops over them itself. Small products stay on one thread.
constexpr int64_t kChannelBlock = 16;
constexpr int64_t kDequantizedRows = 16;  // from this many activation rows on, the dequantized f32 product is faster
constexpr int64_t kParallelWork = int64_t{1} << 17;

// The calling thread's scratch for the kernels, kept from call to call (a decode step makes hundreds of small
// calls) and uninitialised: the kernels write it before they read it.
float* thread_scratch(size_t floats) {
  thread_local std::unique_ptr<float[]> buffer;
  thread_local size_t size = 0;
  if (size < floats) {
    buffer.reset(new float[floats]);
    size = floats;
  }
  return buffer.get();
}

template <class Body>
void for_channel_blocks(int64_t n, int64_t work_per_channel, size_t scratch_floats, Body&& body) {
  const int64_t blocks = (n + kChannelBlock - 1) / kChannelBlock;
  const bool parallel = blocks > 1 && n * work_per_channel >= kParallelWork;
  const int threads = parallel ? parallel_threads() : 1;
  auto run_blocks = [&](int64_t first, int64_t last, int) {
    body(first * kChannelBlock, std::min(n, last * kChannelBlock), thread_scratch(scratch_floats));
  };
  if (!parallel) return run_blocks(0, blocks, 0);
  // About two claims per thread, at most 64 blocks each: a claim is one sequential stream of weight rows, and each
  // stream starts with a wait for memory until the prefetches run ahead (2 threads, 4096 x 4096 W4 g128: 46 GB/s
  // with claims of 16 blocks, 49 with these; 2048 x 2048: 40 -> 44; guided claims, shrinking as they go, no better).
  parallel_chunks(blocks, std::clamp<int64_t>(blocks / (2 * threads), 1, 64), run_blocks);
}

// Uninitialised floats on a 64-byte boundary: the kernels load x a register at a time, and a load across two cache
// lines costs two (measured: unaligned x made the 4-bit GEMV load-bound).
struct AlignedFloats {
  std::unique_ptr<float[]> storage;
  float* data = nullptr;
  explicit AlignedFloats(int64_t n) {
    if (n <= 0) return;
    storage.reset(new float[static_cast<size_t>(n + 16)]);
    const auto address = reinterpret_cast<uintptr_t>(storage.get());
    data = storage.get() + ((64 - address % 64) % 64) / sizeof(float);
  }
};

void run_weight_only(const Weights& w, Isa isa, const float* x, int64_t rows, float* y) {
  // AVX-512 kernels: bits 2, 3, 4, 8 in steps of 32 columns; AVX2: bits 4, 8 in steps of 16. A group must be
  // whole steps (the last, ragged group ends with a scalar tail).
  if (isa == Isa::avx512 && w.group_size % 32 != 0) isa = Isa::avx2;
  if (isa == Isa::avx2 && !((w.bits == 4 || w.bits == 8) && w.group_size % 16 == 0)) isa = Isa::portable;
  // x in the order the SIMD kernels unpack the codes in (qlinear_kernels.hpp).
  AlignedFloats permuted(isa != Isa::portable && w.bits != 8 ? rows * w.k : 0);
  if (permuted.data) {
    if (isa == Isa::avx512) qlinear::avx512_permute_x(w.bits, x, rows, w.k, permuted.data);
    else qlinear::avx2_permute_x(x, rows, w.k, permuted.data);
    x = permuted.data;
  }
  // GEMV of 8-bit weights, and of 4-bit ones on AVX2: the SIMD kernels need the sum of x over each group's full
  // steps (in double, eight partial sums so that the adds need not wait for one another).
  std::vector<float> group_sums;
  if (rows <= qlinear::kGemvRows && ((isa != Isa::portable && w.bits == 8) || (isa == Isa::avx2 && w.bits == 4))) {
    const int64_t step = isa == Isa::avx512 ? 32 : 16, full = w.k / step * step;
    group_sums.resize(static_cast<size_t>(rows * w.groups));
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t g = 0; g < w.groups; ++g) {
        const float* xg = x + t * w.k;
        const int64_t k0 = g * w.group_size, k1 = std::min(full, (g + 1) * w.group_size);
        double part[8] = {};
        int64_t k = k0;
        for (; k + 8 <= k1; k += 8)
          for (int l = 0; l < 8; ++l) part[l] += xg[k + l];
        for (; k < k1; ++k) part[0] += xg[k];
        const double sum = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
        group_sums[static_cast<size_t>(t * w.groups + g)] = static_cast<float>(sum);
      }
  }
  const FloatRows xr{rows, x, group_sums.empty() ? nullptr : group_sums.data()};
  const int64_t work = rows * w.k;
  switch (isa) {
    case Isa::avx512:
      for_channel_blocks(w.n, work, qlinear::avx512_scratch_floats(w), [&](int64_t n0, int64_t n1, float* s) {
        qlinear::wo_avx512(w, xr, y, n0, n1, s);
      });
      return;
    case Isa::avx2:
      for_channel_blocks(w.n, work, qlinear::avx2_scratch_floats(w), [&](int64_t n0, int64_t n1, float* s) {
        qlinear::wo_avx2(w, xr, y, n0, n1, s);
      });
      return;
    case Isa::portable:
      for_channel_blocks(w.n, work, 0, [&](int64_t n0, int64_t n1, float*) { wo_portable(w, xr, y, n0, n1); });
      return;
  }
}

void run_w8a8(const KernelContext& ctx, const Weights& w, Isa isa, const float* x, int64_t rows, const float* static_scale,
              float* y) {
  const bool vnni = isa == Isa::avx512 && cpu_features().vnni;
  if (isa == Isa::avx512 && !vnni) isa = Isa::avx2;
  const int64_t chunk = vnni ? 64 : isa == Isa::avx2 ? 32 : 1;
  const int64_t K = w.k, groups = w.groups;
  const int64_t group_stride = (w.group_size + chunk - 1) / chunk * chunk;
  const int64_t row_stride = groups * group_stride;
  std::vector<int8_t> xq(static_cast<size_t>(rows * row_stride));
  std::vector<int32_t> xsum(static_cast<size_t>(rows * groups));
  std::vector<float> sx(static_cast<size_t>(rows));
  parallel_for(rows, K * 4, [&](int64_t t) {
    const float* row = x + t * K;
    float scale = 1.0f;
    if (static_scale) {
      scale = *static_scale;
    } else {
      const float amax = vnni ? qlinear::absmax_avx512(row, K) : isa == Isa::avx2 ? qlinear::absmax_avx2(row, K) : absmax_portable(row, K);
      if (amax > 0.0f) scale = amax / 127.0f;
    }
    sx[static_cast<size_t>(t)] = scale;
    int8_t* out = xq.data() + t * row_stride;
    int32_t* sums = xsum.data() + t * groups;
    if (vnni) qlinear::quantize_row_avx512(row, K, w.group_size, group_stride, scale, out, sums);
    else if (isa == Isa::avx2) qlinear::quantize_row_avx2(row, K, w.group_size, group_stride, scale, out, sums);
    else quantize_row_portable(row, K, w.group_size, group_stride, scale, out, sums);
  });
  for (int64_t t = 0; t < rows; ++t)
    if (!std::isfinite(sx[static_cast<size_t>(t)]))
      ctx.fail("row " + std::to_string(t) + " of x holds an infinite value: its int8 activation scale is not finite");
  // The kernels read the group sums transposed, [groups][rows].
  std::vector<int32_t> xsum_t(static_cast<size_t>(rows * groups));
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t g = 0; g < groups; ++g) xsum_t[static_cast<size_t>(g * rows + t)] = xsum[static_cast<size_t>(t * groups + g)];
  const Int8Rows xr{rows, xq.data(), row_stride, group_stride, xsum_t.data(), sx.data()};
  const int64_t work = rows * K / 4;
  if (vnni) {
    for_channel_blocks(w.n, work, qlinear::avx512_scratch_floats(w), [&](int64_t n0, int64_t n1, float* s) {
      qlinear::w8a8_vnni(w, xr, y, n0, n1, s);
    });
  } else if (isa == Isa::avx2) {
    for_channel_blocks(w.n, work, qlinear::avx2_scratch_floats(w), [&](int64_t n0, int64_t n1, float* s) {
      qlinear::w8a8_avx2(w, xr, y, n0, n1, s);
    });
  } else {
    for_channel_blocks(w.n, work, 0, [&](int64_t n0, int64_t n1, float*) { w8a8_portable(w, xr, y, n0, n1); });
  }
}

std::string dims_text(std::initializer_list<int64_t> dims) {
  std::string out = "[";
  for (const int64_t d : dims) out += (out.size() > 1 ? "," : "") + std::to_string(d);
  return out + "]";
}

}  // namespace

namespace qlinear {

std::string check_attributes(const Node& node) {
  Attrs attrs;
  return read_attrs(node, attrs);
}

Operands read_operands(const KernelContext& ctx) {
  Attrs attrs;
  if (const std::string problem = read_attrs(ctx.node(), attrs); !problem.empty()) ctx.fail(problem);
  const int64_t K = attrs.in_features;
  const QuantLayout layout{attrs.bits, attrs.group_size, 0, K, false};
  const int64_t groups = layout.groups(), row_bytes = layout.row_bytes();
  const HostTensor& qweight = ctx.input(1);
  if (qweight.dtype() != DType::u8 || qweight.rank() != 2 || qweight.dims()[1] != row_bytes)
    ctx.fail("qweight must be u8 [N, " + std::to_string(row_bytes) + "] (in_features " + std::to_string(K) + " x " +
             std::to_string(attrs.bits) + " bits), got " + describe(qweight));
  const int64_t N = qweight.dims()[0];
  const HostTensor& scales = ctx.input(2);
  if ((scales.dtype() != DType::f32 && scales.dtype() != DType::f16) || scales.rank() != 2 || scales.dims()[0] != N ||
      scales.dims()[1] != groups)
    ctx.fail("scales must be f32 or f16 " + dims_text({N, groups}) + " (group_size " + std::to_string(attrs.group_size) +
             "), got " + describe(scales));
  Operands op;
  Weights& w = op.w;
  w.bits = attrs.bits;
  w.group_size = attrs.group_size;
  w.n = N;
  w.k = K;
  w.groups = groups;
  w.row_bytes = row_bytes;
  w.codes = qweight.data<uint8_t>();
  if (scales.dtype() == DType::f32) w.scales_f32 = scales.data<float>();
  else w.scales_f16 = reinterpret_cast<const uint16_t*>(scales.raw());
  if (ctx.has_input(3)) {
    const HostTensor& zeros = ctx.input(3);
    if (zeros.dtype() != DType::u8 || zeros.rank() != 2 || zeros.dims()[0] != N || zeros.dims()[1] != groups)
      ctx.fail("zeros must be u8 " + dims_text({N, groups}) + ", got " + describe(zeros));
    w.zeros = zeros.data<uint8_t>();
  }
  if (ctx.has_input(4)) {
    const HostTensor& bias = ctx.input(4);
    if (bias.dtype() != DType::f32 || bias.elements() != N)
      ctx.fail("bias must be f32 [" + std::to_string(N) + "], got " + describe(bias));
    w.bias = bias.data<float>();
  }
  op.int8_activations = attrs.activations != Activations::f32;
  if (attrs.activations == Activations::int8_static) {
    if (!ctx.has_input(5)) ctx.fail("activations='int8_static' needs act_scale (input 6)");
    const HostTensor& act_scale = ctx.input(5);
    if (act_scale.dtype() != DType::f32 || act_scale.elements() != 1 || act_scale.rank() > 1)
      ctx.fail("act_scale must be an f32 scalar or [1], got " + describe(act_scale));
    op.static_scale = act_scale.data<float>();
    if (!(*op.static_scale > 0.0f) || !std::isfinite(*op.static_scale))
      ctx.fail("act_scale must be positive and finite, got " + std::to_string(*op.static_scale));
  } else if (ctx.has_input(5)) {
    ctx.fail("act_scale (input 6) is only read with activations='int8_static'");
  }
  return op;
}

Weights Weights::rows_view(int64_t first, int64_t count) const {
  Weights view = *this;
  view.n = count;
  view.codes = codes + first * row_bytes;
  if (scales_f32) view.scales_f32 = scales_f32 + first * groups;
  if (scales_f16) view.scales_f16 = scales_f16 + first * groups;
  if (zeros) view.zeros = zeros + first * groups;
  if (bias) view.bias = bias + first;
  return view;
}

std::vector<float> dequantize(const Weights& w) {
  std::vector<float> out(static_cast<size_t>(w.n * w.k));
  std::vector<int32_t> codes(static_cast<size_t>(w.k));
  std::vector<float> scales(static_cast<size_t>(w.groups));
  for (int64_t row = 0; row < w.n; ++row) dequantize_row(w, row, codes.data(), scales.data(), out.data() + row * w.k);
  return out;
}

void compute(const KernelContext& ctx, const Operands& op, const Weights& w, const float* x, int64_t rows, float* y) {
  if (rows <= 0 || w.n <= 0) return;
  const Isa isa = isa_limit();
  // Prefill-sized weight-only products: dequantized a block at a time into the f32 product (qlinear_dequant.hpp),
  // whose micro kernel reuses each weight for all rows.
  if (!op.int8_activations && rows >= kDequantizedRows && isa == Isa::avx512)
    return sgemm::linear(rows, w.n, w.k, x, QuantRows(w, isa), w.bias, y, isa);
  if (!op.int8_activations) run_weight_only(w, isa, x, rows, y);
  else run_w8a8(ctx, w, isa, x, rows, op.static_scale, y);
}

}  // namespace qlinear

namespace {

std::vector<HostTensor> run_qlinear(const KernelContext& ctx) {
  const qlinear::Operands op = qlinear::read_operands(ctx);
  const int64_t K = op.w.k, N = op.w.n;
  const HostTensor& x = ctx.input(0);
  if (x.dtype() != DType::f32 || x.rank() < 1 || x.dims().back() != K)
    ctx.fail("x must be f32 [..., " + std::to_string(K) + "] (in_features), got " + describe(x));
  if (ctx.observed()) ctx.notify_linear_input(x);
  std::vector<int64_t> dims = x.dims();
  dims.back() = N;
  HostTensor y = HostTensor::empty(DType::f32, dims);
  qlinear::compute(ctx, op, op.w, x.data<float>(), x.elements() / K, y.mutable_data<float>());
  if (ctx.observed()) ctx.notify_linear_output(y);
  return {y};
}

void check_qlinear(const Node& node, int64_t) {
  if (const std::string problem = qlinear::check_attributes(node); !problem.empty()) throw Error(ErrorCategory::input, problem);
}

}  // namespace

void register_qlinear(OpRegistry& registry) { registry.add("edgec", "QLinear", run_qlinear, check_qlinear); }

}  // namespace edgec::runtime::detail
