#pragma once
// Writers for synthetic checkpoints: safetensors files with tiny random weights, config.json, sharded indexes,
// and the tensor lists of each supported architecture (so tests can also leave tensors out).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace edgec::test {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
using TensorList = std::vector<TensorSpec>;

inline int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

// A unique, empty folder under the system temp dir; removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static int counter = 0;  // tests run sequentially; the pid keeps concurrent runs apart
    path_ = std::filesystem::temp_directory_path() /
            ("edgec_hf_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& path) {
  const auto size = std::filesystem::file_size(path);
  std::string bytes(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  return bytes;
}

// u64 LE length + header text + data.
inline std::string safetensors_with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// F32 tensors with values drawn from a fixed-seed generator, packed back to back.
// `as_i32` names one tensor stored with dtype I32 instead (same byte size), for dtype checks.
inline std::string make_safetensors(const TensorList& tensors, uint32_t seed = 1,
                                    const nlohmann::json& metadata = nlohmann::json::object(),
                                    const std::string& as_i32 = "") {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : tensors) {
    const size_t begin = data.size();
    for (int64_t i = 0; i < product(t.shape); ++i) {
      const float v = dist(rng);
      char raw[4];
      std::memcpy(raw, &v, 4);
      data.append(raw, 4);
    }
    header[t.name] = {{"dtype", t.name == as_i32 ? "I32" : "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  return safetensors_with_header(header.dump(), data);
}

inline void write_model(const std::filesystem::path& dir, const nlohmann::json& config, const TensorList& tensors) {
  write_bytes(dir / "config.json", config.dump(2));
  write_bytes(dir / "model.safetensors", make_safetensors(tensors));
}

// Splits `tensors` into two shards plus model.safetensors.index.json.
inline void write_sharded_model(const std::filesystem::path& dir, const nlohmann::json& config, const TensorList& tensors) {
  write_bytes(dir / "config.json", config.dump(2));
  const size_t half = tensors.size() / 2;
  const TensorList first(tensors.begin(), tensors.begin() + static_cast<std::ptrdiff_t>(half));
  const TensorList second(tensors.begin() + static_cast<std::ptrdiff_t>(half), tensors.end());
  write_bytes(dir / "model-00001-of-00002.safetensors", make_safetensors(first, 1));
  write_bytes(dir / "model-00002-of-00002.safetensors", make_safetensors(second, 2));
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& t : first) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_bytes(dir / "model.safetensors.index.json", index.dump(2));
}

inline TensorList without(TensorList tensors, const std::string& name) {
  std::erase_if(tensors, [&](const TensorSpec& t) { return t.name == name; });
  return tensors;
}

// ---- tensor lists per architecture ----

struct TextShape {
  int64_t hidden = 16, intermediate = 24, layers = 2, heads = 4, kv_heads = 2, head_dim = 4, vocab = 32;
};

inline void add_decoder(TensorList& out, const std::string& prefix, const TextShape& s, bool qkv_bias) {
  out.push_back({prefix + "embed_tokens.weight", {s.vocab, s.hidden}});
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = prefix + "layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {s.hidden}});
    out.push_back({p + "self_attn.q_proj.weight", {s.heads * s.head_dim, s.hidden}});
    out.push_back({p + "self_attn.k_proj.weight", {s.kv_heads * s.head_dim, s.hidden}});
    out.push_back({p + "self_attn.v_proj.weight", {s.kv_heads * s.head_dim, s.hidden}});
    if (qkv_bias) {
      out.push_back({p + "self_attn.q_proj.bias", {s.heads * s.head_dim}});
      out.push_back({p + "self_attn.k_proj.bias", {s.kv_heads * s.head_dim}});
      out.push_back({p + "self_attn.v_proj.bias", {s.kv_heads * s.head_dim}});
    }
    out.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.heads * s.head_dim}});
    out.push_back({p + "post_attention_layernorm.weight", {s.hidden}});
    out.push_back({p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}});
    out.push_back({p + "mlp.up_proj.weight", {s.intermediate, s.hidden}});
    out.push_back({p + "mlp.down_proj.weight", {s.hidden, s.intermediate}});
  }
  out.push_back({prefix + "norm.weight", {s.hidden}});
}

