// `edgec compile --resume`: a compile killed with SIGKILL continues from its last checkpoint and writes the same
// bytes as one never interrupted; a checkpoint from another recipe or model, or a corrupted one, is refused.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "compile_support.hpp"
#include "edgec/core/sha256.hpp"

using namespace edgec::test::compile;

namespace {

using Clock = std::chrono::steady_clock;

// An `edgec compile` in the background, in its own process group, output discarded.
class BackgroundCompile {
 public:
  // stderr goes to `log` when given (the progress lines), else nowhere.
  explicit BackgroundCompile(const std::string& args, const fs::path& log = "/dev/null") {
    const std::string line = "exec " + edgec::test::edgec_binary() + " compile " + args;
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int null = ::open("/dev/null", O_WRONLY);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(null, 1);
      ::dup2(err, 2);
      ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  BackgroundCompile(const BackgroundCompile&) = delete;
  BackgroundCompile& operator=(const BackgroundCompile&) = delete;
  ~BackgroundCompile() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Polls `ready` every 2 ms; once it holds, SIGKILL. Returns the wait status, or -1 when the compile ended
  // by itself first (or `ready` never held within 20 minutes).
  int kill_when(const std::function<bool()>& ready) {
    const auto deadline = Clock::now() + std::chrono::minutes(20);
    int status = 0;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return -1;
      }
      if (ready()) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// The inode of `path`, 0 when it does not exist: a new checkpoint is a new file renamed over the old one.
ino_t inode_of(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

bool killed_by_sigkill(int status) { return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

}  // namespace

TEST_CASE("edgec compile --resume: killed with SIGKILL twice mid-way, the resumed compile writes the byte-identical artifact") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_resume");
  const fs::path recipe = write_stories_recipe(tmp.path(), stories);

  const CommandResult reference = compile(recipe, "-o " + quoted(tmp / "reference/stories.edgepack"));
  REQUIRE_MESSAGE(reference.exit_code == 0, reference.err);
  CHECK(!fs::exists(tmp / "reference/stories.edgepack.checkpoint"));  // removed once the artifact is written
  const std::string expected = edgec::sha256_file(tmp / "reference/stories.edgepack");

  const fs::path artifact = tmp / "out/stories.edgepack", checkpoint = tmp / "out/stories.edgepack.checkpoint";
  {
    BackgroundCompile first(quoted(recipe) + " --quiet");
    const int status = first.kill_when([&] { return fs::exists(checkpoint); });
    REQUIRE_MESSAGE(killed_by_sigkill(status), "the compile ended before its first checkpoint could be killed");
  }
  CHECK(!fs::exists(artifact));
  const ino_t first_checkpoint = inode_of(checkpoint);
  REQUIRE(first_checkpoint != 0);
  {
    // Killed again once the resumed run has written a checkpoint of its own.
    BackgroundCompile second(quoted(recipe) + " --quiet --resume");
    const int status = second.kill_when([&] { const ino_t now = inode_of(checkpoint); return now != 0 && now != first_checkpoint; });
    REQUIRE_MESSAGE(killed_by_sigkill(status), "the resumed compile ended before it wrote a checkpoint");
  }
  CHECK(!fs::exists(artifact));

  const CommandResult resumed = run_edgec("compile " + quoted(recipe) + " --resume --threads 1");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  CHECK_MESSAGE(resumed.err.find("resuming from " + checkpoint.string() + ": stage w4, block ") != std::string::npos, resumed.err);
  CHECK(edgec::sha256_file(artifact) == expected);
  CHECK(!fs::exists(checkpoint));
  std::vector<fs::path> leftovers;
  for (const auto& entry : fs::directory_iterator(tmp / "out"))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) leftovers.push_back(entry.path());
  CHECK(leftovers.empty());

  // The report is whole: every layer once, with the same numbers as the uninterrupted run.
  const Json report = read_json(tmp / "out/stories.edgepack.report.json");
  const Json reference_report = read_json(tmp / "reference/stories.edgepack.report.json");
  REQUIRE(report["layers"].size() == 36);
  CHECK(report["layers"] == reference_report["layers"]);
  CHECK(report["metrics"] == reference_report["metrics"]);
  CHECK(report["notes"].dump().find("resumed from a checkpoint at stage 'w4'") != std::string::npos);
}

TEST_CASE("edgec compile --resume refuses a checkpoint of another recipe or model and a corrupted one, and starts over without --resume") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_resume_refused");
  // A copy of the model, so one of its files can change.
  const fs::path model = tmp / "stories260k";
  fs::copy(stories, model, fs::copy_options::recursive);
  const fs::path recipe = write_stories_recipe(tmp.path(), model);
  const fs::path checkpoint = tmp / "out/stories.edgepack.checkpoint";

