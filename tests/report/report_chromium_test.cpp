// Opens the HTML report in headless Chromium (Debian's `chromium`, installed by scripts/install-deps.sh):
// the page must render to a non-empty PNG and survive parsing with its SVG charts and escaped names intact.
// Skipped with a SKIP line when chromium is not on PATH.
//
// EDGEC_REPORT_SCREENSHOT=FILE also copies the screenshot of the realistic report to FILE (this is how
// docs/images/report-example.png is made; see docs/reports.md).
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "scratch_dir.hpp"
#include "edgec/report/report_html.hpp"
#include "report_fixture.hpp"
#include "run_command.hpp"

using namespace edgec::report;
using namespace edgec::report::test;
namespace fs = std::filesystem;

namespace {

using edgec::test::ScratchDir;

bool chromium_available() {
  if (edgec::test::run_command("command -v chromium").exit_code == 0) return true;
  std::cout << "SKIP: chromium not found on PATH (bash scripts/install-deps.sh installs it); "
               "the HTML report was not rendered\n";
  return false;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// Headless Chromium with a private profile (parallel runs must not share one); `timeout` because the
// machines running the suite can be slow and a hung browser must not hang the suite.
std::string chromium(const ScratchDir& dir, const std::string& arguments, const fs::path& page) {
  return "timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run --hide-scrollbars "
         "--user-data-dir='" + (dir.path() / "profile").string() + "' " + arguments + " 'file://" + page.string() + "'";
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

uint32_t big_endian_u32(const std::string& bytes, size_t offset) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return v;
}

}  // namespace

TEST_CASE("report chromium: the page renders headless to a PNG of the window size") {
  if (!chromium_available()) return;
  const ScratchDir dir("report");
  const fs::path page = dir.path() / "report.html";
  const fs::path png = dir.path() / "report.png";
  write_file(page, to_html(realistic_report()));

  const auto result = edgec::test::run_command(chromium(dir, "--screenshot='" + png.string() + "' --window-size=1280,2000", page));
  INFO("chromium stderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE(fs::exists(png));
  const std::string bytes = edgec::test::read_text(png);
  REQUIRE(bytes.size() > 24);
  CHECK(bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0);
  CHECK(bytes.compare(12, 4, "IHDR") == 0);
  CHECK(big_endian_u32(bytes, 16) == 1280);
  CHECK(big_endian_u32(bytes, 20) == 2000);
  CHECK(bytes.size() > 20'000);  // a blank or error page compresses to a few KiB

  if (const char* target = std::getenv("EDGEC_REPORT_SCREENSHOT"); target && *target) {
    fs::copy_file(png, target, fs::copy_options::overwrite_existing);
    std::cout << "report screenshot written to " << target << "\n";
  }
}

TEST_CASE("report chromium: the parsed DOM keeps the charts and the escaped names") {
  if (!chromium_available()) return;
  const ScratchDir dir("report");
  CompileReport report = realistic_report();
  report.layers[7].scope = "<script>alert('x')</script>&<b>";
  const fs::path page = dir.path() / "report.html";
  write_file(page, to_html(report));

  const auto result = edgec::test::run_command(chromium(dir, "--dump-dom", page));
  INFO("chromium stderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  const std::string& dom = result.out;
  REQUIRE(dom.find("</html>") != std::string::npos);
  CHECK(count(dom, "<svg id=\"snr-chart\"") == 1);
  CHECK(count(dom, "<svg id=\"size-chart\"") == 1);
  CHECK(count(dom, "class=\"layer-bar ") == 40);
  CHECK(count(dom, "class=\"size-bar ") == 6);
  CHECK(count(dom, "<rect ") >= 46);
  // The hostile scope is text in the parsed document, not an element.
  CHECK(dom.find("<script") == std::string::npos);
  CHECK(dom.find("<b>&lt;script") == std::string::npos);
  CHECK(dom.find("&lt;script&gt;alert('x')&lt;/script&gt;&amp;&lt;b&gt;") != std::string::npos);
}
