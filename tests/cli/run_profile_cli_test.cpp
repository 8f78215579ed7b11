// `edgec run --profile` / `--repeat`: per-op and per-node times that account for every node execution, for a plain
// run and for generation (prefill and decode apart), in the text output and in --json.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "scratch_dir.hpp"
#include "test_paths.hpp"

using edgec::test::edgec_binary;
using edgec::test::run_command;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Json run_json(const std::string& args) {
  const auto result = run_command(edgec_binary() + " " + args + " --json");
  REQUIRE_MESSAGE(result.exit_code == 0, args << "\n" << result.err);
  return Json::parse(result.out);
}

// Every node ran `runs` times; the op rows add up to the node rows; times are non-negative and within the runs' time.
void check_profile(const Json& profile, int64_t runs, size_t expected_nodes) {
  CHECK(profile["runs"].get<int64_t>() == runs);
  const auto& nodes = profile["nodes"];
  CHECK(nodes.size() == expected_nodes);
  int64_t node_calls = 0, op_calls = 0, op_nodes = 0;
  double node_ms = 0, previous = 1e300;
  for (const auto& node : nodes) {
    CHECK(node["calls"].get<int64_t>() == runs);
    CHECK(node["ms"].get<double>() >= 0.0);
    CHECK(node["ms"].get<double>() <= previous);  // slowest first
    previous = node["ms"].get<double>();
    node_calls += node["calls"].get<int64_t>();
    node_ms += node["ms"].get<double>();
  }
  double percent = 0;
  for (const auto& op : profile["ops"]) {
    op_calls += op["calls"].get<int64_t>();
    op_nodes += op["nodes"].get<int64_t>();
    percent += op["percent"].get<double>();
  }
  CHECK(op_calls == node_calls);
  CHECK(op_nodes == static_cast<int64_t>(expected_nodes));
  CHECK(percent == doctest::Approx(100.0).epsilon(1e-6));
  CHECK(profile["kernel_ms"].get<double>() == doctest::Approx(node_ms).epsilon(1e-9));
  CHECK(profile["kernel_ms"].get<double>() <= profile["run_ms"].get<double>());
}

}  // namespace

TEST_CASE("edgec run --profile --repeat: a plain run of the ViT ONNX graph, every node timed in each of 3 runs") {
  const fs::path vit = edgec::test::shared_model("fmnist-vit-a");
  if (vit.empty()) return;
  edgec::test::ScratchDir tmp("run_profile");
  // The first test image (784 floats) as a raw .f32 input.
  std::ifstream in(vit / "eval/test_pixel_values.f32", std::ios::binary);
  std::vector<char> image(784 * 4);
  REQUIRE(in.read(image.data(), static_cast<std::streamsize>(image.size())));
  std::ofstream(tmp / "x.f32", std::ios::binary).write(image.data(), static_cast<std::streamsize>(image.size()));
  const std::string args = "run '" + (vit / "onnx/model.onnx").string() + "' --input pixel_values='" + (tmp / "x.f32").string() +
                           "' --shape pixel_values=1,1,28,28 --profile --repeat 3";
  const auto inspect = run_json("inspect '" + (vit / "onnx/model.onnx").string() + "'");
  size_t nodes = 0;
  for (const auto& [op, count] : inspect["graphs"][0]["ops"].items()) nodes += count.get<size_t>();
  REQUIRE(nodes > 50);
  // --no-optimize runs the graph's own nodes; the optimized graph has its Constant nodes folded and chains fused.
  check_profile(run_json(args + " --no-optimize")["profile"], 3, nodes);
  const Json report = run_json(args);
  const auto& optimizer = report["profile"]["optimizer"];
  const auto removed = optimizer["folded"].get<size_t>() + optimizer["chain_nodes"].get<size_t>() - optimizer["chains"].get<size_t>() +
                       optimizer["epilogues"].get<size_t>();
  CHECK(optimizer["folded"].get<int64_t>() > 50);  // the ViT export's Constant nodes
  check_profile(report["profile"], 3, nodes - removed);
  CHECK(report["timings"]["run_ms_all"].size() == 3);

  const auto text = run_command(edgec_binary() + " " + args);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("profile (3 runs): 3 runs,") != std::string::npos);
  CHECK(text.out.find("slowest nodes:") != std::string::npos);
  CHECK(text.out.find("run: median ") != std::string::npos);
}

TEST_CASE("edgec run --generate --profile: prefill once, every decode node once per decode step") {
  const fs::path stories = edgec::test::shared_model("stories260k");
  if (stories.empty()) return;
  const Json report = run_json("run '" + stories.string() + "' --generate 6 --profile");
  const auto& profile = report["profile"];
  const auto steps = static_cast<int64_t>(report["timings"]["decode_ms"].size());
  REQUIRE(steps == 5);
  // The prefill graph is the decode graph (the HF Llama graph has no vision part to prune) plus the TokenSlice that
  // feeds only the last position to the lm_head.
  const size_t nodes = profile["prefill"]["nodes"].size();
  REQUIRE(nodes > 50);
  check_profile(profile["prefill"], 1, nodes);
  check_profile(profile["decode"], steps, nodes - 1);
}
