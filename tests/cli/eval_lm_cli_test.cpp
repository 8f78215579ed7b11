// `edgec eval --task lm-perplexity` end to end through the binary: --json keys, --limit, --reference, .npy token
// files, the same bits at 1 and 2 threads, and the exit codes of bad token files and bad usage.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "run_command.hpp"
#include "test_paths.hpp"

using edgec::test::edgec_binary;
using edgec::test::run_command;
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

std::string eval_lm(const fs::path& model, const fs::path& data, const std::string& extra) {
  return edgec_binary() + " eval " + quoted(model) + " --task lm-perplexity --data " + quoted(data) + " " + extra;
}

template <class T>
void write_raw(const fs::path& file, const std::vector<T>& values, size_t extra_bytes = 0) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  for (size_t i = 0; i < extra_bytes; ++i) out.put('\0');
}

// A version-1 .npy of 1-D little-endian int64 values.
void write_npy_i64(const fs::path& file, const std::vector<int64_t>& values) {
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + std::to_string(values.size()) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(file, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto length = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(int64_t)));
}

std::vector<int32_t> read_i32(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(0, std::ios::end);
  std::vector<int32_t> values(static_cast<size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  return values;
}

}  // namespace

TEST_CASE("edgec eval --task lm-perplexity: --json, --limit, --reference and the human-readable report") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const fs::path heldout = dir / "eval/heldout_ids.i32";

  auto result = run_command(eval_lm(dir, heldout, "--limit 3 --json"));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const auto alone = nlohmann::json::parse(result.out);
  CHECK(alone["windows"] == 3);
  CHECK(alone["predictions"] == 765);
  CHECK(alone["window"] == 256);
  CHECK(alone["tokens"] == 24014);
  CHECK(alone["nll"].get<double>() > 2.0);
  CHECK(alone["perplexity"].get<double>() == doctest::Approx(std::exp(alone["nll"].get<double>())));
  CHECK_FALSE(alone.contains("kl"));
  CHECK_FALSE(alone.contains("top1_agreement"));
  CHECK(alone["seconds"].is_number());

  // The model against itself: KL 0, agreement 1, and the same perplexity on both sides.
  result = run_command(eval_lm(dir, heldout, "--reference " + quoted(dir) + " --limit 3 --json"));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  const auto self = nlohmann::json::parse(result.out);
  CHECK(std::abs(self["kl"].get<double>()) <= 1e-9);
  CHECK(self["top1_agreement"] == 1.0);
  CHECK(self["reference_perplexity"] == self["perplexity"]);
  CHECK(self["perplexity"] == alone["perplexity"]);

  // Smaller windows: floor(24014 / 64) = 375 windows, limited to 5.
  result = run_command(eval_lm(dir, heldout, "--window 64 --limit 5 --json"));
  REQUIRE(result.exit_code == 0);
  CHECK(nlohmann::json::parse(result.out)["predictions"] == 5 * 63);

  result = run_command(eval_lm(dir, heldout, "--reference " + quoted(dir) + " --limit 1"));
  REQUIRE(result.exit_code == 0);
  for (const char* line : {"windows:              1 x 256 tokens", "predictions:          255", "perplexity:", "kl:",
                           "top1_agreement:       1", "reference_perplexity:"})
    CHECK_MESSAGE(result.out.find(line) != std::string::npos, line);
}

TEST_CASE("edgec eval --task lm-perplexity: .npy ids and 1 vs 2 threads give the same bits") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const fs::path heldout = dir / "eval/heldout_ids.i32";
  const auto tmp = fs::temp_directory_path() / ("edgec_eval_lm_cli_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const auto ids = read_i32(heldout);
  write_npy_i64(tmp / "ids.npy", std::vector<int64_t>(ids.begin(), ids.begin() + 600));

  const auto one = run_command(eval_lm(dir, heldout, "--limit 2 --json --threads 1"));
  const auto two = run_command(eval_lm(dir, heldout, "--limit 2 --json --threads 2"));
  const auto npy = run_command(eval_lm(dir, tmp / "ids.npy", "--json"));
  REQUIRE(one.exit_code == 0);
  REQUIRE(two.exit_code == 0);
  REQUIRE_MESSAGE(npy.exit_code == 0, npy.err);
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out), c = nlohmann::json::parse(npy.out);
  CHECK(a["nll"] == b["nll"]);
  CHECK(c["windows"] == 2);  // 600 tokens: two whole windows, the tail of 88 dropped
  CHECK(c["tokens"] == 600);
  CHECK(c["nll"] == a["nll"]);
  fs::remove_all(tmp);
}

TEST_CASE("edgec eval --task lm-perplexity: bad token files exit 4 naming the file, bad usage exits 2") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const fs::path heldout = dir / "eval/heldout_ids.i32";
  const auto tmp = fs::temp_directory_path() / ("edgec_eval_lm_errors_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  auto ids = read_i32(heldout);
  ids.resize(600);

  const auto expect_input_error = [&](const fs::path& file, const std::string& what) {
    const auto result = run_command(eval_lm(dir, file, "--limit 1"));
    CHECK_MESSAGE(result.exit_code == 4, file.string() << ": " << result.err);
    CHECK_MESSAGE(result.err.find(file.string()) != std::string::npos, result.err);
    CHECK_MESSAGE(result.err.find(what) != std::string::npos, result.err);
  };
  expect_input_error(tmp / "missing.i32", "no such file");
  write_raw(tmp / "odd.i32", ids, 2);
  expect_input_error(tmp / "odd.i32", "not a whole number of i32 values");
  write_raw(tmp / "short.i32", std::vector<int32_t>(ids.begin(), ids.begin() + 10));
  expect_input_error(tmp / "short.i32", "fewer than one window of 256");
  auto outside = ids;
  outside[7] = 512;
  write_raw(tmp / "outside.i32", outside);
  expect_input_error(tmp / "outside.i32", "token id 512 at index 7");
  outside[7] = -3;
  write_raw(tmp / "negative.i32", outside);
  expect_input_error(tmp / "negative.i32", "token id -3 at index 7");
  expect_input_error(tmp, "is a folder");

  // A model that is not a causal LM, as the model or the reference.
  const fs::path vlm_onnx = edgec::test::shared_model("fmnist-vlm-a");
  if (!vlm_onnx.empty()) {
    const auto result = run_command(eval_lm(dir, heldout, "--reference " + quoted(vlm_onnx / "onnx") + " --limit 1"));
    CHECK(result.exit_code == 4);
    CHECK(result.err.find((vlm_onnx / "onnx").string()) != std::string::npos);
  }

  const auto usage = [&](const std::string& command, const std::string& what) {
    const auto result = run_command(command);
    CHECK_MESSAGE(result.exit_code == 2, command << ": " << result.err);
    CHECK_MESSAGE(result.err.find(what) != std::string::npos, result.err);
  };
  usage(edgec_binary() + " eval " + quoted(dir) + " --task nope --data " + quoted(heldout), "vlm-caption, lm-perplexity");
  usage(eval_lm(dir, heldout, "--window 1"), "--window");
  usage(eval_lm(dir, heldout, "--limit 0"), "--limit");
  usage(eval_lm(dir, heldout, "--batch 4"), "--batch");
  usage(edgec_binary() + " eval " + quoted(dir) + " --task vlm-caption --data " + quoted(tmp) + " --reference " + quoted(dir),
        "--reference");
  fs::remove_all(tmp);
}
