// Progress on stderr: the bar and line formats, the ETA (counting only units done since the stage began), and
// what each style writes.
#include <doctest/doctest.h>

#include <sstream>

#include "edgec/pipeline/progress.hpp"

using namespace edgec::pipeline;

TEST_CASE("progress: durations read as m:ss or h:mm:ss") {
  CHECK(format_duration(0.0) == "0:00");
  CHECK(format_duration(4.4) == "0:04");
  CHECK(format_duration(59.6) == "1:00");
  CHECK(format_duration(725.0) == "12:05");
  CHECK(format_duration(3723.0) == "1:02:03");
  CHECK(format_duration(-1.0) == "0:00");
}

TEST_CASE("progress: a bar fits its width, shortening the detail from the front first") {
  ProgressStatus status{"gptq-w4", "blocks", 3, 6, "model.layers.2", 4.0, 4.0};
  CHECK(format_bar(status, 100) == "gptq-w4 [##########..........] 3/6 blocks  model.layers.2  0:04 elapsed, ETA 0:04");
  CHECK(format_line(status) == "gptq-w4: 3/6 blocks (model.layers.2), 0:04 elapsed, ETA 0:04");
  for (size_t width : {100u, 80u, 70u, 60u, 50u, 40u, 30u, 20u}) {
    INFO(width);
    CHECK(format_bar(status, width).size() <= width - 1);
  }
  CHECK(format_bar(status, 75) == "gptq-w4 [##########..........] 3/6 blocks  ...rs.2  0:04 elapsed, ETA 0:04");
  CHECK(format_bar(status, 70) == "gptq-w4 [##########..........] 3/6 blocks  0:04 elapsed, ETA 0:04");
  CHECK(format_bar(status, 60) == "gptq-w4 [#######.......] 3/6 blocks  0:04 elapsed, ETA 0:04");
  CHECK(format_bar(status, 40) == "gptq-w4 3/6 blocks  0:04 elapsed, ETA 0");

  status.done = 0;
  status.detail.clear();
  status.eta.reset();
  CHECK(format_bar(status, 100) == "gptq-w4 [....................] 0/6 blocks  0:04 elapsed");
  status.total = 0;  // nothing to do is done
  CHECK(format_bar(status, 100) == "gptq-w4 [####################] 0/0 blocks  0:04 elapsed");
}

TEST_CASE("progress: the ETA extrapolates from the units done since the stage began") {
  double now = 100.0;
  std::ostringstream out;
  Progress progress(ProgressStyle::lines, out, "edgec compile: ", 80, [&] { return now; });
  progress.begin("w4", "blocks");
  now += 10.0;
  progress.update(1, 5, "layers.0");
  now += 10.0;
  progress.update(2, 5, "layers.1");
  progress.end();
  CHECK(out.str() ==
        "edgec compile: w4: 1/5 blocks (layers.0), 0:10 elapsed, ETA 0:40\n"
        "edgec compile: w4: 2/5 blocks (layers.1), 0:20 elapsed, ETA 0:30\n");

  // Resumed at block 4 of 10: the first update (block 5) took 6 s, so 5 blocks left take 30 s, not 6 * 5 / 5.
  std::ostringstream resumed;
  Progress again(ProgressStyle::lines, resumed, "", 80, [&] { return now; });
  again.begin("w4", "blocks");
  now += 6.0;
  again.update(5, 10, "");
  CHECK(resumed.str() == "w4: 5/10 blocks, 0:06 elapsed, ETA 0:30\n");
}

TEST_CASE("progress: a bar is redrawn in place, messages go above it, and it is finished on end") {
  double now = 0.0;
  std::ostringstream out;
  {
    Progress progress(ProgressStyle::bar, out, "> ", 80, [&] { return now; });
    progress.begin("w4", "blocks");
    now = 2.0;
    progress.update(1, 2, "a");
    progress.log("hello");
    now = 4.0;
    progress.update(2, 2, "b");
    progress.end();
    progress.log("after");
  }
  CHECK(out.str() ==
        "\r\x1b[K> w4 [##########..........] 1/2 blocks  a  0:02 elapsed, ETA 0:02"
        "\r\x1b[K> hello\n"
        "\r\x1b[K> w4 [##########..........] 1/2 blocks  a  0:02 elapsed, ETA 0:02"
        "\r\x1b[K> w4 [####################] 2/2 blocks  b  0:04 elapsed, ETA 0:00"
        "\r\x1b[K> w4 [####################] 2/2 blocks  b  0:04 elapsed\n"
        "> after\n");

  std::ostringstream quiet;
  Progress silent(ProgressStyle::quiet, quiet, "> ");
  silent.begin("w4", "blocks");
  silent.update(1, 1, "a");
  silent.log("hello");
  silent.end();
  CHECK(quiet.str().empty());
}

TEST_CASE("progress: a bar left unfinished (an error on the way) ends its line when destroyed") {
  std::ostringstream out;
  {
    Progress progress(ProgressStyle::bar, out, "", 80, [] { return 0.0; });
    progress.begin("w4", "blocks");
    progress.update(1, 3, "");
  }
  CHECK(out.str().back() == '\n');
}

TEST_CASE("progress: with a minimum interval, updates closer than it to the last one shown are skipped, the last unit never") {
  double now = 0.0;
  std::ostringstream out;
  Progress progress(ProgressStyle::lines, out, "", 80, [&] { return now; });
  progress.begin("calibrate", "tokens", 10.0);
  for (size_t step = 1; step <= 30; ++step) {
    now = static_cast<double>(step);
    progress.update(step, 30, "");
  }
  CHECK(out.str() ==
        "calibrate: 1/30 tokens, 0:01 elapsed, ETA 0:29\n"
        "calibrate: 11/30 tokens, 0:11 elapsed, ETA 0:19\n"
        "calibrate: 21/30 tokens, 0:21 elapsed, ETA 0:09\n"
        "calibrate: 30/30 tokens, 0:30 elapsed, ETA 0:00\n");
}
