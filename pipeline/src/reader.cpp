#include "reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <sstream>

#include "edgec/pipeline/did_you_mean.hpp"

namespace edgec::pipeline::detail {

namespace {

// YAML 1.2 core schema forms of plain scalars (yaml-cpp hands every scalar over as text).
bool is_null_text(const std::string& t) { return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL"; }
bool is_bool_text(const std::string& t) {
  return t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE";
}
bool is_int_text(const std::string& t) {
  static const std::regex pattern("[-+]?[0-9]+");
  return std::regex_match(t, pattern);
}
bool is_float_text(const std::string& t) {
  static const std::regex pattern(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  return std::regex_match(t, pattern);
}

std::string label(const std::string& path) { return path.empty() ? std::string() : path + ": "; }
std::string subject(const std::string& path) { return path.empty() ? std::string("the recipe") : path; }

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

void type_error(const TreeNode& node, const std::string& path, const std::string& expected, Diagnostics& diagnostics) {
  diagnostics.error(node.where, label(path) + "expected " + expected + ", got " + describe(node));
}

bool plain(const TreeNode& node) { return node.kind == TreeNode::Kind::scalar && !node.quoted; }

}  // namespace

std::string describe(const TreeNode& node) {
  switch (node.kind) {
    case TreeNode::Kind::null: return "an empty value";
    case TreeNode::Kind::sequence: return "a list";
    case TreeNode::Kind::map: return "a map";
    case TreeNode::Kind::scalar: break;
  }
  if (!node.quoted) {
    if (is_null_text(node.text)) return "an empty value";
    if (is_int_text(node.text)) return "integer " + node.text;
    if (is_float_text(node.text)) return "number " + node.text;
    if (is_bool_text(node.text)) return "boolean " + node.text;
  }
  return "string '" + node.text + "'";
}

std::string join_choices(const std::vector<std::string>& choices, const std::string& last) {
  std::string text;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) text += i + 1 == choices.size() ? " " + last + " " : ", ";
    text += choices[i];
  }
  return text;
}

std::filesystem::path Context::resolve(const std::string& text, const SourceRef& where) const {
  const std::filesystem::path path(text);
  if (path.is_absolute() || !where.set_argument.empty()) return path.lexically_normal();
  return (folder / path).lexically_normal();
}

std::optional<int64_t> read_integer(const TreeNode& node, const std::string& path, Diagnostics& diagnostics) {
  if (!plain(node) || !is_int_text(node.text)) {
    type_error(node, path, "an integer", diagnostics);
    return std::nullopt;
  }
  const char* begin = node.text.data() + (node.text[0] == '+' ? 1 : 0);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(begin, node.text.data() + node.text.size(), value);
  if (error != std::errc() || end != node.text.data() + node.text.size()) {
    diagnostics.error(node.where, label(path) + "integer " + node.text + " is out of range");
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_number(const TreeNode& node, const std::string& path, Diagnostics& diagnostics, std::optional<Bound> low,
                                  std::optional<Bound> high) {
  if (!plain(node) || !is_float_text(node.text)) {
    type_error(node, path, "a number", diagnostics);
    return std::nullopt;
  }
  const double value = std::strtod(node.text.c_str(), nullptr);
  if (!std::isfinite(value)) {
    diagnostics.error(node.where, label(path) + "number " + node.text + " is out of range");
    return std::nullopt;
  }
  const bool low_ok = !low || (low->open ? value > low->value : value >= low->value);
  const bool high_ok = !high || (high->open ? value < high->value : value <= high->value);
  if (low_ok && high_ok) return value;
  std::string rule;
  if (low && high)
    rule = "in " + std::string(low->open ? "(" : "[") + format_number(low->value) + ", " + format_number(high->value) + (high->open ? ")" : "]");
  else if (low)
    rule = (low->open ? "greater than " : "at least ") + format_number(low->value);
  else
    rule = (high->open ? "less than " : "at most ") + format_number(high->value);
  diagnostics.error(node.where, subject(path) + " must be " + rule + "; got " + node.text);
  return std::nullopt;
}

std::optional<bool> read_boolean(const TreeNode& node, const std::string& path, Diagnostics& diagnostics) {
  if (!plain(node) || !is_bool_text(node.text)) {
    type_error(node, path, "true or false", diagnostics);
    return std::nullopt;
  }
  return node.text[0] == 't' || node.text[0] == 'T';
}

std::optional<std::string> read_string(const TreeNode& node, const std::string& path, Diagnostics& diagnostics,
                                       const std::string& expected) {
  // A plain scalar that YAML reads as a number, boolean or null is not a string: `name: 1` must be quoted.
  const bool string_like = node.kind == TreeNode::Kind::scalar &&
                           (node.quoted || !(is_null_text(node.text) || is_bool_text(node.text) || is_float_text(node.text)));
  if (!string_like) {
    type_error(node, path, expected, diagnostics);
    return std::nullopt;
  }
  return node.text;
}

std::optional<std::filesystem::path> read_existing_path(const TreeNode& node, const std::string& path, Context& context,
                                                        const std::string& expected) {
  const auto text = read_string(node, path, context.diagnostics, expected);
  if (!text) return std::nullopt;
  if (text->empty()) {
    context.diagnostics.error(node.where, path + ": expected a path, got an empty string");
    return std::nullopt;
  }
  const auto resolved = context.resolve(*text, node.where);
  std::error_code ignored;
  if (!std::filesystem::exists(resolved, ignored)) {
    context.diagnostics.error(node.where, path + ": no such file or folder '" + resolved.string() + "'");
    return std::nullopt;
  }
  return resolved;
}

const std::vector<TreeNode>* read_list(const TreeNode& node, const std::string& path, Diagnostics& diagnostics) {
  if (node.kind != TreeNode::Kind::sequence) {
    type_error(node, path, "a list", diagnostics);
    return nullptr;
  }
  return &node.items;
}

MapReader::MapReader(const TreeNode& node, std::string path, std::vector<std::string> known, Context& context,
                     const std::string& expected)
    : where_(node.where), path_(std::move(path)), context_(context) {
  if (node.kind != TreeNode::Kind::map) {
    type_error(node, path_, expected, context_.diagnostics);
    return;
  }
  map_ = &node;
  for (const MapEntry& entry : node.entries) {
    if (std::find(known.begin(), known.end(), entry.key) != known.end()) continue;
    std::string message = label(path_) + "unknown key '" + entry.key + "'";
    if (const auto suggestion = closest_match(entry.key, known))
      message += "; did you mean '" + *suggestion + "'?";
    else
      message += "; expected one of " + join_choices(known);
    context_.diagnostics.error(entry.key_where, message);
  }
}

const TreeNode* MapReader::get(std::string_view key) const { return map_ != nullptr ? map_->find(key) : nullptr; }

std::string MapReader::path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

SourceRef MapReader::where(std::string_view key) const {
  const TreeNode* node = get(key);
  return node != nullptr ? node->where : where_;
}

const TreeNode* MapReader::require(std::string_view key) {
  if (map_ == nullptr) return nullptr;
  const TreeNode* node = get(key);
  if (node == nullptr) context_.diagnostics.error(where_, label(path_) + "missing required key '" + std::string(key) + "'");
  return node;
}

std::optional<int64_t> MapReader::integer(std::string_view key) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_integer(*node, path(key), context_.diagnostics) : std::nullopt;
}

std::optional<int64_t> MapReader::integer_at_least(std::string_view key, int64_t minimum) {
  const auto value = integer(key);
  if (value && *value < minimum) {
    context_.diagnostics.error(where(key), path(key) + " must be at least " + std::to_string(minimum) + "; got " + std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> MapReader::number(std::string_view key, std::optional<Bound> low, std::optional<Bound> high) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_number(*node, path(key), context_.diagnostics, low, high) : std::nullopt;
}

std::optional<bool> MapReader::boolean(std::string_view key) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_boolean(*node, path(key), context_.diagnostics) : std::nullopt;
}

std::optional<std::string> MapReader::string(std::string_view key) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_string(*node, path(key), context_.diagnostics) : std::nullopt;
}

std::optional<std::string> MapReader::choice(std::string_view key, const std::string& noun, const std::vector<std::string>& choices) {
  const TreeNode* node = get(key);
  if (node == nullptr) return std::nullopt;
  const auto value = read_string(*node, path(key), context_.diagnostics);
  if (!value) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *value) != choices.end()) return value;
  std::string message = path(key) + ": unknown " + noun + " '" + *value + "'";
  if (const auto suggestion = closest_match(*value, choices))
    message += "; did you mean '" + *suggestion + "'?";
  else
    message += "; expected " + join_choices(choices);
  context_.diagnostics.error(node->where, message);
  return std::nullopt;
}

std::optional<std::filesystem::path> MapReader::existing_path(std::string_view key) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_existing_path(*node, path(key), context_) : std::nullopt;
}

const std::vector<TreeNode>* MapReader::list(std::string_view key) {
  const TreeNode* node = get(key);
  return node != nullptr ? read_list(*node, path(key), context_.diagnostics) : nullptr;
}

}  // namespace edgec::pipeline::detail
