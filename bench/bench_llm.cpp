// LLM speed at a real size: a Llama of TinyLlama-1.1B's shape with random bf16 weights (bench/support/
// synthetic_llama.hpp, written once into .cache/bench/), run as bf16 straight from the safetensors, and quantized
// by round-to-nearest to W8 (per channel) and W4 (group 32), written as `edgec quantize` writes a folder and loaded
// back. For each variant and thread count:
//  * load: seconds to load the model (mapping, not copying, is what keeps this small);
//  * prefill: tokens/s for a --prompt-token prompt (time to the first logits), median of --repeats;
//  * decode: tokens/s over --decode tokens after that prompt (median ms per token), and the GB/s of weights this
//    reads (every weight the decode graph reads, once per token: all linear layers and norms, one row of the
//    embedding table) as a fraction of the read bandwidth measured in the same run at the same thread count, with
//    4 KiB pages (the pages a mapped checkpoint gets) and with 2 MiB pages (the memory's peak).
// `bench_llm [--threads 1,2] [--variants bf16,w8,w4g32] [--prompt 64] [--decode 32] [--repeats 3] [--json]
//  [--model-dir DIR] [--keep]`. Speed only: the weights are noise, never an accuracy check.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bandwidth.hpp"
#include "edgec/core/error.hpp"
#include "edgec/core/allocator.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "edgec/runtime/generation.hpp"
#include "synthetic_llama.hpp"

using namespace edgec;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Bytes a decode step reads: each initializer a node of the graph consumes, once; an Embedding table only one row.
int64_t decode_weight_bytes(const Graph& graph) {
  std::set<std::string> counted;
  int64_t total = 0;
  for (const Node& node : graph.nodes)
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const auto it = graph.initializers.find(node.inputs[i]);
      if (it == graph.initializers.end() || !counted.insert(it->first).second) continue;
      const Tensor& t = it->second;
      const bool table = node.domain == "edgec" && node.op == "Embedding" && i == 1;
      total += table ? static_cast<int64_t>(t.bytes().size()) / std::max<int64_t>(1, t.dims()[0]) : static_cast<int64_t>(t.bytes().size());
    }
  return total;
}

struct Variant {
  std::string name;  // bf16, w8, w4g32
  int bits = 0;      // 0: the bf16 checkpoint as it is
  int64_t group = 0; // 0: per channel
};

struct Measurement {
  std::string variant;
  int threads = 0;
  double load_s = 0, prefill_tokens_per_s = 0, decode_ms_per_token = 0, decode_tokens_per_s = 0, decode_gbs = 0;
  double bandwidth_fraction = 0, huge_page_fraction = 0;
  int64_t weight_bytes = 0;
};

// Quantizes the checkpoint's linear layers by round-to-nearest and writes model.onnx (+ config) into `out`.
void write_quantized(const fs::path& checkpoint, const Variant& v, const fs::path& out) {
  Model model = load_model(checkpoint);
  quant::QuantizeOptions options;
  options.scheme.bits = v.bits;
  options.scheme.group_size = v.group;  // 0 = per channel
  options.scheme.symmetric = v.bits == 8;
  quant::apply_method("rtn", options);
  quant::validate_scheme(options.scheme, "bench_llm");
  quant::quantize_graph(model.graphs[0], nullptr, options, "rtn");
  fs::remove_all(out);
  fs::create_directories(out);
  fs::copy_file(checkpoint / "config.json", out / "config.json");
  onnx_format::export_onnx(model.graphs[0], out / "model.onnx");
}

