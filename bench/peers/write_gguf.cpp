// write_gguf: a standalone writer for a GGUF v3 "llama" model with TinyLlama-1.1B's exact shape and random weights,
// used by bench/peers/llama_cpp.sh to benchmark llama.cpp without downloading a checkpoint. Not part of edgec.
//
//   write_gguf OUT.gguf SEED     F16 weights ~ N(0, 0.02), RMSNorm weights 1.0 (F32), a dummy 32000-token SPM vocab
//   write_gguf --info FILE.gguf  prints JSON: file/tensor bytes, token_embd bytes, bytes per tensor type
//
// Shape: hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 KV heads, head_dim 64, vocab 32000,
// rms_norm_eps 1e-5, rope_theta 10000, untied lm_head (output.weight). Build: g++ -std=c++20 -O2.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kAlign = 32;
constexpr int kHidden = 2048, kInter = 5632, kLayers = 22, kHeads = 32, kKvHeads = 4, kHeadDim = 64;
constexpr int kVocab = 32000, kCtx = 2048;
constexpr float kEps = 1e-5f, kRopeTheta = 10000.0f, kStd = 0.02f;

enum GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32v = 6, BOOL = 7, STR = 8, ARR = 9, U64 = 10, I64 = 11, F64 = 12
};
enum GgmlType : uint32_t { GGML_F32 = 0, GGML_F16 = 1 };

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

// ---- f32 -> f16, round to nearest even, with subnormals (same algorithm as ggml / FP16 library) ----
uint16_t f32_to_f16(float f) {
  const float scale_to_inf = 0x1.0p+112f, scale_to_zero = 0x1.0p-110f;
  float base = (std::fabs(f) * scale_to_inf) * scale_to_zero;
  const uint32_t w = std::bit_cast<uint32_t>(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = std::bit_cast<float>((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = std::bit_cast<uint32_t>(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

// ---- deterministic RNG: xoshiro256** seeded through splitmix64 from (seed, tensor index) ----
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (auto& v : s) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      v = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
  }
  // two standard normals by Box-Muller
  void normal2(float& a, float& b) {
    const uint64_t r = next();
    const float u1 = (static_cast<float>(r >> 40) + 1.0f) * 0x1.0p-24f;  // (0, 1]
    const float u2 = static_cast<float>((r >> 16) & 0xFFFFFF) * 0x1.0p-24f;  // [0, 1)
    const float rad = std::sqrt(-2.0f * std::log(u1));
    const float th = 6.2831853071795864f * u2;
    a = rad * std::cos(th);
    b = rad * std::sin(th);
  }
};

// ---- buffered little-endian writer ----
class Out {
 public:
  explicit Out(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), path_(path) {
    if (!f_) fail("cannot open " + path + " for writing: " + std::strerror(errno));
    buf_.reserve(1 << 22);
  }
  ~Out() { if (f_) std::fclose(f_); }
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), c, c + n);
    pos_ += n;
    if (buf_.size() >= (1u << 22)) flush();
  }
  template <class T> void pod(T v) { bytes(&v, sizeof v); }
  void str(const std::string& s) { pod<uint64_t>(s.size()); bytes(s.data(), s.size()); }
  void pad(uint64_t align) { static const uint8_t z[64] = {}; while (pos_ % align) bytes(z, 1); }
  uint64_t pos() const { return pos_; }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      fail("write to " + path_ + " failed: " + std::strerror(errno));
    buf_.clear();
  }
  void close() {
    flush();
    if (std::fclose(f_) != 0) { f_ = nullptr; fail("closing " + path_ + " failed: " + std::strerror(errno)); }
    f_ = nullptr;
  }

 private:
  std::FILE* f_;
  std::string path_;
  std::vector<uint8_t> buf_;
  uint64_t pos_ = 0;
};

struct Tensor {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] is the contiguous (input) dimension
  GgmlType type;
  uint64_t offset = 0;
  uint64_t nelem() const { uint64_t n = 1; for (auto d : ne) n *= d; return n; }
  uint64_t nbytes() const { return nelem() * (type == GGML_F32 ? 4 : 2); }
};

