// End-to-end checks of `edgec inspect`: real models, exact numbers, exit codes and messages.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.hpp"
#include "test_paths.hpp"

using edgec::test::run_command;
using Json = nlohmann::json;

namespace {

std::string inspect(const std::string& args) { return edgec::test::edgec_binary() + " inspect " + args; }

Json inspect_json(const std::filesystem::path& model) {
  const auto result = run_command(inspect("'" + model.string() + "' --json"));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return Json::parse(result.out);
}

int64_t component_parameters(const Json& report, const std::string& name) {
  for (const auto& component : report["components"])
    if (component["name"] == name) return component["parameters"].get<int64_t>();
  FAIL("no component " << name);
  return -1;
}

}  // namespace

TEST_CASE("inspect stories260k: exact parameter count, tied embeddings, language model only") {
  const auto dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Json report = inspect_json(dir);
  CHECK(report["format"] == "safetensors");
  CHECK(report["architecture"] == "LlamaForCausalLM");
  CHECK(report["parameters"] == 260032);
  CHECK(report["tensors"] == 47);
  CHECK(report["parameter_bytes"] == 260032 * 4);
  CHECK(component_parameters(report, "language_model") == 260032);
  CHECK(report["graphs"].size() == 1);
  CHECK(report["graphs"][0]["ops"]["edgec.Attention"] == 5);
  CHECK(report["graphs"][0]["ops"]["edgec.RMSNorm"] == 11);  // 2 per layer + final norm

  // Text output carries the same numbers, and a file inside the folder works as well as the folder.
  const auto text = run_command(inspect("'" + (dir / "model.safetensors").string() + "'"));
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("parameters:   260,032") != std::string::npos);
}

TEST_CASE("inspect fmnist-vlm-a from safetensors: three components summing to the README's 1,228,160") {
  const auto dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Json report = inspect_json(dir);
  CHECK(report["architecture"] == "LlavaForConditionalGeneration");
  CHECK(report["parameters"] == 1228160);
  const int64_t vision = component_parameters(report, "vision_tower");
  const int64_t projector = component_parameters(report, "multi_modal_projector");
  const int64_t language = component_parameters(report, "language_model");
  CHECK(vision + projector + language == 1228160);
  // Projector: linear_1 96x128 + 128, linear_2 128x128 + 128 (README architecture).
  CHECK(projector == 96 * 128 + 128 + 128 * 128 + 128);
}

TEST_CASE("inspect fmnist-vlm-a's ONNX folder: three graphs with the README's inputs and outputs") {
  const auto dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Json report = inspect_json(dir / "onnx");
  CHECK(report["format"] == "onnx");
  REQUIRE(report["graphs"].size() == 3);
  CHECK(report["graphs"][0]["name"] == "decoder");
  CHECK(report["graphs"][1]["name"] == "embed_tokens");
  CHECK(report["graphs"][2]["name"] == "vision_encoder");
  const auto& vision = report["graphs"][2];
  CHECK(vision["inputs"][0]["name"] == "pixel_values");
  CHECK(vision["outputs"][0]["name"] == "image_embeds");
  CHECK(vision["outputs"][0]["shape"][2] == 128);
  CHECK(vision["opsets"][""] == 17);
}

TEST_CASE("inspect every PP-OCR model") {
  const auto dir = edgec::test::ppocr_models();
  if (dir.empty()) return;
  for (const char* name : {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx"}) {
    CAPTURE(name);
    const Json report = inspect_json(dir / name);
    CHECK(report["format"] == "onnx");
    CHECK(report["parameters"].get<int64_t>() > 100000);
    CHECK(report["graphs"][0]["ops"]["Conv"].get<int64_t>() > 10);
  }
}

TEST_CASE("inspect errors: exit code 4 for bad input, 2 for bad usage, one line naming the file") {
  const auto missing = run_command(inspect("/nonexistent/model.onnx"));
  CHECK(missing.exit_code == 4);
  CHECK(missing.err == "edgec: /nonexistent/model.onnx: no such file or folder\n");

  const auto garbage_path = std::filesystem::temp_directory_path() / "edgec_cli_garbage.onnx";
  std::ofstream(garbage_path) << "this is not a protobuf model\n";
  const auto garbage = run_command(inspect("'" + garbage_path.string() + "'"));
  std::filesystem::remove(garbage_path);
  CHECK(garbage.exit_code == 4);
  CHECK(garbage.err.starts_with("edgec: " + garbage_path.string() + ": "));
  CHECK(std::count(garbage.err.begin(), garbage.err.end(), '\n') == 1);

  const auto empty_dir = std::filesystem::temp_directory_path() / "edgec_cli_empty_dir";
  std::filesystem::create_directories(empty_dir);
  const auto not_model = run_command(inspect("'" + empty_dir.string() + "'"));
  CHECK(not_model.exit_code == 4);
  CHECK(not_model.err.find("not a model folder") != std::string::npos);

  CHECK(run_command(edgec::test::edgec_binary()).exit_code == 2);
  CHECK(run_command(inspect("")).exit_code == 2);
  CHECK(run_command(inspect("x.onnx --frobnicate")).exit_code == 2);
  CHECK(run_command(edgec::test::edgec_binary() + " --version").exit_code == 0);
}
