// Speed of edgec.QLinear against edgec.Linear (f32) on an N x K layer (default 4096 x 4096).
//  * GEMV (one row, decode; --rows R for a few): median time per call and GB/s of weight bytes read (codes + scales
//    + zeros; the f32 layer reads 4 N K bytes), at 1 and 2 threads. Each variant is replicated until the copies fill
//    --footprint MiB (default 256) and the calls cycle through them, so weights come from DRAM, not a warm L3.
//  * GEMM (64 rows, prefill): GFLOP/s (2 * 64 * N * K per call), at 1 and 2 threads.
// `bench_qgemv [--repeats N] [--footprint MiB] [--isa all|portable|avx2|avx512] [--only NAME] [--threads T]
// [--shape NxK]... [--rows R] [--no-gemm] [--stat median|min] [--json]`; with --isa all every quantized variant is
// measured on each code path (EDGEC_ISA), otherwise on the given one (default: the best); --only keeps the variants
// whose name contains NAME (and f32, the baseline); --shape may be repeated (one table per shape); --stat min
// reports the fastest run instead of the median.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/core/allocator.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/core/quant_layout.hpp"
#include "edgec/runtime/executor.hpp"

using namespace edgec;
using namespace edgec::runtime;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kGemmRows = 64;

struct Shape {
  int64_t n = 4096, k = 4096;
};

struct Variant {
  std::string name;
  int bits = 0;            // 0: edgec.Linear with a `linear_dtype` weight
  int64_t group_size = 0;  // 0: per channel (K)
  std::string activations = "float";
  DType linear_dtype = DType::f32;
  bool symmetric = false;  // no zeros input
};

uint64_t next_random(uint64_t& state) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 2685821657736338717ull;
}

std::vector<std::byte> random_bytes(size_t n, uint64_t seed, uint8_t mask = 0xFF) {
  std::vector<std::byte> out(n);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = next_random(state);
    for (size_t b = 0; b < 8 && i + b < n; ++b) out[i + b] = static_cast<std::byte>(static_cast<uint8_t>(r >> (8 * b)) & mask);
  }
  return out;
}

// Floats in [lo, hi) as f32 or f16 bytes.
std::vector<std::byte> random_floats(size_t n, uint64_t seed, float lo, float hi, bool half) {
  std::vector<std::byte> out(n * (half ? 2 : 4));
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 7;
  for (size_t i = 0; i < n; ++i) {
    const float v = lo + (hi - lo) * static_cast<float>(next_random(state) >> 40) / 16777216.0f;
    if (half) {
      const uint16_t h = f32_to_f16(v);
      std::memcpy(out.data() + 2 * i, &h, 2);
    } else {
      std::memcpy(out.data() + 4 * i, &v, 4);
    }
  }
  return out;
}

// One layer as a one-node graph with its weights as initializers.
struct Layer {
  Graph graph;
  std::unique_ptr<Executor> executor;
  size_t weight_bytes = 0;
};

