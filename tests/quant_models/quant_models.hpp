#pragma once
// Shared by the real-model quantization tests: scratch folders, `edgec quantize` / `edgec eval` command lines
// through the built binary, the models and calibration data they need (SKIP lines when absent), and the
// per-layer report.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "scratch_dir.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

namespace edgec::test::quant_models {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

using edgec::test::ScratchDir;

// Runs `edgec ARGS` with `env` assignments in front.
inline CommandResult run_edgec(const std::string& args, const std::string& env = "") {
  return run_command(env + " " + edgec_binary() + " " + args);
}

// `edgec quantize MODEL ARGS -o OUT`, required to succeed.
inline CommandResult quantize(const fs::path& model, const std::string& args, const fs::path& out, const std::string& env = "") {
  const std::string line = "quantize " + quoted(model) + " " + args + " -o " + quoted(out);
  CommandResult result = run_edgec(line, env);
  REQUIRE_MESSAGE(result.exit_code == 0, "edgec " << line << "\nexit " << result.exit_code << ": " << result.err);
  return result;
}

inline Json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  return Json::parse(in);
}

inline Json quantization_report(const fs::path& out) { return read_json(out / "quantization_report.json"); }

// `edgec eval MODEL --task lm-perplexity` on stories260k's held-out stream against the fp32 model, --limit windows.
inline Json eval_stories(const fs::path& model, const fs::path& stories, int limit) {
  const std::string line = "eval " + quoted(model) + " --task lm-perplexity --data " + quoted(stories / "eval/heldout_ids.i32") +
                           " --reference " + quoted(stories) + " --limit " + std::to_string(limit) + " --json";
  const CommandResult result = run_edgec(line);
  REQUIRE_MESSAGE(result.exit_code == 0, "edgec " << line << "\n" << result.err);
  return Json::parse(result.out);
}

// `edgec eval MODEL --task vlm-caption` on the first `limit` fmnist-vlm-a test images.
inline Json eval_captions(const fs::path& model, const fs::path& vlm, int limit) {
  const std::string line = "eval " + quoted(model) + " --task vlm-caption --data " + quoted(vlm / "eval") + " --limit " +
                           std::to_string(limit) + " --json";
  const CommandResult result = run_edgec(line);
  REQUIRE_MESSAGE(result.exit_code == 0, "edgec " << line << "\n" << result.err);
  const Json metrics = Json::parse(result.out);
  REQUIRE(metrics["n"] == limit);
  return metrics;
}

// Fashion-MNIST training images (Debian's dataset-fashion-mnist; $EDGEC_FASHION_MNIST overrides the folder).
// The fmnist-vlm-a tests calibrate on them and evaluate on the test set of the model's eval/ folder.
inline fs::path fashion_mnist_train() {
  const char* env = std::getenv("EDGEC_FASHION_MNIST");
  const fs::path dir = env && *env ? fs::path(env) : fs::path("/usr/share/datasets/fashion-mnist");
  const std::string how = "apt-get install dataset-fashion-mnist, or set EDGEC_FASHION_MNIST";
  if (existing_or_skip(dir, "Fashion-MNIST", how).empty()) return {};
  return existing_or_skip(dir / "train-images-idx3-ubyte.gz", "Fashion-MNIST training images", how);
}

// Calibration options: stories260k on text it samples itself, fmnist-vlm-a on training images with the eval
// prompt and 16 tokens of its own answer.
inline std::string stories_calibration(int samples) { return "--calib-kind generated --samples " + std::to_string(samples); }

inline std::string vlm_calibration(const fs::path& vlm, const fs::path& train_images, int samples) {
  return "--calib " + quoted(train_images) + " --prompt-ids " + quoted(vlm / "eval/prompt_template_ids.i32") +
         " --answer-tokens 16 --samples " + std::to_string(samples);
}

// The layers that read one value and so share AWQ's input scale: q/k/v of an attention block (after its norm),
// gate/up of a SwiGLU MLP (after its norm). Every other linear layer reads a value of its own. Returns the key
// of the layer's group: the shared prefix plus the family for those, the weight name for the rest.
inline std::string input_group(const std::string& weight) {
  static const std::regex qkv(R"((.*)\.(q_proj|k_proj|v_proj)\.weight)");
  static const std::regex gate_up(R"((.*)\.(gate_proj|up_proj)\.weight)");
  std::smatch match;
  if (std::regex_match(weight, match, qkv)) return match[1].str() + ".{q,k,v}_proj";
  if (std::regex_match(weight, match, gate_up)) return match[1].str() + ".{gate,up}_proj";
  return weight;
}

}  // namespace edgec::test::quant_models