inline nlohmann::json text_config(const std::string& model_type, const TextShape& s, bool tie) {
  return {{"model_type", model_type},        {"hidden_size", s.hidden},       {"intermediate_size", s.intermediate},
          {"num_hidden_layers", s.layers},   {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
          {"head_dim", s.head_dim},          {"vocab_size", s.vocab},          {"rms_norm_eps", 1e-6},
          {"rope_theta", 1000000.0},         {"hidden_act", "silu"},           {"tie_word_embeddings", tie},
          {"rope_scaling", nullptr}};
}

struct VisionShape {
  int64_t hidden = 16, intermediate = 32, layers = 3, heads = 2, image = 8, patch = 4, channels = 3;
  int64_t patches() const { return (image / patch) * (image / patch); }
};

// CLIP / SigLIP naming (vision_model.embeddings.patch_embedding, encoder.layers.N.self_attn.q_proj, ...).
inline void add_clip_tower(TensorList& out, const std::string& prefix, const VisionShape& s, bool cls, bool pre_ln,
                           bool patch_bias) {
  const int64_t d = s.hidden;
  out.push_back({prefix + "embeddings.patch_embedding.weight", {d, s.channels, s.patch, s.patch}});
  if (patch_bias) out.push_back({prefix + "embeddings.patch_embedding.bias", {d}});
  if (cls) out.push_back({prefix + "embeddings.class_embedding", {d}});
  out.push_back({prefix + "embeddings.position_embedding.weight", {s.patches() + (cls ? 1 : 0), d}});
  if (pre_ln) {
    out.push_back({prefix + "pre_layrnorm.weight", {d}});
    out.push_back({prefix + "pre_layrnorm.bias", {d}});
  }
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = prefix + "encoder.layers." + std::to_string(l) + ".";
    for (const char* norm : {"layer_norm1", "layer_norm2"}) {
      out.push_back({p + norm + ".weight", {d}});
      out.push_back({p + norm + ".bias", {d}});
    }
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      out.push_back({p + "self_attn." + proj + ".weight", {d, d}});
      out.push_back({p + "self_attn." + proj + ".bias", {d}});
    }
    out.push_back({p + "mlp.fc1.weight", {s.intermediate, d}});
    out.push_back({p + "mlp.fc1.bias", {s.intermediate}});
    out.push_back({p + "mlp.fc2.weight", {d, s.intermediate}});
    out.push_back({p + "mlp.fc2.bias", {d}});
  }
  out.push_back({prefix + "post_layernorm.weight", {d}});
  out.push_back({prefix + "post_layernorm.bias", {d}});
}

inline void add_vit(TensorList& out, const std::string& prefix, const VisionShape& s) {
  const int64_t d = s.hidden;
  out.push_back({prefix + "embeddings.cls_token", {1, 1, d}});
  out.push_back({prefix + "embeddings.position_embeddings", {1, s.patches() + 1, d}});
  out.push_back({prefix + "embeddings.patch_embeddings.projection.weight", {d, s.channels, s.patch, s.patch}});
  out.push_back({prefix + "embeddings.patch_embeddings.projection.bias", {d}});
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = prefix + "encoder.layer." + std::to_string(l) + ".";
    for (const char* proj : {"attention.attention.query", "attention.attention.key", "attention.attention.value",
                             "attention.output.dense"}) {
      out.push_back({p + proj + ".weight", {d, d}});
      out.push_back({p + proj + ".bias", {d}});
    }
    out.push_back({p + "intermediate.dense.weight", {s.intermediate, d}});
    out.push_back({p + "intermediate.dense.bias", {s.intermediate}});
    out.push_back({p + "output.dense.weight", {d, s.intermediate}});
    out.push_back({p + "output.dense.bias", {d}});
    for (const char* norm : {"layernorm_before", "layernorm_after"}) {
      out.push_back({p + norm + ".weight", {d}});
      out.push_back({p + norm + ".bias", {d}});
    }
  }
  out.push_back({prefix + "layernorm.weight", {d}});
  out.push_back({prefix + "layernorm.bias", {d}});
}

inline nlohmann::json vision_config(const std::string& model_type, const VisionShape& s) {
  return {{"model_type", model_type},      {"hidden_size", s.hidden}, {"intermediate_size", s.intermediate},
          {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"image_size", s.image},
          {"patch_size", s.patch},         {"num_channels", s.channels}};
}

}  // namespace edgec::test