std::unique_ptr<Layer> make_layer(const Variant& v, const Shape& shape, uint64_t seed) {
  const int64_t kN = shape.n, kK = shape.k;
  const int64_t group_size = v.group_size > 0 ? std::min(v.group_size, kK) : kK;
  auto layer = std::make_unique<Layer>();
  Graph& g = layer->graph;
  g.name = "bench";
  g.opset_imports[""] = 17;
  g.opset_imports["edgec"] = 1;
  g.inputs.push_back(ValueInfo{"x", {}});
  g.outputs.push_back(ValueInfo{"y", {}});
  Node node;
  node.name = "layer";
  node.domain = "edgec";
  node.outputs = {"y"};
  if (v.bits == 0) {
    node.op = "Linear";
    node.inputs = {"x", "w"};
    auto values = random_floats(static_cast<size_t>(kN * kK), seed, -0.05f, 0.05f, false);
    if (v.linear_dtype != DType::f32) {  // 16-bit copies of the same values
      std::vector<std::byte> half(values.size() / 2);
      for (size_t i = 0; i < half.size() / 2; ++i) {
        float f;
        std::memcpy(&f, values.data() + 4 * i, 4);
        const uint16_t h = v.linear_dtype == DType::bf16 ? f32_to_bf16(f) : f32_to_f16(f);
        std::memcpy(half.data() + 2 * i, &h, 2);
      }
      values = std::move(half);
    }
    g.initializers["w"] = Tensor::owning(v.linear_dtype, {kN, kK}, std::move(values));
  } else {
    const QuantLayout layout{v.bits, group_size, kN, kK, v.symmetric};
    node.op = "QLinear";
    node.inputs = {"x", "qweight", "scales"};
    if (!v.symmetric) node.inputs.push_back("zeros");
    node.attributes = {{"bits", int64_t{v.bits}}, {"group_size", group_size}, {"in_features", kK}, {"activations", v.activations}};
    g.initializers["qweight"] = Tensor::owning(DType::u8, {kN, layout.row_bytes()}, random_bytes(static_cast<size_t>(kN * layout.row_bytes()), seed));
    g.initializers["scales"] = Tensor::owning(DType::f16, {kN, layout.groups()},
                                              random_floats(static_cast<size_t>(kN * layout.groups()), seed + 1, 1e-3f, 2e-3f, true));
    if (!v.symmetric)
      g.initializers["zeros"] = Tensor::owning(DType::u8, {kN, layout.groups()},
                                               random_bytes(static_cast<size_t>(kN * layout.groups()), seed + 2, static_cast<uint8_t>(layout.max_code())));
  }
  for (const auto& [name, tensor] : g.initializers) layer->weight_bytes += tensor.bytes().size();
  g.nodes.push_back(std::move(node));
  layer->executor = std::make_unique<Executor>(g);
  return layer;
}

bool g_use_min = false;  // --stat min: the fastest run instead of the median (a loaded machine's noise is one-sided)

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return g_use_min ? v.front() : v[v.size() / 2];
}

// Median seconds per call, cycling through the layers `repeats` times.
double time_calls(const std::vector<std::unique_ptr<Layer>>& layers, const HostTensor& x, int repeats) {
  layers.front()->executor->run({{"x", x}});  // warm-up (thread pool, first-touch of the output)
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r)
    for (const auto& layer : layers) {
      const auto start = Clock::now();
      layer->executor->run({{"x", x}});
      seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
  return median(seconds);
}

HostTensor activations(int64_t rows, int64_t k) {
  std::vector<float> values(static_cast<size_t>(rows * k));
  uint64_t state = 12345;
  for (float& v : values) v = static_cast<float>(next_random(state) >> 40) / 8388608.0f - 1.0f;
  return HostTensor::from_values<float>(DType::f32, {rows, k}, values);
}

bool parse_shape(const std::string& text, Shape& out) {
  const size_t x = text.find('x');
  if (x == std::string::npos) return false;
  out.n = std::atoll(text.substr(0, x).c_str());
  out.k = std::atoll(text.substr(x + 1).c_str());
  return out.n > 0 && out.k > 0;
}

