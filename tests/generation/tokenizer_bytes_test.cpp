// Llama2cTokenizer::parse / WordVocab::parse: tokenizers from bytes (an .edgepack carries tok512.bin and vocab.txt)
// equal the ones loaded from the files, and errors name what the caller passed for the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "expect_error.hpp"
#include "edgec/core/error.hpp"
#include "edgec/runtime/tokenizers.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::runtime;
namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A llama2.c tokenizer file: max_token_length, then per token a score, a length and the bytes.
std::string llama2c_bytes(const std::vector<std::string>& pieces, int32_t max_length = 8) {
  std::string bytes(reinterpret_cast<const char*>(&max_length), 4);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const float score = -static_cast<float>(i);
    const auto length = static_cast<int32_t>(pieces[i].size());
    bytes.append(reinterpret_cast<const char*>(&score), 4).append(reinterpret_cast<const char*>(&length), 4).append(pieces[i]);
  }
  return bytes;
}

}  // namespace

TEST_CASE("tokenizers from bytes: synthetic llama2.c tokenizer and vocabulary, errors name the source") {
  const auto bytes = llama2c_bytes({"<unk>", "<s>", "</s>", " Once", " upon", "<0x41>"});
  const auto tokenizer = Llama2cTokenizer::parse(bytes, "art.edgepack: file 'tok512.bin'");
  CHECK(tokenizer.size() == 6);
  const std::vector<int64_t> ids{3, 4, 5};
  CHECK(tokenizer.decode(ids) == "Once uponA");

  // The file reader gives the same tokenizer.
  const fs::path file = fs::temp_directory_path() / ("edgec_tok_" + std::to_string(::getpid()) + ".bin");
  std::ofstream(file, std::ios::binary) << bytes;
  const auto loaded = Llama2cTokenizer::load(file);
  REQUIRE(loaded.size() == tokenizer.size());
  for (int64_t id = 0; id < 6; ++id) CHECK(loaded.piece(id) == tokenizer.piece(id));
  fs::remove(file);

  CHECK(edgec::test::expect_input_error([&] { Llama2cTokenizer::parse(bytes.substr(0, bytes.size() - 2), "tok.bin"); }) ==
        "tok.bin: token 5: truncated: missing the bytes");
  CHECK(edgec::test::expect_input_error([&] { Llama2cTokenizer::parse(bytes.substr(0, 4 + 4 + 2), "tok.bin"); }) == "tok.bin: token 0: truncated: missing the length");
  CHECK(edgec::test::expect_input_error([&] { Llama2cTokenizer::parse(llama2c_bytes({"toolongpiece"}), "tok.bin"); }) == "tok.bin: token 0: length 12 outside [0, 8]");
  CHECK(edgec::test::expect_input_error([&] { Llama2cTokenizer::parse("ab", "tok.bin"); }) == "tok.bin: max_token_length: expected a positive int32 header");
  CHECK(edgec::test::expect_input_error([&] { Llama2cTokenizer::parse(llama2c_bytes({}), "tok.bin"); }) == "tok.bin: no tokens");

  const auto vocab = WordVocab::parse("<pad>\r\n<bos>\n<eos>\na\nlight\npullover\n\n", "vocab.txt");
  CHECK(vocab.size() == 6);
  const std::vector<int64_t> words{3, 4, 5, 2, 3};
  const std::vector<int64_t> stop{2};
  CHECK(vocab.decode(words, stop) == "a light pullover");
  CHECK(WordVocab::parse("a\nb", "v").word(1) == "b");  // a last line without '\n'
  CHECK(edgec::test::expect_input_error([] { WordVocab::parse("\n\n", "art.edgepack: file 'vocab.txt'"); }) ==
        "art.edgepack: file 'vocab.txt': no words (expected one token per line)");
}

TEST_CASE("tokenizers from bytes: stories260k tok512.bin and fmnist-vlm-a vocab.txt equal the files") {
  const fs::path models = edgec::test::shared_models();
  if (models.empty()) return;
  if (const fs::path tok = models / "stories260k/tok512.bin"; fs::exists(tok)) {
    const auto from_file = Llama2cTokenizer::load(tok);
    const auto from_bytes = Llama2cTokenizer::parse(file_bytes(tok), "tok512.bin");
    REQUIRE(from_file.size() == 512);
    REQUIRE(from_bytes.size() == from_file.size());
    for (int64_t id = 0; id < static_cast<int64_t>(from_file.size()); ++id) CHECK(from_bytes.piece(id) == from_file.piece(id));
  } else {
    MESSAGE("SKIP: " << tok.string() << " not found");
  }
  if (const fs::path txt = models / "fmnist-vlm-a/vocab.txt"; fs::exists(txt)) {
    const auto from_file = WordVocab::load(txt);
    const auto from_text = WordVocab::parse(file_bytes(txt), "vocab.txt");
    REQUIRE(from_text.size() == from_file.size());
    for (int64_t id = 0; id < static_cast<int64_t>(from_file.size()); ++id) CHECK(from_text.word(id) == from_file.word(id));
  } else {
    MESSAGE("SKIP: " << txt.string() << " not found");
  }
}
