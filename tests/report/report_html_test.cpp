// The HTML page (report/report_html.hpp): self-contained, escaped, one SVG bar per layer and two per
// component, readable at 0 and 500 layers, deterministic.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "edgec/report/report_html.hpp"
#include "report_fixture.hpp"

using namespace edgec::report;
using namespace edgec::report::test;

namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// The text of the element <svg id="ID" ...> ... </svg>.
std::string svg_element(const std::string& page, const std::string& id) {
  const size_t start = page.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  const size_t end = page.find("</svg>", start);
  return page.substr(start, end == std::string::npos ? std::string::npos : end + 6 - start);
}

}  // namespace

TEST_CASE("report html: a realistic report has every section and chart") {
  const CompileReport report = realistic_report();
  const std::string page = to_html(report);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("<meta charset=\"utf-8\">") != std::string::npos);
  for (const char* id : {"metrics", "gates", "latency", "layer-snr", "size", "stages", "layers", "notes"})
    CHECK_MESSAGE(page.find("<section id=\"" + std::string(id) + "\">") != std::string::npos, id);

  // Header: the failed badge and the one failing gate (perplexity 62.24 > 60), not the passing ones.
  CHECK(page.find("<span class=\"badge failed\">FAILED</span>") != std::string::npos);
  const std::string failures = page.substr(page.find("<div class=\"failures\">"), page.find("</div>") - page.find("<div class=\"failures\">"));
  CHECK(failures.find("<b>perplexity</b> = 62.24, required \u2264 60") != std::string::npos);
  CHECK(failures.find("top1_agreement") == std::string::npos);

  // Metrics: reference vs compiled with the delta coloured by direction.
  CHECK(page.find("<td class=\"num worse\">+4.28</td>") != std::string::npos);     // perplexity up: worse
  CHECK(page.find("<td class=\"num better\">+0.0001</td>") != std::string::npos);  // accuracy up: better

  const std::string snr = svg_element(page, "snr-chart");
  REQUIRE_FALSE(snr.empty());
  CHECK(count(snr, "class=\"layer-bar ") == 40);
  CHECK(count(snr, "class=\"layer-bar c-vision") == 12);
  CHECK(count(snr, "class=\"layer-bar c-projector") == 2);
  CHECK(count(snr, "class=\"layer-bar c-language") == 26);
  CHECK(count(snr, "class=\"divider\"") == 2);  // vision|projector, projector|language
  CHECK(snr.find("SNR (dB), higher is better") != std::string::npos);
  CHECK(snr.find(">vision (12)</text>") != std::string::npos);  // legend with counts
  // Long module paths keep their last whole components: 43 bytes -> at most 34.
  CHECK(snr.find(">language_model.model.layers.4.mlp.down_proj</text>") == std::string::npos);
  CHECK(snr.find(">\u2026model.layers.4.mlp.down_proj</text>") != std::string::npos);
  CHECK(snr.find(">multi_modal_projector.linear_1</text>") != std::string::npos);  // short: whole

  const std::string size = svg_element(page, "size-chart");
  REQUIRE_FALSE(size.empty());
  CHECK(count(size, "class=\"size-bar ") == 6);
  CHECK(size.find(">6.50 MiB</text>") != std::string::npos);   // vision before: 6,815,744 bytes
  CHECK(size.find(">1.83 MiB (-71.9 %, \u00D73.56 smaller)</text>") != std::string::npos);
  CHECK(size.find(">384 KiB</text>") != std::string::npos);    // projector before

  // Self-contained: no script, no external URL or resource.
  for (const char* forbidden : {"<script", "http://", "https://", "src=", "href=", "@import", "url("})
    CHECK_MESSAGE(page.find(forbidden) == std::string::npos, forbidden);

  CHECK(page == to_html(realistic_report()));  // deterministic
}

TEST_CASE("report html: hostile names are escaped everywhere") {
  CompileReport report = realistic_report();
  const std::string hostile = "<script>alert('x')</script> & \"q\" <img src=x onerror=y>";
  report.model_name = hostile;
  report.target = hostile;
  report.layers[3].name = hostile;
  report.layers[3].scope = hostile;
  report.metrics[0].name = hostile;
  report.gates[0].metric = hostile;
  report.notes.push_back(hostile);
  report.layers[4].scope = "bad\xff utf8 \x01 control";
  const std::string page = to_html(report);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("'x'") == std::string::npos);
  const std::string escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; &lt;img src=x onerror=y&gt;";
  CHECK(count(page, escaped) >= 7);
  CHECK(page.find("bad\xef\xbf\xbd utf8 \xef\xbf\xbd control") != std::string::npos);
  CHECK(page.find("\xff") == std::string::npos);
}

TEST_CASE("report html: no layers, no sizes, no metrics") {
  CompileReport report = realistic_report();
  report.layers.clear();
  report.sizes.clear();
  report.metrics.clear();
  report.gates.clear();
  report.stages.clear();
  report.latency = std::nullopt;
  report.notes.clear();
  report.status = Status::passed;
  const std::string page = to_html(report);
  CHECK(page.find("<span class=\"badge passed\">PASSED</span>") != std::string::npos);
  CHECK(page.find("No compressed layers.") != std::string::npos);
  CHECK(page.find("No size information.") != std::string::npos);
  CHECK(page.find("<svg") == std::string::npos);
  CHECK(page.find("class=\"failures\"") == std::string::npos);
  CHECK(page.find("<section id=\"latency\">") == std::string::npos);
  CHECK(page.find("</html>") != std::string::npos);
}

TEST_CASE("report html: 500 layers stay readable") {
  const std::string page = to_html(report_with_layers(500));
  const std::string snr = svg_element(page, "snr-chart");
  CHECK(count(snr, "class=\"layer-bar ") == 500);
  CHECK(count(snr, "class=\"label\"") == 0);  // names would overlap: the axis shows indices instead
  // Every 50th index labelled: 0, 50, ..., 450.
  CHECK(count(snr, "class=\"tick\" text-anchor=\"middle\"") == 10);
  CHECK(snr.find("layers in graph order (index)") != std::string::npos);
  CHECK(snr.find("width=\"2.16\"") != std::string::npos);  // 1080 px / 500 bars, no gap
  CHECK(count(page, "<tr><td class=\"num\">") >= 500);    // the table keeps every layer by name
}

TEST_CASE("report html: non-finite SNRs are drawn and printed") {
  CompileReport report = realistic_report();
  report.layers[0].relative_mse = 0.0;
  report.layers[0].snr_db = std::numeric_limits<double>::infinity();
  report.layers[1].relative_mse = std::numeric_limits<double>::infinity();
  report.layers[1].snr_db = -std::numeric_limits<double>::infinity();
  const std::string page = to_html(report);
  const std::string snr = svg_element(page, "snr-chart");
  CHECK(count(snr, "class=\"layer-bar ") == 40);
  CHECK(count(snr, " identical\"") == 1);
  CHECK(count(snr, " broken\"") == 1);
  CHECK(page.find("<td class=\"num\">\u221E</td>") != std::string::npos);
  CHECK(page.find("<td class=\"num\">\u2212\u221E</td>") != std::string::npos);
}
