#pragma once
// `edgec compile --resume`: after every block that compressed layers, the compile writes OUTPUT.checkpoint
// (atomically) holding everything needed to continue in another process. A checkpoint is an .edgepack
// (docs/edgepack.md; checksums verified at load): its graph is the model as it stands after that block, golden
// sample `carried/NNNNN` holds the values calibration sample NNNNN carries into the next block, and the file
// `checkpoint.json` says where the compile stood (stage, block), what it was made from (the fingerprint) and the
// report so far. Spec: docs/recipes.md "Resume".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "edgec/calibration/blockwise.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/report/report.hpp"

namespace edgec::cli {

// What a compile's result depends on. Thread counts are not part of it: output is the same at any count.
struct CompileFingerprint {
  std::string edgec_version;
  std::string recipe_sha256;            // the recipe's text and the --set overrides, in order
  std::vector<EdgepackInputFile> inputs;  // model files, calibration and verify data, by sha256
};

// Where the compile stood and what it had done.
struct CheckpointState {
  CompileFingerprint fingerprint;
  size_t stage = 0;              // the recipe stage in progress
  size_t next_block = 0;         // the block of that stage to calibrate next
  int64_t peak_carried_bytes = 0;
  report::CompileReport report;  // stage timings (the stage in progress: so far) and every finished layer's row
};

struct CompileCheckpoint {
  CheckpointState state;
  Graph graph;
  std::vector<calibration::BlockwiseRunner::Values> carried;  // per calibration sample
};

std::filesystem::path checkpoint_path(const std::filesystem::path& output);

// `graph` as it stands (initializers nothing reads any more are left out), `carried` as the runner holds them.
void write_checkpoint(const CheckpointState& state, const Graph& graph, const std::vector<calibration::BlockwiseRunner::Values>& carried,
                      const std::filesystem::path& path);

// Error(input) naming the file when it is corrupt or not a checkpoint.
CompileCheckpoint read_checkpoint(const std::filesystem::path& path);

// Error(usage) naming the checkpoint and the first thing that differs (edgec version, recipe, an input file).
void check_fingerprint(const CompileFingerprint& saved, const CompileFingerprint& now, const std::filesystem::path& path);

// Removes temporary files an interrupted atomic write of `target` left behind (`TARGET.tmp-XXXXXX`).
void remove_stale_temporaries(const std::filesystem::path& target);

}  // namespace edgec::cli
