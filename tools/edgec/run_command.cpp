// `edgec run`: placeholder registration until the run command lands (see docs/runtime.md).
#include "commands.hpp"
#include "edgec/core/error.hpp"

namespace edgec::cli {

void add_run_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("run", "Execute a model on inputs (not implemented yet)");
  command->allow_extras();
  command->callback([&action] {
    action = [] { throw Error(ErrorCategory::usage, "edgec run is not implemented yet"); };
  });
}

}  // namespace edgec::cli
