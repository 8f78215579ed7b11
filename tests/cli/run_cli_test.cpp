// `edgec run` and `edgec eval` end to end through the binary: stories260k text, --json timings, .npy in/out,
// exit codes for bad inputs and bad usage.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.hpp"
#include "test_paths.hpp"

using edgec::test::edgec_binary;
using edgec::test::run_command;
namespace fs = std::filesystem;

TEST_CASE("edgec run --generate: stories260k greedy text and --json timings") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  auto result = run_command(edgec_binary() + " run '" + dir.string() + "' --generate 40");
  CHECK(result.exit_code == 0);
  CHECK(result.out.rfind("Once upon a time, there was a little girl named Lily. She loved to play outside in the park.", 0) == 0);

  result = run_command(edgec_binary() + " run '" + dir.string() + "' --generate 16 --json");
  REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CHECK(report["tokens"].size() == 16);
  CHECK(report["text"].get<std::string>().rfind("Once upon a time", 0) == 0);
  for (const char* key : {"load_ms", "prefill_ms", "ttft_ms", "decode_ms_per_token", "decode_tokens_per_s", "total_ms"})
    CHECK(report["timings"][key].is_number());
  CHECK(report["timings"]["decode_ms"].size() == 15);

  // Seeded sampling is reproducible from the command line.
  const std::string sample = edgec_binary() + " run '" + dir.string() + "' --generate 20 --temperature 0.9 --top-p 0.9 --seed 7 --json";
  const auto a = run_command(sample), b = run_command(sample);
  REQUIRE(a.exit_code == 0);
  CHECK(nlohmann::json::parse(a.out)["tokens"] == nlohmann::json::parse(b.out)["tokens"]);

  // A prompt from a file: golden_prompt_ids.i32.
  result = run_command(edgec_binary() + " run '" + dir.string() + "' --prompt-ids '" + (dir / "eval/golden_prompt_ids.i32").string() + "' --generate 5 --json");
  REQUIRE(result.exit_code == 0);
  CHECK(nlohmann::json::parse(result.out)["prompt_tokens"] == 59);
}

TEST_CASE("edgec run: plain graph run with .npy input and output, bad .npy is exit 4") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const auto tmp = fs::temp_directory_path() / ("edgec_run_cli_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const auto ids = (dir / "eval/golden_prompt_ids.i32").string();
  const auto positions = tmp / "positions.i64";
  {
    std::ofstream out(positions, std::ios::binary);
    for (int64_t i = 0; i < 59; ++i) out.write(reinterpret_cast<const char*>(&i), sizeof(i));
  }
  const auto logits = tmp / "logits.npy";
  auto result = run_command(edgec_binary() + " run '" + dir.string() + "' --input input_ids=" + ids + " --shape input_ids=1,59 --input position_ids=" +
                            positions.string() + " --shape position_ids=1,59 --output logits=" + logits.string() + " --json");
  CHECK(result.exit_code == 0);
  REQUIRE(fs::exists(logits));
  CHECK(fs::file_size(logits) == 128 + 59 * 512 * 4);  // version-1 header padded to 128 bytes

  // The .npy we wrote reads back as an input (wrong graph input shape -> runtime input error, exit 4 too).
  const auto bad = tmp / "bad.npy";
  {
    std::ofstream out(bad, std::ios::binary);
    out << "\x93NUMPY\x01\x00" << "garbage";
  }
  result = run_command(edgec_binary() + " run '" + dir.string() + "' --input input_ids=" + bad.string());
  CHECK(result.exit_code == 4);
  CHECK(result.err.find(bad.string()) != std::string::npos);

  result = run_command(edgec_binary() + " run '" + dir.string() + "' --input input_ids=" + ids + " --shape input_ids=2,59");
  CHECK(result.exit_code == 4);
  CHECK(result.err.find("--shape") != std::string::npos);

  result = run_command(edgec_binary() + " run '" + dir.string() + "' --input nonsense");
  CHECK(result.exit_code == 2);
  result = run_command(edgec_binary() + " run '" + dir.string() + "' --image-index 3");
  CHECK(result.exit_code == 2);
  fs::remove_all(tmp);
}

TEST_CASE("edgec run --eval --image-index and edgec eval --limit on fmnist-vlm-a") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const std::string eval = (dir / "eval").string();
  for (const fs::path& model : {dir, dir / "onnx"}) {
    auto result = run_command(edgec_binary() + " run '" + model.string() + "' --eval '" + eval + "' --image-index 1");
    CHECK(result.exit_code == 0);
    CHECK(result.out == "a light large pullover .\n");
  }
  const auto result = run_command(edgec_binary() + " eval '" + dir.string() + "' --task vlm-caption --data '" + eval + "' --limit 64 --json");
  REQUIRE(result.exit_code == 0);
  const auto report = nlohmann::json::parse(result.out);
  CHECK(report["n"] == 64);
  CHECK(report["exact_acc"].get<double>() > 0.7);
  CHECK(run_command(edgec_binary() + " eval '" + dir.string() + "' --task nope --data '" + eval + "'").exit_code == 2);
}
