#include "edgec/report/report_json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "edgec/core/error.hpp"

namespace edgec::report {

using nlohmann::json;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// JSON has no infinity or NaN; null stands for "not finite" (see the header for how each field reads it).
json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json stage_json(const StageTiming& s) { return {{"name", s.name}, {"pass", s.pass}, {"seconds", number(s.seconds)}}; }

json layer_json(const LayerReport& l) {
  json j = {{"name", l.name},
            {"scope", l.scope},
            {"component", component_name(l.component)},
            {"op", l.op},
            {"out_features", l.out_features},
            {"in_features", l.in_features},
            {"scheme", l.scheme},
            {"method", l.method},
            {"relative_mse", number(l.relative_mse)},
            {"cosine", number(l.cosine)},
            {"snr_db", number(l.snr_db)},
            {"error", number(l.error)}};
  if (l.rtn_error) j["rtn_error"] = number(*l.rtn_error);
  return j;
}

json metric_json(const Metric& m) {
  json j = {{"name", m.name},
            {"value", number(m.value)},
            {"unit", m.unit},
            {"description", m.description},
            {"higher_is_better", m.higher_is_better}};
  if (m.reference) j["reference"] = number(*m.reference);
  return j;
}

json gate_json(const Gate& g) {
  return {{"metric", g.metric},
          {"op", gate_op_symbol(g.op)},
          {"threshold", number(g.threshold)},
          {"actual", number(g.actual)},
          {"passed", g.passed}};
}

template <class T, class F>
json array_of(const std::vector<T>& items, F&& convert) {
  json out = json::array();
  for (const auto& item : items) out.push_back(convert(item));
  return out;
}

// Reading: every accessor knows the JSON path of the value it reads, so an error names the exact field.
class Reader {
 public:
  explicit Reader(std::string_view where) : where_(where) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw_input_error(where_, path + ": " + what);
  }

  const json& member(const json& object, const std::string& path, const char* key) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(path, std::string("missing required key \"") + key + "\"");
    return *it;
  }

  const json& object(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_object()) fail(join(path, key), "expected an object, got " + std::string(value.type_name()));
    return value;
  }

  const json& array(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_array()) fail(join(path, key), "expected an array, got " + std::string(value.type_name()));
    return value;
  }

  std::string string(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_string()) fail(join(path, key), "expected a string, got " + std::string(value.type_name()));
    return value.get<std::string>();
  }

  bool boolean(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_boolean()) fail(join(path, key), "expected true or false, got " + std::string(value.type_name()));
    return value.get<bool>();
  }

  // A number, or null for a non-finite value (read as `if_null`).
  double real(const json& value, const std::string& path, double if_null = nan) const {
    if (value.is_null()) return if_null;
    if (!value.is_number()) fail(path, "expected a number or null, got " + std::string(value.type_name()));
    return value.get<double>();
  }
  double real(const json& parent, const std::string& path, const char* key, double if_null = nan) const {
    return real(member(parent, path, key), join(path, key), if_null);
  }
  std::optional<double> optional_real(const json& parent, const std::string& path, const char* key) const {
    const auto it = parent.find(key);
    if (it == parent.end()) return std::nullopt;
    return real(*it, join(path, key));
  }

  int64_t integer(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_number_integer() || (value.is_number_unsigned() &&
                                       value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
      fail(join(path, key), "expected an integer, got " + std::string(value.type_name()));
    return value.get<int64_t>();
  }

  uint64_t byte_count(const json& parent, const std::string& path, const char* key) const {
    const json& value = member(parent, path, key);
    if (!value.is_number_unsigned())
      fail(join(path, key), "expected a non-negative integer, got " + std::string(value.type_name()));
    return value.get<uint64_t>();
  }

  static std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

 private:
  std::string where_;
};

Component read_component(const Reader& r, const json& parent, const std::string& path) {
  const std::string name = r.string(parent, path, "component");
  const auto component = component_from_name(name);
  if (!component)
    r.fail(Reader::join(path, "component"), "unknown component \"" + name + "\" (vision, projector, language, other)");
  return *component;
}

StageTiming read_stage(const Reader& r, const json& j, const std::string& path) {
  return {r.string(j, path, "name"), r.string(j, path, "pass"), r.real(j, path, "seconds")};
}

LayerReport read_layer(const Reader& r, const json& j, const std::string& path) {
  LayerReport l;
  l.name = r.string(j, path, "name");
  l.scope = r.string(j, path, "scope");
  l.component = read_component(r, j, path);
  l.op = r.string(j, path, "op");
  l.out_features = r.integer(j, path, "out_features");
  l.in_features = r.integer(j, path, "in_features");
  l.scheme = r.string(j, path, "scheme");
  l.method = r.string(j, path, "method");
  l.relative_mse = r.real(j, path, "relative_mse", inf);
  l.cosine = r.real(j, path, "cosine");
  // snr_db = -10 log10(relative_mse): only mse 0 (identical outputs) gives +inf.
  l.snr_db = r.real(j, path, "snr_db", l.relative_mse == 0.0 ? inf : -inf);
  l.error = r.real(j, path, "error");
  l.rtn_error = r.optional_real(j, path, "rtn_error");
  return l;
}

Metric read_metric(const Reader& r, const json& j, const std::string& path) {
  Metric m;
  m.name = r.string(j, path, "name");
  m.reference = r.optional_real(j, path, "reference");
  m.value = r.real(j, path, "value");
  m.unit = r.string(j, path, "unit");
  m.description = r.string(j, path, "description");
  m.higher_is_better = r.boolean(j, path, "higher_is_better");
  return m;
}

