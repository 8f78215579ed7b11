// OnnxVlmModel: fmnist-vlm-a's ONNX export. vision_encoder gives image embeddings, embed_tokens the token
// embeddings, the <image> rows are replaced in order (transformers' masked_scatter), and the cache-less
// decoder reruns on the whole embedded sequence at every step; the embeddings are kept, not recomputed.
#include <algorithm>
#include <cstring>

#include "edgec/core/error.hpp"
#include "edgec/runtime/generation.hpp"
#include "generation/last_position.hpp"

namespace edgec::runtime {
namespace {

const Graph& graph_named(const Model& model, std::string_view name) {
  for (const Graph& graph : model.graphs)
    if (graph.name == name) return graph;
  throw Error(ErrorCategory::input, "generation: " + model.source.string() + ": no ONNX graph named '" + std::string(name) +
                                        "' (a VLM export needs vision_encoder, embed_tokens and decoder)");
}

}  // namespace

OnnxVlmModel::OnnxVlmModel(const Model& model, int64_t image_token_index)
    : image_token_(image_token_index),
      vision_(graph_named(model, "vision_encoder")),
      embed_(graph_named(model, "embed_tokens")),
      decoder_(graph_named(model, "decoder")) {}

HostTensor OnnxVlmModel::prefill(const TokenRows& prompts, const HostTensor* pixel_values) {
  if (!pixel_values) throw Error(ErrorCategory::input, "generation: the ONNX VLM needs pixel_values");
  RunOptions options;
  options.profile = prefill_profile_;
  const HostTensor images = vision_.run({{vision_.graph().inputs.at(0).name, *pixel_values}}, options).begin()->second;
  const HostTensor ids = detail::token_tensor(prompts, 0, false);
  const HostTensor tokens = embed_.run({{embed_.graph().inputs.at(0).name, ids}}, options).begin()->second;
  if (tokens.rank() != 3 || images.rank() != 3 || images.dims()[2] != tokens.dims()[2])
    throw Error(ErrorCategory::input, "generation: image embeddings " + describe(images) + " do not fit token embeddings " + describe(tokens));
  batch_ = tokens.dims()[0];
  length_ = tokens.dims()[1];
  width_ = tokens.dims()[2];
  capacity_ = length_ + 64;
  embeds_.assign(static_cast<size_t>(batch_ * capacity_ * width_), 0.0f);
  const auto id_values = ids.to_i64();
  const int64_t available = images.dims()[0] * images.dims()[1];
  int64_t next = 0;
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t s = 0; s < length_; ++s) {
      const float* source = tokens.data<float>() + (b * length_ + s) * width_;
      if (id_values[static_cast<size_t>(b * length_ + s)] == image_token_) {
        if (next >= available) throw Error(ErrorCategory::input, "generation: more <image> tokens than the " + std::to_string(available) + " image feature rows");
        source = images.data<float>() + (next++) * width_;
      }
      std::memcpy(embeds_.data() + (b * capacity_ + s) * width_, source, static_cast<size_t>(width_) * sizeof(float));
    }
  if (next != available)
    throw Error(ErrorCategory::input, "generation: " + std::to_string(next) + " <image> tokens but " + std::to_string(available) + " image feature rows");
  return run_decoder(prefill_profile_);
}

HostTensor OnnxVlmModel::decode(std::span<const int64_t> tokens) {
  if (static_cast<int64_t>(tokens.size()) != batch_)
    throw Error(ErrorCategory::input, "generation: decode got " + std::to_string(tokens.size()) + " tokens for " + std::to_string(batch_) + " rows");
  const HostTensor ids = HostTensor::from_values<int64_t>(DType::i64, {batch_, 1}, std::span<const int64_t>(tokens));
  RunOptions options;
  options.profile = decode_profile_;
  const HostTensor embedded = embed_.run({{embed_.graph().inputs.at(0).name, ids}}, options).begin()->second;
  if (length_ == capacity_) {  // grow: rows keep their own stride
    const int64_t grown = capacity_ * 2;
    std::vector<float> bigger(static_cast<size_t>(batch_ * grown * width_), 0.0f);
    for (int64_t b = 0; b < batch_; ++b)
      std::memcpy(bigger.data() + b * grown * width_, embeds_.data() + b * capacity_ * width_, static_cast<size_t>(length_ * width_) * sizeof(float));
    embeds_ = std::move(bigger);
    capacity_ = grown;
  }
  for (int64_t b = 0; b < batch_; ++b)
    std::memcpy(embeds_.data() + (b * capacity_ + length_) * width_, embedded.data<float>() + b * width_, static_cast<size_t>(width_) * sizeof(float));
  ++length_;
  return run_decoder(decode_profile_);
}

HostTensor OnnxVlmModel::run_decoder(Profile* profile) {
  HostTensor sequence = HostTensor::empty(DType::f32, {batch_, length_, width_});
  for (int64_t b = 0; b < batch_; ++b)
    std::memcpy(sequence.mutable_data<float>() + b * length_ * width_, embeds_.data() + b * capacity_ * width_,
                static_cast<size_t>(length_ * width_) * sizeof(float));
  std::vector<int64_t> positions;
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t s = 0; s < length_; ++s) positions.push_back(s);
  RunOptions options;
  options.profile = profile;
  const auto out = decoder_.run({{"inputs_embeds", sequence},
                                 {"position_ids", HostTensor::from_values<int64_t>(DType::i64, {batch_, length_}, positions)}},
                                options);
  return detail::last_position(out.at("logits"));
}

}  // namespace edgec::runtime
