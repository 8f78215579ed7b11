// `edgec quantize MODEL --method M --bits B --group G --calib DATA -o OUT`: the interim entry point to the
// quantization pass until recipes land. Writes OUT/ (model.onnx with edgec.QLinear layers, the source's
// config and tokenizer files, quantization_report.json) through a temporary folder renamed into place, so
// an interrupted run never leaves a half-written model.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "calibration_source.hpp"
#include "commands.hpp"
#include "edgec/calibration/dataset.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/quant/quantize_graph.hpp"

namespace edgec::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct QuantizeArgs {
  std::string model, method = "rtn", calib, calib_kind = "auto", prompt_ids, output, report;
  int bits = 4;
  int64_t group = 128;
  bool symmetric = false, force = false, json = false, mse_clip = false, no_act_order = false;
  std::string scale_dtype = "f16", activations = "float";
  int64_t samples = 128, seq_len = 256, block = 128, answer_tokens = 0;
  uint64_t seed = 0;
  double damp = 0.01, alpha = 0.5, clip_norm = 2.0;
  std::vector<std::string> ignore;
};

Json report_json(const quant::QuantizeReport& report, const QuantizeArgs& args) {
  Json layers = Json::array();
  for (const auto& layer : report.layers)
    layers.push_back(Json{{"name", layer.name}, {"scope", layer.scope}, {"op", layer.op}, {"out_features", layer.out_features}, {"in_features", layer.in_features},
                          {"scheme", layer.scheme}, {"tokens", layer.tokens}, {"error", layer.error}, {"rtn_error", layer.rtn_error},
                          {"output_energy", layer.output_energy}, {"awq_alpha", layer.awq_alpha}, {"smoothed", layer.smoothed},
                          {"dead_columns", layer.dead_columns}, {"seconds", layer.seconds}});
  return Json{{"model", args.model},
              {"method", report.method},
              {"calibration", report.calibration},
              {"blocks", report.blocks},
              {"peak_carried_bytes", report.peak_carried_bytes},
              {"seconds", report.seconds},
              {"skipped", report.skipped},
              {"layers", layers}};
}

// Everything of the source folder a runner needs besides the weights: config, generation config, tokenizer.
void copy_side_files(const fs::path& source_folder, const fs::path& out) {
  if (!fs::is_directory(source_folder)) return;
  for (const auto& entry : fs::directory_iterator(source_folder)) {
    if (!entry.is_regular_file()) continue;
    const auto name = entry.path().filename().string();
    const auto ext = entry.path().extension().string();
    const bool weights = ext == ".md" || ext == ".safetensors" || ext == ".onnx" || ext == ".data" || name == "model.safetensors.index.json";
    if (!weights) fs::copy_file(entry.path(), out / name, fs::copy_options::overwrite_existing);
  }
}