Gate read_gate(const Reader& r, const json& j, const std::string& path) {
  Gate g;
  g.metric = r.string(j, path, "metric");
  const std::string op = r.string(j, path, "op");
  const auto parsed = gate_op_from_symbol(op);
  if (!parsed) r.fail(Reader::join(path, "op"), "unknown comparison \"" + op + "\" (expected \"<=\" or \">=\")");
  g.op = *parsed;
  g.threshold = r.real(j, path, "threshold");
  g.actual = r.real(j, path, "actual");
  g.passed = r.boolean(j, path, "passed");
  return g;
}

template <class T, class F>
std::vector<T> read_array(const Reader& r, const json& parent, const std::string& path, const char* key, F&& read) {
  const json& items = r.array(parent, path, key);
  const std::string items_path = Reader::join(path, key);
  std::vector<T> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item_path = Reader::index(items_path, i);
    if (!items[i].is_object()) r.fail(item_path, "expected an object, got " + std::string(items[i].type_name()));
    out.push_back(read(r, items[i], item_path));
  }
  return out;
}

}  // namespace

json to_json(const CompileReport& report) {
  json size = {{"components", array_of(report.sizes,
                                       [](const ComponentSize& s) {
                                         return json{{"component", component_name(s.component)},
                                                     {"bytes_before", s.bytes_before},
                                                     {"bytes_after", s.bytes_after}};
                                       })},
               {"total_before", total_bytes_before(report)},
               {"total_after", total_bytes_after(report)}};
  json j = {{"schema", schema_version},
            {"edgec_version", report.edgec_version},
            {"recipe", {{"path", report.recipe_path}, {"sha256", report.recipe_sha256}}},
            {"model", {{"name", report.model_name}, {"path", report.model_path}}},
            {"target", report.target},
            {"status", status_name(report.status)},
            {"stages", array_of(report.stages, stage_json)},
            {"layers", array_of(report.layers, layer_json)},
            {"size", std::move(size)},
            {"metrics", array_of(report.metrics, metric_json)},
            {"gates", array_of(report.gates, gate_json)},
            {"notes", report.notes}};
  if (report.latency) {
    const Latency& l = *report.latency;
    j["latency"] = {{"reference_ms", number(l.reference_ms)},
                    {"compiled_ms", number(l.compiled_ms)},
                    {"samples", l.samples},
                    {"threads", l.threads}};
  }
  return j;
}

std::string to_json_text(const CompileReport& report) {
  return to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

CompileReport from_json(const json& j, std::string_view where) {
  const Reader r(where);
  if (!j.is_object()) r.fail("(top level)", "expected an object, got " + std::string(j.type_name()));
  const std::string schema = r.string(j, "", "schema");
  if (schema != schema_version) {
    if (schema.starts_with("edgec.report/"))
      r.fail("schema", "unsupported report version \"" + schema + "\" (this edgec reads " +
                           std::string(schema_version) + ")");
    r.fail("schema", "\"" + schema + "\" is not an edgec report schema (expected " + std::string(schema_version) + ")");
  }

  CompileReport report;
  report.edgec_version = r.string(j, "", "edgec_version");
  const json& recipe = r.object(j, "", "recipe");
  report.recipe_path = r.string(recipe, "recipe", "path");
  report.recipe_sha256 = r.string(recipe, "recipe", "sha256");
  const json& model = r.object(j, "", "model");
  report.model_name = r.string(model, "model", "name");
  report.model_path = r.string(model, "model", "path");
  report.target = r.string(j, "", "target");
  const std::string status = r.string(j, "", "status");
  const auto parsed_status = status_from_name(status);
  if (!parsed_status) r.fail("status", "unknown status \"" + status + "\" (expected \"passed\" or \"failed\")");
  report.status = *parsed_status;

  report.stages = read_array<StageTiming>(r, j, "", "stages", read_stage);
  report.layers = read_array<LayerReport>(r, j, "", "layers", read_layer);

  const json& size = r.object(j, "", "size");
  report.sizes = read_array<ComponentSize>(r, size, "size", "components",
                                           [](const Reader& rr, const json& item, const std::string& path) {
                                             return ComponentSize{read_component(rr, item, path),
                                                                  rr.byte_count(item, path, "bytes_before"),
                                                                  rr.byte_count(item, path, "bytes_after")};
                                           });
  // The totals are redundant with the components; a mismatch means the file was edited inconsistently.
  if (r.byte_count(size, "size", "total_before") != total_bytes_before(report))
    r.fail("size.total_before", "does not equal the sum of size.components[].bytes_before");
  if (r.byte_count(size, "size", "total_after") != total_bytes_after(report))
    r.fail("size.total_after", "does not equal the sum of size.components[].bytes_after");

  report.metrics = read_array<Metric>(r, j, "", "metrics", read_metric);
  if (const auto it = j.find("latency"); it != j.end()) {
    if (!it->is_object()) r.fail("latency", "expected an object, got " + std::string(it->type_name()));
    report.latency = Latency{r.real(*it, "latency", "reference_ms"), r.real(*it, "latency", "compiled_ms"),
                             r.integer(*it, "latency", "samples"), r.integer(*it, "latency", "threads")};
  }
  report.gates = read_array<Gate>(r, j, "", "gates", read_gate);

  const json& notes = r.array(j, "", "notes");
  for (size_t i = 0; i < notes.size(); ++i) {
    if (!notes[i].is_string()) r.fail(Reader::index("notes", i), "expected a string, got " + std::string(notes[i].type_name()));
    report.notes.push_back(notes[i].get<std::string>());
  }
  return report;
}

CompileReport parse_report_json(std::string_view text, std::string_view where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw_input_error(std::string(where), std::string("not valid JSON: ") + e.what());
  }
  return from_json(j, where);
}

}  // namespace edgec::report
