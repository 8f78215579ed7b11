#include <algorithm>
#include <fstream>
#include <iterator>

#include "edgec/core/error.hpp"
#include "edgec/runtime/tokenizers.hpp"

namespace edgec::runtime {

WordVocab WordVocab::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open the vocabulary file");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw_input_error(file.string(), "cannot read the vocabulary file");
  return parse(text, file.string());
}

WordVocab WordVocab::parse(std::string_view text, const std::string& name) {
  WordVocab vocab;
  size_t start = 0;
  while (start < text.size()) {  // lines as std::getline splits them: a last line without '\n' counts
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    vocab.words_.emplace_back(line);
    start = end + 1;
  }
  while (!vocab.words_.empty() && vocab.words_.back().empty()) vocab.words_.pop_back();
  if (vocab.words_.empty()) throw_input_error(name, "no words (expected one token per line)");
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
