// Element-wise ONNX ops: unary maths and activations, broadcasting binary arithmetic, comparisons and
// logic, variadic Sum/Mean/Max/Min, Where, Clip, Dropout and Cast. Each kernel switches on the dtype once
// and runs a templated loop; the per-element operation is an inlined functor.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"
#include "kernels/vector_math.hpp"

namespace edgec::runtime::detail {
namespace {

constexpr int64_t kBlock = 4096;  // elements per parallel work item

// ---- unary ------------------------------------------------------------------------------------------
template <class T, class Op>
HostTensor map_unary(const HostTensor& x, DType out_dtype, const Op& op) {
  HostTensor out = HostTensor::empty(out_dtype, x.dims());
  const T* in = x.data<T>();
  using Out = decltype(op(T{}));
  Out* o = out.mutable_data<Out>();
  const int64_t n = x.elements();
  parallel_for((n + kBlock - 1) / kBlock, kBlock * 4, [&](int64_t block) {
    const int64_t end = std::min(n, (block + 1) * kBlock);
    for (int64_t i = block * kBlock; i < end; ++i) o[i] = op(in[i]);
  });
  return out;
}

// Unary op built from a functor type constructed from the node (for its attributes), on floating point only
// or on signed integers too (Relu, Neg, Abs, Sign).
template <class Op, bool with_signed>
std::vector<HostTensor> run_unary(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const Op op(ctx.node());
  auto apply = [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T>(x, x.dtype(), [&](T v) { return static_cast<T>(op(v)); });
  };
  if constexpr (with_signed) return {dispatch_signed(ctx, x.dtype(), apply)};
  else return {dispatch_float(ctx, x.dtype(), apply)};
}
template <class Op>
constexpr KernelFn float_unary = run_unary<Op, false>;
template <class Op>
constexpr KernelFn signed_unary = run_unary<Op, true>;

#define EDGEC_UNARY(NAME, EXPR)                      \
  struct NAME {                                      \
    explicit NAME(const Node&) {}                    \
    template <class T>                               \
    T operator()(T x) const {                        \
      return EXPR;                                   \
    }                                                \
  };

EDGEC_UNARY(SigmoidOp, static_cast<T>(1) / (static_cast<T>(1) + std::exp(-x)))
EDGEC_UNARY(TanhOp, std::tanh(x))
EDGEC_UNARY(ExpOp, std::exp(x))
EDGEC_UNARY(LogOp, std::log(x))
EDGEC_UNARY(SqrtOp, std::sqrt(x))
EDGEC_UNARY(ErfOp, std::erf(x))
EDGEC_UNARY(SinOp, std::sin(x))
EDGEC_UNARY(CosOp, std::cos(x))
EDGEC_UNARY(ReciprocalOp, static_cast<T>(1) / x)
EDGEC_UNARY(FloorOp, std::floor(x))
EDGEC_UNARY(CeilOp, std::ceil(x))
EDGEC_UNARY(RoundOp, std::nearbyint(x))  // ties to even under the default rounding mode, as ONNX says
EDGEC_UNARY(SoftplusOp, std::log1p(std::exp(x)))
EDGEC_UNARY(SoftsignOp, x / (static_cast<T>(1) + std::abs(x)))
EDGEC_UNARY(HardSwishOp, x * std::max(T(0), std::min(T(1), x / T(6) + T(0.5))))
EDGEC_UNARY(NegOp, static_cast<T>(-x))
EDGEC_UNARY(AbsOp, static_cast<T>(x < 0 ? -x : x))
EDGEC_UNARY(ReluOp, x > T(0) ? x : T(0))
EDGEC_UNARY(SignOp, static_cast<T>(x > T(0) ? 1 : (x < T(0) ? -1 : 0)))
#undef EDGEC_UNARY

struct LeakyReluOp {
  float alpha;
  explicit LeakyReluOp(const Node& node) : alpha(node.attr_float("alpha", 0.01f)) {}
  template <class T>
  T operator()(T x) const { return x >= T(0) ? x : static_cast<T>(alpha) * x; }
};
struct EluOp {
  float alpha;
  explicit EluOp(const Node& node) : alpha(node.attr_float("alpha", 1.0f)) {}
  template <class T>
  T operator()(T x) const { return x >= T(0) ? x : static_cast<T>(alpha) * (std::exp(x) - T(1)); }
};
struct HardSigmoidOp {
  float alpha, beta;
  explicit HardSigmoidOp(const Node& node) : alpha(node.attr_float("alpha", 0.2f)), beta(node.attr_float("beta", 0.5f)) {}
  template <class T>
  T operator()(T x) const { return std::max(T(0), std::min(T(1), static_cast<T>(alpha) * x + static_cast<T>(beta))); }
};
// Gelu (opset 20): 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation when approximate = "tanh".
struct GeluOp {
  bool tanh_form;
  explicit GeluOp(const Node& node) : tanh_form(node.attr_string("approximate", "none") == "tanh") {}
  template <class T>
  T operator()(T x) const {
    if (tanh_form) {
      const T inner = static_cast<T>(0.7978845608028654) * (x + static_cast<T>(0.044715) * x * x * x);
      return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::tanh(inner));
    }
    return static_cast<T>(0.5) * x * (static_cast<T>(1) + std::erf(x * static_cast<T>(0.7071067811865476)));
  }
};

// f32 through libmvec's vector exp / erf / tanh (vector_math.hpp), other dtypes through the scalar functor.
template <class Op, vmath::Activation kind>
std::vector<HostTensor> run_vector_unary(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.dtype() != DType::f32) return float_unary<Op>(ctx);
  vmath::Activation form = kind;
  if constexpr (kind == vmath::Activation::gelu_erf)
    if (ctx.node().attr_string("approximate", "none") == "tanh") form = vmath::Activation::gelu_tanh;
  HostTensor out = HostTensor::empty(DType::f32, x.dims());
  const float* in = x.data<float>();
  float* o = out.mutable_data<float>();
  const int64_t n = x.elements();
  const Isa isa = isa_limit();
  parallel_for((n + kBlock - 1) / kBlock, kBlock * 16, [&](int64_t block) {
    vmath::activation(form, in + block * kBlock, o + block * kBlock, std::min(kBlock, n - block * kBlock), isa);
  });
  return {out};
}

