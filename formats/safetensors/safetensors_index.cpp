// Reads a sharded checkpoint: model.safetensors.index.json maps each tensor to a shard file, and every shard
// must lie inside the index's folder (an index is input, and input must not make us read arbitrary files).
#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "edgec/core/confined_path.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/safetensors.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::safetensors {
namespace {

namespace fs = std::filesystem;
using formats_detail::describe_json;
using formats_detail::printable;
using nlohmann::json;

constexpr uint64_t kMaxIndexBytes = uint64_t{64} << 20;

// The shard's path, after checking that it names a file inside `dir` (no absolute paths, no "..", no
// symlink leading out).
fs::path resolve_shard(const fs::path& dir, const std::string& shard, const std::string& where) {
  auto resolved = resolve_inside_folder(dir, shard, "the index's folder");
  if (!resolved.problem.empty()) throw_input_error(where, "shard '" + printable(shard) + "' " + resolved.problem);
  return std::move(resolved.path);
}

}  // namespace

Checkpoint read_index(const fs::path& index_json) {
  const std::string file = index_json.string();
  const auto mapped = MappedFile::open(index_json);
  if (mapped->size() > kMaxIndexBytes)
    throw_input_error(file, "index is " + std::to_string(mapped->size()) + " bytes, more than the 64 MiB limit");
  const std::string_view text(reinterpret_cast<const char*>(mapped->bytes().data()), mapped->size());
  const json index = formats_detail::parse_strict_json(text, file, 8);
  if (!index.is_object()) throw_input_error(file, "expected a JSON object, got " + describe_json(index));

  Checkpoint checkpoint;
  if (const auto it = index.find("metadata"); it != index.end() && !it->is_null()) {
    if (!it->is_object()) throw_input_error(file + ": metadata", "expected an object, got " + describe_json(*it));
    for (const auto& [key, value] : it->items())
      checkpoint.metadata.emplace(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  const auto map_it = index.find("weight_map");
  if (map_it == index.end()) throw_input_error(file + ": weight_map", "missing");
  if (!map_it->is_object())
    throw_input_error(file + ": weight_map", "expected an object {tensor: shard file}, got " + describe_json(*map_it));

  // Shards in name order (deterministic), each read once.
  const fs::path dir = index_json.parent_path().empty() ? fs::path(".") : index_json.parent_path();
  std::map<std::string, fs::path> shards;
  for (const auto& [tensor, shard] : map_it->items()) {
    const std::string where = file + ": weight_map." + printable(tensor);
    if (!shard.is_string()) throw_input_error(where, "expected a shard file name, got " + describe_json(shard));
    const auto& name = shard.get_ref<const std::string&>();
    if (!shards.count(name)) shards.emplace(name, resolve_shard(dir, name, where));
  }

  std::map<std::string, std::string> shard_of;  // tensor -> shard that holds it
  for (const auto& [name, path] : shards) {
    Checkpoint part = read_file(path);
    for (auto& [tensor, value] : part.tensors) {
      if (const auto [it, inserted] = shard_of.emplace(tensor, name); !inserted)
        throw_input_error(file, "tensor '" + printable(tensor) + "' is stored in two shards: '" +
                                    printable(it->second) + "' and '" + printable(name) + "'");
      checkpoint.tensors.emplace(tensor, std::move(value));
    }
    checkpoint.files.push_back(path);
  }
  for (const auto& [tensor, shard] : map_it->items()) {
    const auto it = shard_of.find(tensor);
    if (it == shard_of.end() || it->second != shard.get_ref<const std::string&>())
      throw_input_error(file + ": weight_map." + printable(tensor),
                        "tensor not found in shard '" + printable(shard.get_ref<const std::string&>()) + "'");
  }
  return checkpoint;
}

}  // namespace edgec::safetensors
