// The prefill + decode loop shared by every CausalModel, and the choice of model for an imported checkpoint.
#include <algorithm>
#include <chrono>

#include "edgec/core/error.hpp"
#include "edgec/runtime/generation.hpp"

namespace edgec::runtime {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::unique_ptr<CausalModel> make_causal_model(const Model& model, int64_t image_token_index, bool use_kv_cache) {
  if (model.graphs.empty()) throw Error(ErrorCategory::input, "generation: " + model.source.string() + " holds no graph");
  const bool onnx_vlm = std::any_of(model.graphs.begin(), model.graphs.end(), [](const Graph& g) { return g.name == "decoder"; }) &&
                        std::any_of(model.graphs.begin(), model.graphs.end(), [](const Graph& g) { return g.name == "embed_tokens"; });
  if (onnx_vlm) return std::make_unique<OnnxVlmModel>(model, image_token_index);
  if (model.graphs.size() != 1)
    throw Error(ErrorCategory::input, "generation: " + model.source.string() + " holds " + std::to_string(model.graphs.size()) +
                                          " graphs; expected one causal LM graph or vision_encoder + embed_tokens + decoder");
  return std::make_unique<GraphCausalModel>(model.graphs[0], use_kv_cache);
}

Generation generate(CausalModel& model, const TokenRows& prompts, const HostTensor* pixel_values, const GenerationOptions& options) {
  if (prompts.empty() || prompts[0].empty()) throw Error(ErrorCategory::input, "generation: empty prompt");
  const size_t batch = prompts.size();
  Generation result;
  result.tokens.resize(batch);
  result.stopped.assign(batch, 0);
  if (options.max_new_tokens <= 0) return result;
  Sampler sampler(options.sampling);
  auto start = std::chrono::steady_clock::now();
  HostTensor logits = model.prefill(prompts, pixel_values);
  result.timings.prefill_ms = ms_since(start);
  const int64_t vocab = logits.dims().back();
  std::vector<int64_t> step(batch);
  for (int64_t n = 0;; ++n) {
    bool any_active = false;
    for (size_t b = 0; b < batch; ++b) {
      if (result.stopped[b]) {
        step[b] = result.tokens[b].back();
        continue;
      }
      const int64_t token = sampler.next(std::span<const float>(logits.data<float>() + static_cast<int64_t>(b) * vocab, static_cast<size_t>(vocab)));
      result.tokens[b].push_back(token);
      step[b] = token;
      if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end())
        result.stopped[b] = 1;
      else
        any_active = true;
    }
    if (options.on_step) options.on_step(n + 1, options.max_new_tokens);
    if (!any_active || n + 1 >= options.max_new_tokens) break;
    start = std::chrono::steady_clock::now();
    logits = model.decode(step);
    result.timings.decode_ms.push_back(ms_since(start));
  }
  return result;
}

}  // namespace edgec::runtime
