#pragma once
// Shared by the recipe tests: where the test recipes live, reading files, and catching the usage error a broken
// recipe must raise.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"

namespace edgec::pipeline::test {

namespace fs = std::filesystem;

inline fs::path recipes_dir() { return fs::path(EDGEC_SOURCE_DIR) / "tests" / "pipeline" / "recipes"; }

inline std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Non-empty lines of a file (a broken recipe's .args: one --set argument per line); none when it does not exist.
inline std::vector<std::string> read_lines(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// Runs `action`, which must throw edgec::Error(usage); returns its message ("(no error)" when nothing was thrown).
template <class Action>
std::string usage_error(Action&& action) {
  try {
    action();
  } catch (const edgec::Error& error) {
    CHECK(error.category() == edgec::ErrorCategory::usage);
    CHECK(edgec::exit_code(error.category()) == 2);
    return error.what();
  }
  return "(no error)";
}

}  // namespace edgec::pipeline::test
