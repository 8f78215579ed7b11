// edgec's f32 product (runtime/kernels/sgemm.hpp) on every code path: each operand form (f32 in place and
// transposed, bf16 and f16 widened per block, B packed from rows or transposed), each output form (transposed,
// accumulated, row and column bias, activations), shapes that end inside a micro tile, a macro tile and a K block,
// against a double-precision reference; the GEMV kernels likewise; and the same bytes at 1 and 2 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "kernels/sgemm.hpp"
#include "qlinear_reference.hpp"
#include "test_random.hpp"
#include "threads.hpp"

using namespace edgec;
using namespace edgec::runtime::detail;
using edgec::runtime::test::IsaScope;
using edgec::runtime::test::kIsas;

namespace {

std::vector<float> random_values(size_t n, uint64_t seed) {
  edgec::test::Random rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

uint16_t to_half_bits(float x, bool bf16) { return bf16 ? f32_to_bf16(x) : f32_to_f16(x); }

// |got - want| <= 1e-5 * sum |a| |b| + 1e-6 for every element: f32 sums in another order than the double reference.
void check_close(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& scale,
                 const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, worst = 0;
  double worst_excess = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double excess = std::fabs(got[i] - want[i]) - (1e-5 * scale[i] + 1e-6);
    if (excess > 0 || std::isnan(got[i])) {
      ++bad;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " outside, worst at " << worst << ": got " << got[worst]
                                << ", want " << want[worst]);
}

struct Case {
  int64_t rows, cols, k;
};

// Shapes around every boundary: micro tiles (12x32, 6x16, 4x16), macro tiles (96x128), K blocks (256).
const std::vector<Case> kCases{{1, 1, 1},   {5, 7, 3},    {12, 32, 256}, {13, 33, 257}, {97, 129, 300},
                               {200, 40, 600}, {3, 300, 70}, {96, 128, 512}, {7, 5, 0}};

}  // namespace

TEST_CASE("sgemm: every operand and output form on every path matches a double reference") {
  for (const std::string& isa_name : kIsas) {
    const IsaScope isa_scope(isa_name);
    for (const Case& c : kCases) {
      const auto a = random_values(static_cast<size_t>(c.rows * c.k), 1);
      const auto b = random_values(static_cast<size_t>(c.k * c.cols), 2);
      const auto row_bias = random_values(static_cast<size_t>(c.rows), 3);
      const auto col_bias = random_values(static_cast<size_t>(c.cols), 4);
      const auto old_c = random_values(static_cast<size_t>(c.rows * c.cols), 5);
      // Transposed copies and 16-bit copies of the operands.
      std::vector<float> a_t(a.size()), b_t(b.size());
      for (int64_t r = 0; r < c.rows; ++r)
        for (int64_t k = 0; k < c.k; ++k) a_t[static_cast<size_t>(k * c.rows + r)] = a[static_cast<size_t>(r * c.k + k)];
      for (int64_t k = 0; k < c.k; ++k)
        for (int64_t j = 0; j < c.cols; ++j) b_t[static_cast<size_t>(j * c.k + k)] = b[static_cast<size_t>(k * c.cols + j)];
      for (const bool bf16 : {true, false}) {
        std::vector<uint16_t> a_half(a.size());
        std::vector<float> a_rounded(a.size());
        for (size_t i = 0; i < a.size(); ++i) {
          a_half[i] = to_half_bits(a[i], bf16);
          a_rounded[i] = bf16 ? bf16_to_f32(a_half[i]) : f16_to_f32(a_half[i]);
        }
        const sgemm::F32Rows rows(a.data(), c.k);
        const sgemm::F32RowsTransposed rows_t(a_t.data(), c.rows);
        const sgemm::HalfRows rows_half(a_half.data(), c.k, bf16);
        const sgemm::F32Cols cols(b.data(), c.cols);
        const sgemm::F32ColsTransposed cols_t(b_t.data(), c.k);
        struct Form {
          const sgemm::RowOperand* a;
          const std::vector<float>* a_values;
          const sgemm::ColOperand* b;
          bool transposed, accumulate, biases;
          sgemm::Activation activation;
          std::string name;
        };
        const std::vector<Form> forms{
            {&rows, &a, &cols, false, false, false, sgemm::Activation::none, "f32 rows x f32 cols"},
            {&rows_t, &a, &cols_t, false, true, true, sgemm::Activation::none, "transposed rows x transposed cols, accumulate, biases"},
            {&rows_half, &a_rounded, &cols, true, false, true, sgemm::Activation::relu, bf16 ? "bf16 rows, C transposed, relu" : "f16 rows, C transposed, relu"},
            {&rows, &a, &cols_t, false, false, false, sgemm::Activation::hard_swish, "hard swish"},
            {&rows, &a, &cols, false, false, true, sgemm::Activation::clip, "clip [-0.5, 0.5]"},
        };
        for (const Form& f : forms) {
          std::vector<double> want(old_c.size()), scale(old_c.size());
          for (int64_t r = 0; r < c.rows; ++r)
            for (int64_t j = 0; j < c.cols; ++j) {
              double sum = 0, magnitude = 0;
              for (int64_t k = 0; k < c.k; ++k) {
                const double p = static_cast<double>((*f.a_values)[static_cast<size_t>(r * c.k + k)]) * b[static_cast<size_t>(k * c.cols + j)];
                sum += p;
                magnitude += std::fabs(p);
              }
              if (f.biases) sum += row_bias[static_cast<size_t>(r)] + static_cast<double>(col_bias[static_cast<size_t>(j)]);
              const size_t at = static_cast<size_t>(f.transposed ? j * c.rows + r : r * c.cols + j);
              if (f.accumulate) sum += old_c[at];
              want[at] = sgemm::apply_activation(f.activation, static_cast<float>(sum), -0.5f, 0.5f);
              scale[at] = magnitude + 1.0;
            }
          std::vector<float> got = old_c;
          sgemm::Output out;
          out.c = got.data();
          out.ldc = f.transposed ? c.rows : c.cols;
          out.transposed = f.transposed;
          out.accumulate = f.accumulate;
          out.row_bias = f.biases ? row_bias.data() : nullptr;
          out.col_bias = f.biases ? col_bias.data() : nullptr;
          out.activation = f.activation;
          out.alpha = -0.5f;
          out.beta = 0.5f;
          sgemm::multiply(c.rows, c.cols, c.k, *f.a, *f.b, out);
          check_close(got, want, scale,
                      isa_name + " " + f.name + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "x" + std::to_string(c.k));
        }
      }
    }
  }
}

TEST_CASE("sgemm: linear (y = x W^T via W x^T) and the GEMV kernels for f32, bf16 and f16 weights") {
  for (const std::string& isa_name : kIsas) {
    const IsaScope isa_scope(isa_name);
    for (const int64_t rows : {1, 2, 3, 4, 5, 9, 64})
      for (const auto& [n, k] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {37, 19}, {130, 300}, {700, 1000}})
        for (const int form : {0, 1, 2}) {  // f32, bf16, f16
          const auto x = random_values(static_cast<size_t>(rows * k), 6);
          auto w = random_values(static_cast<size_t>(n * k), 7);
          const auto bias = random_values(static_cast<size_t>(n), 8);
          std::vector<uint16_t> half(w.size());
          if (form > 0)
            for (size_t i = 0; i < w.size(); ++i) {
              half[i] = to_half_bits(w[i], form == 1);
              w[i] = form == 1 ? bf16_to_f32(half[i]) : f16_to_f32(half[i]);
            }
          std::vector<double> want(static_cast<size_t>(rows * n)), scale(want.size());
          for (int64_t t = 0; t < rows; ++t)
            for (int64_t j = 0; j < n; ++j) {
              double sum = bias[static_cast<size_t>(j)], magnitude = 0;
              for (int64_t i = 0; i < k; ++i) {
                const double p = static_cast<double>(x[static_cast<size_t>(t * k + i)]) * w[static_cast<size_t>(j * k + i)];
                sum += p;
                magnitude += std::fabs(p);
              }
              want[static_cast<size_t>(t * n + j)] = sum;
              scale[static_cast<size_t>(t * n + j)] = magnitude + 1.0;
            }
          const std::string what = isa_name + " rows " + std::to_string(rows) + " " + std::to_string(n) + "x" + std::to_string(k) +
                                   (form == 0 ? " f32" : form == 1 ? " bf16" : " f16");
          std::vector<float> y(want.size(), -1.0f);
          const sgemm::F32Rows wf(w.data(), k);
          const sgemm::HalfRows wh(half.data(), k, form == 1);
          sgemm::linear(rows, n, k, x.data(), form == 0 ? static_cast<const sgemm::RowOperand&>(wf) : wh, bias.data(), y.data());
          check_close(y, want, scale, "linear " + what);
          if (sgemm::gemv_supported(isa_limit())) {
            std::vector<float> g(want.size(), -1.0f);
            sgemm::gemv(rows, n, k, x.data(), form == 0 ? w.data() : nullptr, form == 0 ? nullptr : half.data(), form == 1, bias.data(),
                        g.data());
            check_close(g, want, scale, "gemv " + what);
          }
        }
  }
}

TEST_CASE("sgemm: the same bytes at 1 and 2 threads (macro tiles and GEMV channel blocks are fixed by the shape)") {
  const int64_t rows = 300, cols = 260, k = 700;
  const auto a = random_values(static_cast<size_t>(rows * k), 9);
  const auto b = random_values(static_cast<size_t>(k * cols), 10);
  const auto run = [&](int threads) {
    return edgec::test::with_threads(threads, [&] {
      std::vector<float> c(static_cast<size_t>(rows * cols));
      sgemm::Output out;
      out.c = c.data();
      out.ldc = cols;
      sgemm::multiply(rows, cols, k, sgemm::F32Rows(a.data(), k), sgemm::F32Cols(b.data(), cols), out);
      std::vector<float> g(static_cast<size_t>(3 * rows));
      if (sgemm::gemv_supported(isa_limit())) sgemm::gemv(3, rows, k, b.data(), a.data(), nullptr, false, nullptr, g.data());
      c.insert(c.end(), g.begin(), g.end());
      return c;
    });
  };
  const auto one = run(1), two = run(2);
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}