void check_gelu(const Node& node, int64_t) {
  const std::string mode = node.attr_string("approximate", "none");
  if (mode != "none" && mode != "tanh") throw Error(ErrorCategory::input, "approximate='" + mode + "'");
}

std::vector<HostTensor> run_not(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.dtype() != DType::boolean) ctx.fail("Not needs a bool input, got " + describe(x));
  return {map_unary<uint8_t>(x, DType::boolean, [](uint8_t v) { return static_cast<uint8_t>(v ? 0 : 1); })};
}

std::vector<HostTensor> run_isnan(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T>(x, DType::boolean, [](T v) { return static_cast<uint8_t>(std::isnan(v) ? 1 : 0); });
  })};
}

std::vector<HostTensor> run_identity(const KernelContext& ctx) { return {ctx.input(0)}; }

// ---- broadcasting n-ary core ------------------------------------------------------------------------
template <class TA, class TB, class TO, class Op>
HostTensor broadcast2(const KernelContext& ctx, const HostTensor& a, const HostTensor& b, DType out_dtype, Op op) {
  const std::vector<int64_t>* shapes[] = {&a.dims(), &b.dims()};
  const Broadcast plan = plan_broadcast(ctx, shapes);
  HostTensor out = HostTensor::empty(out_dtype, plan.out_dims);
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.mutable_data<TO>();
  const int64_t sa = plan.inner_stride[0], sb = plan.inner_stride[1], inner = plan.inner;
  parallel_for(plan.rows, inner, [&](int64_t row) {
    int64_t offsets[2];
    plan.row_offsets(row, offsets);
    const TA* ra = pa + offsets[0];
    const TB* rb = pb + offsets[1];
    TO* ro = po + row * inner;
    // The three common layouts get their own loops so the compiler vectorises them.
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) ro[i] = op(ra[i], rb[i]);
    } else if (sa == 1) {
      const TB v = rb[0];
      for (int64_t i = 0; i < inner; ++i) ro[i] = op(ra[i], v);
    } else if (sb == 1) {
      const TA v = ra[0];
      for (int64_t i = 0; i < inner; ++i) ro[i] = op(v, rb[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) ro[i] = op(ra[0], rb[0]);
    }
  });
  return out;
}

void require_same_dtype(const KernelContext& ctx, const HostTensor& a, const HostTensor& b) {
  if (a.dtype() != b.dtype()) ctx.fail("input dtypes differ: " + describe(a) + " and " + describe(b));
}

enum class Arith { add, sub, mul, div, max, min };

