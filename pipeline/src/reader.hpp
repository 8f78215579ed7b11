#pragma once
// Typed, strict reading of the YAML tree: each reader reports what it expected, what it got and where, naming the
// value by its key path ("stages.0.bits"), and returns nullopt so validation can go on to find further errors.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.hpp"
#include "tree.hpp"

namespace edgec::pipeline::detail {

// "integer 5", "number 2.5", "boolean true", "string 'abc'", "a list", "a map", "an empty value".
std::string describe(const TreeNode& node);

// A numeric bound as written in messages: {0, true} is "> 0", {1, false} is "<= 1" when used as an upper bound.
struct Bound {
  double value;
  bool open;
};

struct Context {
  Diagnostics& diagnostics;
  std::filesystem::path folder;  // the recipe's folder
  // A path written in the recipe is relative to its folder; one given with --set, to the current folder.
  std::filesystem::path resolve(const std::string& text, const SourceRef& where) const;
};

// Reads one map: reports keys outside `known` (with a suggestion) and gives typed access to the others.
class MapReader {
 public:
  // `path` is the map's key path ("" for the top level); a node that is not a map is reported as such
  // (`expected` says what it should hold) and every getter then returns nothing.
  MapReader(const TreeNode& node, std::string path, std::vector<std::string> known, Context& context,
            const std::string& expected = "a map");

  bool ok() const { return map_ != nullptr; }
  const std::string& own_path() const { return path_; }
  const SourceRef& where() const { return where_; }
  const TreeNode* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }
  // The key path of `key` ("calibration.samples") and the place to point at for it (its value, else the map).
  std::string path(std::string_view key) const;
  SourceRef where(std::string_view key) const;
  // Reports "PATH: missing required key 'key'" when absent; returns the value otherwise.
  const TreeNode* require(std::string_view key);

  std::optional<int64_t> integer(std::string_view key);
  std::optional<int64_t> integer_at_least(std::string_view key, int64_t minimum);
  std::optional<double> number(std::string_view key, std::optional<Bound> low = std::nullopt, std::optional<Bound> high = std::nullopt);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  // One of `choices`; otherwise "PATH: unknown NOUN 'x'; did you mean 'y'?" or "...; expected one of a, b, c".
  std::optional<std::string> choice(std::string_view key, const std::string& noun, const std::vector<std::string>& choices);
  // An existing file or folder, resolved (Context::resolve); a missing one is reported with the resolved path.
  std::optional<std::filesystem::path> existing_path(std::string_view key);
  const std::vector<TreeNode>* list(std::string_view key);

  Context& context() { return context_; }

 private:
  const TreeNode* map_ = nullptr;
  SourceRef where_;
  std::string path_;
  Context& context_;
};

// The same typed readers for a value that is not under a map key (list items, the model's path string).
std::optional<int64_t> read_integer(const TreeNode& node, const std::string& path, Diagnostics& diagnostics);
std::optional<double> read_number(const TreeNode& node, const std::string& path, Diagnostics& diagnostics,
                                  std::optional<Bound> low = std::nullopt, std::optional<Bound> high = std::nullopt);
std::optional<bool> read_boolean(const TreeNode& node, const std::string& path, Diagnostics& diagnostics);
std::optional<std::string> read_string(const TreeNode& node, const std::string& path, Diagnostics& diagnostics,
                                       const std::string& expected = "a string");
// A string naming an existing file or folder, resolved (Context::resolve); a missing one is reported with the
// resolved path.
std::optional<std::filesystem::path> read_existing_path(const TreeNode& node, const std::string& path, Context& context,
                                                        const std::string& expected = "a path");
const std::vector<TreeNode>* read_list(const TreeNode& node, const std::string& path, Diagnostics& diagnostics);

// "a, b or c"
std::string join_choices(const std::vector<std::string>& choices, const std::string& last = "or");

}  // namespace edgec::pipeline::detail
