// CTC greedy decoding and the dictionary layout, on hand-made probabilities.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/runtime/ppocr.hpp"
#include "test_paths.hpp"

namespace ppocr = edgec::runtime::ppocr;

namespace {

// One row per step: `best` gets probability p, the rest share 1 - p.
std::vector<float> one_hot_rows(const std::vector<int>& best, int classes, float p = 0.9f) {
  std::vector<float> rows;
  for (const int b : best)
    for (int c = 0; c < classes; ++c) rows.push_back(c == b ? p : (1 - p) / static_cast<float>(classes - 1));
  return rows;
}

}  // namespace

TEST_CASE("ctc: repeats merge, blanks separate and vanish") {
  const std::vector<std::string> charset{"", "a", "b", "c", " "};
  // a a _ a b b _ _ c " " c  ->  "aabc c"
  const std::vector<int> steps{1, 1, 0, 1, 2, 2, 0, 0, 3, 4, 3};
  const auto probs = one_hot_rows(steps, 5);
  const auto r = ppocr::ctc_greedy_decode(probs, static_cast<int64_t>(steps.size()), 5, charset);
  CHECK(r.text == "aabc c");
  CHECK(r.score == doctest::Approx(0.9));
}

TEST_CASE("ctc: the score is the mean probability of the kept characters") {
  const std::vector<std::string> charset{"", "x", "y"};
  // x (0.6), x (0.8, merged: not counted), blank (0.99, not counted), y (0.7)
  const std::vector<float> probs{0.3f, 0.6f, 0.1f,  0.1f, 0.8f, 0.1f,  0.99f, 0.005f, 0.005f,  0.2f, 0.1f, 0.7f};
  const auto r = ppocr::ctc_greedy_decode(probs, 4, 3, charset);
  CHECK(r.text == "xy");
  CHECK(r.score == doctest::Approx((0.6 + 0.7) / 2));
}

TEST_CASE("ctc: all blanks is an empty line with score 0, ties take the first class") {
  const std::vector<std::string> charset{"", "p", "q"};
  const auto blanks = one_hot_rows({0, 0, 0}, 3);
  const auto r = ppocr::ctc_greedy_decode(blanks, 3, 3, charset);
  CHECK(r.text.empty());
  CHECK(r.score == 0.0f);
  const std::vector<float> tie{0.1f, 0.45f, 0.45f};
  CHECK(ppocr::ctc_greedy_decode(tie, 1, 3, charset).text == "p");
  CHECK(ppocr::ctc_greedy_decode({}, 0, 3, charset).text.empty());
}

TEST_CASE("ctc: multi-byte characters are appended whole") {
  const std::vector<std::string> charset{"", "文", "字", " "};
  const auto probs = one_hot_rows({1, 0, 2, 2, 3, 1}, 4);
  CHECK(ppocr::ctc_greedy_decode(probs, 6, 4, charset).text == "文字 文");
}

TEST_CASE("ctc: a model whose class count differs from the dictionary is an input error") {
  const std::vector<std::string> charset{"", "a"};
  const auto probs = one_hot_rows({1}, 3);
  CHECK_THROWS_AS(ppocr::ctc_greedy_decode(probs, 1, 3, charset), edgec::Error);
}

TEST_CASE("charset: blank first, one entry per line (CRLF tolerated), space last") {
  const auto dir = std::filesystem::temp_directory_path() / ("edgec_ctc_test_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "keys.txt", std::ios::binary);
    out << "a\r\nb\n'\n文";  // no newline after the last entry, like ppocr_keys_v1.txt
  }
  const auto charset = ppocr::load_charset(dir / "keys.txt");
  CHECK(charset == std::vector<std::string>{"", "a", "b", "'", "文", " "});
  CHECK(ppocr::load_charset(dir / "keys.txt", false).size() == 5);
  { std::ofstream(dir / "empty.txt"); }
  CHECK_THROWS_AS(ppocr::load_charset(dir / "empty.txt"), edgec::Error);
  CHECK_THROWS_AS(ppocr::load_charset(dir / "missing.txt"), edgec::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("charset: ppocr_keys_v1.txt gives the 6625 classes of PP-OCRv4 rec") {
  const auto dir = edgec::test::ppocr_models();
  if (dir.empty()) return;
  const auto charset = ppocr::load_charset(dir / "ppocr_keys_v1.txt");
  CHECK(charset.size() == 6625);
  CHECK(charset.front().empty());
  CHECK(charset.back() == " ");
}
