// `--set a.b.c=value` / `--set stages.0.bits=3`: edits the YAML tree before validation, so a bad or unknown
// value is reported like any other, but at the `--set` argument that introduced it.
#include <algorithm>
#include <cctype>

#include "tree.hpp"

namespace edgec::pipeline::detail {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::optional<size_t> parse_index(const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return static_cast<size_t>(std::stoul(text));
}

std::string describe_kind(const TreeNode& node) {
  switch (node.kind) {
    case TreeNode::Kind::scalar: return "a single value ('" + node.text + "')";
    case TreeNode::Kind::sequence: return "a list";
    case TreeNode::Kind::map: return "a map";
    case TreeNode::Kind::null: return "empty";
  }
  return "?";
}

// The node at `key` of `node` (a map, or a list indexed by number), created in a map when missing. nullptr after
// reporting why not.
TreeNode* step(TreeNode& node, const std::string& key, const std::string& walked, const SourceRef& where, Diagnostics& diagnostics) {
  const std::string here = walked.empty() ? "the recipe" : "'" + walked + "'";
  if (node.kind == TreeNode::Kind::null) {  // `calibration:` left empty, or an empty recipe: becomes a map
    node.kind = TreeNode::Kind::map;
    node.where = where;
  }
  if (node.kind == TreeNode::Kind::map) {
    if (TreeNode* child = node.find(key)) return child;
    MapEntry entry{key, where, {}};
    entry.value.where = where;
    node.entries.push_back(std::move(entry));
    return &node.entries.back().value;
  }
  if (node.kind == TreeNode::Kind::sequence) {
    const auto index = parse_index(key);
    if (!index || *index >= node.items.size()) {
      diagnostics.error(where, here + " is a list of " + std::to_string(node.items.size()) + (node.items.size() == 1 ? " entry" : " entries") +
                                   "; expected an index from 0 to " + std::to_string(static_cast<int64_t>(node.items.size()) - 1) +
                                   ", got '" + key + "'");
      return nullptr;
    }
    return &node.items[*index];
  }
  diagnostics.error(where, here + " is " + describe_kind(node) + ", not a map or a list; cannot set '" + key + "' in it");
  return nullptr;
}

void apply_one(TreeNode& root, const std::string& argument, Diagnostics& diagnostics) {
  SourceRef where;
  where.set_argument = argument;
  const size_t equals = argument.find('=');
  if (equals == std::string::npos || equals == 0) {
    diagnostics.error(where, "expected KEY.PATH=VALUE (for example stages.0.bits=3)");
    return;
  }
  const std::string path = argument.substr(0, equals);
  const std::vector<std::string> keys = split_path(path);
  if (std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); })) {
    diagnostics.error(where, "empty key in '" + path + "'");
    return;
  }
  auto value = parse_yaml_value(argument.substr(equals + 1), where, diagnostics);
  if (!value) return;
  TreeNode* node = &root;
  std::string walked;
  for (const std::string& key : keys) {
    node = step(*node, key, walked, where, diagnostics);
    if (node == nullptr) return;
    walked += walked.empty() ? key : "." + key;
  }
  *node = std::move(*value);
}

}  // namespace

void apply_set_arguments(TreeNode& root, const std::vector<std::string>& arguments, Diagnostics& diagnostics) {
  for (const std::string& argument : arguments) apply_one(root, argument, diagnostics);
}

}  // namespace edgec::pipeline::detail
