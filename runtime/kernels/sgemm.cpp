// The f32 product's driver (sgemm.hpp): macro tiles over the thread pool, K blocks, B panels, A blocks, the epilogue,
// the standard operands, the transposed formulation of linear layers and the GEMV dispatch. The SIMD kernels are in
// sgemm_simd.inc; the portable micro kernel here is the reference path (EDGEC_ISA=portable) and the fallback.
#include "kernels/sgemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/parallel.hpp"
#include "kernels/chain.hpp"
#include "kernels/sgemm_kernels.hpp"

namespace edgec::runtime::detail::sgemm {
namespace {

constexpr int64_t kKBlock = 256;     // K per block: a packed B panel row block and an A block stay in L1/L2
constexpr int64_t kRowBlock = 96;    // rows per macro tile (a multiple of every micro kernel's row count)
constexpr int64_t kColBlock = 128;   // columns per macro tile (a multiple of every micro kernel's width)

// Portable micro kernel: 4 rows x 16 columns, plain loops the compiler vectorises for the baseline target.
constexpr int kPortableRows = 4;
constexpr int kPortableWidth = 16;

void micro_portable(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* panel, int64_t panel_ld, float* c,
                    int64_t ldc, bool first) {
  float acc[kPortableRows][kPortableWidth];
  for (int64_t r = 0; r < kPortableRows; ++r)
    for (int j = 0; j < kPortableWidth; ++j) acc[r][j] = first || r >= rows ? 0.0f : c[r * ldc + j];
  for (int64_t k = 0; k < kc; ++k) {
    const float* b = panel + k * panel_ld;
    for (int64_t r = 0; r < rows; ++r) {
      const float x = a[r * lda + k];
      for (int j = 0; j < kPortableWidth; ++j) acc[r][j] += x * b[j];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < kPortableWidth; ++j) c[r * ldc + j] = acc[r][j];
}

kernels::Micro micro_for(Isa isa) {
  if (isa == Isa::avx512) return kernels::micro_avx512();
  if (isa == Isa::avx2) return kernels::micro_avx2();
  return {kPortableRows, kPortableWidth, micro_portable};
}

void widen_portable(const uint16_t* src, int64_t count, bool bf16, float* dst) {
  for (int64_t i = 0; i < count; ++i) dst[i] = bf16 ? bf16_to_f32(src[i]) : f16_to_f32(src[i]);
}

kernels::WidenFn widen_for(Isa isa) {
  if (isa == Isa::avx512) return kernels::widen_avx512();
  if (isa == Isa::avx2) return kernels::widen_avx2();
  return widen_portable;
}

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// A thread's buffers, allocated on first use in a call (uninitialised: every use writes before it reads).
struct Scratch {
  std::unique_ptr<float[]> panel, a_block, c_tile;
};

// One finished row of a tile, C not transposed: loops without branches inside, which the compiler vectorises.
void finish_row(const Output& out, int64_t r, int64_t c0, int64_t cols, const float* src) {
  float* dst = out.c + r * out.ldc + c0;
  const float rb = out.row_bias ? out.row_bias[r] : 0.0f;
  const float* cb = out.col_bias ? out.col_bias + c0 : nullptr;
  if (cb && out.accumulate) for (int64_t j = 0; j < cols; ++j) dst[j] = ((src[j] + rb) + cb[j]) + dst[j];
  else if (cb) for (int64_t j = 0; j < cols; ++j) dst[j] = (src[j] + rb) + cb[j];
  else if (out.accumulate) for (int64_t j = 0; j < cols; ++j) dst[j] = (src[j] + rb) + dst[j];
  else for (int64_t j = 0; j < cols; ++j) dst[j] = src[j] + rb;
  if (out.activation != Activation::none)
    for (int64_t j = 0; j < cols; ++j) dst[j] = apply_activation(out.activation, dst[j], out.alpha, out.beta);
  if (out.chain) chain::apply(*out.chain, dst, cols, out.chain_first + r * out.ldc + c0);
}

void finish_tile(const Output& out, int64_t r0, int64_t c0, int64_t rows, int64_t cols, const float* tile, int64_t ld) {
  if (!out.transposed) {
    for (int64_t i = 0; i < rows; ++i) finish_row(out, r0 + i, c0, cols, tile + i * ld);
    return;
  }
  // Transposed: C's row `col` takes the tile's column, written in order (a tile row would touch a line per column).
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t col = c0 + j;
    float* target = out.c + col * out.ldc + r0;
    const float cb = out.col_bias ? out.col_bias[col] : 0.0f;
    for (int64_t i = 0; i < rows; ++i) {
      float v = tile[i * ld + j] + (out.row_bias ? out.row_bias[r0 + i] : 0.0f);
      if (out.col_bias) v += cb;
      if (out.accumulate) v += target[i];
      target[i] = out.activation == Activation::none ? v : apply_activation(out.activation, v, out.alpha, out.beta);
    }
  }
}

}  // namespace

float apply_activation(Activation activation, float x, float alpha, float beta) {
  switch (activation) {
    case Activation::none: return x;
    case Activation::relu: return x < 0.0f ? 0.0f : x;  // NaN stays NaN, as in Relu
    case Activation::clip: return x < alpha ? alpha : (x > beta ? beta : x);
    case Activation::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Activation::hard_sigmoid: return std::max(0.0f, std::min(1.0f, alpha * x + beta));
    case Activation::hard_swish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    case Activation::silu: return x / (1.0f + std::exp(-x));
  }
  return x;
}

void multiply(int64_t rows, int64_t cols, int64_t k, const RowOperand& a, const ColOperand& b, const Output& out, Isa isa) {
  if (rows <= 0 || cols <= 0) return;
  const kernels::Micro micro = micro_for(isa);
  const int64_t width = micro.width;
  int64_t in_place_ld = 0;
  const float* in_place = b.in_place(in_place_ld);
  if (in_place && (in_place_ld % 32 != 0 || 32 % width != 0)) in_place = nullptr;
  const int64_t col_block = std::min(kColBlock, round_up(cols, width));
  const int64_t row_tiles = (rows + kRowBlock - 1) / kRowBlock, col_tiles = (cols + col_block - 1) / col_block;
  const int threads = parallel_threads();
  std::vector<Scratch> scratch(static_cast<size_t>(threads));
  auto run_tiles = [&](int64_t first, int64_t last, int thread) {
    Scratch& s = scratch[static_cast<size_t>(thread)];
    if (!s.panel) {  // sized for this product (attention calls many small ones)
      const int64_t kc_max = std::max<int64_t>(1, std::min(kKBlock, k)), mr_max = std::min(kRowBlock, rows);
      s.panel.reset(new float[static_cast<size_t>(kc_max * col_block)]);
      s.a_block.reset(new float[static_cast<size_t>(mr_max * kc_max)]);
      s.c_tile.reset(new float[static_cast<size_t>(mr_max * col_block)]);
    }
    for (int64_t t = first; t < last; ++t) {
      const int64_t r0 = (t / col_tiles) * kRowBlock, c0 = (t % col_tiles) * col_block;
      const int64_t mr = std::min(kRowBlock, rows - r0), nc = std::min(col_block, cols - c0);
      const int64_t padded = round_up(nc, width);
      float* tile = s.c_tile.get();
      if (k == 0) std::fill(tile, tile + mr * padded, 0.0f);
      for (int64_t k0 = 0; k0 < k; k0 += kKBlock) {
        const int64_t kc = std::min(kKBlock, k - k0);
        const float* panel = in_place ? in_place + k0 * in_place_ld + c0 : s.panel.get();
        const int64_t panel_ld = in_place ? in_place_ld : padded;
        if (!in_place) {
          float* packed = s.panel.get();
          if (padded > nc)
            for (int64_t i = 0; i < kc; ++i) std::fill(packed + i * padded + nc, packed + (i + 1) * padded, 0.0f);
          b.pack(k0, kc, c0, nc, packed, padded);
        }
        int64_t lda = 0;
        const float* block = a.block(r0, mr, k0, kc, s.a_block.get(), lda);
        for (int64_t j0 = 0; j0 < padded; j0 += width)
          for (int64_t i0 = 0; i0 < mr; i0 += micro.rows)
            micro.run(std::min<int64_t>(micro.rows, mr - i0), kc, block + i0 * lda, lda, panel + j0, panel_ld, tile + i0 * padded + j0,
                      padded, k0 == 0);
      }
      finish_tile(out, r0, c0, mr, nc, tile, padded);
    }
  };
  if (row_tiles * col_tiles == 1) return run_tiles(0, 1, 0);
  parallel_chunks(row_tiles * col_tiles, 1, run_tiles);
}

const float* F32RowsTransposed::block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const {
  for (int64_t r = 0; r < count; ++r)
    for (int64_t k = 0; k < kc; ++k) scratch[r * kc + k] = a_[(k0 + k) * lda_ + r0 + r];
  ld = kc;
  return scratch;
}

const float* HalfRows::block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const {
  const kernels::WidenFn widen = widen_for(isa_);
  for (int64_t r = 0; r < count; ++r) {
    const uint16_t* row = a_ + (r0 + r) * lda_ + k0;
    // The next block of this row, a separate run of memory per row the hardware prefetcher does not foresee: asked
    // for now, it arrives while this block is multiplied (a weight is read once per product, from DRAM).
    if (k0 + 2 * kc <= lda_)
      for (int64_t b = 0; b < kc * 2; b += 64) __builtin_prefetch(reinterpret_cast<const char*>(row + kc) + b);
    widen(row, kc, bf16_, scratch + r * kc);
  }
  ld = kc;
  return scratch;
}

void F32Cols::pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const {
  for (int64_t k = 0; k < kc; ++k)
    std::memcpy(panel + k * panel_ld, b_ + (k0 + k) * ldb_ + c0, static_cast<size_t>(width) * sizeof(float));
}

void F32ColsTransposed::pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const {
  for (int64_t c = 0; c < width; ++c) {
    const float* column = b_ + (c0 + c) * ldb_ + k0;
    for (int64_t k = 0; k < kc; ++k) panel[k * panel_ld + c] = column[k];
  }
}

bool gemv_supported(Isa isa) { return isa != Isa::portable; }

void gemv(int64_t rows, int64_t n, int64_t k, const float* x, const float* w_f32, const uint16_t* w_half, bool bf16,
          const float* bias, float* y, Isa isa) {
  const kernels::GemvFn kernel = isa == Isa::avx512 ? kernels::gemv_avx512() : kernels::gemv_avx2();
  // Channels in blocks of 32: a thread's block is one sequential stream of 32 weight rows; blocks are claimed in
  // order, so a descheduled thread holds up one block at most. Small layers stay on one thread.
  constexpr int64_t kChannels = 32;
  for (int64_t t0 = 0; t0 < rows; t0 += kGemvRows) {
    const int64_t count = std::min(kGemvRows, rows - t0);
    const float* xt = x + t0 * k;
    float* yt = y + t0 * n;
    auto run = [&](int64_t n0, int64_t n1, int) { kernel(count, n0, n1, k, xt, k, w_f32, w_half, bf16, bias, yt, n); };
    if (n * k < (int64_t{1} << 16)) run(0, n, 0);
    else parallel_chunks(n, kChannels, run);
  }
}

void linear(int64_t rows, int64_t n, int64_t k, const float* x, const RowOperand& w, const float* bias, float* y, Isa isa) {
  if (rows <= 0 || n <= 0) return;
  // y^T [n x rows] = W [n x k] x^T [k x rows]: x^T is packed once (rows is the small side), zero-padded to a
  // multiple of 32 columns so every macro tile reads it in place.
  const int64_t ld = round_up(rows, 32);
  std::vector<float> xt(static_cast<size_t>(k * ld), 0.0f);
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t i = 0; i < k; ++i) xt[static_cast<size_t>(i * ld + t)] = x[t * k + i];
  Output out;
  out.c = y;
  out.ldc = n;
  out.transposed = true;
  out.row_bias = bias;
  multiply(n, rows, k, w, F32Cols(xt.data(), ld, true), out, isa);
}

}  // namespace edgec::runtime::detail::sgemm
