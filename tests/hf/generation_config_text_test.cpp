// hf::parse_generation_config / merge_generation_config: generation settings from JSON text (an .edgepack carries
// generation_config.json and config.json as bytes), with errors naming the document and the field; the folder
// reader gives the same result as the text of its files.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "edgec/formats/generation_config.hpp"
#include "expect_error.hpp"

using namespace edgec;
using edgec::test::contains;
using edgec::test::expect_input_error;
namespace fs = std::filesystem;

TEST_CASE("generation config from text: ids, eos lists, text_config and first document wins") {
  const auto config = hf::parse_generation_config(R"({"bos_token_id": 1, "eos_token_id": [1, 2], "max_new_tokens": 12})", "gen.json");
  CHECK(config.bos_token_id == 1);
  CHECK(config.eos_token_ids == std::vector<int64_t>{1, 2});
  CHECK(config.max_new_tokens == 12);
  CHECK_FALSE(config.pad_token_id);
  CHECK_FALSE(config.image_token_index);

  // generation_config.json first, then config.json: only unset fields are filled, text_config included.
  hf::GenerationConfig merged;
  hf::merge_generation_config(merged, R"({"eos_token_id": 5, "max_new_tokens": null})", "generation_config.json");
  hf::merge_generation_config(merged, R"({"eos_token_id": 9, "image_token_index": 3, "text_config": {"max_new_tokens": 16, "pad_token_id": 0}})",
                              "config.json");
  CHECK(merged.eos_token_ids == std::vector<int64_t>{5});
  CHECK(merged.image_token_index == 3);
  CHECK(merged.max_new_tokens == 16);
  CHECK(merged.pad_token_id == 0);

  // Valid JSON that is not an object adds nothing (as for a folder).
  CHECK(hf::parse_generation_config("[1, 2]", "x.json").eos_token_ids.empty());
}

TEST_CASE("generation config from text: malformed documents name the file and the field") {
  CHECK(expect_input_error([] { hf::parse_generation_config(R"({"eos_token_id": "two"})", "art.edgepack: file 'generation_config.json'"); }) ==
        R"(art.edgepack: file 'generation_config.json': eos_token_id: expected an integer or a list of integers, got "two")");
  CHECK(expect_input_error([] { hf::parse_generation_config(R"({"eos_token_id": [1, 2.5]})", "g.json"); }) ==
        "g.json: eos_token_id: expected an integer or a list of integers, got [1,2.5]");
  CHECK(expect_input_error([] { hf::parse_generation_config(R"({"bos_token_id": 1.5})", "g.json"); }) ==
        "g.json: bos_token_id: expected an integer, got 1.5");
  CHECK(expect_input_error([] { hf::parse_generation_config(R"({"text_config": {"max_new_tokens": "8"}})", "config.json"); }) ==
        R"(config.json: max_new_tokens: expected an integer, got "8")");
  const auto invalid = expect_input_error([] { hf::parse_generation_config("{\"eos_token_id\": 2,", "broken.json"); });
  CHECK(invalid.rfind("broken.json: invalid JSON: ", 0) == 0);
  CHECK(expect_input_error([] { hf::parse_generation_config("", "empty.json"); }).rfind("empty.json: invalid JSON: ", 0) == 0);
}

TEST_CASE("generation config: a folder reads like the text of its files, errors name the file's path") {
  const fs::path dir = fs::temp_directory_path() / ("edgec_generation_config_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name, std::ios::binary) << text; };
  const std::string generation = R"({"bos_token_id": 1, "eos_token_id": [1, 2]})";
  const std::string config = R"({"eos_token_id": 7, "text_config": {"max_new_tokens": 20}, "image_token_index": 3})";
  write("generation_config.json", generation);
  write("config.json", config);
  const auto from_folder = hf::read_generation_config(dir);
  hf::GenerationConfig from_text;
  hf::merge_generation_config(from_text, generation, "generation_config.json");
  hf::merge_generation_config(from_text, config, "config.json");
  CHECK(from_folder.bos_token_id == from_text.bos_token_id);
  CHECK(from_folder.eos_token_ids == from_text.eos_token_ids);
  CHECK(from_folder.max_new_tokens == from_text.max_new_tokens);
  CHECK(from_folder.image_token_index == from_text.image_token_index);
  CHECK(from_folder.eos_token_ids == std::vector<int64_t>{1, 2});
  CHECK(from_folder.max_new_tokens == 20);

  write("generation_config.json", R"({"max_new_tokens": "many"})");
  CHECK(expect_input_error([&] { hf::read_generation_config(dir); }) ==
        (dir / "generation_config.json").string() + R"(: max_new_tokens: expected an integer, got "many")");
  fs::remove_all(dir);
}
