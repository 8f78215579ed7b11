#pragma once
// A Llama checkpoint of a real model's shape with random weights, written as a Hugging Face folder (config.json +
// model.safetensors, bf16), for speed and memory benchmarks at real sizes. Never for accuracy: the weights are noise.
// Weights are ~N(0, 0.02) (a sum of four uniforms), norms 1; the file is written in streaming fashion, so writing
// 2.2 GB needs a few MB of memory.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgec::bench {

struct LlamaShape {
  std::string name;
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0;
  int64_t head_dim() const { return hidden / heads; }
};

// TinyLlama-1.1B (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T): 1,100,048,384 parameters.
inline LlamaShape tinyllama_1b() { return {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000}; }

struct TensorEntry {
  std::string name;
  std::vector<int64_t> shape;
  bool norm = false;  // filled with 1.0
  int64_t elements() const {
    int64_t n = 1;
    for (const int64_t d : shape) n *= d;
    return n;
  }
};

inline std::vector<TensorEntry> llama_tensors(const LlamaShape& s) {
  const int64_t kv = s.kv_heads * s.head_dim();
  std::vector<TensorEntry> t{{"model.embed_tokens.weight", {s.vocab, s.hidden}}};
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {s.hidden}, true});
    t.push_back({p + "self_attn.q_proj.weight", {s.hidden, s.hidden}});
    t.push_back({p + "self_attn.k_proj.weight", {kv, s.hidden}});
    t.push_back({p + "self_attn.v_proj.weight", {kv, s.hidden}});
    t.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.hidden}});
    t.push_back({p + "post_attention_layernorm.weight", {s.hidden}, true});
    t.push_back({p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}});
    t.push_back({p + "mlp.up_proj.weight", {s.intermediate, s.hidden}});
    t.push_back({p + "mlp.down_proj.weight", {s.hidden, s.intermediate}});
  }
  t.push_back({"model.norm.weight", {s.hidden}, true});
  t.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  return t;
}

inline nlohmann::ordered_json llama_config(const LlamaShape& s) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", s.hidden},
          {"intermediate_size", s.intermediate},
          {"num_hidden_layers", s.layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", 2048},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", false},
          {"torch_dtype", "bfloat16"},
          {"bos_token_id", 1},
          {"eos_token_id", 2}};
}

// Writes `folder`/config.json and model.safetensors (bf16) unless they exist with a matching marker; returns the
// folder. `seed` fixes the weights.
inline std::filesystem::path write_synthetic_llama(const std::filesystem::path& folder, const LlamaShape& shape,
                                                   uint64_t seed = 1) {
  namespace fs = std::filesystem;
  const fs::path marker = folder / ".synthetic";
  const std::string stamp = shape.name + " bf16 seed " + std::to_string(seed) + " v1";
  if (fs::exists(marker)) {
    std::ifstream in(marker);
    std::string seen;
    std::getline(in, seen);
    if (seen == stamp && fs::exists(folder / "model.safetensors")) return folder;
  }
  fs::create_directories(folder);
  fs::remove(marker);
  const auto tensors = llama_tensors(shape);
  nlohmann::ordered_json header;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(t.elements()) * 2;
    header[t.name] = {{"dtype", "BF16"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // data starts 8-byte aligned
  const fs::path partial = folder / "model.safetensors.partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    const uint64_t length = text.size();
    out.write(reinterpret_cast<const char*>(&length), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    const auto next = [&state] {  // xorshift64*
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      return state * 0x2545F4914F6CDD1Dull;
    };
    std::vector<uint16_t> buffer(1 << 20);
    for (const auto& t : tensors) {
      int64_t left = t.elements();
      while (left > 0) {
        const auto n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buffer.size())));
        for (size_t i = 0; i < n; ++i) {
          float value = 1.0f;
          if (!t.norm) {
            const uint64_t r = next();
            // Sum of four 16-bit uniforms: mean 2 * 65535, variance 4 * 65536^2 / 12; scaled to std 0.02.
            const double sum = static_cast<double>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
            value = static_cast<float>((sum - 2.0 * 65535.0) / (65536.0 * 1.1547005) * 0.02);
          }
          uint32_t bits;
          std::memcpy(&bits, &value, 4);
          buffer[i] = static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);  // round to nearest even
        }
        out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(n * 2));
        left -= static_cast<int64_t>(n);
      }
    }
    if (!out) throw std::runtime_error("cannot write " + partial.string());
  }
  fs::rename(partial, folder / "model.safetensors");
  std::ofstream(folder / "config.json") << llama_config(shape).dump(2) << "\n";
  std::ofstream(marker) << stamp << "\n";
  return folder;
}

}  // namespace edgec::bench
