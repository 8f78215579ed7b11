// The folder `edgec quantize` writes, on stories260k with GPTQ W4 g32: the same model.onnx bytes at 1 and 2
// threads (the calibration text the model samples itself included), a valid quantization_report.json that
// `--json` prints verbatim, only the runner's side files next to it, and `edgec run OUT --generate 20` runs it.
#include <algorithm>

#include "quant_models.hpp"

using namespace edgec::test::quant_models;
using edgec::test::read_text;
using edgec::test::shared_model;

namespace {

constexpr int kSamples = 16;

// The report without its timings, which are the only thing allowed to differ between runs.
Json without_seconds(Json report) {
  report.erase("seconds");
  for (auto& layer : report["layers"]) layer.erase("seconds");
  return report;
}

}  // namespace

TEST_CASE("stories260k GPTQ W4 g32 folder: same model.onnx at 1 and 2 threads, --json prints the report, edgec run generates") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("stories_artifact");
  const std::string args = "--method gptq --bits 4 --group 32 " + stories_calibration(kSamples) + " --json";
  const auto one = quantize(stories, args + " --threads 1", tmp / "t1");
  const auto two = quantize(stories, args + " --threads 2", tmp / "t2");

  // Determinism: byte-identical graphs and identical reports but for the timings.
  const std::string onnx1 = read_text(tmp / "t1/model.onnx"), onnx2 = read_text(tmp / "t2/model.onnx");
  REQUIRE(onnx1.size() > 100000);  // 36 packed layers plus the f32 embedding table
  CHECK_MESSAGE(onnx1 == onnx2, "model.onnx differs between --threads 1 and 2");
  const Json report = quantization_report(tmp / "t1");
  CHECK(without_seconds(report) == without_seconds(quantization_report(tmp / "t2")));

  // --json prints exactly the report file.
  CHECK(Json::parse(one.out) == report);
  CHECK(Json::parse(two.out) == quantization_report(tmp / "t2"));

  // The report: every documented key, with values that fit this run.
  CHECK(report["model"] == stories.string());
  CHECK(report["method"] == "gptq");
  CHECK(report["calibration"].get<std::string>().find(std::to_string(kSamples) + " sequences of 256 tokens sampled from the model") == 0);
  CHECK(report["blocks"].get<int64_t>() > 0);
  CHECK(report["peak_carried_bytes"].get<int64_t>() > 0);
  CHECK(report["seconds"].get<double>() > 0.0);
  CHECK(report["skipped"] == Json::array());
  REQUIRE(report["layers"].size() == 36);
  for (const auto& layer : report["layers"]) {
    INFO(layer.dump());
    for (const char* key : {"name", "op", "out_features", "in_features", "scheme", "tokens", "error", "rtn_error", "output_energy",
                            "awq_alpha", "smoothed", "dead_columns", "seconds"})
      CHECK_MESSAGE(layer.contains(key), key);
    CHECK(layer["name"].get<std::string>().size() > 7);
    CHECK(layer["scheme"] == "w4 g32 asym f16-scales");
    CHECK(layer["tokens"] == kSamples * 256);
    const int64_t out = layer["out_features"], in = layer["in_features"];
    CHECK((out == 32 || out == 64 || out == 172 || out == 512));  // k/v, q/o/down, gate/up, lm_head
    CHECK((in == 64 || in == 172));
    CHECK(layer["error"].get<double>() > 0.0);
    CHECK(layer["error"].get<double>() < layer["rtn_error"].get<double>());
    CHECK(layer["awq_alpha"] == -1.0);
    CHECK(layer["smoothed"] == false);
    CHECK(layer["dead_columns"].get<int64_t>() >= 0);
  }

  // The folder: the graph, the report and the files a runner needs (config, generation config, tokenizer); no
  // source weights, no README, no staging folder.
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(tmp / "t1")) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"config.json", "generation_config.json", "model.onnx", "quantization_report.json", "tok512.bin"});
  CHECK_FALSE(fs::exists(tmp / "t1.partial"));
  CHECK_FALSE(fs::exists(tmp / "t2.partial"));

  // edgec run generates 20 tokens of text from BOS with the QLinear graph.
  auto run = run_edgec("run " + quoted(tmp / "t1") + " --generate 20");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.size() > 20);
  run = run_edgec("run " + quoted(tmp / "t1") + " --generate 20 --json");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const Json generated = Json::parse(run.out);
  MESSAGE("GPTQ W4 g32 stories260k: " << generated["text"].get<std::string>());
  CHECK(generated["tokens"].size() > 0);
  CHECK(generated["tokens"].size() <= 20);
  CHECK(generated["text"].get<std::string>().size() > 20);
}