std::vector<Tensor> tinyllama_tensors() {
  const uint64_t H = kHidden, F = kInter, V = kVocab, KV = uint64_t(kKvHeads) * kHeadDim;
  std::vector<Tensor> t;
  t.push_back({"token_embd.weight", {H, V}, GGML_F16});
  for (int i = 0; i < kLayers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", {H}, GGML_F32});
    t.push_back({b + "attn_q.weight", {H, uint64_t(kHeads) * kHeadDim}, GGML_F16});
    t.push_back({b + "attn_k.weight", {H, KV}, GGML_F16});
    t.push_back({b + "attn_v.weight", {H, KV}, GGML_F16});
    t.push_back({b + "attn_output.weight", {uint64_t(kHeads) * kHeadDim, H}, GGML_F16});
    t.push_back({b + "ffn_norm.weight", {H}, GGML_F32});
    t.push_back({b + "ffn_gate.weight", {H, F}, GGML_F16});
    t.push_back({b + "ffn_up.weight", {H, F}, GGML_F16});
    t.push_back({b + "ffn_down.weight", {F, H}, GGML_F16});
  }
  t.push_back({"output_norm.weight", {H}, GGML_F32});
  t.push_back({"output.weight", {H, V}, GGML_F16});
  return t;
}

// Dummy Llama-style SPM vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then unique filler pieces.
struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // 1 normal, 2 unknown, 3 control, 6 byte
};
Vocab dummy_vocab() {
  Vocab v;
  auto add = [&](std::string s, float score, int32_t type) {
    v.tokens.push_back(std::move(s)); v.scores.push_back(score); v.types.push_back(type);
  };
  add("<unk>", 0.0f, 2);
  add("<s>", 0.0f, 3);
  add("</s>", 0.0f, 3);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, 0.0f, 6);
  }
  for (int i = static_cast<int>(v.tokens.size()); i < kVocab; ++i)
    add("\xE2\x96\x81tok" + std::to_string(i), -static_cast<float>(i), 1);  // "▁tokN"
  return v;
}

