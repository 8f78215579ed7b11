#pragma once
// Where a graph's time goes: wall time per node and per op, summed over the runs that were given this Profile
// (RunOptions::profile). `edgec run --profile` prints it (docs/cli.md); benchmarks use it to attribute time.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"

namespace edgec::runtime {

struct NodeTime {
  std::string node;    // the node's name, or "#index (output 'x')" for an unnamed node
  std::string op;      // "Conv", "edgec.QLinear", ...
  int64_t calls = 0;
  double ms = 0;
};

struct OpTime {
  std::string op;
  int64_t calls = 0;   // node executions
  int64_t nodes = 0;   // distinct nodes
  double ms = 0;
};

class Profile {
 public:
  // Called by the executor after each kernel.
  void add_node(const std::string& label, const Node& node, double ms);
  // Called by the executor once per run with the run's wall time (kernels + the executor's own work).
  void add_run(double ms) {
    ++runs_;
    run_ms_ += ms;
  }

  int64_t runs() const { return runs_; }
  double run_ms() const { return run_ms_; }           // wall time of every run
  double kernel_ms() const;                           // the part inside kernels
  std::vector<NodeTime> nodes() const;                // slowest first (ties by name)
  std::vector<OpTime> ops() const;                    // slowest first (ties by name)

 private:
  std::map<std::string, NodeTime, std::less<>> nodes_;
  int64_t runs_ = 0;
  double run_ms_ = 0;
};

}  // namespace edgec::runtime
