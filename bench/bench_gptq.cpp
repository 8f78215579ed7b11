// Time and memory of GPTQ on one large layer: W [N, K] random, K-dimensional activations with correlated channels
// (a low-rank shared component, neighbour mixing and a few large channels) for T calibration tokens. For each
// thread count it reports the seconds of the Hessian accumulation (calibration::Hessian::add) and of
// quantize_gptq separately, round-to-nearest on the same layer for comparison, and the peak RSS (VmHWM of
// /proc/self/status, reset between thread counts through /proc/self/clear_refs when the kernel allows it). It also
// checks that every thread count gives byte-identical codes and group parameters, and reports GPTQ's output error
// relative to RTN's on the first rows, on the calibration tokens and on held-out tokens, and the fixed cost of GPTQ
// (everything but the row loop: GPTQ of one 64-row chunk). These extra measurements are not in the table's times.
// `bench_gptq [--n N] [--k K] [--tokens T] [--group G] [--bits B] [--no-act-order] [--threads 1,2] [--error-rows R]`
// (defaults: 4096 x 4096, 2048 tokens, group 128, 4 bits, act-order, threads 1 and 2, 256 rows).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "edgec/calibration/hessian.hpp"
#include "edgec/core/allocator.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/quant/gptq.hpp"
#include "edgec/quant/rtn.hpp"

using namespace edgec;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t bits() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  double uniform() { return static_cast<double>(bits() >> 11) / 9007199254740992.0; }
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

// A /proc/self/status field in MiB (kB in the file), or -1.
double status_mib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream value(line.substr(field.size() + 1));
      double kb = -1.0;
      value >> kb;
      return kb / 1024.0;
    }
  return -1.0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false when not permitted.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// Activations [t, k]: x = z + 0.5 * z_{j-1} + u v (rank 16 shared component) with 1% of channels 10x larger. The
// distribution (v) is fixed; `seed` draws the tokens (z, u).
std::vector<float> correlated_activations(int64_t t, int64_t k, uint64_t seed) {
  constexpr int64_t rank = 16;
  std::vector<float> v(static_cast<size_t>(rank * k));
  Random basis(12345);
  for (float& e : v) e = static_cast<float>(basis.normal() * 0.7);
  Random rng(seed);
  std::vector<float> scale(static_cast<size_t>(k), 1.0f);
  for (int64_t j = 0; j < k; j += 97) scale[static_cast<size_t>(j)] = 10.0f;
  std::vector<float> x(static_cast<size_t>(t * k)), z(static_cast<size_t>(k));
  std::vector<double> u(rank);
  for (int64_t r = 0; r < t; ++r) {
    for (auto& e : z) e = static_cast<float>(rng.normal());
    for (auto& e : u) e = rng.normal();
    float* row = x.data() + r * k;
    for (int64_t j = 0; j < k; ++j) {
      double value = z[static_cast<size_t>(j)] + (j > 0 ? 0.5 * z[static_cast<size_t>(j - 1)] : 0.0);
      for (int64_t c = 0; c < rank; ++c) value += u[static_cast<size_t>(c)] * v[static_cast<size_t>(c * k + j)];
      row[j] = static_cast<float>(value * scale[static_cast<size_t>(j)]);
    }
  }
  return x;
}

bool same_result(const quant::QuantizedWeight& a, const quant::QuantizedWeight& b) {
  if (a.codes != b.codes || a.params.size() != b.params.size()) return false;
  for (size_t i = 0; i < a.params.size(); ++i)
    if (std::memcmp(&a.params[i].scale, &b.params[i].scale, sizeof(float)) != 0 || a.params[i].zero != b.params[i].zero) return false;
  return true;
}