int write_model(const std::string& path, uint64_t seed) {
  auto tensors = tinyllama_tensors();
  const Vocab vocab = dummy_vocab();

  Out o(path);
  uint64_t n_kv = 0;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> kvs;  // key -> encoded (type + value)
  auto enc = [](std::vector<uint8_t>& b, const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p); b.insert(b.end(), c, c + n);
  };
  auto kv_u32 = [&](const std::string& k, uint32_t v) {
    std::vector<uint8_t> b; uint32_t t = U32; enc(b, &t, 4); enc(b, &v, 4); kvs.emplace_back(k, b);
  };
  auto kv_f32 = [&](const std::string& k, float v) {
    std::vector<uint8_t> b; uint32_t t = F32v; enc(b, &t, 4); enc(b, &v, 4); kvs.emplace_back(k, b);
  };
  auto kv_bool = [&](const std::string& k, bool v) {
    std::vector<uint8_t> b; uint32_t t = BOOL; uint8_t x = v; enc(b, &t, 4); enc(b, &x, 1); kvs.emplace_back(k, b);
  };
  auto kv_str = [&](const std::string& k, const std::string& v) {
    std::vector<uint8_t> b; uint32_t t = STR; uint64_t n = v.size();
    enc(b, &t, 4); enc(b, &n, 8); enc(b, v.data(), v.size()); kvs.emplace_back(k, b);
  };
  kv_str("general.architecture", "llama");
  kv_str("general.type", "model");
  kv_str("general.name", "TinyLlama-1.1B-shape random (edgec peer bench)");
  kv_u32("general.file_type", 1);  // LLAMA_FTYPE_MOSTLY_F16
  kv_u32("general.alignment", kAlign);
  kv_u32("llama.vocab_size", kVocab);
  kv_u32("llama.context_length", kCtx);
  kv_u32("llama.embedding_length", kHidden);
  kv_u32("llama.block_count", kLayers);
  kv_u32("llama.feed_forward_length", kInter);
  kv_u32("llama.rope.dimension_count", kHeadDim);
  kv_u32("llama.attention.head_count", kHeads);
  kv_u32("llama.attention.head_count_kv", kKvHeads);
  kv_u32("llama.attention.key_length", kHeadDim);
  kv_u32("llama.attention.value_length", kHeadDim);
  kv_f32("llama.attention.layer_norm_rms_epsilon", kEps);
  kv_f32("llama.rope.freq_base", kRopeTheta);
  kv_str("tokenizer.ggml.model", "llama");
  kv_str("tokenizer.ggml.pre", "default");
  {
    std::vector<uint8_t> b; uint32_t t = ARR, et = STR; uint64_t n = vocab.tokens.size();
    enc(b, &t, 4); enc(b, &et, 4); enc(b, &n, 8);
    for (const auto& s : vocab.tokens) { uint64_t l = s.size(); enc(b, &l, 8); enc(b, s.data(), l); }
    kvs.emplace_back("tokenizer.ggml.tokens", b);
  }
  {
    std::vector<uint8_t> b; uint32_t t = ARR, et = F32v; uint64_t n = vocab.scores.size();
    enc(b, &t, 4); enc(b, &et, 4); enc(b, &n, 8); enc(b, vocab.scores.data(), n * 4);
    kvs.emplace_back("tokenizer.ggml.scores", b);
  }
  {
    std::vector<uint8_t> b; uint32_t t = ARR, et = I32; uint64_t n = vocab.types.size();
    enc(b, &t, 4); enc(b, &et, 4); enc(b, &n, 8); enc(b, vocab.types.data(), n * 4);
    kvs.emplace_back("tokenizer.ggml.token_type", b);
  }
  kv_u32("tokenizer.ggml.bos_token_id", 1);
  kv_u32("tokenizer.ggml.eos_token_id", 2);
  kv_u32("tokenizer.ggml.unknown_token_id", 0);
  kv_u32("tokenizer.ggml.padding_token_id", 2);
  kv_bool("tokenizer.ggml.add_bos_token", true);
  kv_bool("tokenizer.ggml.add_eos_token", false);
  n_kv = kvs.size();

  // header
  o.bytes("GGUF", 4);
  o.pod<uint32_t>(3);
  o.pod<uint64_t>(tensors.size());
  o.pod<uint64_t>(n_kv);
  for (const auto& [k, v] : kvs) { o.str(k); o.bytes(v.data(), v.size()); }

  // tensor infos, offsets relative to the (aligned) start of the data section
  uint64_t off = 0;
  for (auto& t : tensors) {
    t.offset = off;
    off += t.nbytes();
    off = (off + kAlign - 1) / kAlign * kAlign;
  }
  for (const auto& t : tensors) {
    o.str(t.name);
    o.pod<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (auto d : t.ne) o.pod<uint64_t>(d);
    o.pod<uint32_t>(t.type);
    o.pod<uint64_t>(t.offset);
  }
  o.pad(kAlign);
  const uint64_t data_start = o.pos();

  // tensor data
  std::vector<uint16_t> h;
  uint64_t total = 0;
  for (size_t ti = 0; ti < tensors.size(); ++ti) {
    const auto& t = tensors[ti];
    if (o.pos() - data_start != t.offset) fail("internal: offset mismatch for " + t.name);
    const uint64_t n = t.nelem();
    if (t.type == GGML_F32) {  // RMSNorm weights
      std::vector<float> ones(n, 1.0f);
      o.bytes(ones.data(), n * 4);
    } else {
      Rng rng(seed * 0x100000001B3ull + ti);
      constexpr uint64_t kChunk = 1 << 20;
      h.resize(kChunk);
      for (uint64_t done = 0; done < n; done += kChunk) {
        const uint64_t m = std::min<uint64_t>(kChunk, n - done);  // even: every tensor size is a multiple of 2048
        for (uint64_t j = 0; j < m; j += 2) {
          float a, b;
          rng.normal2(a, b);
          h[j] = f32_to_f16(a * kStd);
          h[j + 1] = f32_to_f16(b * kStd);
        }
        o.bytes(h.data(), m * 2);
      }
    }
    total += t.nbytes();
    o.pad(kAlign);
  }
  o.close();
  std::fprintf(stderr, "write_gguf: wrote %s: %zu tensors, %llu KV pairs, %.1f MiB of tensor data\n", path.c_str(),
               tensors.size(), static_cast<unsigned long long>(n_kv), total / 1048576.0);
  return 0;
}

