// edgec: thin front end. Parses arguments, runs one command, maps errors to documented exit codes:
// 0 ok, 1 internal error, 2 usage or recipe error, 3 accuracy gate failed, 4 input or I/O error.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <new>

#include "commands.hpp"
#include "edgec/core/allocator.hpp"
#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"

#ifndef EDGEC_VERSION
#define EDGEC_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  CLI::App app{"edgec: compile multimodal models to fit and run on edge devices"};
  app.set_version_flag("--version", EDGEC_VERSION);
  app.require_subcommand(1);
  edgec::cli::Action action;
  edgec::cli::add_inspect_command(app, action);
  edgec::cli::add_run_command(app, action);
  edgec::cli::add_eval_command(app, action);
  edgec::cli::add_quantize_command(app, action);
  edgec::cli::add_compile_command(app, action);
  // Every command takes --threads (compile's own also falls back to the recipe's target.threads).
  int threads = 0;
  for (CLI::App* command : app.get_subcommands([](CLI::App*) { return true; }))
    if (!command->get_option_no_throw("--threads"))
      command->add_option("--threads", threads, "Threads for the kernels (default: every CPU this process may use)")
          ->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return edgec::exit_code(edgec::ErrorCategory::usage);
  }
  try {
    // One pool for the whole command: the kernels, calibration and the quantizers all run on it.
    edgec::ThreadPool pool(threads);
    const edgec::ParallelScope scope(&pool);
    action();
    return 0;
  } catch (const edgec::Error& e) {
    std::cerr << "edgec: " << e.what() << '\n';
    return edgec::exit_code(e.category());
  } catch (const std::filesystem::filesystem_error& e) {
    // A file that cannot be read or written (permissions, a path under a regular file, a full disk) is an I/O
    // error of the input or output, not a bug.
    std::cerr << "edgec: " << e.what() << '\n';
    return edgec::exit_code(edgec::ErrorCategory::input);
  } catch (const std::bad_alloc&) {
    std::cerr << "edgec: internal error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "edgec: internal error: " << e.what() << '\n';
  }
  return edgec::exit_code(edgec::ErrorCategory::internal);
}
