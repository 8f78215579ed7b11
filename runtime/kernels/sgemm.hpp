#pragma once
// edgec's f32 matrix product: C[rows x cols] = A[rows x K] * B[K x cols] (+ epilogue), for every f32 product in
// the executor (MatMul, Gemm, Conv, Linear and the quantized layers' prefill). docs/runtime.md, "f32 products".
//
// The micro-kernel keeps an R x W tile of C in registers (AVX-512: 12 rows x 32 columns, AVX2: 6 x 16) and, for each
// k, broadcasts A[r][k] for its R rows and multiplies them by W consecutive values of B's row k: A is read in its
// natural row layout (a weight [out, in] as it is stored, a conv weight [M, C*taps]) and B as rows of columns. The
// operands are behind two small interfaces, so an operand in another form is converted block by block into a
// scratch buffer as the product needs it, never as a whole: bf16/f16 and quantized weights are widened or
// dequantized one [rows x 256] block at a time, an im2col matrix is gathered one [256 x columns] panel at a time.
//
// Blocking: C is cut into macro tiles of up to 96 rows x 128 columns that threads take from the pool; within one,
// K is walked in blocks of 256: B's block is packed into a zero-padded [256 x 128] panel (sequential in memory, so
// power-of-two strides do not alias in the cache), A's block is read in place or converted, and every micro tile
// accumulates into the macro tile's f32 buffer. Each element of C is summed over k in ascending order by one
// thread, in an order fixed by the shape: results do not depend on the thread count.
#include <cstdint>

#include "kernels/cpu_isa.hpp"

namespace edgec::runtime::detail::chain {
struct Chain;
}

namespace edgec::runtime::detail::sgemm {

// The rows of A, read as f32 blocks. Implementations: f32 in place, f32 stored transposed, bf16/f16, quantized.
class RowOperand {
 public:
  virtual ~RowOperand() = default;
  // Rows [r0, r0 + count) x columns [k0, k0 + kc) as f32: returns p with element (r, k) at p[(r - r0) * ld +
  // (k - k0)]; p points into the operand itself (setting ld) or into `scratch`, which holds count * kc floats.
  virtual const float* block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const = 0;
};

// The columns of B, packed a panel at a time.
class ColOperand {
 public:
  virtual ~ColOperand() = default;
  // Writes B[k][c] for k in [k0, k0 + kc), c in [c0, c0 + width) to panel[(k - k0) * panel_ld + (c - c0)].
  // Columns from width to panel_ld are zeroed by the caller; do not write them.
  virtual void pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const = 0;
  // B read in place, when it already is a panel: element (k, c) at p[k * ld + c], zero up to a multiple of 32
  // columns. nullptr (the default): pack().
  virtual const float* in_place(int64_t& ld) const {
    (void)ld;
    return nullptr;
  }
};

enum class Activation { none, relu, clip, sigmoid, hard_sigmoid, hard_swish, silu };

// What happens to each finished element of C: c = act(sum + row_bias[r] + col_bias[c] (+ C's old value when
// accumulate)), stored at c[r * ldc + col], or c[col * ldc + r] when transposed.
struct Output {
  float* c = nullptr;
  int64_t ldc = 0;
  bool transposed = false;
  bool accumulate = false;
  const float* row_bias = nullptr;
  const float* col_bias = nullptr;
  Activation activation = Activation::none;
  float alpha = 0.0f, beta = 0.0f;  // clip: [alpha, beta]; hard_sigmoid: alpha * x + beta, clamped to [0, 1]
  // Then an element-wise chain (kernels/chain.hpp) over each finished row, C not transposed: element (r, col) is the
  // chain's output element chain_first + r * ldc + col.
  const chain::Chain* chain = nullptr;
  int64_t chain_first = 0;
};

float apply_activation(Activation activation, float x, float alpha, float beta);

// C = A B over the current thread pool, on the best path of `isa`.
void multiply(int64_t rows, int64_t cols, int64_t k, const RowOperand& a, const ColOperand& b, const Output& out,
              Isa isa = isa_limit());

// ---- standard operands ----------------------------------------------------------------------------------------

// f32 A in place: row r at a + r * lda.
class F32Rows final : public RowOperand {
 public:
  F32Rows(const float* a, int64_t lda) : a_(a), lda_(lda) {}
  const float* block(int64_t r0, int64_t, int64_t k0, int64_t, float*, int64_t& ld) const override {
    ld = lda_;
    return a_ + r0 * lda_ + k0;
  }

 private:
  const float* a_;
  int64_t lda_;
};

// f32 A stored transposed: element (r, k) at a[k * lda + r].
class F32RowsTransposed final : public RowOperand {
 public:
  F32RowsTransposed(const float* a, int64_t lda) : a_(a), lda_(lda) {}
  const float* block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const override;

 private:
  const float* a_;
  int64_t lda_;
};

// 16-bit float A (bf16 or IEEE f16 bits), widened block by block: row r at a + r * lda.
class HalfRows final : public RowOperand {
 public:
  HalfRows(const uint16_t* a, int64_t lda, bool bf16, Isa isa = isa_limit()) : a_(a), lda_(lda), bf16_(bf16), isa_(isa) {}
  const float* block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const override;

 private:
  const uint16_t* a_;
  int64_t lda_;
  bool bf16_;
  Isa isa_;
};

// f32 B: element (k, c) at b[k * ldb + c]. `padded`: ldb is a multiple of 32 and the columns past B's own are
// zero, so the product reads B in place.
class F32Cols final : public ColOperand {
 public:
  F32Cols(const float* b, int64_t ldb, bool padded = false) : b_(b), ldb_(ldb), padded_(padded) {}
  void pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const override;
  const float* in_place(int64_t& ld) const override {
    ld = ldb_;
    return padded_ ? b_ : nullptr;
  }

 private:
  const float* b_;
  int64_t ldb_;
  bool padded_;
};

// f32 B stored transposed: element (k, c) at b[c * ldb + k].
class F32ColsTransposed final : public ColOperand {
 public:
  F32ColsTransposed(const float* b, int64_t ldb) : b_(b), ldb_(ldb) {}
  void pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const override;

 private:
  const float* b_;
  int64_t ldb_;
};

// y[rows x n] = x[rows x k] * W^T (+ bias) for a weight W [n x k] given as a RowOperand (the layout of Linear and of
// a quantized layer): computed as y^T = W x^T, so W is read in its stored row order and x, the small operand, is
// transposed once. Few rows (decode) use the GEMV kernels instead when the weight has one (f32, bf16, f16).
void linear(int64_t rows, int64_t n, int64_t k, const float* x, const RowOperand& w, const float* bias, float* y,
            Isa isa = isa_limit());

// GEMV-shaped products for decode (rows <= kGemvRows): y[t][j] = sum_k x[t][k] W[j][k] (+ bias[j]) with W [n x k]
// f32 (`half` = nullptr) or 16-bit (bf16 when `bf16`), read once, as a stream per channel, on all threads.
inline constexpr int64_t kGemvRows = 4;
bool gemv_supported(Isa isa);
void gemv(int64_t rows, int64_t n, int64_t k, const float* x, const float* w_f32, const uint16_t* w_half, bool bf16,
          const float* bias, float* y, Isa isa = isa_limit());

}  // namespace edgec::runtime::detail::sgemm
