#include <cstdio>
#include <cstring>
#include <fstream>

#include "edgec/core/error.hpp"
#include "edgec/runtime/tokenizers.hpp"

namespace edgec::runtime {

Llama2cTokenizer Llama2cTokenizer::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open the tokenizer file");
  int32_t max_length = 0;
  if (!in.read(reinterpret_cast<char*>(&max_length), sizeof(max_length)) || max_length <= 0 || max_length > (1 << 16))
    throw_input_error(file.string() + ": max_token_length", "expected a positive int32 header");
  Llama2cTokenizer tokenizer;
  while (true) {
    float score = 0;
    if (!in.read(reinterpret_cast<char*>(&score), sizeof(score))) break;  // clean end of file
    int32_t length = 0;
    const std::string where = file.string() + ": token " + std::to_string(tokenizer.pieces_.size());
    if (!in.read(reinterpret_cast<char*>(&length), sizeof(length))) throw_input_error(where, "truncated: missing the length");
    if (length < 0 || length > max_length)
      throw_input_error(where, "length " + std::to_string(length) + " outside [0, " + std::to_string(max_length) + "]");
    std::string piece(static_cast<size_t>(length), '\0');
    if (length > 0 && !in.read(piece.data(), length)) throw_input_error(where, "truncated: missing the bytes");
    tokenizer.pieces_.push_back(std::move(piece));
    tokenizer.scores_.push_back(score);
  }
  if (tokenizer.pieces_.empty()) throw_input_error(file.string(), "no tokens");
  return tokenizer;
}

const std::string& Llama2cTokenizer::piece(int64_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size())
    throw Error(ErrorCategory::input, "tokenizer: id " + std::to_string(id) + " outside [0, " + std::to_string(pieces_.size()) + ")");
  return pieces_[static_cast<size_t>(id)];
}

std::string Llama2cTokenizer::decode(int64_t previous, int64_t token) const {
  std::string text = piece(token);
  if (previous == 1 && !text.empty() && text[0] == ' ') text.erase(0, 1);  // SentencePiece's dummy prefix
  unsigned int byte = 0;
  char tail = 0;
  // Exactly "<0xXX>": the raw byte (run.c uses sscanf "<0x%02hhX>").
  if (text.size() == 6 && std::sscanf(text.c_str(), "<0x%02X%c", &byte, &tail) == 2 && tail == '>')
    return std::string(1, static_cast<char>(byte));
  return text;
}

std::string Llama2cTokenizer::decode(std::span<const int64_t> ids, int64_t previous) const {
  std::string text;
  for (const int64_t id : ids) {
    text += decode(previous, id);
    previous = id;
  }
  return text;
}

}  // namespace edgec::runtime
