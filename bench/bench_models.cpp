// Speed of the reference executor on the real models: stories260k prefill and KV-cache decode tokens/s,
// fmnist-vlm-a vision tower + projector images/s (batch 1 and 64) and full caption generation images/s
// (HF graph with KV cache, and the ONNX export with full-sequence reruns). Each measurement is repeated and the
// median reported. `bench_models [--repeats N] [--json]`.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgec/core/allocator.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/runtime/caption_eval.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/generation.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::runtime;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  std::string name;
  double value;  // median
  std::string unit;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

template <class F>
double median_rate(int repeats, double work, F&& body) {
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    body();
    rates.push_back(work / seconds_since(start));
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  edgec::ThreadPool pool;  // every CPU
  const edgec::ParallelScope scope(&pool);
  int repeats = 5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else {
      std::cerr << "usage: bench_models [--repeats N] [--json]\n";
      return 2;
    }
  }
  std::vector<Row> rows;

  if (const fs::path dir = edgec::test::shared_model("stories260k"); !dir.empty()) {
    const Model model = hf::import_folder(dir);
    GraphCausalModel lm(model.graphs.at(0));
    std::vector<int64_t> prompt(256);
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = 3 + static_cast<int64_t>((i * 37) % 500);
    rows.push_back({"stories260k prefill (256 tokens)", median_rate(repeats, 256, [&] { lm.prefill({prompt}, nullptr); }), "tokens/s"});
    GenerationOptions options;
    options.max_new_tokens = 129;
    std::vector<double> rates;
    for (int r = 0; r < repeats; ++r) {
      const auto result = generate(lm, {{1}}, nullptr, options);
      double total = 0;
      for (const double ms : result.timings.decode_ms) total += ms;
      rates.push_back(static_cast<double>(result.timings.decode_ms.size()) / (total / 1000.0));
    }
    std::sort(rates.begin(), rates.end());
    rows.push_back({"stories260k decode (KV cache, 128 steps)", rates[rates.size() / 2], "tokens/s"});
  }

  if (const fs::path dir = edgec::test::shared_model("fmnist-vlm-a"); !dir.empty()) {
    const auto set = formats::load_caption_eval_set(dir / "eval", 0, 64);
    const Model onnx = onnx_format::import_onnx_folder(dir / "onnx");
    const Graph* vision = nullptr;
    for (const Graph& g : onnx.graphs)
      if (g.name == "vision_encoder") vision = &g;
    const Executor tower(*vision);
    for (const int64_t batch : {int64_t{1}, int64_t{64}}) {
      const HostTensor pixels = HostTensor::from_values<float>(DType::f32, {batch, 1, 28, 28},
                                                               std::span<const float>(set.pixels).subspan(0, static_cast<size_t>(batch * 784)));
      const int reps = batch == 1 ? repeats * 8 : repeats;
      rows.push_back({"fmnist-vlm-a vision tower + projector, batch " + std::to_string(batch),
                      median_rate(reps, static_cast<double>(batch), [&] { tower.run({{"pixel_values", pixels}}); }), "images/s"});
    }
    GenerationOptions options;
    options.max_new_tokens = 10;
    options.stop_tokens = {2};
    const Model hf_model = hf::import_folder(dir);
    auto hf_lm = make_causal_model(hf_model);
    auto onnx_lm = make_causal_model(onnx, 3);
    for (const auto& [name, lm] : {std::pair{"HF graph, KV cache", hf_lm.get()}, std::pair{"ONNX, no cache", onnx_lm.get()}})
      rows.push_back({std::string("fmnist-vlm-a captions, batch 64, ") + name,
                      median_rate(repeats, 64, [&] { caption_images(*lm, set.pixels, set.image_dims, set.template_ids, 64, options); }),
                      "images/s"});
  }

  if (json) {
    nlohmann::ordered_json report = nlohmann::ordered_json::array();
    for (const auto& row : rows) report.push_back({{"name", row.name}, {"median", row.value}, {"unit", row.unit}, {"repeats", repeats}});
    std::cout << report.dump(2) << '\n';
    return 0;
  }
  std::cout << std::left << std::setw(58) << "benchmark" << std::right << std::setw(14) << "median" << "  unit\n";
  for (const auto& row : rows)
    std::cout << std::left << std::setw(58) << row.name << std::right << std::setw(14) << std::fixed << std::setprecision(1) << row.value
              << "  " << row.unit << '\n';
  return 0;
}