struct Row {
  int threads = 0;
  double hessian = 0.0, gptq = 0.0, rtn = 0.0, peak_mib = 0.0;
};

}  // namespace

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  int64_t n = 4096, k = 4096, tokens = 2048, group = 128, error_rows = 256;
  int bits = 4;
  bool act_order = true;
  std::vector<int> thread_counts{1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--n") n = std::atoll(next().c_str());
    else if (arg == "--k") k = std::atoll(next().c_str());
    else if (arg == "--tokens") tokens = std::atoll(next().c_str());
    else if (arg == "--group") group = std::atoll(next().c_str());
    else if (arg == "--bits") bits = std::atoi(next().c_str());
    else if (arg == "--error-rows") error_rows = std::atoll(next().c_str());
    else if (arg == "--no-act-order") act_order = false;
    else if (arg == "--threads") {
      thread_counts.clear();
      std::stringstream list(next());
      for (std::string item; std::getline(list, item, ',');) thread_counts.push_back(std::max(1, std::atoi(item.c_str())));
    } else {
      std::cerr << "usage: bench_gptq [--n N] [--k K] [--tokens T] [--group G] [--bits B] [--no-act-order] [--threads 1,2] "
                   "[--error-rows R]\n";
      return 2;
    }
  }
  if (n <= 0 || k <= 0 || tokens <= 0 || thread_counts.empty()) {
    std::cerr << "bench_gptq: --n, --k, --tokens must be positive\n";
    return 2;
  }
  error_rows = std::clamp<int64_t>(error_rows, 0, n);

  std::cout << "command:";
  for (int i = 0; i < argc; ++i) std::cout << ' ' << argv[i];
  std::cout << "\n";
  quant::WeightScheme scheme;
  scheme.bits = bits;
  scheme.group_size = group;
  quant::validate_scheme(scheme, "bench");
  quant::GptqOptions options;
  options.act_order = act_order;
  std::cout << "layer " << n << " x " << k << ", " << tokens << " calibration tokens, " << quant::describe(scheme)
            << (act_order ? ", act-order" : "") << ", block " << options.block_size << ", percdamp " << options.percdamp
            << "; CPUs " << available_cpus() << "\n";

  const auto setup_start = Clock::now();
  std::vector<float> weight(static_cast<size_t>(n * k));
  {
    Random rng(1);
    for (float& w : weight) w = static_cast<float>(0.02 * rng.normal());
  }
  const std::vector<float> x = correlated_activations(tokens, k, 2);
  std::cout << "setup (random data) " << std::fixed << std::setprecision(2) << seconds_since(setup_start) << " s; RSS "
            << std::setprecision(0) << status_mib("VmRSS") << " MiB\n" << std::flush;

  std::vector<Row> rows;
  quant::QuantizedWeight first;
  bool identical = true, peak_reset = true;
  double fixed_seconds = 0.0;
  double gptq_error = -1.0, rtn_error = -1.0, held_out_gptq = -1.0, held_out_rtn = -1.0;
  for (const int threads : thread_counts) {
    ThreadPool pool(threads);
    const ParallelScope scope(&pool);
    peak_reset = reset_peak_rss() && peak_reset;
    Row row;
    row.threads = threads;
    auto start = Clock::now();
    calibration::Hessian hessian(k);
    hessian.add(x.data(), tokens);
    row.hessian = seconds_since(start);
    start = Clock::now();
    quant::GptqReport report;
    quant::QuantizedWeight q = quant::quantize_gptq(weight.data(), n, k, hessian, scheme, options, "bench", &report);
    row.gptq = seconds_since(start);
    start = Clock::now();
    const quant::QuantizedWeight r = quant::quantize_rtn(weight.data(), n, k, scheme);
    row.rtn = seconds_since(start);
    row.peak_mib = status_mib("VmHWM");
    rows.push_back(row);
    std::cout << "  " << threads << " thread(s): hessian " << std::setprecision(2) << row.hessian << " s, gptq " << row.gptq
              << " s (damp " << std::scientific << std::setprecision(3) << report.damp << std::fixed << ", dead columns "
              << report.dead_columns << "), rtn " << std::setprecision(3) << row.rtn << " s\n" << std::flush;
    if (rows.size() == 1) {
      if (error_rows > 0) {  // GPTQ vs RTN output error on the first rows (the error is a sum over rows)
        const auto dq = q.dequantize(), dr = r.dequantize();
        gptq_error = hessian.output_error(weight.data(), dq.data(), error_rows);
        rtn_error = hessian.output_error(weight.data(), dr.data(), error_rows);
        // ... and on tokens GPTQ did not see (with fewer tokens than inputs it can hide errors in the
        // calibration set's null space, which held-out tokens do not share).
        const std::vector<float> held_out = correlated_activations(std::max<int64_t>(tokens / 4, 1), k, 3);
        calibration::Hessian held_out_hessian(k);
        held_out_hessian.add(held_out.data(), static_cast<int64_t>(held_out.size()) / k);
        held_out_gptq = held_out_hessian.output_error(weight.data(), dq.data(), error_rows);
        held_out_rtn = held_out_hessian.output_error(weight.data(), dr.data(), error_rows);
      }
      // The per-layer fixed cost (dead columns, permutation, damped inverse and its Cholesky factor: Eigen,
      // single-threaded), measured as GPTQ of one 64-row chunk with the same Hessian.
      start = Clock::now();
      quant::quantize_gptq(weight.data(), std::min<int64_t>(n, 64), k, hessian, scheme, options, "bench");
      fixed_seconds = seconds_since(start);
      first = std::move(q);
    } else {
      identical = identical && same_result(first, q);
    }
  }

  std::cout << "\n" << std::left << std::setw(9) << "threads" << std::right << std::setw(13) << "hessian (s)" << std::setw(12)
            << "gptq (s)" << std::setw(10) << "rtn (s)" << std::setw(17) << "peak RSS (MiB)" << "\n";
  for (const Row& row : rows)
    std::cout << std::left << std::setw(9) << row.threads << std::right << std::fixed << std::setprecision(2) << std::setw(13)
              << row.hessian << std::setw(12) << row.gptq << std::setprecision(3) << std::setw(10) << row.rtn << std::setprecision(0)
              << std::setw(17) << row.peak_mib << "\n";
  std::cout << "GPTQ of the first " << std::min<int64_t>(n, 64) << " rows alone (the per-layer fixed cost at " << thread_counts.front()
            << " thread(s)): " << std::setprecision(2) << fixed_seconds << " s\n";
  if (!peak_reset) std::cout << "(VmHWM could not be reset between thread counts: peaks are cumulative)\n";
  if (gptq_error >= 0.0) {
    std::cout << "output error on the first " << error_rows << " rows, gptq / rtn: " << std::setprecision(3)
              << gptq_error / rtn_error << " on the calibration tokens (rtn " << std::scientific << rtn_error << ", gptq "
              << gptq_error << ")" << std::fixed << ", " << held_out_gptq / held_out_rtn << " on " << std::max<int64_t>(tokens / 4, 1)
              << " held-out tokens (rtn " << std::scientific << held_out_rtn << ", gptq " << held_out_gptq << ")\n" << std::fixed;
  }
  if (rows.size() > 1)
    std::cout << "GPTQ codes and group parameters at " << rows.size() << " thread counts: "
              << (identical ? "byte-identical" : "DIFFERENT") << "\n";
  return identical ? 0 : 1;
}
