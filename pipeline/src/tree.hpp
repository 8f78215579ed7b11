#pragma once
// The recipe's YAML as a plain tree that remembers where each value was written: yaml-cpp's nodes carry a
// position but cannot say a value came from `--set`, and keep duplicate keys without complaint. Converting once
// lets --set edit the tree (with its own origin) before one validator reads it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.hpp"
#include "edgec/pipeline/recipe.hpp"

namespace edgec::pipeline::detail {

struct MapEntry;

struct TreeNode {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string text;      // scalars
  bool quoted = false;   // a quoted (or !!str) scalar is always a string, never a number or boolean
  SourceRef where;
  std::vector<TreeNode> items;     // sequences
  std::vector<MapEntry> entries;   // maps, in file order

  const TreeNode* find(std::string_view key) const;
  TreeNode* find(std::string_view key);
};

struct MapEntry {
  std::string key;
  SourceRef key_where;
  TreeNode value;
};

// Parses one YAML document. Syntax errors, several documents, non-string keys, duplicate keys and unsupported
// tags are reported to `diagnostics`; returns nullopt when the text could not be parsed at all.
std::optional<TreeNode> parse_yaml_tree(const std::string& text, const std::string& file, Diagnostics& diagnostics);

// Parses the value of a `--set` argument (YAML flow: 3, abc, "x", [a, b], {k: v}); every node gets `where`.
// Throws nothing: problems go to `diagnostics` and nullopt is returned.
std::optional<TreeNode> parse_yaml_value(const std::string& text, const SourceRef& where, Diagnostics& diagnostics);

// Applies `--set a.b.c=value` arguments in order (set_override.cpp).
void apply_set_arguments(TreeNode& root, const std::vector<std::string>& arguments, Diagnostics& diagnostics);

}  // namespace edgec::pipeline::detail