template <Arith kind, class T>
T arith(T a, T b) {
  if constexpr (kind == Arith::add) return static_cast<T>(a + b);
  else if constexpr (kind == Arith::sub) return static_cast<T>(a - b);
  else if constexpr (kind == Arith::mul) return static_cast<T>(a * b);
  else if constexpr (kind == Arith::div) return static_cast<T>(a / b);
  else if constexpr (kind == Arith::max) {
    if constexpr (std::is_floating_point_v<T>) if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return a < b ? b : a;
  } else {
    if constexpr (std::is_floating_point_v<T>) if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return b < a ? b : a;
  }
}

// f16 / bf16 operands of a binary op: computed in f32 and rounded back once. That is the correctly rounded
// half-precision result: Max, Min and fmod are exact, and for +, -, *, / f32's 24-bit significand is at
// least 2p + 2 bits for f16 (p = 11) and bf16 (p = 8), so rounding twice never differs from rounding once.
template <class Op>
HostTensor in_f32(const KernelContext& ctx, const HostTensor& a, const HostTensor& b, const Op& op) {
  return cast_tensor(ctx, op(cast_tensor(ctx, a, DType::f32), cast_tensor(ctx, b, DType::f32)), a.dtype());
}

template <Arith kind>
HostTensor arith_pair(const KernelContext& ctx, const HostTensor& a, const HostTensor& b) {
  require_same_dtype(ctx, a, b);
  if (is_half(a.dtype()))
    return in_f32(ctx, a, b, [&](const HostTensor& x, const HostTensor& y) { return arith_pair<kind>(ctx, x, y); });
  return dispatch_numeric(ctx, a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kind == Arith::div && std::is_integral_v<T>) {
      for (const T v : b.span<T>())
        if (v == 0) ctx.fail("integer division by zero");
    }
    return broadcast2<T, T, T>(ctx, a, b, a.dtype(), [](T x, T y) { return arith<kind>(x, y); });
  });
}

template <Arith kind>
std::vector<HostTensor> run_arith(const KernelContext& ctx) {
  return {arith_pair<kind>(ctx, ctx.input(0), ctx.input(1))};
}

// Sum / Max / Min / Mean take one or more inputs, folded left to right with broadcasting.
template <Arith kind>
std::vector<HostTensor> run_variadic(const KernelContext& ctx) {
  HostTensor acc = ctx.input(0);
  for (size_t i = 1; i < ctx.input_count(); ++i) acc = arith_pair<kind>(ctx, acc, ctx.input(i));
  return {acc};
}

std::vector<HostTensor> run_mean(const KernelContext& ctx) {
  HostTensor sum = run_variadic<Arith::add>(ctx)[0];
  return dispatch_float(ctx, sum.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T count = static_cast<T>(ctx.input_count());
    return std::vector<HostTensor>{map_unary<T>(sum, sum.dtype(), [count](T v) { return v / count; })};
  });
}

std::vector<HostTensor> run_pow(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const HostTensor& y = ctx.input(1);
  if (dtype_is_float(x.dtype())) {
    const HostTensor exponent = cast_tensor(ctx, y, x.dtype());
    return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return broadcast2<T, T, T>(ctx, x, exponent, x.dtype(), [](T a, T b) -> T {
        if (b == T(2)) return a * a;  // the common case (variance), exact
        return std::pow(a, b);
      });
    })};
  }
  const HostTensor exponent = cast_tensor(ctx, y, DType::f64);
  return {dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return broadcast2<T, double, T>(ctx, x, exponent, x.dtype(), [](T a, double b) {
      return static_cast<T>(std::pow(static_cast<double>(a), b));
    });
  })};
}

HostTensor mod_pair(const KernelContext& ctx, const HostTensor& a, const HostTensor& b) {
  require_same_dtype(ctx, a, b);
  if (is_half(a.dtype()))
    return in_f32(ctx, a, b, [&](const HostTensor& x, const HostTensor& y) { return mod_pair(ctx, x, y); });
  const bool fmod = ctx.node().attr_int("fmod", 0) != 0;
  return dispatch_numeric(ctx, a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      if (!fmod) ctx.fail("floating-point Mod requires fmod=1");
      return broadcast2<T, T, T>(ctx, a, b, a.dtype(), [](T x, T y) { return std::fmod(x, y); });
    } else {
      for (const T v : b.span<T>())
        if (v == 0) ctx.fail("integer modulo by zero");
      return broadcast2<T, T, T>(ctx, a, b, a.dtype(), [fmod](T x, T y) {
        T r = static_cast<T>(x % y);
        // Python semantics (the sign of the divisor) unless fmod=1 (the sign of the dividend).
        if constexpr (std::is_signed_v<T>)
          if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
        return r;
      });
    }
  });
}

