// `edgec quantize` failures end with the documented exit code and a message naming the problem, and leave
// neither OUT nor OUT.partial behind: 2 for a scheme edgec cannot run (--bits 5), an unknown method, GPTQ without
// calibration data, an existing output without --force or an output path that names no folder; 4 for a missing
// or malformed calibration file (missing, wrong IDX magic, truncated IDX data, corrupt gzip, a header whose
// size overflows, no images).
#include <cstdint>
#include <fstream>

#include "quant_models.hpp"

using namespace edgec::test::quant_models;
using edgec::test::CommandResult;
using edgec::test::shared_model;

namespace {

void expect_failure(const CommandResult& result, int exit_code, const std::string& message, const fs::path& out) {
  CHECK_MESSAGE(result.exit_code == exit_code, "exit " << result.exit_code << ", stderr: " << result.err);
  CHECK_MESSAGE(result.err.find(message) != std::string::npos, "stderr lacks '" << message << "': " << result.err);
  CHECK_MESSAGE(result.err.find('\n') == result.err.size() - 1, "not one line: " << result.err);
  CHECK(result.out.empty());
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out.string() + ".partial"));
}

std::string big_endian(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8), static_cast<char>(value)};
}

// An IDX image file: magic, count, rows, columns, then `pixels` bytes.
std::string idx_bytes(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols, size_t pixels) {
  return big_endian(magic) + big_endian(count) + big_endian(rows) + big_endian(cols) + std::string(pixels, '\x40');
}

void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

// Through gzip(1) (an essential package on Debian), so the tests need no zlib of their own.
void write_gzip(const fs::path& file, const std::string& bytes) {
  const fs::path raw = file.string() + ".raw";
  write_file(raw, bytes);
  const auto result = edgec::test::run_command("gzip -n -c " + quoted(raw) + " > " + quoted(file));
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  fs::remove(raw);
}

}  // namespace

TEST_CASE("edgec quantize: usage errors exit 2 and leave no output folder") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("quantize_usage");
  const fs::path out = tmp / "out";
  const auto run = [&](const std::string& args) { return run_edgec("quantize " + quoted(stories) + " " + args + " -o " + quoted(out)); };

  expect_failure(run("--method rtn --bits 5"), 2, "bits must be 2, 3, 4 or 8, got 5", out);
  expect_failure(run("--method gptqq --bits 4"), 2, "unknown quantization method 'gptqq'", out);
  expect_failure(run("--method gptq --bits 4 --group 32"), 2, "needs calibration data (--calib)", out);
  expect_failure(run("--method awq --bits 4"), 2, "needs calibration data (--calib)", out);
  expect_failure(run("--method rtn --bits 4 --activations int8-dynamic"), 2, "need 8-bit weights", out);
  expect_failure(run("--method rtn --bits 4 --calib-kind words --calib " + quoted(stories / "eval/heldout_ids.i32")), 2,
                 "unknown calibration kind 'words'", out);

  // An existing output needs --force, and is left as it was without it.
  fs::create_directories(out);
  write_file(out / "keep.txt", "previous run");
  const CommandResult exists = run("--method rtn --bits 4");
  CHECK(exists.exit_code == 2);
  CHECK(exists.err.find("exists (pass --force to replace it)") != std::string::npos);
  CHECK(edgec::test::read_text(out / "keep.txt") == "previous run");
  CHECK_FALSE(fs::exists(tmp / "out.partial"));
  // With --force it is replaced, and "OUT/" names the same folder as "OUT".
  const CommandResult forced = run_edgec("quantize " + quoted(stories) + " --method rtn --bits 4 --force -o " + quoted(fs::path(out.string() + "/")));
  CHECK_MESSAGE(forced.exit_code == 0, forced.err);
  CHECK(fs::exists(out / "model.onnx"));
  CHECK_FALSE(fs::exists(out / "keep.txt"));
  CHECK_FALSE(fs::exists(out / ".partial"));
  CHECK_FALSE(fs::exists(tmp / "out.partial"));

  // "." (or "..") is no folder to create: with --force it would replace the current folder.
  fs::create_directories(tmp / "cwd");
  write_file(tmp / "cwd/keep.txt", "mine");
  const CommandResult dot =
      run_edgec("quantize " + quoted(fs::absolute(stories)) + " --method rtn --bits 4 --force -o .", "cd " + quoted(tmp / "cwd") + " &&");
  CHECK_MESSAGE(dot.exit_code == 2, dot.err);
  CHECK(dot.err.find("-o must name the output folder") != std::string::npos);
  CHECK(edgec::test::read_text(tmp / "cwd/keep.txt") == "mine");
}

