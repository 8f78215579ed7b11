#pragma once
// Sub-commands of the edgec CLI. Each registers its options on the app and returns the action to run.
#include <CLI/CLI.hpp>
#include <functional>

namespace edgec::cli {

using Action = std::function<void()>;

// `edgec inspect MODEL [--json]`
void add_inspect_command(CLI::App& app, Action& action);
// `edgec run MODEL [--input name=FILE ...] [--generate N] ...`
void add_run_command(CLI::App& app, Action& action);
// `edgec eval MODEL --task vlm-caption|lm-perplexity --data DIR|TOKENS [--reference REF] [--window W] [--limit N] [--batch B] [--json]`
void add_eval_command(CLI::App& app, Action& action);

// `edgec quantize MODEL --method M --bits B --group G --calib DATA -o OUT`
void add_quantize_command(CLI::App& app, Action& action);
// `edgec compile recipe.yaml [-o OUT] [--set key=value ...] [--dry-run] [--threads N] [--json] [--quiet]`
void add_compile_command(CLI::App& app, Action& action);

}  // namespace edgec::cli
