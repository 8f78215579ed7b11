#include "edgec/report/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "html_text.hpp"
#include "svg_charts.hpp"

namespace edgec::report {

namespace {

using html::escape;
using html::number;

// Inline so the page needs nothing but itself; system fonts only.
constexpr std::string_view style = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; margin: 0 auto; padding: 20px 32px;
       color: #1f2328; background: #fff; max-width: 1200px; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
p.note { color: #57606a; margin: .2em 0 .6em; font-size: .9em; }
.badge { display: inline-block; padding: .1em .7em; border-radius: 1em; font-weight: 600; font-size: .8em;
         color: #fff; vertical-align: middle; letter-spacing: .04em; }
.badge.passed { background: #1a7f37; } .badge.failed { background: #cf222e; }
.failures { border: 1px solid #cf222e; background: #ffebe9; border-radius: 6px; padding: .4em 1em; margin: .6em 0; }
.failures ul { margin: .2em 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .6em 0; font-size: .9em; }
dl.meta dt { color: #57606a; } dl.meta dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
table { border-collapse: collapse; font-size: .85em; margin: .4em 0; }
th, td { border: 1px solid #d0d7de; padding: .2em .55em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
tr.total td { font-weight: 600; }
.better { color: #1a7f37; } .worse { color: #cf222e; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
.swatch { display: inline-block; width: .75em; height: .75em; border-radius: 2px; margin-right: .35em; vertical-align: -.05em; }
.share { display: inline-block; height: .7em; background: #8fb3d9; vertical-align: middle; }
.empty { color: #57606a; font-style: italic; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: #1f2328; }
svg .tick { fill: #57606a; } svg .label { font-size: 10px; } svg .axis-title { font-size: 12px; fill: #57606a; }
svg .row-label { font-size: 13px; font-weight: 600; } svg .value { font-size: 12px; }
svg .grid { stroke: #e5e7eb; } svg .axis { stroke: #57606a; } svg .divider { stroke: #8c959f; stroke-dasharray: 4 3; }
footer { margin-top: 2em; color: #57606a; font-size: .8em; }
)css";

std::string cell(std::string_view content, std::string_view cls = "") {
  return cls.empty() ? "<td>" + std::string(content) + "</td>" : "<td class=\"" + std::string(cls) + "\">" + std::string(content) + "</td>";
}

std::string swatch(Component c) {
  return "<span class=\"swatch\" style=\"background:" + std::string(html::component_colour(c)) + "\"></span>";
}

std::string op_symbol(GateOp op) { return op == GateOp::at_most ? "\u2264" : "\u2265"; }

std::string percent_change(uint64_t before, uint64_t after) {
  if (before == 0) return "n/a";
  return html::signed_number(100.0 * (static_cast<double>(after) / static_cast<double>(before) - 1.0), 3) + " %";
}

std::string header(const CompileReport& r) {
  const bool passed = r.status == Status::passed;
  std::string out = "<header>\n<h1>" + escape(r.model_name.empty() ? "(unnamed model)" : r.model_name) +
                    " <span class=\"badge " + std::string(status_name(r.status)) + "\">" + (passed ? "PASSED" : "FAILED") +
                    "</span></h1>\n";

  std::string summary = "target <b>" + escape(r.target) + "</b> \u00B7 " + std::to_string(r.layers.size()) +
                        " compressed layer" + (r.layers.size() == 1 ? "" : "s");
  if (!r.sizes.empty()) {
    const uint64_t before = total_bytes_before(r), after = total_bytes_after(r);
    summary += " \u00B7 size " + html::bytes(before) + " \u2192 " + html::bytes(after) + " (" + percent_change(before, after) + ")";
  }
  if (r.latency && r.latency->compiled_ms > 0)
    summary += " \u00B7 latency " + number(r.latency->reference_ms) + " \u2192 " + number(r.latency->compiled_ms) + " ms";
  out += "<p class=\"summary\">" + summary + "</p>\n";

  std::vector<const Gate*> failing;
  for (const auto& g : r.gates)
    if (!g.passed) failing.push_back(&g);
  if (!failing.empty()) {
    out += "<div class=\"failures\"><b>Failing gate" + std::string(failing.size() == 1 ? "" : "s") + ":</b>\n<ul>\n";
    for (const Gate* g : failing)
      out += "<li><b>" + escape(g->metric) + "</b> = " + number(g->actual, 6) + ", required " + op_symbol(g->op) + " " +
             number(g->threshold, 6) + "</li>\n";
    out += "</ul></div>\n";
  } else if (!passed) {
    out += "<div class=\"failures\">Marked failed although no gate failed; see the notes.</div>\n";
  }

  out += "<dl class=\"meta\">\n";
  const auto item = [&](std::string_view key, const std::string& value) {
    out += "<dt>" + std::string(key) + "</dt><dd>" + (value.empty() ? "\u2014" : escape(value)) + "</dd>\n";
  };
  item("target", r.target);
  item("model", r.model_path);
  item("recipe", r.recipe_path);
  item("recipe sha256", r.recipe_sha256);
  item("edgec", r.edgec_version);
  out += "</dl>\n</header>\n";
  return out;
}

std::string metrics_section(const CompileReport& r) {
  std::string out = "<section id=\"metrics\">\n<h2>End-to-end metrics</h2>\n";
  if (r.metrics.empty()) return out + "<p class=\"empty\">No end-to-end metrics were measured.</p>\n</section>\n";
  out += "<table class=\"metrics\">\n<tr><th>metric</th><th class=\"num\">reference (fp32)</th><th class=\"num\">compiled</th>"
         "<th class=\"num\">\u0394</th><th class=\"num\">\u0394 %</th><th>unit</th><th>better</th><th>description</th></tr>\n";
  for (const auto& m : r.metrics) {
    std::string delta = "\u2014", delta_percent = "\u2014", cls = "num";
    if (m.reference) {
      const double d = m.value - *m.reference;
      delta = html::signed_number(d);
      if (*m.reference != 0.0 && std::isfinite(d)) delta_percent = html::signed_number(100.0 * d / std::abs(*m.reference), 3) + " %";
      if (d != 0.0 && std::isfinite(d)) cls += (m.higher_is_better ? d > 0 : d < 0) ? " better" : " worse";
    }
    out += "<tr>" + cell("<b>" + escape(m.name) + "</b>") + cell(m.reference ? number(*m.reference, 6) : "\u2014", "num") +
           cell(number(m.value, 6), "num") + cell(delta, cls) + cell(delta_percent, cls) + cell(escape(m.unit)) +
           cell(m.higher_is_better ? "higher" : "lower") + cell(escape(m.description)) + "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string gates_section(const CompileReport& r) {
  std::string out = "<section id=\"gates\">\n<h2>Verify gates</h2>\n";
  if (r.gates.empty()) return out + "<p class=\"empty\">No verify gates.</p>\n</section>\n";
  out += "<table class=\"gates\">\n<tr><th>metric</th><th>requirement</th><th class=\"num\">actual</th><th>result</th></tr>\n";
  for (const auto& g : r.gates)
    out += "<tr>" + cell(escape(g.metric)) + cell(op_symbol(g.op) + " " + number(g.threshold, 6)) + cell(number(g.actual, 6), "num") +
           cell(g.passed ? "passed" : "FAILED", g.passed ? "pass" : "fail") + "</tr>\n";
  return out + "</table>\n</section>\n";
}

std::string latency_section(const CompileReport& r) {
  if (!r.latency) return {};
  const Latency& l = *r.latency;
  std::string speedup = "\u2014";
  if (l.compiled_ms > 0 && l.reference_ms > 0) speedup = "\u00D7" + number(l.reference_ms / l.compiled_ms, 3);
  return "<section id=\"latency\">\n<h2>Latency</h2>\n<table>\n<tr><th class=\"num\">reference (ms)</th><th class=\"num\">compiled "
         "(ms)</th><th class=\"num\">speed-up</th><th class=\"num\">samples</th><th class=\"num\">threads</th></tr>\n<tr>" +
         cell(number(l.reference_ms), "num") + cell(number(l.compiled_ms), "num") + cell(speedup, "num") +
         cell(std::to_string(l.samples), "num") + cell(std::to_string(l.threads), "num") + "</tr>\n</table>\n</section>\n";
}

std::string snr_section(const CompileReport& r) {
  std::string out = "<section id=\"layer-snr\">\n<h2>Per-layer output SNR</h2>\n";
  if (r.layers.empty()) return out + "<p class=\"empty\">No compressed layers.</p>\n</section>\n";
  out += "<p class=\"note\">SNR = 10\u00B7log<sub>10</sub>(\u2016y\u2016\u00B2 / \u2016y \u2212 \u0177\u2016\u00B2) of each compressed "
         "layer's output on the calibration data, in graph order, coloured by component; higher is better "
         "(20 dB = 1 % relative error energy, 40 dB = 0.01 %). Hover a bar for the layer.</p>\n";
  out += html::snr_chart(r.layers);

  // The weakest layers by name: with hundreds of bars, the chart alone does not say which they are.
  std::vector<size_t> order(r.layers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto snr_key = [&](size_t i) { return std::isnan(r.layers[i].snr_db) ? -std::numeric_limits<double>::infinity() : r.layers[i].snr_db; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return snr_key(a) < snr_key(b); });
  order.resize(std::min<size_t>(order.size(), 5));
  out += "<p class=\"note\">Lowest SNR: ";
  for (size_t k = 0; k < order.size(); ++k) {
    const LayerReport& l = r.layers[order[k]];
    out += (k ? ", " : "") + std::string("#") + std::to_string(order[k]) + " <code>" + escape(l.scope.empty() ? l.name : l.scope) +
           "</code> (" + number(l.snr_db, 3) + " dB)";
  }
  return out + "</p>\n</section>\n";
}

std::string size_section(const CompileReport& r) {
  std::string out = "<section id=\"size\">\n<h2>Size per component</h2>\n";
  if (r.sizes.empty()) return out + "<p class=\"empty\">No size information.</p>\n</section>\n";
  out += html::size_chart(r.sizes);
  out += "<table class=\"sizes\">\n<tr><th>component</th><th class=\"num\">before</th><th class=\"num\">after</th><th "
         "class=\"num\">change</th><th class=\"num\">bytes before</th><th class=\"num\">bytes after</th></tr>\n";
  const auto row = [&](const std::string& label, uint64_t before, uint64_t after, std::string_view cls) {
    out += "<tr" + std::string(cls) + ">" + cell(label) + cell(html::bytes(before), "num") + cell(html::bytes(after), "num") +
           cell(percent_change(before, after), "num") + cell(std::to_string(before), "num") + cell(std::to_string(after), "num") +
           "</tr>\n";
  };
  for (const auto& s : r.sizes) row(swatch(s.component) + std::string(component_name(s.component)), s.bytes_before, s.bytes_after, "");
  row("total", total_bytes_before(r), total_bytes_after(r), " class=\"total\"");
  return out + "</table>\n</section>\n";
}

std::string stages_section(const CompileReport& r) {
  std::string out = "<section id=\"stages\">\n<h2>Stage timings</h2>\n";
  if (r.stages.empty()) return out + "<p class=\"empty\">No stage timings.</p>\n</section>\n";
  double total = 0.0;
  for (const auto& s : r.stages)
    if (std::isfinite(s.seconds) && s.seconds > 0) total += s.seconds;
  out += "<table class=\"stages\">\n<tr><th>stage</th><th>pass</th><th class=\"num\">seconds</th><th>share</th></tr>\n";
  for (const auto& s : r.stages) {
    const double share = total > 0 && std::isfinite(s.seconds) && s.seconds > 0 ? 100.0 * s.seconds / total : 0.0;
    out += "<tr>" + cell(escape(s.name)) + cell(s.pass.empty() ? "\u2014" : escape(s.pass)) + cell(html::fixed(s.seconds, 2), "num") +
           cell("<span class=\"share\" style=\"width:" + html::fixed(share * 1.5, 1) + "px\"></span> " + html::fixed(share, 1) + " %") +
           "</tr>\n";
  }
  out += "<tr class=\"total\">" + cell("total") + cell("") + cell(html::fixed(total, 2), "num") + cell("") + "</tr>\n";
  return out + "</table>\n</section>\n";
}

std::string layers_section(const CompileReport& r) {
  std::string out = "<section id=\"layers\">\n<h2>Compressed layers</h2>\n";
  if (r.layers.empty()) return out + "<p class=\"empty\">No compressed layers.</p>\n</section>\n";
  out += "<p class=\"note\">relative MSE = \u2016y \u2212 \u0177\u2016\u00B2 / \u2016y\u2016\u00B2 and cosine between y and \u0177 on the "
         "calibration data; error = the pass's own output error, RTN = the same for plain round-to-nearest.</p>\n";
  out += "<table class=\"layers\">\n<tr><th class=\"num\">#</th><th>name</th><th>scope</th><th>component</th><th>op</th>"
         "<th class=\"num\">out \u00D7 in</th><th>scheme</th><th>method</th><th class=\"num\">relative MSE</th>"
         "<th class=\"num\">cosine</th><th class=\"num\">SNR dB</th><th class=\"num\">error</th><th class=\"num\">RTN error</th>"
         "<th class=\"num\">error / RTN</th></tr>\n";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerReport& l = r.layers[i];
    std::string ratio = "\u2014";
    if (l.rtn_error && *l.rtn_error > 0) ratio = number(l.error / *l.rtn_error, 3);
    out += "<tr>" + cell(std::to_string(i), "num") + cell(escape(l.name), "mono") + cell(escape(l.scope), "mono") +
           cell(swatch(l.component) + std::string(component_name(l.component))) + cell(escape(l.op)) +
           cell(std::to_string(l.out_features) + " \u00D7 " + std::to_string(l.in_features), "num") + cell(escape(l.scheme)) +
           cell(escape(l.method)) + cell(number(l.relative_mse, 3), "num") + cell(number(l.cosine, 6), "num") +
           cell(number(l.snr_db, 3), "num") + cell(number(l.error, 3), "num") +
           cell(l.rtn_error ? number(*l.rtn_error, 3) : "\u2014", "num") + cell(ratio, "num") + "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string notes_section(const CompileReport& r) {
  if (r.notes.empty()) return {};
  std::string out = "<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n";
  for (const auto& note : r.notes) out += "<li>" + escape(note) + "</li>\n";
  return out + "</ul>\n</section>\n";
}

}  // namespace

std::string to_html(const CompileReport& report) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>edgec report: " +
                     escape(report.model_name) + " for " + escape(report.target) + " (" +
                     std::string(status_name(report.status)) + ")</title>\n<style>" + std::string(style) + "</style>\n</head>\n<body>\n";
  page += header(report);
  page += metrics_section(report);
  page += gates_section(report);
  page += latency_section(report);
  page += snr_section(report);
  page += size_section(report);
  page += stages_section(report);
  page += layers_section(report);
  page += notes_section(report);
  page += "<footer>edgec " + escape(report.edgec_version) + " \u00B7 report schema " + std::string(schema_version) + "</footer>\n";
  return page + "</body>\n</html>\n";
}

}  // namespace edgec::report