void run_quantize(const QuantizeArgs& args) {
  quant::QuantizeOptions options;
  options.scheme.bits = args.bits;
  options.scheme.group_size = args.group;
  options.scheme.symmetric = args.symmetric;
  options.scheme.scale_dtype = args.scale_dtype == "f32" ? DType::f32 : DType::f16;
  if (args.activations == "int8-dynamic") options.scheme.activations = quant::ActivationMode::int8_dynamic;
  if (args.activations == "int8-static") options.scheme.activations = quant::ActivationMode::int8_static;
  options.ignore = args.ignore;
  options.rtn.mse_clip = args.mse_clip;
  options.gptq.group_fit.mse_clip = args.mse_clip;
  options.rtn.norm = options.gptq.group_fit.norm = static_cast<float>(args.clip_norm);
  options.gptq.percdamp = args.damp;
  options.gptq.block_size = args.block;
  options.gptq.act_order = !args.no_act_order;
  options.smoothquant.alpha = args.alpha;
  quant::apply_method(args.method, options);
  quant::validate_scheme(options.scheme, "edgec quantize");

  // "OUT/" names the folder OUT (otherwise the staging folder would land inside OUT, which is then replaced), and
  // "." or ".." would make --force empty the current folder or its parent.
  fs::path out = fs::path(args.output).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  if (out.empty() || out == out.root_path() || out.filename() == "." || out.filename() == "..")
    throw Error(ErrorCategory::usage, "edgec quantize: -o must name the output folder to create, got '" + args.output + "'");
  if (fs::exists(out) && !args.force)
    throw Error(ErrorCategory::usage, "edgec quantize: " + out.string() + " exists (pass --force to replace it)");
  // Make sure the output can be written before any calibration time is spent.
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  fs::create_directories(parent);
  Model model = load_model(args.model);
  if (model.graphs.size() != 1)
    throw_input_error(args.model, "holds " + std::to_string(model.graphs.size()) +
                                      " graphs; edgec quantize works on one graph (quantize a Hugging Face checkpoint, or each ONNX file)");
  const fs::path folder = config_folder(args.model);
  std::optional<calibration::Dataset> data;
  if (!args.calib.empty() || args.calib_kind == "generated") {
    CalibrationSource source;
    source.kind = args.calib_kind;
    source.data = args.calib;
    source.prompt_ids = args.prompt_ids;
    source.samples = args.samples;
    source.seq_len = args.seq_len;
    source.answer_tokens = args.answer_tokens;
    source.seed = args.seed;
    data = load_calibration(source, folder, model.graphs[0], "edgec quantize");
  }
  const auto report = quant::quantize_graph(model.graphs[0], data ? &*data : nullptr, options, args.method);

  const Json json = report_json(report, args);
  const fs::path staging = parent / (out.filename().string() + ".partial");
  fs::remove_all(staging);
  fs::create_directories(staging);
  try {
    copy_side_files(folder, staging);
    onnx_format::export_onnx(model.graphs[0], staging / "model.onnx");
    std::ofstream report_file(staging / "quantization_report.json");
    report_file << json.dump(2) << '\n';
    report_file.close();
    if (!report_file) throw_input_error((staging / "quantization_report.json").string(), "cannot write the report");
    fs::remove_all(out);
    fs::rename(staging, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
  if (args.json) {
    std::cout << json.dump(2) << '\n';
    return;
  }
  std::cout << "quantized " << report.layers.size() << " layers of " << args.model << " with " << args.method << " ("
            << quant::describe(options.scheme) << "), " << report.skipped.size() << " left in f32\n"
            << "calibration: " << report.calibration << '\n';
  double error = 0, rtn = 0, energy = 0;
  for (const auto& layer : report.layers) {
    error += layer.error;
    rtn += layer.rtn_error;
    energy += layer.output_energy;
  }
  if (energy > 0)
    std::cout << std::setprecision(4) << "relative output error: " << error / energy << " (round-to-nearest: " << rtn / energy << ")\n";
  std::cout << "wrote " << (out / "model.onnx").string() << " in " << std::setprecision(3) << report.seconds << " s\n";
}

}  // namespace

void add_quantize_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize a model's linear layers (RTN, GPTQ, AWQ, SmoothQuant)");
  cmd->add_option("model", args->model, "Model: Hugging Face folder, .safetensors or .onnx")->required();
  cmd->add_option("--method", args->method, "rtn, gptq, awq, smoothquant, awq+gptq, smoothquant+gptq")->capture_default_str();
  cmd->add_option("--bits", args->bits, "Weight bits: 2, 3, 4 or 8")->capture_default_str();
  cmd->add_option("--group", args->group, "Group size along the input features; 0 = per output channel")->capture_default_str();
  cmd->add_flag("--sym", args->symmetric, "Symmetric weights (no zero points)");
  cmd->add_option("--scale-dtype", args->scale_dtype, "f16 or f32")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  cmd->add_option("--activations", args->activations, "float, int8-dynamic (per token) or int8-static (per tensor)")
      ->check(CLI::IsMember({"float", "int8-dynamic", "int8-static"}))->capture_default_str();
  cmd->add_option("--calib", args->calib, "Calibration data: token ids (.i32/.npy), a VLM eval folder, images (IDX, PNG/JPEG)");
  cmd->add_option("--calib-kind", args->calib_kind, "auto, tokens, vlm-eval, images, or generated (text sampled from the model itself; no --calib)")->capture_default_str();
  cmd->add_option("--answer-tokens", args->answer_tokens, "Append up to N tokens the model itself answers to each calibration image")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--prompt-ids", args->prompt_ids, "Token ids (.i32) fed with each calibration image");
  cmd->add_option("--samples", args->samples, "Calibration samples")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seq-len", args->seq_len, "Tokens per calibration window")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed for choosing calibration samples")->capture_default_str();
  cmd->add_option("--ignore", args->ignore, "Layers to keep in f32: globs or re:REGEX over weight names or scopes (repeatable)");
  cmd->add_flag("--mse-clip", args->mse_clip, "Search each group's clipping range for the least squared error (RTN and GPTQ)");
  cmd->add_option("--clip-norm", args->clip_norm, "Error norm of --mse-clip: 2 = squared error, GPTQ's reference uses 2.4")
      ->check(CLI::Range(1.0, 4.0))->capture_default_str();
  cmd->add_option("--damp", args->damp, "GPTQ dampening (fraction of mean diag H)")->capture_default_str();
  cmd->add_option("--block", args->block, "GPTQ lazy-update block size")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--no-act-order", args->no_act_order, "GPTQ: quantize columns in their own order");
  cmd->add_option("--alpha", args->alpha, "SmoothQuant migration strength")->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Output folder")->required();
  cmd->add_flag("--force", args->force, "Replace an existing output folder");
  cmd->add_flag("--json", args->json, "Print the quantization report as JSON");
  cmd->callback([args, &action] { action = [args] { run_quantize(*args); }; });
}

}  // namespace edgec::cli
