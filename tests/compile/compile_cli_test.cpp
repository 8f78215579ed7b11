// `edgec compile recipe.yaml` end to end on stories260k: the artifact, the report (JSON + HTML), the verify gates
// and their exit code, determinism across thread counts, a corrupted artifact refused at load, --dry-run and
// recipe errors writing nothing.
#include <fstream>

#include "compile_support.hpp"
#include "edgec/core/sha256.hpp"

using namespace edgec::test::compile;

TEST_CASE("edgec compile: stories260k W4 GPTQ gives an artifact edgec run executes, a report, and the same bytes at 1 and 2 threads") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_stories");
  const fs::path recipe = write_stories_recipe(tmp.path(), stories, "  max_kl: 0.5\n  min_top1: 0.6\n");
  const CommandResult one = compile(recipe, "--threads 1");
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  const fs::path artifact = tmp / "out/stories.edgepack";
  REQUIRE(fs::exists(artifact));
  const std::string first = edgec::sha256_file(artifact);

  const Json report = read_json(tmp / "out/stories.edgepack.report.json");
  CHECK(report["schema"] == "edgec.report/1");
  CHECK(report["status"] == "passed");
  REQUIRE(report["layers"].size() == 36);
  for (const auto& layer : report["layers"]) {
    INFO(layer["name"].get<std::string>());
    CHECK(layer["op"] == "edgec.QLinear");
    CHECK(layer["component"] == "language");  // the importer names a causal LM's one component language_model
    CHECK(layer["snr_db"].get<double>() > 10.0);
    CHECK(layer["cosine"].get<double>() > 0.99);
    CHECK(layer["relative_mse"].get<double>() < 0.1);
    CHECK(layer["error"].get<double>() < layer["rtn_error"].get<double>());
  }
  std::map<std::string, Json> metrics;
  for (const auto& m : report["metrics"]) metrics[m["name"]] = m;
  REQUIRE(metrics.count("kl"));
  CHECK(metrics["kl"]["value"].get<double>() > 0.01);
  CHECK(metrics["kl"]["value"].get<double>() < 0.5);
  CHECK(metrics["perplexity"]["reference"].get<double>() > 0.0);
  CHECK(metrics["size_mb"]["value"].get<double>() < 0.35 * metrics["size_mb"]["reference"].get<double>());
  REQUIRE(report["gates"].size() == 2);
  const std::string html = read_text(tmp / "out/stories.edgepack.report.html");
  CHECK(html.find("<svg") != std::string::npos);

  // The artifact runs: 8 greedy tokens from BOS.
  const CommandResult run = run_edgec("run " + quoted(artifact) + " --generate 8");
  CHECK_MESSAGE(run.exit_code == 0, run.err);

  // Two threads: byte-identical artifact.
  const CommandResult two = compile(recipe, "--threads 2");
  REQUIRE_MESSAGE(two.exit_code == 0, two.err);
  CHECK(edgec::sha256_file(artifact) == first);

  // One flipped byte in the tensor data: a clear load error, exit 4.
  flip_byte(artifact, 100);
  const CommandResult corrupted = run_edgec("run " + quoted(artifact) + " --generate 2");
  CHECK(corrupted.exit_code == 4);
  CHECK_MESSAGE(corrupted.err.find("checksum mismatch") != std::string::npos, corrupted.err);
}

TEST_CASE("edgec compile: a failing verify gate exits 3 naming the metric, after writing the artifact and report") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_gate");
  const fs::path recipe = write_stories_recipe(tmp.path(), stories, "  max_kl: 0.0001\n");
  const CommandResult result = compile(recipe);
  CHECK(result.exit_code == 3);
  CHECK_MESSAGE(result.err.find("verify gates failed") != std::string::npos, result.err);
  CHECK_MESSAGE(result.err.find("kl = ") != std::string::npos, result.err);
  CHECK(fs::exists(tmp / "out/stories.edgepack"));
  const Json report = read_json(tmp / "out/stories.edgepack.report.json");
  CHECK(report["status"] == "failed");
}

TEST_CASE("edgec compile: --dry-run prints the plan and writes nothing, a recipe error exits 2 and writes nothing") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_dry");
  const fs::path recipe = write_stories_recipe(tmp.path(), stories);
  const CommandResult plan = compile(recipe, "--dry-run --json");
  REQUIRE_MESSAGE(plan.exit_code == 0, plan.err);
  const Json json = Json::parse(plan.out);
  CHECK(json.dump().find("model.layers.4.mlp.down_proj") != std::string::npos);
  CHECK(!fs::exists(tmp / "out"));

  const CommandResult bad = compile(recipe, "--set stages.0.bits=5");
  CHECK(bad.exit_code == 2);
  CHECK_MESSAGE(bad.err.find("bits") != std::string::npos, bad.err);
  CHECK(!fs::exists(tmp / "out"));
}

TEST_CASE("edgec compile: progress is a bar with an ETA on a terminal and one plain line per block otherwise") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_progress");
  const fs::path recipe = write_stories_recipe(tmp.path(), stories);
  // `script` runs the compile on a pseudo-terminal and prints what the terminal received.
  const CommandResult tty = edgec::test::run_command("TERM=xterm COLUMNS=120 script -qec \"" + edgec::test::edgec_binary() +
                                                     " compile " + quoted(recipe) + "\" /dev/null");
  REQUIRE_MESSAGE(tty.exit_code == 0, tty.out << tty.err);
  CHECK_MESSAGE(tty.out.find("\r\x1b[Kedgec compile: w4 [") != std::string::npos, tty.out);
  CHECK_MESSAGE(tty.out.find(" blocks  model.layers.0  ") != std::string::npos, tty.out);
  CHECK_MESSAGE(tty.out.find(" elapsed, ETA ") != std::string::npos, tty.out);

  const CommandResult piped = run_edgec("compile " + quoted(recipe));
  REQUIRE_MESSAGE(piped.exit_code == 0, piped.err);
  CHECK_MESSAGE(piped.err.find("edgec compile: w4: 2/") != std::string::npos, piped.err);
  CHECK_MESSAGE(piped.err.find(" blocks (model.layers.0), ") != std::string::npos, piped.err);
  CHECK(piped.err.find('\r') == std::string::npos);
  CHECK(piped.err.find("\x1b[") == std::string::npos);
}