  const CommandResult fresh = run_edgec("compile " + quoted(recipe) + " --resume");
  REQUIRE_MESSAGE(fresh.exit_code == 0, fresh.err);
  CHECK_MESSAGE(fresh.err.find("no checkpoint at " + checkpoint.string() + ": starting from the beginning") != std::string::npos, fresh.err);
  const std::string expected = edgec::sha256_file(tmp / "out/stories.edgepack");
  fs::remove(tmp / "out/stories.edgepack");

  {
    BackgroundCompile killed(quoted(recipe) + " --quiet");
    REQUIRE(killed_by_sigkill(killed.kill_when([&] { return fs::exists(checkpoint); })));
  }
  const CommandResult other_recipe = compile(recipe, "--resume --set calibration.seed=7");
  CHECK(other_recipe.exit_code == 2);
  CHECK_MESSAGE(other_recipe.err.find(checkpoint.string() + ": cannot resume: the recipe or its --set overrides changed") != std::string::npos,
                other_recipe.err);
  CHECK(fs::exists(checkpoint));  // a refusal leaves the checkpoint alone

  const fs::path weights = model / "model.safetensors";
  const std::string weights_sha256 = edgec::sha256_file(weights);
  flip_byte(weights, 1000);  // one weight of the model changes
  const CommandResult other_model = compile(recipe, "--resume");
  CHECK(other_model.exit_code == 2);
  CHECK_MESSAGE(other_model.err.find("cannot resume: model file " + weights.string() + " changed (sha256 " + weights_sha256.substr(0, 12)) !=
                    std::string::npos,
                other_model.err);
  flip_byte(weights, 1000);

  flip_byte(checkpoint, 100);
  const CommandResult corrupted = compile(recipe, "--resume");
  CHECK(corrupted.exit_code == 4);
  CHECK_MESSAGE(corrupted.err.find("checksum mismatch") != std::string::npos, corrupted.err);

  // Without --resume the checkpoint is replaced and the compile starts over.
  const CommandResult over = run_edgec("compile " + quoted(recipe));
  REQUIRE_MESSAGE(over.exit_code == 0, over.err);
  CHECK_MESSAGE(over.err.find("starting over: the checkpoint " + checkpoint.string()) != std::string::npos, over.err);
  CHECK(edgec::sha256_file(tmp / "out/stories.edgepack") == expected);
  CHECK(!fs::exists(checkpoint));
}

TEST_CASE("edgec compile --resume: killed in its second stage (AWQ folding scales into norms), the resumed compile writes the same bytes") {
  const fs::path stories = shared_model("stories260k");
  if (stories.empty()) return;
  ScratchDir tmp("compile_resume_stages");
  const fs::path recipe = tmp / "two.yaml";
  {
    std::ofstream out(recipe);
    out << "version: 1\nmodel: " << stories.string() << "\n"
        << "calibration:\n  kind: generated\n  samples: 16\n  seq_len: 64\n"
        << "stages:\n"
        << "  - name: attn\n    pass: quantize\n    method: gptq\n    bits: 4\n    group: 32\n    targets: ['re:.*self_attn.*']\n"
        << "  - name: mlp\n    pass: quantize\n    method: awq\n    bits: 4\n    group: 32\n    allow_partial_groups: true\n"
        << "    targets: ['re:.*mlp.*']\n"
        << "output:\n  path: out/two.edgepack\n";
  }
  const CommandResult reference = compile(recipe, "-o " + quoted(tmp / "reference.edgepack"));
  REQUIRE_MESSAGE(reference.exit_code == 0, reference.err);

  const fs::path log = tmp / "stderr.log";
  {
    BackgroundCompile killed(quoted(recipe), log);
    // Progress lines come before the block's checkpoint: once block 3 of the mlp stage is reported, block 2's exists.
    const int status = killed.kill_when([&] { return read_text(log).find("edgec compile: mlp: 3/") != std::string::npos; });
    REQUIRE_MESSAGE(killed_by_sigkill(status), read_text(log));
  }
  REQUIRE(fs::exists(tmp / "out/two.edgepack.checkpoint"));
  const CommandResult resumed = run_edgec("compile " + quoted(recipe) + " --resume");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
  CHECK_MESSAGE(resumed.err.find(": stage mlp, block ") != std::string::npos, resumed.err);
  CHECK(edgec::sha256_file(tmp / "out/two.edgepack") == edgec::sha256_file(tmp / "reference.edgepack"));
}
