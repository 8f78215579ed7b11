#pragma once
// Runs calibration samples through a graph one block at a time (a transformer layer, the patch embedding,
// the projector, ...), keeping between blocks only the values later blocks read. A compression pass
// observes block i, rewrites it in the graph, then advances: block i runs again, now compressed, and its
// outputs are what block i+1 is calibrated on (GPTQ's sequential mode). Peak memory is one block's
// activations plus those carried values, whatever the model's depth.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgec/calibration/dataset.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/runtime/observer.hpp"

namespace edgec::calibration {

struct Block {
  std::string key;            // "language_model.model.layers.3", "vision_tower", "lm_head", ...
  std::vector<size_t> nodes;  // indices into graph.nodes, in order
};

// The block a node belongs to: its scope (or, without one, its name) up to and including the layer index
// ("...layers.3", "/model/layers.3/...") or else the scope's first component. Unscoped glue nodes join the
// block before them. Consecutive nodes with one key form one block.
std::vector<Block> split_into_blocks(const Graph& graph);

class BlockwiseRunner {
 public:
  // `graph` is not owned; the caller may replace nodes of a block (keeping their count and order) and add
  // initializers between observe() and advance() of that block.
  BlockwiseRunner(const Graph& graph, const Dataset& data);

  const std::vector<Block>& blocks() const { return blocks_; }
  // Runs block i as the graph now holds it on every sample, with `observer` attached.
  void observe(size_t block, runtime::Observer& observer) const;
  // Runs block i on every sample and keeps what later blocks read; blocks must be advanced in order.
  void advance(size_t block);
  // Values carried between blocks right now, in bytes (for reports and the memory test).
  int64_t carried_bytes() const;

  // What a checkpoint needs to continue in another process: the next block to advance and, per sample, the
  // values carried to it. restore() puts them back into a runner built on the same graph and data (--resume).
  using Values = std::map<std::string, runtime::HostTensor>;
  size_t next_block() const { return next_; }
  const std::vector<Values>& carried() const { return carried_; }
  // Throws Error(input) when `carried` cannot belong to this graph and data (sample count, block index).
  void restore(size_t next_block, std::vector<Values> carried);

 private:
  Graph block_graph(size_t block) const;
  const Graph& graph_;
  std::vector<Block> blocks_;
  std::map<std::string, size_t> last_reader_;  // value -> last block reading it (graph outputs: past the end)
  std::vector<Values> carried_;  // per sample
  size_t next_ = 0;
};

}  // namespace edgec::calibration
