#pragma once
// Token ids -> text for the models edgec ships tests with:
//  - Llama2cTokenizer: llama2.c's tok512.bin / tokenizer.bin (int32 max_token_length, then per token a float32
//    score, an int32 byte length and the bytes), decoded like run.c's decode().
//  - WordVocab: a word-level vocabulary, one token per line (fmnist-vlm-a's vocab.txt), joined by spaces.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgec::runtime {

class Llama2cTokenizer {
 public:
  // Throws Error(input) naming the file and the token whose record is truncated or malformed.
  static Llama2cTokenizer load(const std::filesystem::path& file);
  // The same from the file's bytes (e.g. carried by an .edgepack); `name` stands for the file in errors.
  static Llama2cTokenizer parse(std::string_view bytes, const std::string& name);

  size_t size() const { return pieces_.size(); }
  const std::string& piece(int64_t id) const;
  // One token as run.c prints it: the piece after BOS (id 1) loses its leading space; <0xXX> is that byte.
  std::string decode(int64_t previous, int64_t token) const;
  // A whole sequence; `previous` is the token before ids[0] (BOS when decoding a generation from BOS).
  std::string decode(std::span<const int64_t> ids, int64_t previous = 1) const;

 private:
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
};

class WordVocab {
 public:
  static WordVocab load(const std::filesystem::path& file);
  // The same from the file's text (e.g. carried by an .edgepack); `name` stands for the file in errors.
  static WordVocab parse(std::string_view text, const std::string& name);
  size_t size() const { return words_.size(); }
  const std::string& word(int64_t id) const;
  // Words joined by single spaces, stopping before the first id in `stop` (e.g. <eos>).
  std::string decode(std::span<const int64_t> ids, std::span<const int64_t> stop = {}) const;

 private:
  std::vector<std::string> words_;
};

}  // namespace edgec::runtime