// ---- --info: read a GGUF and report tensor bytes by type ----
class In {
 public:
  explicit In(const std::string& path) : f_(std::fopen(path.c_str(), "rb")), path_(path) {
    if (!f_) fail("cannot open " + path + ": " + std::strerror(errno));
  }
  ~In() { if (f_) std::fclose(f_); }
  void read(void* p, size_t n) {
    if (std::fread(p, 1, n, f_) != n) fail("unexpected end of " + path_);
  }
  template <class T> T pod() { T v; read(&v, sizeof v); return v; }
  std::string str() {
    const uint64_t n = pod<uint64_t>();
    if (n > (1ull << 30)) fail("implausible string length in " + path_);
    std::string s(n, '\0');
    read(s.data(), n);
    return s;
  }
  void skip(uint64_t n) {
    if (std::fseek(f_, static_cast<long>(n), SEEK_CUR) != 0) fail("seek failed in " + path_);
  }
  uint64_t tell() { return static_cast<uint64_t>(std::ftell(f_)); }
  uint64_t size() {
    const long cur = std::ftell(f_);
    std::fseek(f_, 0, SEEK_END);
    const long end = std::ftell(f_);
    std::fseek(f_, cur, SEEK_SET);
    return static_cast<uint64_t>(end);
  }

 private:
  std::FILE* f_;
  std::string path_;
};

size_t scalar_size(uint32_t t) {
  switch (t) {
    case U8: case I8: case BOOL: return 1;
    case U16: case I16: return 2;
    case U32: case I32: case F32v: return 4;
    case U64: case I64: case F64: return 8;
    default: return 0;
  }
}

void skip_value(In& in, uint32_t t) {
  if (t == STR) { in.str(); return; }
  if (t == ARR) {
    const uint32_t et = in.pod<uint32_t>();
    const uint64_t n = in.pod<uint64_t>();
    if (et == STR || et == ARR) { for (uint64_t i = 0; i < n; ++i) skip_value(in, et); return; }
    const size_t s = scalar_size(et);
    if (!s) fail("bad array element type " + std::to_string(et));
    in.skip(n * s);
    return;
  }
  const size_t s = scalar_size(t);
  if (!s) fail("bad value type " + std::to_string(t));
  in.skip(s);
}

struct TypeInfo { const char* name; uint64_t block; uint64_t bytes; };
const std::map<uint32_t, TypeInfo>& ggml_types() {
  static const std::map<uint32_t, TypeInfo> m = {
      {0, {"f32", 1, 4}},       {1, {"f16", 1, 2}},        {2, {"q4_0", 32, 18}},    {3, {"q4_1", 32, 20}},
      {6, {"q5_0", 32, 22}},    {7, {"q5_1", 32, 24}},     {8, {"q8_0", 32, 34}},    {9, {"q8_1", 32, 36}},
      {10, {"q2_K", 256, 84}},  {11, {"q3_K", 256, 110}},  {12, {"q4_K", 256, 144}}, {13, {"q5_K", 256, 176}},
      {14, {"q6_K", 256, 210}}, {15, {"q8_K", 256, 292}},  {24, {"i8", 1, 1}},       {25, {"i16", 1, 2}},
      {26, {"i32", 1, 4}},      {27, {"i64", 1, 8}},       {28, {"f64", 1, 8}},      {30, {"bf16", 1, 2}},
  };
  return m;
}

