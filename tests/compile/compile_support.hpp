#pragma once
// Shared by the `edgec compile` tests: a small stories260k recipe and running the binary on it.
#include <fstream>
#include <string>

#include "../quant_models/quant_models.hpp"

namespace edgec::test::compile {

using namespace edgec::test::quant_models;
using edgec::test::CommandResult;
using edgec::test::read_text;
using edgec::test::shared_model;

// A W4 g32 GPTQ recipe for stories260k writing into `dir`, with 16 generated calibration sequences and verify
// gates on 4 held-out windows. `gates` is appended to the verify section.
inline fs::path write_stories_recipe(const fs::path& dir, const fs::path& stories, const std::string& gates = "") {
  const fs::path recipe = dir / "stories.yaml";
  std::ofstream out(recipe);
  out << "version: 1\n"
      << "model: " << stories.string() << "\n"
      << "calibration:\n  kind: generated\n  samples: 16\n  seq_len: 64\n"
      << "stages:\n  - name: w4\n    pass: quantize\n    method: gptq\n    bits: 4\n    group: 32\n    allow_partial_groups: true\n"
      << "target:\n  device: x86-64\n"
      << "output:\n  path: out/stories.edgepack\n  golden_samples: 1\n"
      << "verify:\n  data: " << (stories / "eval/heldout_ids.i32").string() << "\n  samples: 4\n" << gates;
  return recipe;
}

// XORs the byte `from_end` bytes before the end of `file` with 0x5A (a corrupted artifact or model file).
inline void flip_byte(const fs::path& file, std::streamoff from_end) {
  const auto size = static_cast<std::streamoff>(fs::file_size(file));
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(size - from_end);
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5A);
  stream.seekp(size - from_end);
  stream.write(&byte, 1);
}

inline CommandResult compile(const fs::path& recipe, const std::string& extra = "", const std::string& env = "") {
  return run_edgec("compile " + quoted(recipe) + " --quiet " + extra, env);
}

}  // namespace edgec::test::compile