struct Row {
  Shape shape;
  std::string name, isa;
  double weight_mib = 0;
  double gemv_us[2] = {0, 0}, gemv_gbs[2] = {0, 0}, gemm_gflops[2] = {0, 0};
};

}  // namespace

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  int repeats = 9;
  double footprint_mib = 256;
  bool json = false;
  std::string isa_arg, only;
  std::vector<int> thread_counts{1, 2};
  bool gemm_enabled = true;
  std::vector<Shape> shapes;
  int64_t gemv_rows = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") json = true;
    else if (arg == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--footprint" && i + 1 < argc) footprint_mib = std::max(0.0, std::atof(argv[++i]));
    else if (arg == "--isa" && i + 1 < argc) isa_arg = argv[++i];
    else if (arg == "--only" && i + 1 < argc) only = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) thread_counts = {std::max(1, std::atoi(argv[++i]))};
    else if (arg == "--no-gemm") gemm_enabled = false;
    else if (arg == "--shape" && i + 1 < argc && parse_shape(argv[i + 1], shapes.emplace_back())) ++i;
    else if (arg == "--rows" && i + 1 < argc) gemv_rows = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--stat" && i + 1 < argc) g_use_min = std::string(argv[++i]) == "min";
    else {
      std::cerr << "usage: bench_qgemv [--repeats N] [--footprint MiB] [--isa all|portable|avx2|avx512] [--only NAME] "
                   "[--threads T] [--shape NxK]... [--rows R] [--no-gemm] [--stat median|min] [--json]\n";
      return 2;
    }
  }
  std::vector<std::string> isas{""};  // "": the environment's EDGEC_ISA (unset: the best path)
  if (isa_arg == "all") isas = {"avx512", "avx2", "portable"};
  else if (!isa_arg.empty()) isas = {isa_arg};

  const std::vector<Variant> variants{
      {"f32 (edgec.Linear)", 0, 0, "float"},
      {"bf16 (edgec.Linear)", 0, 0, "float", DType::bf16},
      {"f16 (edgec.Linear)", 0, 0, "float", DType::f16},
      {"W8A16 per-channel", 8, 0, "float"},
      {"W8A16 g128", 8, 128, "float"},
      {"W4A16 g128", 4, 128, "float"},
      {"W4A16 g128 sym", 4, 128, "float", DType::f32, true},
      {"W4A16 g32", 4, 32, "float"},
      {"W4A16 g32 sym", 4, 32, "float", DType::f32, true},
      {"W8A8 per-token, per-channel", 8, 0, "int8_dynamic"},
      {"W8A8 per-token, g128", 8, 128, "int8_dynamic"},
  };
  if (shapes.empty()) shapes.push_back(Shape{});
  std::vector<Row> rows;
  for (const Shape& shape : shapes) {
    const HostTensor xv = activations(gemv_rows, shape.k), x64 = activations(kGemmRows, shape.k);
    for (const Variant& v : variants) {
      if (!only.empty() && v.name.find(only) == std::string::npos && v.name.rfind("f32", 0) != 0) continue;
      // Enough copies that the weights do not stay in cache between calls.
      std::vector<std::unique_ptr<Layer>> layers;
      layers.push_back(make_layer(v, shape, 1));
      const double mib = static_cast<double>(layers[0]->weight_bytes) / (1024.0 * 1024.0);
      const auto copies = static_cast<size_t>(std::clamp(footprint_mib / mib, 1.0, 256.0));
      while (layers.size() < copies) layers.push_back(make_layer(v, shape, layers.size() + 1));
      for (const std::string& isa : isas) {
        if (!isa.empty()) setenv("EDGEC_ISA", isa.c_str(), 1);
        Row row{shape, v.name, isa.empty() ? (std::getenv("EDGEC_ISA") ? std::getenv("EDGEC_ISA") : "best") : isa, mib};
        for (const int threads : thread_counts) {
          const int t = std::min(threads, 2) - 1;
          ThreadPool pool(threads);
          const ParallelScope scope(&pool);
          const double s = time_calls(layers, xv, repeats);
          row.gemv_us[t] = s * 1e6;
          row.gemv_gbs[t] = static_cast<double>(layers[0]->weight_bytes) / s / 1e9;
          if (!gemm_enabled) continue;
          // GEMM: one copy (compute-bound; the portable W8A8 loop is slow, one run is enough to see it).
          const int gemm_repeats = v.bits != 0 && isa == "portable" ? 1 : std::max(1, repeats / 3);
          std::vector<double> gemm;
          layers[0]->executor->run({{"x", x64}});
          for (int r = 0; r < gemm_repeats; ++r) {
            const auto start = Clock::now();
            layers[0]->executor->run({{"x", x64}});
            gemm.push_back(std::chrono::duration<double>(Clock::now() - start).count());
          }
          row.gemm_gflops[t] = 2.0 * kGemmRows * shape.n * shape.k / median(gemm) / 1e9;
        }
        rows.push_back(row);
        std::cerr << "  " << shape.n << "x" << shape.k << " " << row.name << " [" << row.isa << "] done\n";
      }
      if (isas.size() > 1 || !isas[0].empty()) unsetenv("EDGEC_ISA");
    }
  }

  // The f32 layer of each shape runs first: the baseline of the rows after it.
  std::vector<const Row*> baseline;
  for (const Row& r : rows) baseline.push_back(r.name.rfind("f32", 0) == 0 ? &r : baseline.back());
  if (json) {
    nlohmann::ordered_json report = nlohmann::ordered_json::array();
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      const double* f32_us = baseline[i]->gemv_us;
      report.push_back({{"variant", r.name}, {"isa", r.isa}, {"n", r.shape.n}, {"k", r.shape.k}, {"gemv_rows", gemv_rows},
                        {"weight_mib", r.weight_mib}, {"gemv_us", {r.gemv_us[0], r.gemv_us[1]}},
                        {"gemv_weight_gbs", {r.gemv_gbs[0], r.gemv_gbs[1]}},
                        {"gemv_speedup_vs_f32", {f32_us[0] / r.gemv_us[0], f32_us[1] / r.gemv_us[1]}},
                        {"gemm64_gflops", {r.gemm_gflops[0], r.gemm_gflops[1]}}, {"threads", {1, 2}}, {"repeats", repeats},
                        {"statistic", g_use_min ? "min" : "median"}});
    }
    std::cout << report.dump(2) << '\n';
    return 0;
  }
  // A column that was not measured (--threads, --no-gemm) prints as "-".
  const auto cell = [](int width, double value) {
    std::ostringstream text;
    if (value > 0 && std::isfinite(value)) text << std::fixed << std::setprecision(1) << value;
    else text << "-";
    std::cout << std::setw(width) << text.str();
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (i == 0 || rows[i - 1].shape.n != r.shape.n || rows[i - 1].shape.k != r.shape.k) {
      if (i) std::cout << "\n";
      std::cout << r.shape.n << " x " << r.shape.k << " layer (N x K); GEMV = " << gemv_rows << " row" << (gemv_rows > 1 ? "s" : "")
                << " (" << (g_use_min ? "fastest" : "median") << " of " << repeats << " rounds over the copies), GEMM = " << kGemmRows
                << " rows; T1/T2 = 1/2 threads\n";
      std::cout << std::left << std::setw(30) << "variant" << std::setw(9) << "isa" << std::right << std::setw(9) << "MiB"
                << std::setw(10) << "T1 us" << std::setw(9) << "T1 GB/s" << std::setw(8) << "T1 x" << std::setw(10) << "T2 us"
                << std::setw(9) << "T2 GB/s" << std::setw(8) << "T2 x" << std::setw(11) << "GEMM T1" << std::setw(11) << "GEMM T2"
                << "\n";
      std::cout << std::setw(30 + 9 + 9 + 10 + 9 + 8 + 10 + 9 + 8 + 11 + 11) << "(x: GEMV speed-up over f32; GEMM in GFLOP/s)" << "\n";
    }
    const double* f32_us = baseline[i]->gemv_us;
    std::cout << std::left << std::setw(30) << r.name << std::setw(9) << r.isa << std::right;
    cell(9, r.weight_mib);
    for (int t = 0; t < 2; ++t) {
      cell(10, r.gemv_us[t]);
      cell(9, r.gemv_gbs[t]);
      cell(8, r.gemv_us[t] > 0 ? f32_us[t] / r.gemv_us[t] : 0.0);
    }
    cell(11, r.gemm_gflops[0]);
    cell(11, r.gemm_gflops[1]);
    std::cout << "\n";
  }
  return 0;
}
