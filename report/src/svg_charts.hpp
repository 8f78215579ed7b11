#pragma once
// The report's two inline SVG charts. Plain SVG elements with <title> tooltips: no script, no external
// resource, readable from 1 to thousands of bars (bar width scales, axis labels thin out).
#include <string>
#include <string_view>
#include <vector>

#include "edgec/report/report.hpp"

namespace edgec::report::html {

// Fill colour of a component (colour-blind-safe Tableau 10 hues), shared by charts and tables.
std::string_view component_colour(Component component);

// Per-layer SNR in dB, one <rect class="layer-bar ..."> per layer in graph order, coloured by component,
// with a legend. Expects at least one layer.
std::string snr_chart(const std::vector<LayerReport>& layers);

// Bytes before/after per component: two <rect class="size-bar ..."> per component, each labelled with its
// size. Expects at least one component.
std::string size_chart(const std::vector<ComponentSize>& sizes);

}  // namespace edgec::report::html