std::vector<HostTensor> run_mod(const KernelContext& ctx) { return {mod_pair(ctx, ctx.input(0), ctx.input(1))}; }

enum class Compare { equal, less, greater, less_equal, greater_equal };

template <Compare kind>
std::vector<HostTensor> run_compare(const KernelContext& ctx) {
  const HostTensor& a = ctx.input(0);
  const HostTensor& b = ctx.input(1);
  require_same_dtype(ctx, a, b);
  return {dispatch_all(ctx, a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return broadcast2<T, T, uint8_t>(ctx, a, b, DType::boolean, [](T x, T y) -> uint8_t {
      if constexpr (kind == Compare::equal) return x == y;
      else if constexpr (kind == Compare::less) return x < y;
      else if constexpr (kind == Compare::greater) return x > y;
      else if constexpr (kind == Compare::less_equal) return x <= y;
      else return x >= y;
    });
  })};
}

enum class Logic { and_, or_, xor_ };

template <Logic kind>
std::vector<HostTensor> run_logic(const KernelContext& ctx) {
  const HostTensor& a = ctx.input(0);
  const HostTensor& b = ctx.input(1);
  if (a.dtype() != DType::boolean || b.dtype() != DType::boolean)
    ctx.fail("needs bool inputs, got " + describe(a) + " and " + describe(b));
  return {broadcast2<uint8_t, uint8_t, uint8_t>(ctx, a, b, DType::boolean, [](uint8_t x, uint8_t y) -> uint8_t {
    if constexpr (kind == Logic::and_) return (x && y) ? 1 : 0;
    else if constexpr (kind == Logic::or_) return (x || y) ? 1 : 0;
    else return ((x != 0) != (y != 0)) ? 1 : 0;
  })};
}

std::vector<HostTensor> run_where(const KernelContext& ctx) {
  const HostTensor& cond = ctx.input(0);
  const HostTensor& x = ctx.input(1);
  const HostTensor& y = ctx.input(2);
  if (cond.dtype() != DType::boolean) ctx.fail("condition must be bool, got " + describe(cond));
  require_same_dtype(ctx, x, y);
  const std::vector<int64_t>* shapes[] = {&cond.dims(), &x.dims(), &y.dims()};
  const Broadcast plan = plan_broadcast(ctx, shapes);
  return {dispatch_all(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), plan.out_dims);
    const uint8_t* pc = cond.data<uint8_t>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(plan.rows, plan.inner, [&](int64_t row) {
      int64_t offsets[3];
      plan.row_offsets(row, offsets);
      for (int64_t i = 0; i < plan.inner; ++i)
        po[row * plan.inner + i] = pc[offsets[0] + i * plan.inner_stride[0]]
                                       ? px[offsets[1] + i * plan.inner_stride[1]]
                                       : py[offsets[2] + i * plan.inner_stride[2]];
    });
    return out;
  })};
}

// Clip: min/max are attributes before opset 11 and optional scalar inputs from opset 11 on.
std::vector<HostTensor> run_clip(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  return {dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T lo = std::numeric_limits<T>::lowest();
    T hi = std::numeric_limits<T>::max();
    if (ctx.opset() < 11) {
      lo = static_cast<T>(ctx.node().attr_float("min", -std::numeric_limits<float>::max()));
      hi = static_cast<T>(ctx.node().attr_float("max", std::numeric_limits<float>::max()));
    } else {
      for (size_t k = 1; k <= 2; ++k) {
        if (!ctx.has_input(k)) continue;
        const HostTensor& bound = ctx.input(k);
        if (bound.elements() != 1 || bound.dtype() != x.dtype()) ctx.fail("min/max must be scalars of the input's dtype");
        (k == 1 ? lo : hi) = bound.data<T>()[0];
      }
    }
    return map_unary<T>(x, x.dtype(), [lo, hi](T v) {
      return v < lo ? lo : (hi < v ? hi : v);
    });
  })};
}

