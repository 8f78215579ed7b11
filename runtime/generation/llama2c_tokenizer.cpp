#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "edgec/core/error.hpp"
#include "edgec/runtime/tokenizers.hpp"

namespace edgec::runtime {

Llama2cTokenizer Llama2cTokenizer::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open the tokenizer file");
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw_input_error(file.string(), "cannot read the tokenizer file");
  return parse(bytes, file.string());
}

Llama2cTokenizer Llama2cTokenizer::parse(std::string_view bytes, const std::string& name) {
  size_t at = 0;
  // Copies the next sizeof(T) bytes into `value`; false (nothing consumed) when fewer remain.
  const auto read = [&](auto& value) {
    if (bytes.size() - at < sizeof(value)) return false;
    std::memcpy(&value, bytes.data() + at, sizeof(value));
    at += sizeof(value);
    return true;
  };
  int32_t max_length = 0;
  if (!read(max_length) || max_length <= 0 || max_length > (1 << 16))
    throw_input_error(name + ": max_token_length", "expected a positive int32 header");
  Llama2cTokenizer tokenizer;
  while (true) {
    float score = 0;
    if (!read(score)) break;  // clean end of file (like the stream reader, a partial score ends the file too)
    int32_t length = 0;
    const std::string where = name + ": token " + std::to_string(tokenizer.pieces_.size());
    if (!read(length)) throw_input_error(where, "truncated: missing the length");
    if (length < 0 || length > max_length)
      throw_input_error(where, "length " + std::to_string(length) + " outside [0, " + std::to_string(max_length) + "]");
    if (bytes.size() - at < static_cast<size_t>(length)) throw_input_error(where, "truncated: missing the bytes");
    tokenizer.pieces_.emplace_back(bytes.substr(at, static_cast<size_t>(length)));
    at += static_cast<size_t>(length);
    tokenizer.scores_.push_back(score);
  }
  if (tokenizer.pieces_.empty()) throw_input_error(name, "no tokens");
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
