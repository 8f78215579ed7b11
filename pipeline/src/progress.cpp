#include "edgec/pipeline/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace edgec::pipeline {

namespace {

constexpr const char* kClearLine = "\r\x1b[K";  // carriage return, erase to the end of the line
constexpr size_t kBarCells = 20, kMinBarCells = 5;

std::string counts(const ProgressStatus& status) {
  return std::to_string(status.done) + "/" + std::to_string(status.total) + (status.unit.empty() ? "" : " " + status.unit);
}

std::string times(const ProgressStatus& status) {
  std::string text = format_duration(status.elapsed) + " elapsed";
  if (status.eta) text += ", ETA " + format_duration(*status.eta);
  return text;
}

std::string bar_cells(const ProgressStatus& status, size_t cells) {
  const size_t filled = status.total == 0 ? cells : std::min(cells, status.done * cells / status.total);
  return "[" + std::string(filled, '#') + std::string(cells - filled, '.') + "]";
}

}  // namespace

ProgressStyle detect_progress_style(bool quiet) {
  if (quiet) return ProgressStyle::quiet;
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string(term) == "dumb";
  return ::isatty(STDERR_FILENO) && !dumb ? ProgressStyle::bar : ProgressStyle::lines;
}

size_t terminal_width() {
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long value = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && value >= 20 && value <= 1000) return static_cast<size_t>(value);
  }
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20) return size.ws_col;
  return 80;
}

std::string format_duration(double seconds) {
  const long total = std::isfinite(seconds) && seconds > 0 ? std::lround(seconds) : 0;
  const long hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  char text[32];
  if (hours > 0) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", hours, minutes, secs);
  else std::snprintf(text, sizeof text, "%ld:%02ld", minutes, secs);
  return text;
}

std::string format_bar(const ProgressStatus& status, size_t width) {
  const std::string head = status.stage + " ", tail = " " + counts(status), clock = "  " + times(status);
  // The last column stays empty: writing into it makes some terminals wrap.
  const size_t room = width > 0 ? width - 1 : 0;
  const size_t fixed = head.size() + tail.size() + clock.size() + 2;  // + the brackets
  if (fixed + kMinBarCells > room) return (status.stage + " " + counts(status) + clock).substr(0, room);
  const size_t cells = std::min(kBarCells, room - fixed);
  std::string detail;
  if (!status.detail.empty()) {
    // Shortened from the front when it does not fit: the end (the layer index) is what moves.
    const size_t detail_room = room - fixed - cells;
    if (status.detail.size() + 2 <= detail_room) detail = "  " + status.detail;
    else if (detail_room >= 8) detail = "  ..." + status.detail.substr(status.detail.size() - (detail_room - 5));
  }
  return head + bar_cells(status, cells) + tail + detail + clock;
}

std::string format_line(const ProgressStatus& status) {
  std::string line = status.stage + ": " + counts(status);
  if (!status.detail.empty()) line += " (" + status.detail + ")";
  return line + ", " + times(status);
}

Progress::Progress(ProgressStyle style, std::ostream& out, std::string prefix, size_t width, Clock clock)
    : style_(style), out_(out), prefix_(std::move(prefix)), width_(width), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

Progress::~Progress() {
  if (bar_shown_) out_ << '\n' << std::flush;  // whatever is printed next starts on a line of its own
}

void Progress::log(const std::string& line) {
  if (style_ == ProgressStyle::quiet) return;
  clear_bar();
  out_ << prefix_ << line << '\n';
  if (bar_shown_) draw();
  out_ << std::flush;
}

void Progress::begin(std::string stage, std::string unit, double min_interval) {
  if (bar_shown_) end();
  status_ = ProgressStatus{};
  status_.stage = std::move(stage);
  status_.unit = std::move(unit);
  started_ = clock_();
  baseline_.reset();
  min_interval_ = min_interval;
  last_shown_.reset();
}

void Progress::update(size_t done, size_t total, const std::string& detail) {
  status_.done = done;
  status_.total = total;
  status_.detail = detail;
  status_.elapsed = clock_() - started_;
  if (!baseline_) baseline_ = done > 0 ? done - 1 : 0;
  const size_t finished = done > *baseline_ ? done - *baseline_ : 0;
  status_.eta.reset();
  if (finished > 0 && total >= done) status_.eta = status_.elapsed / static_cast<double>(finished) * static_cast<double>(total - done);
  const double now = started_ + status_.elapsed;
  if (done < total && last_shown_ && now - *last_shown_ < min_interval_) return;
  last_shown_ = now;
  if (style_ == ProgressStyle::lines) out_ << prefix_ << format_line(status_) << '\n' << std::flush;
  if (style_ == ProgressStyle::bar) draw();
}

void Progress::end() {
  if (style_ != ProgressStyle::bar || !bar_shown_) return;
  status_.elapsed = clock_() - started_;
  status_.eta.reset();
  draw();
  out_ << '\n' << std::flush;
  bar_shown_ = false;
}

void Progress::draw() {
  const size_t room = width_ > prefix_.size() ? width_ - prefix_.size() : 1;
  out_ << kClearLine << prefix_ << format_bar(status_, room) << std::flush;
  bar_shown_ = true;
}

void Progress::clear_bar() {
  if (bar_shown_) out_ << kClearLine;
}

}  // namespace edgec::pipeline
