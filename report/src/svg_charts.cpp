#include "svg_charts.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "html_text.hpp"

namespace edgec::report::html {

namespace {

constexpr std::array<Component, 4> component_order = {Component::vision, Component::projector, Component::language,
                                                      Component::other};
constexpr std::string_view broken_colour = "#d62728";
constexpr std::string_view before_colour = "#bab0ac";
constexpr double chart_width = 1160.0;

std::string px(double value) { return fixed(value, 2); }

// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals over `range`.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double step = normalised <= 1.0 ? 1.0 : normalised <= 2.0 ? 2.0 : normalised <= 5.0 ? 5.0 : 10.0;
  return step * magnitude;
}

// Every k-th index labelled, k in {1, 2, 5, 10, 20, 50, ...}, so at most `max_labels` labels.
size_t label_stride(size_t count, size_t max_labels) {
  for (size_t magnitude = 1;; magnitude *= 10)
    for (size_t m : {1, 2, 5})
      if (count <= m * magnitude * max_labels) return m * magnitude;
}

// The end of a long name (the distinguishing part of a module path), cut at a '.' when there is one and
// always on a UTF-8 character boundary.
std::string short_label(const LayerReport& layer, size_t max_bytes) {
  const std::string& full = layer.scope.empty() ? layer.name : layer.scope;
  if (full.size() <= max_bytes) return full;
  size_t start = full.size() - (max_bytes - 1);
  // Prefer a whole path component ("…model.layers.4.mlp.down_proj", not "…odel.layers...").
  if (full[start - 1] != '.')
    if (const size_t dot = full.find('.', start); dot != std::string::npos && dot + 1 < full.size()) start = dot + 1;
  while (start < full.size() && (static_cast<unsigned char>(full[start]) & 0xC0u) == 0x80u) ++start;
  return "\u2026" + full.substr(start);
}

std::string group_digits(uint64_t value) {
  std::string digits = std::to_string(value);
  for (ptrdiff_t i = static_cast<ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

std::string text(double x, double y, std::string_view content, std::string_view attributes = "") {
  std::string out = "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"";
  if (!attributes.empty()) out += " " + std::string(attributes);
  return out + ">" + escape(content) + "</text>\n";
}

std::string rect(double x, double y, double w, double h, std::string_view fill, std::string_view attributes = "") {
  std::string out = "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
                    "\" fill=\"" + std::string(fill) + "\"";
  if (!attributes.empty()) out += " " + std::string(attributes);
  return out;
}

// Legend entries laid out left to right; the width of a label is estimated (no font metrics offline).
class Legend {
 public:
  Legend(double x, double y) : x_(x), y_(y) {}
  void add(std::string_view fill, std::string_view label, std::string_view swatch_attributes = "") {
    out_ += rect(x_, y_ - 10, 12, 12, fill, "class=\"legend-swatch\"" + std::string(swatch_attributes.empty() ? "" : " ") +
                                                std::string(swatch_attributes)) + "/>\n";
    out_ += text(x_ + 17, y_, label, "class=\"legend\"");
    x_ += 17 + 6.3 * static_cast<double>(label.size()) + 22;
  }
  const std::string& svg() const { return out_; }

 private:
  double x_;
  double y_;
  std::string out_;
};

}  // namespace

std::string_view component_colour(Component component) {
  switch (component) {
    case Component::vision: return "#4e79a7";
    case Component::projector: return "#f28e2b";
    case Component::language: return "#59a14f";
    case Component::other: return "#9c755f";
  }
  return "#9c755f";
}

std::string snr_chart(const std::vector<LayerReport>& layers) {
  const size_t n = layers.size();
  // Up to 48 layers each bar gets its (shortened) name; beyond that, names would overlap, so the axis shows
  // thinned indices and the full name is in each bar's tooltip and in the layer table.
  const bool named = n <= 48;
  constexpr double left = 64, right = 16, plot_top = 44, plot_height = 260;
  const double bottom = named ? 190 : 56;
  const double height = plot_top + plot_height + bottom;
  const double plot_width = chart_width - left - right;
  const double plot_bottom = plot_top + plot_height;

  bool any_identical = false, any_broken = false, any_finite = false;
  double lo = 0.0, hi = 0.0, max_finite = 0.0;
  for (const auto& layer : layers) {
    const double v = layer.snr_db;
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      max_finite = any_finite ? std::max(max_finite, v) : v;
      any_finite = true;
    } else if (v > 0) {
      any_identical = true;
    } else {
      any_broken = true;  // -inf or NaN
    }
  }
  if (hi - lo <= 0.0) hi = 40.0;  // no spread: an arbitrary but typical dB range
  const double step = nice_step(hi - lo, 6);
  hi = std::ceil(hi / step - 1e-9) * step;
  lo = std::floor(lo / step + 1e-9) * step;
  if (any_identical && any_finite && max_finite >= hi) hi += step;  // keep ∞ bars taller than any finite bar
  if (any_broken && lo >= 0.0) lo = -step;                          // room below zero for −∞ bars
  const auto y_of = [&](double v) { return plot_top + (hi - std::clamp(v, lo, hi)) / (hi - lo) * plot_height; };
  const double y_zero = y_of(0.0);

  std::string svg = "<svg id=\"snr-chart\" class=\"chart\" viewBox=\"0 0 " + px(chart_width) + " " + px(height) +
                    "\" width=\"" + px(chart_width) + "\" height=\"" + px(height) +
                    "\" role=\"img\" aria-label=\"Per-layer output SNR in dB, " + std::to_string(n) + " layers\">\n";

  // Grid and y axis.
  for (double v = lo; v <= hi + step * 1e-6; v += step) {
    const double y = y_of(v);
    svg += "<line class=\"grid\" x1=\"" + px(left) + "\" x2=\"" + px(left + plot_width) + "\" y1=\"" + px(y) + "\" y2=\"" +
           px(y) + "\"/>\n";
    svg += text(left - 6, y + 4, number(std::abs(v) < step * 1e-6 ? 0.0 : v, 6), "class=\"tick\" text-anchor=\"end\"");
  }
  svg += "<line class=\"axis\" x1=\"" + px(left) + "\" x2=\"" + px(left + plot_width) + "\" y1=\"" + px(y_zero) +
         "\" y2=\"" + px(y_zero) + "\"/>\n";
  svg += text(16, plot_top + plot_height / 2, "SNR (dB), higher is better",
              "class=\"axis-title\" text-anchor=\"middle\" transform=\"rotate(-90 16 " + px(plot_top + plot_height / 2) + ")\"");
  svg += text(left + plot_width / 2, height - 8, named ? "layers in graph order" : "layers in graph order (index)",
              "class=\"axis-title\" text-anchor=\"middle\"");

  // Legend: the components present, then the special bars when there are any.
  Legend legend(left, 20);
  for (Component c : component_order) {
    const auto count = std::count_if(layers.begin(), layers.end(), [&](const LayerReport& l) { return l.component == c; });
    if (count > 0) legend.add(component_colour(c), std::string(component_name(c)) + " (" + std::to_string(count) + ")");
  }
  if (any_identical) legend.add("#777777", "identical output (SNR \u221E)", "fill-opacity=\"0.35\" stroke=\"#777777\"");
  if (any_broken) legend.add(broken_colour, "non-finite or silent reference (SNR \u2212\u221E)");
  svg += legend.svg();

  // Bars: width scales with the count; a small gap only while there is room for one.
  const double slot = plot_width / static_cast<double>(std::max<size_t>(n, 1));
  const double gap = slot >= 3.0 ? slot * 0.15 : 0.0;
  const size_t stride = named ? 1 : label_stride(n, 20);
  for (size_t i = 0; i < n; ++i) {
    const LayerReport& layer = layers[i];
    const double x = left + static_cast<double>(i) * slot + gap / 2;
    const double w = slot - gap;
    const double v = layer.snr_db;
    std::string_view fill = component_colour(layer.component);
    std::string kind;
    double top = 0.0, bar_bottom = 0.0;
    std::string extra;
    if (std::isfinite(v)) {
      top = std::min(y_of(v), y_zero);
      bar_bottom = std::max(y_of(v), y_zero);
      if (bar_bottom - top < 1.0) bar_bottom = top + 1.0;  // every layer stays visible
    } else if (v > 0) {
      kind = " identical";
      top = y_of(hi);
      bar_bottom = y_zero;
      extra = " fill-opacity=\"0.35\" stroke=\"" + std::string(fill) + "\" stroke-width=\"0.5\"";
    } else {
      kind = " broken";
      fill = broken_colour;
      top = y_zero;
      bar_bottom = y_of(lo);
    }
    if (i > 0 && layers[i - 1].component != layer.component) {
      const double xd = left + static_cast<double>(i) * slot;
      svg += "<line class=\"divider\" x1=\"" + px(xd) + "\" x2=\"" + px(xd) + "\" y1=\"" + px(plot_top) + "\" y2=\"" +
             px(plot_bottom) + "\"/>\n";
    }
    svg += rect(x, top, w, bar_bottom - top, fill,
                "class=\"layer-bar c-" + std::string(component_name(layer.component)) + kind + "\"" + extra);
    svg += "><title>" +
           escape("#" + std::to_string(i) + " " + layer.name + "\n" + layer.scope + " \u00B7 " +
                  std::string(component_name(layer.component)) + " \u00B7 " + layer.scheme + " " + layer.method +
                  "\nSNR " + number(v) + " dB \u00B7 relative MSE " + number(layer.relative_mse) + " \u00B7 cosine " +
                  number(layer.cosine, 6)) +
           "</title></rect>\n";

    const double cx = x + w / 2;
    if (named) {
      const double ly = plot_bottom + 10;
      svg += text(cx + 3, ly, short_label(layer, 34),
                  "class=\"label\" text-anchor=\"end\" transform=\"rotate(-55 " + px(cx + 3) + " " + px(ly) + ")\"");
    } else if (i % stride == 0) {
      svg += "<line class=\"axis\" x1=\"" + px(cx) + "\" x2=\"" + px(cx) + "\" y1=\"" + px(plot_bottom) + "\" y2=\"" +
             px(plot_bottom + 5) + "\"/>\n";
      svg += text(cx, plot_bottom + 18, std::to_string(i), "class=\"tick\" text-anchor=\"middle\"");
    }
  }
  svg += "<line class=\"axis\" x1=\"" + px(left) + "\" x2=\"" + px(left) + "\" y1=\"" + px(plot_top) + "\" y2=\"" +
         px(plot_bottom) + "\"/>\n";
  return svg + "</svg>\n";
}

std::string size_chart(const std::vector<ComponentSize>& sizes) {
  constexpr double label_width = 110, bar_left = 120, bar_area = 720, top = 36, bar_height = 18, row_height = 54;
  const double height = top + row_height * static_cast<double>(sizes.size()) + 6;
  uint64_t largest = 1;
  for (const auto& s : sizes) largest = std::max({largest, s.bytes_before, s.bytes_after});
  const auto length = [&](uint64_t count) {
    if (count == 0) return 0.0;
    return std::max(1.0, bar_area * static_cast<double>(count) / static_cast<double>(largest));
  };

  std::string svg = "<svg id=\"size-chart\" class=\"chart\" viewBox=\"0 0 " + px(chart_width) + " " + px(height) +
                    "\" width=\"" + px(chart_width) + "\" height=\"" + px(height) +
                    "\" role=\"img\" aria-label=\"Bytes before and after compression per component\">\n";
  Legend legend(bar_left, 18);
  legend.add(before_colour, "before");
  legend.add("#555555", "after (component colour)");
  svg += legend.svg();

  for (size_t i = 0; i < sizes.size(); ++i) {
    const ComponentSize& s = sizes[i];
    const std::string name(component_name(s.component));
    const double y = top + row_height * static_cast<double>(i);
    svg += text(label_width, y + bar_height + 4, name, "class=\"row-label\" text-anchor=\"end\"");

    const double before = length(s.bytes_before);
    svg += rect(bar_left, y, before, bar_height, before_colour, "class=\"size-bar before c-" + name + "\"") + "><title>" +
           escape(name + " before: " + group_digits(s.bytes_before) + " bytes") + "</title></rect>\n";
    svg += text(bar_left + before + 6, y + 13, bytes(s.bytes_before), "class=\"value\"");

    const double after = length(s.bytes_after);
    std::string change;
    if (s.bytes_before > 0) {
      const double ratio = static_cast<double>(s.bytes_after) / static_cast<double>(s.bytes_before);
      change = " (" + signed_number(100.0 * (ratio - 1.0), 3) + " %";
      if (s.bytes_after > 0 && ratio < 1.0) change += ", \u00D7" + number(1.0 / ratio, 3) + " smaller";
      change += ")";
    }
    svg += rect(bar_left, y + bar_height + 2, after, bar_height, component_colour(s.component),
                "class=\"size-bar after c-" + name + "\"") +
           "><title>" + escape(name + " after: " + group_digits(s.bytes_after) + " bytes") + "</title></rect>\n";
    svg += text(bar_left + after + 6, y + bar_height + 15, bytes(s.bytes_after) + change, "class=\"value\"");
  }
  return svg + "</svg>\n";
}

}  // namespace edgec::report::html
