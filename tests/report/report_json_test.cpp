// The report's JSON (report/report_json.hpp): exact round trip, deterministic text, non-finite values, reader
// errors naming the field, and conformance to the documented schema (docs/report.schema.json, checked by
// schema_checker.hpp) and field list (docs/reports.md).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "edgec/core/error.hpp"
#include "edgec/report/report_json.hpp"
#include "report_fixture.hpp"
#include "schema_checker.hpp"

using namespace edgec::report;
using namespace edgec::report::test;
using nlohmann::json;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::filesystem::path(EDGEC_SOURCE_DIR) / relative, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read " << relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json documented_schema() { return json::parse(read_source_file("docs/report.schema.json")); }

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

// The message of the input error from_json throws for `j`.
std::string reader_error(const json& j) {
  try {
    (void)from_json(j, "out/report.json");
  } catch (const edgec::Error& e) {
    CHECK(e.category() == edgec::ErrorCategory::input);
    return e.what();
  }
  FAIL("from_json accepted an invalid report");
  return {};
}

}  // namespace

TEST_CASE("report json: round trip is exact") {
  const CompileReport report = realistic_report();
  const json j = to_json(report);
  CHECK(from_json(j) == report);
  CHECK(parse_report_json(to_json_text(report)) == report);
  CHECK(j["schema"] == "edgec.report/1");
  CHECK(j["status"] == "failed");
  CHECK(j["layers"].size() == 40);
  CHECK(j["size"]["total_before"] == total_bytes_before(report));

  SUBCASE("awkward doubles survive text exactly") {
    CompileReport r = report;
    const double values[] = {0.1 + 0.2, 1.0 / 3.0, 1e-300, 4.9406564584124654e-324, 1.7976931348623157e308, -0.0, 123456789.123456789};
    r.layers.resize(std::size(values));
    for (size_t i = 0; i < std::size(values); ++i) {
      r.layers[i].error = values[i];
      r.layers[i].relative_mse = values[i] < 0 ? 0.5 : values[i];
      r.layers[i].cosine = 1.0 - values[i];
      r.layers[i].snr_db = -values[i];
      r.layers[i].rtn_error = std::nullopt;
    }
    r.metrics[0].reference = std::nullopt;
    r.latency = std::nullopt;
    const CompileReport back = parse_report_json(to_json_text(r));
    CHECK(back == r);
    for (size_t i = 0; i < std::size(values); ++i) CHECK(std::signbit(back.layers[i].error) == std::signbit(values[i]));
    CHECK_FALSE(to_json(r).contains("latency"));
    CHECK_FALSE(to_json(r)["metrics"][0].contains("reference"));
  }
}

TEST_CASE("report json: non-finite values are null and read back by the documented rules") {
  CompileReport r = realistic_report();
  r.layers[0].relative_mse = 0.0;  // identical outputs
  r.layers[0].snr_db = inf;
  r.layers[1].relative_mse = inf;  // silent reference or non-finite output
  r.layers[1].snr_db = -inf;
  r.layers[1].cosine = std::nan("");
  r.metrics[0].value = inf;
  const json j = to_json(r);
  CHECK(j["layers"][0]["snr_db"].is_null());
  CHECK(j["layers"][1]["relative_mse"].is_null());
  CHECK(j["layers"][1]["snr_db"].is_null());
  CHECK(j["layers"][1]["cosine"].is_null());
  const CompileReport back = from_json(j);
  CHECK(back.layers[0].snr_db == inf);
  CHECK(back.layers[1].relative_mse == inf);
  CHECK(back.layers[1].snr_db == -inf);
  CHECK(std::isnan(back.layers[1].cosine));
  CHECK(std::isnan(back.metrics[0].value));  // other numbers: null reads as NaN
  CHECK(to_json(back) == j);
}

TEST_CASE("report json: output is deterministic, keys sorted, invalid UTF-8 replaced") {
  const std::string a = to_json_text(realistic_report());
  CHECK(a == to_json_text(realistic_report()));
  CHECK(a.back() == '\n');
  CHECK(a.find("\"edgec_version\"") < a.find("\"gates\""));  // sorted keys
  CompileReport bad = realistic_report();
  bad.layers[0].name = "w\xff\xfe";
  const std::string text = to_json_text(bad);
  CHECK(text.find("w\xef\xbf\xbd\xef\xbf\xbd") != std::string::npos);  // U+FFFD twice
}

