#pragma once
// Reads a whole raw little-endian array file (the eval/ folders' .f32 / .i32 files) for tests.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace edgec::test {

template <class T>
std::vector<T> read_raw_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  in.seekg(0, std::ios::end);
  std::vector<T> values(static_cast<size_t>(in.tellg()) / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  return values;
}

}  // namespace edgec::test