std::vector<int> parse_ints(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

std::vector<std::string> parse_names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

int usage(const std::string& why) {
  std::cerr << "bench_llm: " << why
            << "\nusage: bench_llm [--threads 1,2] [--variants bf16,w8,w4g32] [--prompt N] [--decode N] [--repeats N] [--json] "
               "[--model-dir DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  std::vector<int> thread_counts{1, 2};
  std::vector<std::string> variant_names{"bf16", "w8", "w4g32"};
  int64_t prompt_tokens = 64, decode_tokens = 32;
  int repeats = 3;
  bool json = false;
  fs::path dir = fs::path(EDGEC_SOURCE_DIR) / ".cache" / "bench";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool value = i + 1 < argc;
    if (arg == "--json") json = true;
    else if (arg == "--threads" && value) thread_counts = parse_ints(argv[++i]);
    else if (arg == "--variants" && value) variant_names = parse_names(argv[++i]);
    else if (arg == "--prompt" && value) prompt_tokens = std::stoll(argv[++i]);
    else if (arg == "--decode" && value) decode_tokens = std::stoll(argv[++i]);
    else if (arg == "--repeats" && value) repeats = std::max(1, std::stoi(argv[++i]));
    else if (arg == "--model-dir" && value) dir = argv[++i];
    else return usage("unknown argument " + arg);
  }
  const std::map<std::string, Variant> known{{"bf16", {"bf16", 0, 0}}, {"w8", {"w8", 8, 0}}, {"w4g32", {"w4g32", 4, 32}},
                                             {"w4g128", {"w4g128", 4, 128}}};
  std::vector<Variant> variants;
  for (const auto& name : variant_names) {
    if (!known.count(name)) return usage("unknown variant " + name + " (bf16, w8, w4g32, w4g128)");
    variants.push_back(known.at(name));
  }
  try {
    const bench::LlamaShape shape = bench::tinyllama_1b();
    auto start = Clock::now();
    const fs::path checkpoint = bench::write_synthetic_llama(dir / (shape.name + "-bf16"), shape);
    std::cerr << "bench_llm: checkpoint " << checkpoint.string() << " (" << std::fixed << std::setprecision(1)
              << seconds_since(start) << " s)\n";
    std::map<int, double> bandwidth, bandwidth_huge;  // 4 KiB pages (as the mapped weights), 2 MiB pages
    for (const int t : thread_counts) {
      bandwidth[t] = bench::read_bandwidth_gbs(t, false);
      bandwidth_huge[t] = bench::read_bandwidth_gbs(t, true);
      std::cerr << "bench_llm: read bandwidth, " << t << " thread(s): " << bandwidth[t] << " GB/s with 4 KiB pages, "
                << bandwidth_huge[t] << " GB/s with 2 MiB pages\n";
    }

    std::vector<Measurement> rows;
    std::vector<int64_t> prompt(static_cast<size_t>(prompt_tokens));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = 3 + static_cast<int64_t>((i * 7919) % 31000);
    for (const Variant& v : variants) {
      fs::path model_path = checkpoint;
      if (v.bits != 0) {
        model_path = dir / (shape.name + "-" + v.name);
        if (!fs::exists(model_path / "model.onnx")) {
          start = Clock::now();
          ThreadPool pool;
          const ParallelScope scope(&pool);
          write_quantized(checkpoint, v, model_path);
          std::cerr << "bench_llm: wrote " << model_path.string() << " (" << seconds_since(start) << " s)\n";
        }
      }
      for (const int threads : thread_counts) {
        ThreadPool pool(threads);
        const ParallelScope scope(&pool);
        Measurement m{v.name, threads};
        start = Clock::now();
        const Model model = load_model(model_path);
        m.load_s = seconds_since(start);
        runtime::GraphCausalModel lm(model.graphs[0]);
        m.weight_bytes = decode_weight_bytes(model.graphs[0]);
        std::vector<double> prefill, per_token;
        lm.prefill({prompt}, nullptr);  // warm-up: pages the weights in
        for (int r = 0; r < repeats; ++r) {
          start = Clock::now();
          lm.prefill({prompt}, nullptr);
          prefill.push_back(seconds_since(start));
          std::vector<int64_t> token{prompt.back()};
          for (int64_t d = 0; d < decode_tokens; ++d) {
            start = Clock::now();
            lm.decode(token);
            per_token.push_back(seconds_since(start));
            token[0] = 3 + (token[0] * 31 + d) % 31000;
          }
        }
        m.prefill_tokens_per_s = static_cast<double>(prompt_tokens) / median(prefill);
        m.decode_ms_per_token = median(per_token) * 1e3;
        m.decode_tokens_per_s = 1e3 / m.decode_ms_per_token;
        m.decode_gbs = static_cast<double>(m.weight_bytes) * m.decode_tokens_per_s / 1e9;
        m.bandwidth_fraction = m.decode_gbs / bandwidth[threads];
        m.huge_page_fraction = m.decode_gbs / bandwidth_huge[threads];
        rows.push_back(m);
        std::cerr << "bench_llm: " << v.name << " " << threads << "T: prefill " << m.prefill_tokens_per_s << " tok/s, decode "
                  << m.decode_tokens_per_s << " tok/s (" << m.decode_gbs << " GB/s, "
                  << std::setprecision(0) << 100 * m.bandwidth_fraction << "%)" << std::setprecision(1) << "\n";
      }
    }

    if (json) {
      Json out;
      out["benchmark"] = "bench_llm";
      out["model"] = shape.name + " (random weights)";
      out["prompt_tokens"] = prompt_tokens;
      out["decode_tokens"] = decode_tokens;
      out["repeats"] = repeats;
      for (const auto& [t, gbs] : bandwidth) out["read_bandwidth_gbs"][std::to_string(t)] = gbs;
      for (const auto& [t, gbs] : bandwidth_huge) out["read_bandwidth_huge_pages_gbs"][std::to_string(t)] = gbs;
      for (const auto& m : rows)
        out["results"].push_back({{"variant", m.variant}, {"threads", m.threads}, {"load_s", m.load_s},
                                  {"prefill_tokens_per_s", m.prefill_tokens_per_s}, {"decode_ms_per_token", m.decode_ms_per_token},
                                  {"decode_tokens_per_s", m.decode_tokens_per_s}, {"decode_weight_bytes", m.weight_bytes},
                                  {"decode_gbs", m.decode_gbs}, {"bandwidth_fraction", m.bandwidth_fraction},
                                  {"huge_page_bandwidth_fraction", m.huge_page_fraction}});
      out["peak_rss_mb"] = peak_rss_mb();
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::cout << std::fixed << shape.name << " shape, random weights; prompt " << prompt_tokens << " tokens, decode " << decode_tokens
              << " tokens, median of " << repeats << "; read bandwidth";
    for (const auto& [t, gbs] : bandwidth)
      std::cout << " " << t << "T " << std::setprecision(1) << gbs << " GB/s (" << bandwidth_huge[t] << " with 2 MiB pages)";
    std::cout << "\n"
              << std::left << std::setw(8) << "variant" << std::right << std::setw(4) << "T" << std::setw(9) << "load s"
              << std::setw(12) << "prefill t/s" << std::setw(11) << "decode t/s" << std::setw(10) << "ms/token" << std::setw(10)
              << "GB/s" << std::setw(8) << "% bw" << std::setw(9) << "% 2MiB" << std::setw(11) << "weights MB" << "\n";
    for (const auto& m : rows)
      std::cout << std::left << std::setw(8) << m.variant << std::right << std::setw(4) << m.threads << std::setw(9) << std::setprecision(2)
                << m.load_s << std::setw(12) << std::setprecision(1) << m.prefill_tokens_per_s << std::setw(11) << m.decode_tokens_per_s
                << std::setw(10) << m.decode_ms_per_token << std::setw(10) << m.decode_gbs << std::setw(8) << std::setprecision(0)
                << 100 * m.bandwidth_fraction << std::setw(9) << 100 * m.huge_page_fraction << std::setw(11)
                << static_cast<double>(m.weight_bytes) / 1e6 << "\n";
    std::cout << "peak RSS " << std::setprecision(0) << peak_rss_mb() << " MB\n";
  } catch (const Error& e) {
    std::cerr << "bench_llm: " << e.what() << "\n";
    return exit_code(e.category());
  }
  return 0;
}
