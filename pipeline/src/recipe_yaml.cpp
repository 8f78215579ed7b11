// yaml-cpp's nodes -> TreeNode, with positions (yaml-cpp's marks are 0-based; messages are 1-based).
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "tree.hpp"

namespace edgec::pipeline::detail {

namespace {

constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";
// Aliases are expanded by copying; a few nested aliases could otherwise expand into billions of nodes.
constexpr size_t kMaxNodes = 100000;
constexpr int kMaxDepth = 64;

class Converter {
 public:
  Converter(std::string file, Diagnostics& diagnostics, std::optional<SourceRef> fixed_origin)
      : file_(std::move(file)), diagnostics_(diagnostics), fixed_(std::move(fixed_origin)) {}

  SourceRef at(const YAML::Mark& mark) const {
    if (fixed_) return *fixed_;
    SourceRef where;
    where.file = file_;
    if (mark.line >= 0) {
      where.line = mark.line + 1;
      where.column = mark.column + 1;
    }
    return where;
  }

  // Returns false when conversion had to stop (too large or too deep).
  bool convert(const YAML::Node& node, const std::string& path, int depth, TreeNode& out, const SourceRef* null_where) {
    if (++count_ > kMaxNodes) {
      if (!too_large_) diagnostics_.error(at(node.Mark()), "the recipe expands to more than 100000 values (nested aliases?)");
      too_large_ = true;
      return false;
    }
    if (depth > kMaxDepth) {
      diagnostics_.error(at(node.Mark()), "values nested more than 64 levels deep");
      return false;
    }
    out.where = at(node.Mark());
    const std::string tag = node.Tag();
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = TreeNode::Kind::null;
        // An empty value's mark is where the next token starts; the key is a better place to point at.
        if (null_where != nullptr && !fixed_) out.where = *null_where;
        return true;
      case YAML::NodeType::Scalar:
        out.kind = TreeNode::Kind::scalar;
        out.text = node.Scalar();
        if (tag == "!" || tag == std::string(kCoreTag) + "str") {
          out.quoted = true;
        } else if (tag != "?" && tag != std::string(kCoreTag) + "int" && tag != std::string(kCoreTag) + "float" &&
                   tag != std::string(kCoreTag) + "bool" && tag != std::string(kCoreTag) + "null") {
          diagnostics_.error(out.where, label(path) + "unsupported YAML tag '" + short_tag(tag) + "'");
        }
        return true;
      case YAML::NodeType::Sequence: {
        out.kind = TreeNode::Kind::sequence;
        check_collection_tag(tag, "seq", out.where, path);
        size_t index = 0;
        for (const auto& item : node) {
          TreeNode child;
          if (!convert(item, join(path, std::to_string(index++)), depth + 1, child, nullptr)) return false;
          out.items.push_back(std::move(child));
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out.kind = TreeNode::Kind::map;
        check_collection_tag(tag, "map", out.where, path);
        for (auto it = node.begin(); it != node.end(); ++it) {
          const SourceRef key_where = at(it->first.Mark());
          if (!it->first.IsScalar()) {
            diagnostics_.error(key_where, label(path) + "keys must be plain names, not lists or maps");
            continue;
          }
          const std::string key = it->first.Scalar();
          const auto earlier = std::find_if(out.entries.begin(), out.entries.end(), [&](const MapEntry& e) { return e.key == key; });
          if (earlier != out.entries.end()) {
            diagnostics_.error(key_where, label(path) + "duplicate key '" + key + "' (first at line " +
                                              std::to_string(earlier->key_where.line) + ")");
            continue;
          }
          MapEntry entry{key, key_where, {}};
          if (!convert(it->second, join(path, key), depth + 1, entry.value, &key_where)) return false;
          out.entries.push_back(std::move(entry));
        }
        return true;
      }
    }
    return true;
  }

 private:
  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  // tag:yaml.org,2002:binary -> !!binary, as it was written.
  static std::string short_tag(const std::string& tag) {
    return tag.rfind(kCoreTag, 0) == 0 ? "!!" + tag.substr(kCoreTag.size()) : tag;
  }
  static std::string label(const std::string& path) { return path.empty() ? std::string() : path + ": "; }

  void check_collection_tag(const std::string& tag, const char* kind, const SourceRef& where, const std::string& path) {
    if (tag != "?" && tag != "!" && tag != std::string(kCoreTag) + kind)
      diagnostics_.error(where, label(path) + "unsupported YAML tag '" + short_tag(tag) + "'");
  }

  std::string file_;
  Diagnostics& diagnostics_;
  std::optional<SourceRef> fixed_;
  size_t count_ = 0;
  bool too_large_ = false;
};

}  // namespace

const TreeNode* TreeNode::find(std::string_view key) const {
  for (const MapEntry& entry : entries)
    if (entry.key == key) return &entry.value;
  return nullptr;
}

TreeNode* TreeNode::find(std::string_view key) {
  for (MapEntry& entry : entries)
    if (entry.key == key) return &entry.value;
  return nullptr;
}

std::optional<TreeNode> parse_yaml_tree(const std::string& text, const std::string& file, Diagnostics& diagnostics) {
  Converter converter(file, diagnostics, std::nullopt);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    diagnostics.error(converter.at(e.mark), "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diagnostics.error(converter.at(e.mark), "YAML error: " + e.msg);
    return std::nullopt;
  }
  if (documents.size() > 1) {
    diagnostics.error(converter.at(documents[1].Mark()), "a recipe is one YAML document; found " +
                                                             std::to_string(documents.size()) + " (separated by ---)");
    return std::nullopt;
  }
  TreeNode root;
  root.where = converter.at(YAML::Mark());
  if (documents.empty()) return root;  // an empty file: a null root, reported by the validator
  if (!converter.convert(documents[0], "", 0, root, nullptr)) return std::nullopt;
  return root;
}

std::optional<TreeNode> parse_yaml_value(const std::string& text, const SourceRef& where, Diagnostics& diagnostics) {
  Converter converter(where.file, diagnostics, where);
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diagnostics.error(where, "the value is not valid YAML: " + e.msg + " (quote strings that start with * & ! | or >, as in [\"*.down_proj\"])");
    return std::nullopt;
  }
  TreeNode out;
  if (!converter.convert(node, "", 0, out, nullptr)) return std::nullopt;
  out.where = where;
  return out;
}

}  // namespace edgec::pipeline::detail