// ---- Dropout ----------------------------------------------------------------------------------------
// Inference (the default; always before opset 12) is the identity with an all-true mask. Training mode
// (opset 12+: the training_mode input is true, ratio > 0) follows ONNX's reference, which draws the mask with
// numpy's legacy generator: np.random.seed(seed); mask = np.random.uniform(0, 1, shape) >= ratio;
// y = mask * x / (1 - ratio). That generator is MT19937 seeded by init_genrand(seed) (std::mt19937(seed)),
// and each uniform double is built from two consecutive 32-bit outputs a, b as
// ((a >> 5) * 2^26 + (b >> 6)) / 2^53, drawn in row-major order. edgec is deterministic, so an absent `seed`
// attribute means seed 0 (the reference would seed from the clock); seeds are taken modulo 2^32.
std::vector<uint8_t> dropout_mask(int64_t count, int64_t seed, double ratio) {
  std::mt19937 generator(static_cast<std::mt19937::result_type>(static_cast<uint64_t>(seed) & 0xffffffffu));
  std::vector<uint8_t> mask(static_cast<size_t>(count));
  for (auto& keep : mask) {
    const uint32_t a = static_cast<uint32_t>(generator()) >> 5, b = static_cast<uint32_t>(generator()) >> 6;
    const double uniform = (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
    keep = uniform >= ratio ? 1 : 0;
  }
  return mask;
}

std::vector<HostTensor> run_dropout(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  double ratio = 0.5;
  bool training = false;
  if (ctx.opset() >= 12) {
    if (ctx.has_input(1)) {
      const HostTensor& r = ctx.input(1);
      if (r.elements() != 1 || !dtype_is_float(r.dtype())) ctx.fail("ratio must be a floating-point scalar, got " + describe(r));
      ratio = r.to_f64()[0];
    }
    if (ctx.has_input(2)) {
      const HostTensor& t = ctx.input(2);
      if (t.elements() != 1 || t.dtype() != DType::boolean) ctx.fail("training_mode must be a bool scalar, got " + describe(t));
      training = t.to_i64()[0] != 0;
    }
  }
  std::vector<HostTensor> outputs(std::max<size_t>(1, ctx.output_count()));
  if (!training || ratio == 0) {
    outputs[0] = x;
    if (ctx.output_wanted(1)) {
      outputs[1] = HostTensor::empty(DType::boolean, x.dims());
      std::memset(outputs[1].mutable_raw(), 1, outputs[1].size_bytes());
    }
    return outputs;
  }
  if (!(ratio > 0 && ratio < 1)) ctx.fail("ratio must lie in [0, 1), got " + std::to_string(ratio));
  const std::vector<uint8_t> mask = dropout_mask(x.elements(), ctx.node().attr_int("seed", 0), ratio);
  const HostTensor wide = is_half(x.dtype()) ? cast_tensor(ctx, x, DType::f32) : x;
  outputs[0] = dispatch_float(ctx, wide.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T scale = static_cast<T>(1.0 / (1.0 - ratio));
    HostTensor y = HostTensor::empty(wide.dtype(), wide.dims());
    const T* px = wide.data<T>();
    T* py = y.mutable_data<T>();
    for (size_t i = 0; i < mask.size(); ++i) py[i] = mask[i] ? px[i] * scale : T(0);
    return y;
  });
  outputs[0] = cast_tensor(ctx, outputs[0], x.dtype());
  if (ctx.output_wanted(1)) outputs[1] = HostTensor::from_values<uint8_t>(DType::boolean, x.dims(), mask);
  return outputs;
}

// ---- Cast -------------------------------------------------------------------------------------------
template <class D, class S>
D convert_value(S v) {
  if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    if (std::isnan(v)) return D(0);
    if (v <= static_cast<S>(std::numeric_limits<D>::lowest())) return std::numeric_limits<D>::lowest();
    if (v >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(v);
  } else {
    return static_cast<D>(v);
  }
}

std::vector<HostTensor> run_cast(const KernelContext& ctx) {
  const auto to = dtype_from_onnx(ctx.node().attr_int("to", 0));
  if (!to) ctx.fail("unsupported target type to=" + std::to_string(ctx.node().attr_int("to", 0)));
  return {cast_tensor(ctx, ctx.input(0), *to)};
}

std::vector<HostTensor> run_cast_like(const KernelContext& ctx) {
  return {cast_tensor(ctx, ctx.input(0), ctx.input(1).dtype())};
}

void check_cast(const Node& node, int64_t) {
  if (!dtype_from_onnx(node.attr_int("to", 0)))
    throw Error(ErrorCategory::input, "Cast to ONNX type " + std::to_string(node.attr_int("to", 0)));
}

}  // namespace

