// SideFiles (edgec/formats/side_files.hpp): an artifact's carried config / tokenizer files come first, the folder
// beside it only supplies files it does not carry; errors name the artifact and the file; other models use their
// config folder (the folder above an onnx/ subfolder).
#include <doctest/doctest.h>

#include <functional>

#include "expect_error.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/side_files.hpp"
#include "edgepack_support.hpp"

using namespace edgec;
using namespace edgec::test::edgepack;

TEST_CASE("side files: an artifact's carried files win, the folder beside it fills the rest") {
  ScratchDir dir("side_files");
  const fs::path artifact = dir / "model.edgepack";
  EdgepackExtras extras;
  extras.files["generation_config.json"] = R"({"eos_token_id": [1, 2], "max_new_tokens": 7})";
  extras.files["tok512.bin"] = "carried tokenizer bytes";
  write_edgepack(synthetic_graph(), extras, artifact);

  SideFiles alone(artifact);
  CHECK(alone.from_artifact());
  CHECK(alone.folder() == dir.path());
  CHECK(alone.contains("tok512.bin"));
  CHECK_FALSE(alone.contains("vocab.txt"));
  CHECK(alone.read("tok512.bin") == std::optional<std::string>("carried tokenizer bytes"));
  CHECK_FALSE(alone.read("vocab.txt"));
  CHECK(alone.describe("tok512.bin") == artifact.string() + ": file 'tok512.bin'");
  const auto config = alone.generation_config();
  CHECK(config.eos_token_ids == std::vector<int64_t>{1, 2});
  CHECK(config.max_new_tokens == 7);
  CHECK(edgec::test::expect_input_error([&] { alone.require("vocab.txt", "needed to decode captions"); }) ==
        artifact.string() + ": carries no 'vocab.txt' and there is none beside it (" + (dir.path() / "vocab.txt").string() +
            "); needed to decode captions");

  // Files beside the artifact: used only for what it does not carry.
  write_bytes(dir / "vocab.txt", "a\nb\n");
  write_bytes(dir / "tok512.bin", "a different tokenizer");
  write_bytes(dir / "config.json", R"({"eos_token_id": 9, "image_token_index": 3})");
  SideFiles beside(artifact);
  CHECK(beside.read("tok512.bin") == std::optional<std::string>("carried tokenizer bytes"));
  CHECK(beside.read("vocab.txt") == std::optional<std::string>("a\nb\n"));
  CHECK(beside.describe("vocab.txt") == (dir.path() / "vocab.txt").string());
  const auto merged = beside.generation_config();
  CHECK(merged.eos_token_ids == std::vector<int64_t>{1, 2});
  CHECK(merged.image_token_index == 3);

  // A malformed carried file: the error names the artifact, the file and the field.
  extras.files["generation_config.json"] = R"({"eos_token_id": "x"})";
  write_edgepack(synthetic_graph(), extras, artifact);
  CHECK(edgec::test::expect_input_error([&] { SideFiles(artifact).generation_config(); }) ==
        artifact.string() + R"(: file 'generation_config.json': eos_token_id: expected an integer or a list of integers, got "x")");

  // A corrupted carried file is refused by its checksum when read.
  std::string bytes = read_bytes(artifact);
  const auto info = inspect_edgepack(artifact);
  const auto& section = info.sections.back();
  REQUIRE(section.name == "tok512.bin");
  bytes[section.offset] = static_cast<char>(bytes[section.offset] ^ 1);
  write_bytes(artifact, bytes);
  const std::string corrupt = edgec::test::expect_input_error([&] { SideFiles(artifact).read("tok512.bin"); });
  CHECK(corrupt.find("file 'tok512.bin'") != std::string::npos);
  CHECK(corrupt.find("checksum mismatch") != std::string::npos);
}

TEST_CASE("side files: folders, model files and onnx subfolders use the config folder") {
  ScratchDir dir("side_folder");
  const fs::path hf = dir / "hf";
  fs::create_directories(hf / "onnx");
  write_bytes(hf / "config.json", R"({"eos_token_id": 2})");
  write_bytes(hf / "vocab.txt", "x\n");
  write_bytes(hf / "model.safetensors", "");
  write_bytes(hf / "onnx/decoder.onnx", "");
  CHECK(side_file_folder(hf) == hf);
  CHECK(side_file_folder(hf / "model.safetensors") == hf);
  CHECK(side_file_folder(hf / "onnx") == hf);
  CHECK(side_file_folder(hf / "onnx/decoder.onnx") == hf);
  const SideFiles files(hf / "onnx");
  CHECK_FALSE(files.from_artifact());
  CHECK(files.read("vocab.txt") == std::optional<std::string>("x\n"));
  CHECK(files.describe("vocab.txt") == (hf / "vocab.txt").string());
  CHECK(files.generation_config().eos_token_ids == std::vector<int64_t>{2});
  CHECK(edgec::test::expect_input_error([&] { files.require("tok512.bin", "needed"); }) == (hf / "tok512.bin").string() + ": no such file; needed");

  // What `edgec compile` packs from a folder.
  write_bytes(hf / "model.safetensors.index.json", "{}");
  write_bytes(hf / "README.md", "# model");
  const auto packed = collect_side_files(hf);
  CHECK(packed.size() == 2);
  CHECK(packed.count("config.json"));
  CHECK(packed.count("vocab.txt"));
  CHECK(collect_side_files(dir / "missing").empty());
}
