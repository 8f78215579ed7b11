// The example recipes of recipes/ compile end to end with their verify gates passing, on the real models, and every
// artifact executes: it reproduces its golden samples (`edgec run --golden`), and the LM / VLM artifacts generate.
// Also: a golden output the graph does not reproduce is reported, exit 3.
#include <fstream>

#include "compile_support.hpp"
#include "edgec/formats/edgepack.hpp"

using namespace edgec::test::compile;

namespace {

fs::path recipes() { return fs::path(EDGEC_SOURCE_DIR) / "recipes"; }

struct Example {
  std::string recipe;
  std::string model;                       // shared model it compiles ("" for PP-OCR)
  std::vector<std::string> shared_paths;   // recipe keys holding a path inside the shared model: key=relative path
};

// The recipes name ../../shared/models; the tests' models come from EDGEC_MODELS, so those paths are set.
std::string overrides(const Example& example, const fs::path& model) {
  std::string sets = " --set model=" + quoted(model);
  for (const std::string& key_path : example.shared_paths) {
    const size_t eq = key_path.find('=');
    sets += " --set " + key_path.substr(0, eq) + "=" + quoted(model / key_path.substr(eq + 1));
  }
  return sets;
}

std::map<std::string, Json> metrics_of(const Json& report) {
  std::map<std::string, Json> metrics;
  for (const auto& m : report["metrics"]) metrics[m["name"]] = m;
  return metrics;
}

}  // namespace

TEST_CASE("example recipes: each compiles with its gates passing and its artifact reproduces its golden samples") {
  const std::vector<Example> examples = {
      {"stories260k-gptq-w4.yaml", "stories260k", {"verify.data=eval/heldout_ids.i32"}},
      {"fmnist-vlm-a-gptq-w4.yaml", "fmnist-vlm-a", {"calibration.prompt_ids=eval/prompt_template_ids.i32", "verify.data=eval"}},
      {"fmnist-vlm-a-smoothquant-w8a8.yaml", "fmnist-vlm-a", {"calibration.prompt_ids=eval/prompt_template_ids.i32", "verify.data=eval"}},
      {"fmnist-vit-a-gptq-w4.yaml", "fmnist-vit-a", {"verify.data=eval"}},
      {"ppocrv4-rec-w8.yaml", "", {}},
  };
  ScratchDir tmp("example_recipes");
  int compiled = 0;
  for (const Example& example : examples) {
    INFO("recipe " << example.recipe);
    std::string sets;
    if (!example.model.empty()) {
      const fs::path model = shared_model(example.model);
      if (model.empty()) continue;
      sets = overrides(example, model);
    } else if (edgec::test::ppocr_models().empty() || edgec::test::ocr_images().empty()) {
      continue;
    }
    const fs::path artifact = tmp / (fs::path(example.recipe).stem().string() + ".edgepack");
    const CommandResult result = compile(recipes() / example.recipe, "-o " + quoted(artifact) + sets);
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    ++compiled;
    const Json report = read_json(artifact.string() + ".report.json");
    CHECK(report["status"] == "passed");
    auto metrics = metrics_of(report);
    CHECK(metrics["size_mb"]["value"].get<double>() < metrics["size_mb"]["reference"].get<double>());

    const CommandResult golden = run_edgec("run " + quoted(artifact) + " --golden --threads 1");
    CHECK_MESSAGE(golden.exit_code == 0, golden.out << golden.err);
    CHECK_MESSAGE(golden.out.find("samples reproduce their outputs") != std::string::npos, golden.out);

    // The numbers docs/quantization.md measured with `edgec quantize` + `edgec eval` (issue 4), here from the report.
    if (example.model == "stories260k") {
      CHECK(metrics["kl"]["value"].get<double>() < 0.25);
      CHECK(metrics["top1_agreement"]["value"].get<double>() > 0.7);
      const CommandResult text = run_edgec("run " + quoted(artifact) + " --generate 16");
      CHECK_MESSAGE(text.exit_code == 0, text.err);
      CHECK_MESSAGE(text.out.find("Once upon a time") != std::string::npos, text.out);
    } else if (example.model == "fmnist-vlm-a") {
      CHECK(metrics["accuracy"]["reference"].get<double>() - metrics["accuracy"]["value"].get<double>() <= 0.01);
      const CommandResult caption =
          run_edgec("run " + quoted(artifact) + " --eval " + quoted(shared_model("fmnist-vlm-a") / "eval") + " --image-index 0");
      CHECK_MESSAGE(caption.exit_code == 0, caption.err);
      CHECK_MESSAGE(caption.out.find("ankle boot") != std::string::npos, caption.out);
    } else if (example.model == "fmnist-vit-a") {
      CHECK(metrics["accuracy"]["reference"].get<double>() == doctest::Approx(0.872));  // the first 1000 test images, fp32
      CHECK(metrics["accuracy"]["value"].get<double>() > 0.862);
    } else {
      CHECK(metrics["top1_agreement"]["value"].get<double>() > 0.9);
    }
  }
  if (compiled == 0) MESSAGE("SKIP: no example recipe's model is present");
}

