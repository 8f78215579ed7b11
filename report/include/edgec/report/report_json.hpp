#pragma once
// The report as JSON (schema "edgec.report/1": docs/report.schema.json, fields in docs/reports.md).
//
// Keys are sorted (nlohmann::json's std::map objects), so the same report always gives the same bytes.
// Doubles are written in their shortest round-trip form, so to_json -> from_json is exact. Non-finite
// doubles are written as null and read back as:
//   relative_mse null -> +inf;  snr_db null -> +inf when relative_mse is 0, else -inf (snr = -10 log10 mse);
//   any other number null -> NaN.
// Optional fields (Metric::reference, LayerReport::rtn_error, latency) are omitted when absent.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edgec/report/report.hpp"

namespace edgec::report {

nlohmann::json to_json(const CompileReport& report);

// Pretty-printed (2 spaces) with a trailing newline; invalid UTF-8 in names is replaced by U+FFFD.
std::string to_json_text(const CompileReport& report);

// Reads a report written by to_json (or by hand). Unknown keys are ignored, so readers of "/1" accept
// files from later additive versions. Throws edgec::Error (input) naming `where` (the file) and the field
// when a required key is missing, has the wrong type or an unknown enum value, or the schema is not "/1".
CompileReport from_json(const nlohmann::json& json, std::string_view where = "report");

// Parses JSON text, then from_json; a syntax error is an input error naming `where`.
CompileReport parse_report_json(std::string_view text, std::string_view where = "report");

}  // namespace edgec::report
