#include "compile_checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "edgec/core/error.hpp"
#include "edgec/quant/layers.hpp"
#include "edgec/report/report_json.hpp"

namespace edgec::cli {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr const char* kFormat = "edgec.checkpoint/1";
constexpr const char* kStateFile = "checkpoint.json";

std::string carried_name(size_t sample) {
  char name[32];
  std::snprintf(name, sizeof name, "carried-%06zu", sample);
  return name;
}

Json fingerprint_json(const CompileFingerprint& fingerprint) {
  Json inputs = Json::array();
  for (const auto& input : fingerprint.inputs) inputs.push_back({{"role", input.role}, {"path", input.path}, {"sha256", input.sha256}});
  return {{"edgec_version", fingerprint.edgec_version}, {"recipe_sha256", fingerprint.recipe_sha256}, {"inputs", inputs}};
}

CompileFingerprint fingerprint_from(const Json& json) {
  CompileFingerprint fingerprint;
  fingerprint.edgec_version = json.at("edgec_version").get<std::string>();
  fingerprint.recipe_sha256 = json.at("recipe_sha256").get<std::string>();
  for (const auto& input : json.at("inputs"))
    fingerprint.inputs.push_back({input.at("role").get<std::string>(), input.at("path").get<std::string>(), input.at("sha256").get<std::string>()});
  return fingerprint;
}

}  // namespace

fs::path checkpoint_path(const fs::path& output) {
  fs::path path = output;
  path += ".checkpoint";
  return path;
}

void write_checkpoint(const CheckpointState& checkpoint, const Graph& graph, const std::vector<calibration::BlockwiseRunner::Values>& carried,
                      const fs::path& path) {
  EdgepackExtras extras;
  const Json state = {{"format", kFormat},
                      {"fingerprint", fingerprint_json(checkpoint.fingerprint)},
                      {"stage", checkpoint.stage},
                      {"next_block", checkpoint.next_block},
                      {"peak_carried_bytes", checkpoint.peak_carried_bytes},
                      {"report", report::to_json(checkpoint.report)}};
  extras.files[kStateFile] = state.dump(1);
  extras.golden.reserve(carried.size());
  for (size_t i = 0; i < carried.size(); ++i) {
    GoldenSample sample;
    sample.name = carried_name(i);
    for (const auto& [name, value] : carried[i]) sample.inputs.emplace(name, value.to_ir());
    extras.golden.push_back(std::move(sample));
  }
  Graph pruned = graph;  // tensors are shared, not copied
  quant::remove_unused_initializers(pruned);
  write_edgepack(pruned, extras, path);
}

CompileCheckpoint read_checkpoint(const fs::path& path) {
  EdgepackContents contents = read_edgepack(path);
  const auto state_file = contents.extras.files.find(kStateFile);
  if (state_file == contents.extras.files.end()) throw_input_error(path.string(), std::string("not a compile checkpoint (no ") + kStateFile + ")");
  CompileCheckpoint result;
  CheckpointState& checkpoint = result.state;
  try {
    const Json state = Json::parse(state_file->second);
    if (state.at("format").get<std::string>() != kFormat)
      throw_input_error(path.string(), "checkpoint format '" + state.at("format").get<std::string>() + "', expected '" + kFormat + "'");
    checkpoint.fingerprint = fingerprint_from(state.at("fingerprint"));
    checkpoint.stage = state.at("stage").get<size_t>();
    checkpoint.next_block = state.at("next_block").get<size_t>();
    checkpoint.peak_carried_bytes = state.at("peak_carried_bytes").get<int64_t>();
    checkpoint.report = report::from_json(state.at("report"), path.string() + ": " + kStateFile);
  } catch (const nlohmann::json::exception& e) {
    throw_input_error(path.string(), std::string(kStateFile) + ": " + e.what());
  }
  for (size_t i = 0; i < contents.extras.golden.size(); ++i) {
    const GoldenSample& sample = contents.extras.golden[i];
    if (sample.name != carried_name(i)) throw_input_error(path.string(), "carried values '" + sample.name + "' out of order, expected '" + carried_name(i) + "'");
    calibration::BlockwiseRunner::Values values;
    for (const auto& [name, tensor] : sample.inputs) values.emplace(name, runtime::HostTensor::from_ir(tensor));
    result.carried.push_back(std::move(values));
  }
  result.graph = std::move(contents.graph);
  return result;
}

void check_fingerprint(const CompileFingerprint& saved, const CompileFingerprint& now, const fs::path& path) {
  const std::string refuse = path.string() + ": cannot resume: ";
  const std::string advice = "; delete the checkpoint or run without --resume to start over";
  if (saved.edgec_version != now.edgec_version)
    throw Error(ErrorCategory::usage, refuse + "it was written by edgec " + saved.edgec_version + ", this is " + now.edgec_version + advice);
  if (saved.recipe_sha256 != now.recipe_sha256)
    throw Error(ErrorCategory::usage, refuse + "the recipe or its --set overrides changed (sha256 " + saved.recipe_sha256.substr(0, 12) + "..., now " +
                                          now.recipe_sha256.substr(0, 12) + "...)" + advice);
  for (const auto& input : now.inputs) {
    const auto same_file = [&](const EdgepackInputFile& old) { return old.role == input.role && old.path == input.path; };
    const auto old = std::find_if(saved.inputs.begin(), saved.inputs.end(), same_file);
    if (old == saved.inputs.end())
      throw Error(ErrorCategory::usage, refuse + input.role + " file " + input.path + " was not an input of the checkpointed compile" + advice);
    if (old->sha256 != input.sha256)
      throw Error(ErrorCategory::usage, refuse + input.role + " file " + input.path + " changed (sha256 " + old->sha256.substr(0, 12) + "..., now " +
                                            input.sha256.substr(0, 12) + "...)" + advice);
  }
  for (const auto& old : saved.inputs) {
    const auto same_file = [&](const EdgepackInputFile& input) { return old.role == input.role && old.path == input.path; };
    if (std::none_of(now.inputs.begin(), now.inputs.end(), same_file))
      throw Error(ErrorCategory::usage, refuse + old.role + " file " + old.path + " of the checkpointed compile is no longer an input" + advice);
  }
}

void remove_stale_temporaries(const fs::path& target) {
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0) fs::remove(entry.path(), error);
  }
}

}  // namespace edgec::cli
