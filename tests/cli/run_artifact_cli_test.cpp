// `edgec run` / `edgec eval` of an .edgepack alone in an empty folder: the config, generation config and tokenizer
// come from the files the artifact carries, so the text, the stop token and the caption metrics are those of the
// source model folder (before, the artifact printed token ids and generated past its stop token).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/side_files.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

using edgec::test::edgec_binary;
using edgec::test::run_command;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

Json run_json(const std::string& args) {
  const auto result = run_command(edgec_binary() + " " + args + " --json");
  REQUIRE_MESSAGE(result.exit_code == 0, args << "\n" << result.err);
  return Json::parse(result.out);
}

// A scratch folder removed at the end of the test.
struct Scratch {
  fs::path path;
  explicit Scratch(const std::string& tag) : path(fs::temp_directory_path() / ("edgec_artifact_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// The f32 model of `source` as `edgec compile` stores it (model facts and the side files of its folder), written
// in one folder and then moved alone into an empty one: returns the artifact's final path.
fs::path lone_artifact(const fs::path& source, const Scratch& scratch, const std::string& name) {
  const edgec::Model model = edgec::load_model(source);
  REQUIRE(model.graphs.size() == 1);
  edgec::EdgepackExtras extras;
  extras.model = edgec::edgepack_model_info(model);
  extras.files = edgec::collect_side_files(edgec::side_file_folder(source));
  REQUIRE(extras.files.count("generation_config.json"));
  const fs::path written = scratch.path / "written" / name;
  fs::create_directories(written.parent_path());
  edgec::write_edgepack(model.graphs[0], extras, written);
  const fs::path alone = scratch.path / "alone" / name;
  fs::create_directories(alone.parent_path());
  fs::rename(written, alone);
  REQUIRE(std::vector<fs::path>(fs::directory_iterator(alone.parent_path()), fs::directory_iterator()) == std::vector<fs::path>{alone});
  return alone;
}

}  // namespace

TEST_CASE("edgec run of a lone stories260k artifact: same text as the folder, stops at the stop token") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  Scratch scratch("stories");
  const fs::path artifact = lone_artifact(dir, scratch, "stories260k.edgepack");

  // Long enough for the story to end: generation stops at eos ([1, 2] in generation_config.json).
  const Json expected = run_json("run " + quoted(dir) + " --generate 400");
  const Json got = run_json("run " + quoted(artifact) + " --generate 400");
  CHECK(got["tokens"] == expected["tokens"]);
  CHECK(got["stopped"] == expected["stopped"]);
  CHECK(got["text"] == expected["text"]);
  REQUIRE(got["text"].is_string());
  CHECK(got["text"].get<std::string>().rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
  REQUIRE(got["stopped"] == true);
  const auto last = got["tokens"].back().get<int64_t>();
  CHECK((last == 1 || last == 2));
  CHECK(got["tokens"].size() < 400);

  // The plain-text form prints the same text.
  const auto text = run_command(edgec_binary() + " run " + quoted(artifact) + " --generate 20");
  REQUIRE_MESSAGE(text.exit_code == 0, text.err);
  CHECK(text.out.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
}

TEST_CASE("edgec run and eval of a lone fmnist-vlm-a artifact: the folder's caption, stop token and metrics") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  Scratch scratch("fmnist");
  const fs::path artifact = lone_artifact(dir, scratch, "fmnist-vlm-a.edgepack");
  const std::string eval = quoted(dir / "eval");

  // Eval image 0 with generation_config.json's max_new_tokens: the caption, ending at <eos> (id 2).
  const Json expected = run_json("run " + quoted(dir) + " --eval " + eval + " --image-index 0");
  const Json got = run_json("run " + quoted(artifact) + " --eval " + eval + " --image-index 0");
  CHECK(got["text"] == expected["text"]);
  CHECK(got["tokens"] == expected["tokens"]);
  CHECK(got["text"] == "a dark small ankle boot .");
  CHECK(got["stopped"] == true);
  CHECK(got["tokens"].back() == 2);
  const auto plain = run_command(edgec_binary() + " run " + quoted(artifact) + " --eval " + eval + " --image-index 0");
  REQUIRE_MESSAGE(plain.exit_code == 0, plain.err);
  CHECK(plain.out == "a dark small ankle boot .\n");

  // Caption metrics over 16 images: the folder's numbers.
  const std::string task = " --task vlm-caption --data " + eval + " --limit 16";
  const Json folder_metrics = run_json("eval " + quoted(dir) + task);
  const Json artifact_metrics = run_json("eval " + quoted(artifact) + task);
  CHECK(artifact_metrics["backend"] == "edgec-edgepack");
  for (const char* key : {"n", "exact_acc", "class_acc", "brightness_acc", "size_acc", "parse_fail"})
    CHECK_MESSAGE(artifact_metrics[key] == folder_metrics[key], key);
  CHECK(artifact_metrics["exact_acc"].get<double>() > 0.5);
}