int info(const std::string& path) {
  In in(path);
  char magic[4];
  in.read(magic, 4);
  if (std::memcmp(magic, "GGUF", 4) != 0) fail(path + " is not a GGUF file");
  const uint32_t version = in.pod<uint32_t>();
  if (version < 2) fail("GGUF version " + std::to_string(version) + " not supported");
  const uint64_t n_tensors = in.pod<uint64_t>(), n_kv = in.pod<uint64_t>();
  uint64_t align = kAlign;
  std::string arch, file_type;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = in.str();
    const uint32_t t = in.pod<uint32_t>();
    if (key == "general.alignment" && t == U32) { align = in.pod<uint32_t>(); continue; }
    if (key == "general.architecture" && t == STR) { arch = in.str(); continue; }
    if (key == "general.file_type" && t == U32) { file_type = std::to_string(in.pod<uint32_t>()); continue; }
    skip_value(in, t);
  }
  struct Agg { uint64_t count = 0, bytes = 0; };
  std::map<std::string, Agg> by_type;
  uint64_t tensor_bytes = 0, embd_bytes = 0, max_end = 0;
  std::string embd_type, out_type;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string name = in.str();
    const uint32_t nd = in.pod<uint32_t>();
    if (nd == 0 || nd > 4) fail("tensor " + name + " has " + std::to_string(nd) + " dims");
    uint64_t n = 1, ne0 = 0;
    for (uint32_t d = 0; d < nd; ++d) { const uint64_t v = in.pod<uint64_t>(); if (d == 0) ne0 = v; n *= v; }
    const uint32_t type = in.pod<uint32_t>();
    const uint64_t offset = in.pod<uint64_t>();
    const auto it = ggml_types().find(type);
    if (it == ggml_types().end()) fail("tensor " + name + " has ggml type " + std::to_string(type) + " unknown to --info");
    const auto& ti = it->second;
    if (ne0 % ti.block) fail("tensor " + name + ": row not a multiple of the block size");
    const uint64_t bytes = n / ti.block * ti.bytes;
    tensor_bytes += bytes;
    by_type[ti.name].count++;
    by_type[ti.name].bytes += bytes;
    if (name == "token_embd.weight") { embd_bytes = bytes; embd_type = ti.name; }
    if (name == "output.weight") out_type = ti.name;
    max_end = std::max(max_end, offset + bytes);
  }
  const uint64_t data_start = (in.tell() + align - 1) / align * align;
  const uint64_t file_bytes = in.size();
  if (data_start + max_end > file_bytes) fail(path + " is truncated (tensor data past end of file)");
  std::printf("{\n  \"path\": \"%s\",\n  \"gguf_version\": %u,\n  \"architecture\": \"%s\",\n", path.c_str(), version,
              arch.c_str());
  std::printf("  \"file_type\": %s,\n  \"file_bytes\": %llu,\n  \"tensor_count\": %llu,\n  \"tensor_bytes\": %llu,\n",
              file_type.empty() ? "null" : file_type.c_str(), static_cast<unsigned long long>(file_bytes),
              static_cast<unsigned long long>(n_tensors), static_cast<unsigned long long>(tensor_bytes));
  std::printf("  \"token_embd_bytes\": %llu,\n  \"token_embd_type\": \"%s\",\n  \"output_type\": \"%s\",\n",
              static_cast<unsigned long long>(embd_bytes), embd_type.c_str(), out_type.c_str());
  std::printf("  \"decode_weight_bytes\": %llu,\n  \"tensor_types\": {",
              static_cast<unsigned long long>(tensor_bytes - embd_bytes));
  bool first = true;
  for (const auto& [name, a] : by_type) {
    std::printf("%s\n    \"%s\": {\"count\": %llu, \"bytes\": %llu}", first ? "" : ",", name.c_str(),
                static_cast<unsigned long long>(a.count), static_cast<unsigned long long>(a.bytes));
    first = false;
  }
  std::printf("\n  }\n}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::string(argv[1]) == "--info") return info(argv[2]);
    if (argc == 3 && argv[1][0] != '-') {
      char* end = nullptr;
      const unsigned long long seed = std::strtoull(argv[2], &end, 10);
      if (!end || *end) fail(std::string("seed must be a non-negative integer, got '") + argv[2] + "'");
      return write_model(argv[1], seed);
    }
    std::fprintf(stderr, "usage: %s OUT.gguf SEED\n       %s --info FILE.gguf\n", argv[0], argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_gguf: error: %s\n", e.what());
    return 1;
  }
}