HostTensor cast_tensor(const KernelContext& ctx, const HostTensor& input, DType to) {
  if (input.dtype() == to) return input;
  const bool half_in = input.dtype() == DType::f16 || input.dtype() == DType::bf16;
  const bool half_out = to == DType::f16 || to == DType::bf16;
  if (half_in) {
    const auto wide = input.to_f32();
    return cast_tensor(ctx, HostTensor::from_values<float>(DType::f32, input.dims(), wide), to);
  }
  if (half_out) {
    const HostTensor f = cast_tensor(ctx, input, DType::f32);
    HostTensor out = HostTensor::empty(to, input.dims());
    const float* in = f.data<float>();
    uint16_t* o = out.mutable_data<uint16_t>();
    for (int64_t i = 0; i < input.elements(); ++i) o[i] = to == DType::f16 ? f32_to_f16(in[i]) : f32_to_bf16(in[i]);
    return out;
  }
  return dispatch_all(ctx, input.dtype(), [&](auto source_tag) {
    using S = decltype(source_tag);
    if (to == DType::boolean)
      return map_unary<S>(input, to, [](S v) { return static_cast<uint8_t>(v != S(0) ? 1 : 0); });
    return dispatch_numeric(ctx, to, [&](auto target_tag) {
      using D = decltype(target_tag);
      return map_unary<S>(input, to, [](S v) { return convert_value<D>(v); });
    });
  });
}

void register_elementwise(OpRegistry& registry) {
  const std::pair<const char*, KernelFn> kernels[] = {
      {"Identity", run_identity}, {"Not", run_not}, {"IsNaN", run_isnan}, {"Where", run_where}, {"Clip", run_clip},
      {"CastLike", run_cast_like}, {"Dropout", run_dropout},
      // signed numbers
      {"Relu", signed_unary<ReluOp>}, {"Neg", signed_unary<NegOp>}, {"Abs", signed_unary<AbsOp>},
      {"Sign", signed_unary<SignOp>},
      // floating point
      {"Sigmoid", run_vector_unary<SigmoidOp, vmath::Activation::sigmoid>},
      {"Tanh", run_vector_unary<TanhOp, vmath::Activation::tanh>}, {"Exp", run_vector_unary<ExpOp, vmath::Activation::exp>},
      {"Log", float_unary<LogOp>}, {"Sqrt", float_unary<SqrtOp>}, {"Erf", run_vector_unary<ErfOp, vmath::Activation::erf>},
      {"Sin", float_unary<SinOp>}, {"Cos", float_unary<CosOp>}, {"Reciprocal", float_unary<ReciprocalOp>},
      {"Floor", float_unary<FloorOp>}, {"Ceil", float_unary<CeilOp>}, {"Round", float_unary<RoundOp>},
      {"Softplus", float_unary<SoftplusOp>}, {"Softsign", float_unary<SoftsignOp>},
      {"HardSwish", float_unary<HardSwishOp>}, {"HardSigmoid", float_unary<HardSigmoidOp>},
      {"LeakyRelu", float_unary<LeakyReluOp>}, {"Elu", float_unary<EluOp>},
      // arithmetic, variadic folds
      {"Add", run_arith<Arith::add>}, {"Sub", run_arith<Arith::sub>}, {"Mul", run_arith<Arith::mul>},
      {"Div", run_arith<Arith::div>}, {"Pow", run_pow}, {"Mod", run_mod}, {"Sum", run_variadic<Arith::add>},
      {"Max", run_variadic<Arith::max>}, {"Min", run_variadic<Arith::min>}, {"Mean", run_mean},
      // comparisons and logic
      {"Equal", run_compare<Compare::equal>}, {"Less", run_compare<Compare::less>},
      {"Greater", run_compare<Compare::greater>}, {"LessOrEqual", run_compare<Compare::less_equal>},
      {"GreaterOrEqual", run_compare<Compare::greater_equal>}, {"And", run_logic<Logic::and_>},
      {"Or", run_logic<Logic::or_>}, {"Xor", run_logic<Logic::xor_>},
  };
  for (const auto& [op, run] : kernels) registry.add("", op, run);
  // Kernels with a static check of their attributes.
  registry.add("", "Gelu", run_vector_unary<GeluOp, vmath::Activation::gelu_erf>, check_gelu);
  registry.add("", "Cast", run_cast, check_cast);
}

}  // namespace edgec::runtime::detail
