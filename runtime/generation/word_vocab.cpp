#include <algorithm>
#include <fstream>

#include "edgec/core/error.hpp"
#include "edgec/runtime/tokenizers.hpp"

namespace edgec::runtime {

WordVocab WordVocab::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw_input_error(file.string(), "cannot open the vocabulary file");
  WordVocab vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.words_.push_back(line);
  }
  while (!vocab.words_.empty() && vocab.words_.back().empty()) vocab.words_.pop_back();
  if (vocab.words_.empty()) throw_input_error(file.string(), "no words (expected one token per line)");
  return vocab;
}

const std::string& WordVocab::word(int64_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= words_.size())
    throw Error(ErrorCategory::input, "vocabulary: id " + std::to_string(id) + " outside [0, " + std::to_string(words_.size()) + ")");
  return words_[static_cast<size_t>(id)];
}

std::string WordVocab::decode(std::span<const int64_t> ids, std::span<const int64_t> stop) const {
  std::string text;
  for (const int64_t id : ids) {
    if (std::find(stop.begin(), stop.end(), id) != stop.end()) break;
    if (!text.empty()) text += ' ';
    text += word(id);
  }
  return text;
}

}  // namespace edgec::runtime
