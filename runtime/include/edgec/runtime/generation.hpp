#pragma once
// Autoregressive generation: a CausalModel turns a batch of prompts (and images, for VLMs) into next-token
// logits, then one token per row at a time; generate() runs the prefill + decode loop with a Sampler, stop
// tokens and a token budget, and times each phase.
//
// Two models:
//  - GraphCausalModel: a graph from the Hugging Face importer (LlamaForCausalLM, Qwen2ForCausalLM,
//    LlavaForConditionalGeneration). With the KV cache (default) the prefill runs the whole graph once and each
//    decode step runs only the language model on the new token; without it every step reruns the full sequence
//    (the reference the cache is tested against).
//  - OnnxVlmModel: fmnist-vlm-a's three ONNX graphs (vision_encoder, embed_tokens, decoder). The decoder has no
//    cache, so every step reruns the decoder on the whole sequence (fine for short captions).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/core/model.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/host_tensor.hpp"
#include "edgec/runtime/kv_cache.hpp"
#include "edgec/runtime/sampling.hpp"

namespace edgec::runtime {

using TokenRows = std::vector<std::vector<int64_t>>;  // [batch][tokens], every row the same length

class CausalModel {
 public:
  CausalModel() = default;
  CausalModel(const CausalModel&) = delete;
  CausalModel& operator=(const CausalModel&) = delete;
  virtual ~CausalModel() = default;

  // Starts new sequences (dropping any previous state). `pixel_values` [N,C,H,W] for VLMs, else nullptr.
  // Returns the logits after the last prompt token, [B, V].
  virtual HostTensor prefill(const TokenRows& prompts, const HostTensor* pixel_values) = 0;
  // Appends one token per row (positions continue from the prefill); returns the next logits [B, V].
  virtual HostTensor decode(std::span<const int64_t> tokens) = 0;
  // Whether the model needs pixel_values.
  virtual bool takes_images() const = 0;

  // Optional (not owned, nullptr = off): the kernels' time of prefill runs and of decode runs is added to these.
  void set_profiles(Profile* prefill, Profile* decode) {
    prefill_profile_ = prefill;
    decode_profile_ = decode;
  }

 protected:
  Profile* prefill_profile_ = nullptr;
  Profile* decode_profile_ = nullptr;
};

class GraphCausalModel final : public CausalModel {
 public:
  // `graph` must outlive the model. Throws Error(input) when the graph is not a causal LM / LLaVA graph
  // (inputs input_ids, position_ids [, pixel_values]; output logits).
  explicit GraphCausalModel(const Graph& graph, bool use_kv_cache = true);
  HostTensor prefill(const TokenRows& prompts, const HostTensor* pixel_values) override;
  HostTensor decode(std::span<const int64_t> tokens) override;
  bool takes_images() const override { return takes_images_; }
  // Logits of the last run, [B, S, V]: every position without the KV cache (S = the sequence length); with it the
  // last position only (S = 1: a cached prefill feeds only the last token to the lm_head, as generation needs).
  const HostTensor& last_logits() const { return last_logits_; }
  const KvCache& cache() const { return cache_; }

 private:
  HostTensor run(const Executor& executor, const TokenRows& ids, int64_t first_position, bool with_pixels, Profile* profile);
  const Graph& graph_;
  Graph decode_graph_;   // language model only (LLaVA's merge bypassed, vision tower pruned)
  Graph prefill_graph_;  // the graph with only the last position's hidden state going into the lm_head
  bool use_kv_cache_;
  bool takes_images_ = false;
  Executor full_;
  Executor text_;
  Executor prefill_;
  KvCache cache_;
  TokenRows sequences_;   // every token so far (for the no-cache path)
  HostTensor pixels_;
  HostTensor last_logits_;
};

class OnnxVlmModel final : public CausalModel {
 public:
  // `model` is an ONNX folder with graphs vision_encoder (pixel_values -> image_embeds), embed_tokens
  // (input_ids -> inputs_embeds) and decoder (inputs_embeds, position_ids -> logits); it must outlive this.
  OnnxVlmModel(const Model& model, int64_t image_token_index);
  HostTensor prefill(const TokenRows& prompts, const HostTensor* pixel_values) override;
  HostTensor decode(std::span<const int64_t> tokens) override;
  bool takes_images() const override { return true; }

 private:
  HostTensor run_decoder(Profile* profile);
  int64_t image_token_;
  Executor vision_;
  Executor embed_;
  Executor decoder_;
  int64_t batch_ = 0, length_ = 0, width_ = 0;
  std::vector<float> embeds_;  // [B, capacity, D] row-major, `length_` filled per row
  int64_t capacity_ = 0;
};

// A graph of the model of the right kind: OnnxVlmModel for an ONNX folder holding the three graphs above,
// GraphCausalModel for an HF graph. Throws Error(input) otherwise.
std::unique_ptr<CausalModel> make_causal_model(const Model& model, int64_t image_token_index = 3, bool use_kv_cache = true);

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  std::vector<int64_t> stop_tokens;  // generation stops for a row after it emits one (kept in its output)
  SamplingOptions sampling;
  // Called after each generated position with (positions done, max_new_tokens): progress for long batches.
  std::function<void(int64_t, int64_t)> on_step;
};

struct GenerationTimings {
  double prefill_ms = 0;              // prompt through the model until the first logits (time to first token)
  std::vector<double> decode_ms;      // one entry per decode step
};

struct Generation {
  TokenRows tokens;                   // per row: the new tokens, ending with the stop token if one came
  std::vector<uint8_t> stopped;       // per row: a stop token ended it
  GenerationTimings timings;
};

// Rows advance together; a row that stopped keeps feeding its stop token (its results are ignored) until every
// row stopped or the budget is spent. Tokens are drawn row by row in order, so a seed fixes the whole output.
Generation generate(CausalModel& model, const TokenRows& prompts, const HostTensor* pixel_values,
                    const GenerationOptions& options);

}  // namespace edgec::runtime
