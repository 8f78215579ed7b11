#include "hf/config.hpp"

#include <cmath>
#include <cstdint>

#include "edgec/core/error.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {

using formats_detail::describe_json;
using nlohmann::json;

std::string Config::where(const std::string& key) const { return file_ + ": " + key_path(key); }

void Config::fail(const std::string& key, const std::string& what) const { throw_input_error(where(key), what); }

const json* Config::find(const std::string& key) const {
  const auto it = json_->find(key);
  if (it == json_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool Config::has(const std::string& key) const { return find(key) != nullptr; }

const json& Config::require(const std::string& key, const char* expected) const {
  const json* value = find(key);
  if (!value) fail(key, std::string("missing (expected ") + expected + ")");
  return *value;
}

Config Config::object(const std::string& key) const {
  const json& value = require(key, "an object");
  if (!value.is_object()) fail(key, "expected an object, got " + describe_json(value));
  return Config(value, file_, key_path(key) + ".");
}

int64_t Config::integer(const std::string& key) const {
  const json& value = require(key, "an integer");
  if (value.is_number_unsigned() && value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(value.get<uint64_t>());
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
  // 4.0 is an integer written as a float: accept it, as Python's json + int() would.
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
  }
  fail(key, "expected an integer, got " + describe_json(value));
}

int64_t Config::integer(const std::string& key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

int64_t Config::positive_int(const std::string& key) const {
  const json* value = find(key);
  if (!value) fail(key, "missing (expected a positive integer)");
  if (!value->is_number()) fail(key, "expected a positive integer, got " + describe_json(*value));
  const int64_t result = integer(key);
  // Model dimensions beyond 2^31 are not plausible and would overflow products of dimensions.
  if (result <= 0 || result > (int64_t{1} << 31))
    fail(key, "expected a positive integer, got " + describe_json(*value));
  return result;
}

int64_t Config::positive_int(const std::string& key, int64_t fallback) const {
  return has(key) ? positive_int(key) : fallback;
}

double Config::number(const std::string& key, double fallback) const {
  const json* value = find(key);
  if (!value) return fallback;
  if (!value->is_number() || !std::isfinite(value->get<double>()))
    fail(key, "expected a number, got " + describe_json(*value));
  return value->get<double>();
}

double Config::positive_number(const std::string& key, double fallback) const {
  const double result = number(key, fallback);
  if (!(result > 0)) fail(key, "expected a positive number, got " + describe_json(json(result)));
  return result;
}

bool Config::boolean(const std::string& key, bool fallback) const {
  const json* value = find(key);
  if (!value) return fallback;
  if (!value->is_boolean()) fail(key, "expected true or false, got " + describe_json(*value));
  return value->get<bool>();
}

std::string Config::string(const std::string& key) const {
  const json& value = require(key, "a string");
  if (!value.is_string()) fail(key, "expected a string, got " + describe_json(value));
  return value.get<std::string>();
}

std::string Config::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

}  // namespace edgec::hf
