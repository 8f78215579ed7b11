#pragma once
// Progress of a long job (`edgec compile`) on stderr: a bar redrawn in place with elapsed time and ETA when
// stderr is a terminal, one plain line per step when it is a file or a pipe (CI logs), nothing when quiet.
#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace edgec::pipeline {

enum class ProgressStyle { quiet, lines, bar };

// bar when stderr is a terminal (and TERM is not "dumb"), else lines; quiet when asked.
ProgressStyle detect_progress_style(bool quiet);

// Columns of the terminal on stderr (COLUMNS, else the tty's size, else 80).
size_t terminal_width();

// "0:07", "12:05", "1:02:03".
std::string format_duration(double seconds);

struct ProgressStatus {
  std::string stage;           // "gptq-w4"
  std::string unit;            // "blocks"
  size_t done = 0, total = 0;  // units finished of all
  std::string detail;          // the unit just finished ("model.layers.3")
  double elapsed = 0.0;        // seconds since the stage began
  std::optional<double> eta;   // seconds left, once a rate is known
};

// "gptq-w4 [#######.............] 3/7 blocks  model.layers.3  0:04 elapsed, ETA 0:05", at most `width` columns
// (the detail is shortened first, then the bar).
std::string format_bar(const ProgressStatus& status, size_t width);
// "gptq-w4: 3/7 blocks (model.layers.3), 0:04 elapsed, ETA 0:05"
std::string format_line(const ProgressStatus& status);

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic

  // `prefix` starts every line ("edgec compile: "). `clock` defaults to std::chrono::steady_clock.
  Progress(ProgressStyle style, std::ostream& out, std::string prefix, size_t width = 80, Clock clock = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  ProgressStyle style() const { return style_; }
  // A message on a line of its own (a bar being drawn is cleared first and redrawn after it).
  void log(const std::string& line);
  // A stage of `unit`s begins; its total is known with the first update. Updates closer than `min_interval`
  // seconds to the last one shown are not shown (except the last unit): for units that come by the hundred.
  void begin(std::string stage, std::string unit, double min_interval = 0.0);
  // `done` of `total` units finished, the last being `detail`. The rate for the ETA counts the units finished
  // since begin(): a job resumed at unit 5 of 9 does not claim it did 5 units in no time.
  void update(size_t done, size_t total, const std::string& detail);
  // The stage is over: a bar is left on screen, complete, with the stage's time.
  void end();

 private:
  void draw();
  void clear_bar();

  ProgressStyle style_;
  std::ostream& out_;
  std::string prefix_;
  size_t width_;
  Clock clock_;
  ProgressStatus status_;
  double started_ = 0.0;
  std::optional<size_t> baseline_;  // units already done when the stage began
  double min_interval_ = 0.0;
  std::optional<double> last_shown_;
  bool bar_shown_ = false;
};

}  // namespace edgec::pipeline