TEST_CASE("edgec quantize: missing or corrupt calibration files exit 4 naming the file, leaving no output folder") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  const fs::path vlm = shared_model("fmnist-vlm-a");
  if (vlm.empty()) return;
  ScratchDir tmp("quantize_input");
  const fs::path out = tmp / "out";

  const fs::path missing = tmp / "no-such-ids.i32";
  auto result = run_edgec("quantize " + quoted(stories) + " --method gptq --calib " + quoted(missing) + " -o " + quoted(out));
  expect_failure(result, 4, missing.string() + ": no such calibration file or folder", out);

  write_file(tmp / "odd.i32", std::string(10, '\1'));  // not a whole number of int32 ids
  result = run_edgec("quantize " + quoted(stories) + " --method gptq --calib " + quoted(tmp / "odd.i32") + " -o " + quoted(out));
  expect_failure(result, 4, (tmp / "odd.i32").string(), out);

  // IDX images for the VLM: each malformed file is an input error naming it.
  const std::string prompt = " --prompt-ids " + quoted(vlm / "eval/prompt_template_ids.i32");
  const auto idx = [&](const fs::path& file, const std::string& method) {
    return run_edgec("quantize " + quoted(vlm) + " --method " + method + " --bits 4 --samples 4 --calib " + quoted(file) + prompt + " -o " +
                 quoted(out));
  };
  struct Case {
    std::string name, bytes, message;
    bool gzip;
  };
  const uint32_t kImages = 0x00000803;
  const std::vector<Case> cases{
      {"magic.idx", idx_bytes(0x00000801, 4, 28, 28, 4 * 784), "not an IDX file of unsigned bytes with 3 dimensions", false},
      {"short.idx", idx_bytes(kImages, 4, 28, 28, 3 * 784), "IDX header says 4 images of 28x28 but the data is 2352 bytes", false},
      {"header.idx", std::string("\0\0\x08\x03\0\0", 6), "not an IDX file", false},
      {"short-idx3-ubyte.gz", idx_bytes(kImages, 100, 28, 28, 99 * 784), "IDX header says 100 images of 28x28", true},
      // 4 x 2^31 x 2^31 bytes wraps a 64-bit product to 0: must not pass for a 16-byte file.
      {"wrap.idx", idx_bytes(kImages, 4, 0x80000000u, 0x80000000u, 0), "IDX header says 4 images of 2147483648x2147483648", false},
      {"empty.idx", idx_bytes(kImages, 0, 28, 28, 0), "IDX header says 0 images", false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    c.gzip ? write_gzip(tmp / c.name, c.bytes) : write_file(tmp / c.name, c.bytes);
    expect_failure(idx(tmp / c.name, "gptq"), 4, (tmp / c.name).string() + ": " + c.message, out);
  }
  // Plain round-to-nearest does not need the data, but a --calib it cannot read is still an error, not ignored.
  expect_failure(idx(tmp / "empty.idx", "rtn"), 4, "IDX header says 0 images", out);

  // A gzip stream whose deflate data is damaged.
  {
    write_gzip(tmp / "good-idx3-ubyte.gz", idx_bytes(kImages, 50, 28, 28, 50 * 784));
    std::string bytes = edgec::test::read_text(tmp / "good-idx3-ubyte.gz");
    for (size_t i = 12; i < 40 && i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    write_file(tmp / "corrupt-idx3-ubyte.gz", bytes);
    expect_failure(idx(tmp / "corrupt-idx3-ubyte.gz", "gptq"), 4, (tmp / "corrupt-idx3-ubyte.gz").string() + ": corrupt gzip data", out);
  }
}