TEST_CASE("edgec run --golden: fp32 top-1 of fmnist-vit-a on all 10000 test images is the model card's 0.8619") {
  const fs::path vit = shared_model("fmnist-vit-a");
  if (vit.empty()) return;
  ScratchDir tmp("example_vit_full");
  const fs::path artifact = tmp / "vit.edgepack";
  const CommandResult result = compile(recipes() / "fmnist-vit-a-gptq-w4.yaml",
                                       "-o " + quoted(artifact) + " --set model=" + quoted(vit) + " --set verify.data=" + quoted(vit / "eval") +
                                           " --set verify.samples=10000 --set calibration.samples=32");
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  auto metrics = metrics_of(read_json(artifact.string() + ".report.json"));
  CHECK(metrics["accuracy"]["reference"].get<double>() == doctest::Approx(0.8619).epsilon(1e-9));
  CHECK(metrics["accuracy"]["value"].get<double>() > 0.8519);
}

TEST_CASE("edgec run --golden: an output the graph does not reproduce exits 3 naming the sample, the output and the worst element") {
  const fs::path vit = shared_model("fmnist-vit-a");
  if (vit.empty()) return;
  ScratchDir tmp("golden_tampered");
  const fs::path artifact = tmp / "vit.edgepack";
  const CommandResult result = compile(recipes() / "fmnist-vit-a-gptq-w4.yaml", "-o " + quoted(artifact) + " --set model=" + quoted(vit) +
                                                                                   " --set verify.data=" + quoted(vit / "eval") +
                                                                                   " --set verify.samples=100 --set verify.max_accuracy_drop=0.05 --set calibration.samples=16");
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  CHECK(run_edgec("run " + quoted(artifact) + " --golden").exit_code == 0);
  // Quantized layers count their out x in weights: the same 454,858 parameters as the model card's.
  const CommandResult inspect = run_edgec("inspect " + quoted(artifact) + " --json");
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  CHECK(Json::parse(inspect.out)["parameters"] == 454858);

  // The same artifact with one golden logit moved by 1.0: far outside its tolerance.
  edgec::EdgepackContents contents = edgec::read_edgepack(artifact);
  CHECK(contents.extras.target.device == "x86-64-avx512");  // the recipe's device profile, as a runner reads it
  CHECK(contents.extras.target.properties.at("weight_bits") == "2,3,4,8");
  CHECK(contents.extras.target.properties.at("activations") == "float,int8-dynamic,int8-static");
  REQUIRE(contents.extras.golden.size() == 4);
  edgec::GoldenSample& sample = contents.extras.golden[2];
  std::vector<float> logits = sample.outputs.at("logits").to_f32();
  logits[7] += 1.0f;
  sample.outputs["logits"] = edgec::Tensor::from_values<float>(edgec::DType::f32, sample.outputs.at("logits").dims(), std::span<const float>(logits));
  const fs::path tampered = tmp / "tampered.edgepack";
  edgec::write_edgepack(contents.graph, contents.extras, tampered);
  const CommandResult replay = run_edgec("run " + quoted(tampered) + " --golden");
  CHECK(replay.exit_code == 3);
  CHECK_MESSAGE(replay.err.find("golden samples not reproduced:\n  sample 'calibration_2' output 'logits': 1 of 10 elements outside") != std::string::npos,
                replay.err);
  CHECK_MESSAGE(replay.err.find("(worst at 7: got ") != std::string::npos, replay.err);
  CHECK_MESSAGE(replay.out.find("golden calibration_2 logits: max |diff| 1 ") != std::string::npos, replay.out);

  const CommandResult not_artifact = run_edgec("run " + quoted(vit) + " --golden");
  CHECK(not_artifact.exit_code == 4);
}