TEST_CASE("report json: reader errors name the file and the field") {
  const json good = to_json(realistic_report());
  json j = good;
  j["layers"][3].erase("cosine");
  CHECK(reader_error(j).find("out/report.json: layers[3]: missing required key \"cosine\"") == 0);
  j = good;
  j["layers"][2]["out_features"] = "128";
  CHECK(reader_error(j).find("layers[2].out_features: expected an integer") != std::string::npos);
  j = good;
  j["layers"][0]["component"] = "decoder";
  CHECK(reader_error(j).find("unknown component \"decoder\"") != std::string::npos);
  j = good;
  j["schema"] = "edgec.report/2";
  CHECK(reader_error(j).find("unsupported report version \"edgec.report/2\"") != std::string::npos);
  j = good;
  j["size"]["total_after"] = 1;
  CHECK(reader_error(j).find("size.total_after") != std::string::npos);
  j = good;
  j["gates"][0]["op"] = "<";
  CHECK(reader_error(j).find("gates[0].op") != std::string::npos);
  j = good;
  j["size"]["components"][0]["bytes_before"] = -5;
  CHECK(reader_error(j).find("expected a non-negative integer") != std::string::npos);
  CHECK_THROWS_AS(parse_report_json("{\"schema\": ", "x.json"), edgec::Error);
  CHECK(reader_error(json::array()).find("(top level): expected an object") != std::string::npos);
}

TEST_CASE("report json: unknown keys from later additive versions are ignored") {
  json j = to_json(realistic_report());
  j["energy_mj"] = 12.5;
  j["layers"][0]["sparsity"] = 0.5;
  CHECK(from_json(j) == realistic_report());
}

TEST_CASE("report json: emitted JSON conforms to docs/report.schema.json") {
  SchemaChecker checker(documented_schema(), /*strict=*/true);
  const CompileReport report = realistic_report();
  CHECK_MESSAGE(checker.check(to_json(report)).empty(), join(checker.check(to_json(report))));

  SUBCASE("also with the optional parts absent and no layers") {
    CompileReport r = report;
    r.layers.clear();
    r.latency = std::nullopt;
    r.metrics[0].reference = std::nullopt;
    r.layers.push_back(fixture_layer(0, Component::other, "x", 1, 1));
    r.layers.back().rtn_error = std::nullopt;
    r.layers.back().snr_db = inf;
    CHECK_MESSAGE(checker.check(to_json(r)).empty(), join(checker.check(to_json(r))));
  }
  SUBCASE("the checker catches missing keys, wrong types, bad enums and undocumented keys") {
    json j = to_json(report);
    j["layers"][5].erase("snr_db");
    j["metrics"][1]["higher_is_better"] = "no";
    j["layers"][0]["component"] = "decoder";
    j["size"]["total_before"] = 1.5;
    j["undocumented"] = 1;
    j.erase("notes");
    const auto errors = checker.check(j);
    const std::string all = join(errors);
    CHECK(errors.size() == 6);
    CHECK(all.find("$.layers[5]: missing required key snr_db") != std::string::npos);
    CHECK(all.find("$.metrics[1].higher_is_better: expected boolean, got string") != std::string::npos);
    CHECK(all.find("$.layers[0].component: \"decoder\" is not one of") != std::string::npos);
    CHECK(all.find("$.size.total_before: expected integer, got number") != std::string::npos);
    CHECK(all.find("key undocumented is not in the documented schema") != std::string::npos);
    CHECK(all.find("missing required key notes") != std::string::npos);
  }
}

TEST_CASE("report json: every schema field is described in docs/reports.md") {
  const std::string doc = read_source_file("docs/reports.md");
  const SchemaChecker checker(documented_schema(), true);
  for (const std::string& name : checker.property_names())
    CHECK_MESSAGE(doc.find("`" + name + "`") != std::string::npos, "docs/reports.md does not describe `" << name << "`");
  // ... and every key the writer emits is a schema property (strict check above), so the three agree.
  CHECK(doc.find("edgec.report/1") != std::string::npos);
}
