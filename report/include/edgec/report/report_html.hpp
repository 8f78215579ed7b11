#pragma once
// The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no external
// font, image or URL, so it opens offline from a file and can be attached to a ticket as is.
//
// Sections: header (model, target, status badge and each failing gate), end-to-end metrics (reference vs
// compiled, delta), verify gates, latency, per-layer SNR chart, size per component (chart and table),
// stage timings, per-layer table, notes. All text is escaped. The output depends only on the report, so
// the same report gives the same bytes.
#include <string>

#include "edgec/report/report.hpp"

namespace edgec::report {

std::string to_html(const CompileReport& report);

}  // namespace edgec::report
