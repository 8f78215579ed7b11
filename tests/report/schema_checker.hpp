#pragma once
// A checker for the subset of JSON Schema (draft 2020-12) that docs/report.schema.json uses, so the test
// validates emitted reports against the documented schema itself without a new dependency. A keyword
// outside the subset is reported as an error rather than ignored, so the schema cannot silently grow
// constraints the test does not check. In strict mode an object key that the schema does not list is also
// an error: everything the writer emits must be documented.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgec::report::test {

class SchemaChecker {
 public:
  SchemaChecker(nlohmann::json root, bool strict) : root_(std::move(root)), strict_(strict) {}

  // Every problem found, one line each ("layers[3].cosine: expected number|null, got string").
  std::vector<std::string> check(const nlohmann::json& value) {
    errors_.clear();
    check(root_, value, "$");
    return errors_;
  }

  // Every property name the schema declares, at any depth (for the documentation check).
  std::set<std::string> property_names() const {
    std::set<std::string> names;
    collect(root_, names);
    return names;
  }

 private:
  void fail(const std::string& path, const std::string& what) { errors_.push_back(path + ": " + what); }

  static bool has_type(const nlohmann::json& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "null") return value.is_null();
    if (type == "number") return value.is_number();
    if (type == "integer") return value.is_number_integer();
    return false;
  }

  const nlohmann::json& resolve(const std::string& ref, const std::string& path) {
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 || !root_["$defs"].contains(ref.substr(prefix.size()))) {
      fail(path, "unresolvable $ref " + ref);
      return null_;
    }
    return root_["$defs"][ref.substr(prefix.size())];
  }

  void check(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path) {
    static const std::set<std::string> annotations = {"$schema", "$id", "title", "description", "$defs"};
    static const std::set<std::string> supported = {"$ref", "type", "required", "properties", "items", "enum", "const", "minimum"};
    for (const auto& [keyword, ignored] : schema.items())
      if (!annotations.count(keyword) && !supported.count(keyword)) fail(path, "schema keyword " + keyword + " is not supported by the checker");

    if (schema.contains("$ref")) check(resolve(schema["$ref"].get<std::string>(), path), value, path);
    if (schema.contains("type")) {
      std::vector<std::string> types;
      if (schema["type"].is_array()) {
        for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
      } else {
        types.push_back(schema["type"].get<std::string>());
      }
      if (std::none_of(types.begin(), types.end(), [&](const std::string& t) { return has_type(value, t); })) {
        std::string expected;
        for (const auto& t : types) expected += (expected.empty() ? "" : "|") + t;
        fail(path, "expected " + expected + ", got " + value.type_name());
        return;  // the remaining keywords assume the type
      }
    }
    if (schema.contains("const") && value != schema["const"]) fail(path, "expected " + schema["const"].dump() + ", got " + value.dump());
    if (schema.contains("enum")) {
      const auto& options = schema["enum"];
      if (std::find(options.begin(), options.end(), value) == options.end())
        fail(path, value.dump() + " is not one of " + options.dump());
    }
    if (schema.contains("minimum") && value.is_number() && value.get<double>() < schema["minimum"].get<double>())
      fail(path, value.dump() + " is below the minimum " + schema["minimum"].dump());
    if (value.is_object()) {
      if (schema.contains("required"))
        for (const auto& key : schema["required"])
          if (!value.contains(key.get<std::string>())) fail(path, "missing required key " + key.get<std::string>());
      if (schema.contains("properties")) {
        for (const auto& [key, item] : value.items()) {
          if (schema["properties"].contains(key))
            check(schema["properties"][key], item, path + "." + key);
          else if (strict_)
            fail(path, "key " + key + " is not in the documented schema");
        }
      }
    }
    if (value.is_array() && schema.contains("items"))
      for (size_t i = 0; i < value.size(); ++i) check(schema["items"], value[i], path + "[" + std::to_string(i) + "]");
  }

  static void collect(const nlohmann::json& schema, std::set<std::string>& names) {
    if (!schema.is_object()) return;
    if (schema.contains("properties"))
      for (const auto& [key, item] : schema["properties"].items()) {
        names.insert(key);
        collect(item, names);
      }
    if (schema.contains("items")) collect(schema["items"], names);
    if (schema.contains("$defs"))
      for (const auto& [key, item] : schema["$defs"].items()) collect(item, names);
  }

  nlohmann::json root_;
  bool strict_;
  nlohmann::json null_;
  std::vector<std::string> errors_;
};

}  // namespace edgec::report::test
