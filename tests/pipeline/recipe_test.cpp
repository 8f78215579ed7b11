// Valid recipes: defaults, path resolution, every key read into the Recipe, --set, conversion to QuantizeOptions.
#include <unistd.h>

#include "edgec/pipeline/device_profile.hpp"
#include "edgec/pipeline/did_you_mean.hpp"
#include "edgec/pipeline/quantize_options.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/layers.hpp"
#include "recipe_test_support.hpp"

namespace edgec::pipeline::test {
namespace {

using quant::ActivationMode;

fs::path valid_dir() { return recipes_dir() / "valid"; }
fs::path data_path(const std::string& name) { return (recipes_dir() / "data" / name).lexically_normal(); }

Recipe parse_valid(const std::string& name, const std::vector<std::string>& set = {}) {
  const fs::path file = valid_dir() / name;
  return parse_recipe(read_text(file), name, file.parent_path(), set);
}

const QuantizeStage& quantize_stage(const Recipe& recipe, size_t index) {
  REQUIRE(index < recipe.stages.size());
  const auto* q = std::get_if<QuantizeStage>(&recipe.stages[index].params);
  REQUIRE(q != nullptr);
  return *q;
}

TEST_CASE("recipe: a minimal recipe gets every default") {
  const Recipe recipe = parse_valid("minimal.yaml");
  CHECK(recipe.version == 1);
  CHECK(recipe.file == "minimal.yaml");
  CHECK(recipe.model.path == data_path("model"));
  CHECK(recipe.model.format == ModelFormat::auto_detect);
  CHECK_FALSE(recipe.calibration.has_value());
  REQUIRE(recipe.stages.size() == 1);
  CHECK(recipe.stages[0].name == "stage0");
  CHECK(recipe.stages[0].pass == "quantize");
  const QuantizeStage& q = quantize_stage(recipe, 0);
  CHECK(q.method == "rtn");
  CHECK(q.scheme.bits == 4);
  CHECK(q.scheme.group_size == 128);
  CHECK_FALSE(q.scheme.symmetric);
  CHECK(q.scheme.scale_dtype == DType::f16);
  CHECK(q.scheme.activations == ActivationMode::float_);
  CHECK_FALSE(q.mse_clip);
  CHECK(q.clip_norm == 2.0);
  CHECK(q.damp == 0.01);
  CHECK(q.block == 128);
  CHECK(q.act_order);
  CHECK(q.alpha == 0.5);
  CHECK(q.targets.empty());
  CHECK(q.ignore.empty());
  CHECK(q.overrides.empty());
  CHECK_FALSE(q.allow_partial_groups);
  CHECK_FALSE(q.needs_calibration());
  CHECK(recipe.target.device == "x86-64");
  CHECK_FALSE(recipe.target.threads.has_value());
  CHECK(recipe.output.path == valid_dir() / "minimal.edgepack");
  CHECK(recipe.output.report == (valid_dir() / "minimal.edgepack.report.json").string());
  CHECK(recipe.output.html == (valid_dir() / "minimal.edgepack.report.html").string());
  CHECK(recipe.output.compression == Compression::none);
  CHECK(recipe.output.golden_samples == 4);
  CHECK_FALSE(recipe.verify.has_value());
}

TEST_CASE("recipe: every key of a language-model recipe is read, paths relative to the recipe's folder") {
  const Recipe recipe = parse_valid("llm-gptq-w4.yaml");
  REQUIRE(recipe.calibration.has_value());
  const Calibration& c = *recipe.calibration;
  CHECK(c.dataset == data_path("calib.i32"));
  CHECK(c.kind == CalibrationKind::auto_detect);
  CHECK(c.resolved_kind == CalibrationKind::tokens);
  CHECK(c.samples == 128);
  CHECK(c.seq_len == 256);
  CHECK(c.seed == 0);
  CHECK(c.where.line == 5);
  const QuantizeStage& q = quantize_stage(recipe, 0);
  CHECK(recipe.stages[0].name == "w4");
  CHECK(q.method == "gptq");
  CHECK(q.scheme.group_size == 32);
  REQUIRE(q.ignore.size() == 1);
  CHECK(q.ignore[0].text == "lm_head");
  CHECK(q.ignore[0].where.line == 17);
  CHECK(q.ignore[0].where.column == 14);
  REQUIRE(q.overrides.size() == 1);
  CHECK(q.overrides[0].targets[0].text == "re:\\.mlp\\.down_proj$");
  CHECK(q.overrides[0].scheme.bits == 8);
  CHECK(q.overrides[0].scheme.group_size == 32);  // inherited from the stage
  CHECK(q.overrides[0].bits_where.has_value());
  CHECK_FALSE(q.overrides[0].group_where.has_value());
  CHECK(q.needs_calibration());
  CHECK(recipe.target.device == "x86-64-avx2");
  CHECK(recipe.target.threads == 2);
  CHECK(recipe.output.path == valid_dir() / "out" / "llm-w4.edgepack");
  CHECK(recipe.output.report == (valid_dir() / "out" / "llm-w4.edgepack.report.json").string());
  CHECK(recipe.output.compression == Compression::zstd);
  REQUIRE(recipe.verify.has_value());
  CHECK(recipe.verify->max_kl == 0.05);
  CHECK(recipe.verify->min_top1 == 0.9);
  CHECK_FALSE(recipe.verify->max_perplexity.has_value());
  CHECK(recipe.verify->data == data_path("eval.i32"));
}

TEST_CASE("recipe: image calibration, preprocessing, verify gates and an ARM target") {
  const Recipe recipe = parse_valid("vlm-images.yaml");
  const Calibration& c = *recipe.calibration;
  CHECK(c.kind == CalibrationKind::images);
  CHECK(c.resolved_kind == CalibrationKind::images);
  CHECK(c.prompt_ids == data_path("prompt.i32"));
  CHECK(c.answer_tokens == 16);
  REQUIRE(c.preprocessing.has_value());
  CHECK(c.preprocessing->resize == std::array<int64_t, 2>{28, 28});
  CHECK(c.preprocessing->mean == std::vector<float>{0.5f});
  CHECK(c.preprocessing->std == std::vector<float>{0.5f});
  CHECK(c.preprocessing->layout == PixelLayout::nchw);
  const QuantizeStage& q = quantize_stage(recipe, 0);
  CHECK(q.method == "awq+gptq");
  CHECK(q.scheme.symmetric);
  CHECK(q.scheme.scale_dtype == DType::f32);
  CHECK(recipe.target.device == "aarch64-neon");
  CHECK(recipe.output.golden_samples == 8);
  CHECK(recipe.verify->min_accuracy == 0.8);
  CHECK(recipe.verify->max_accuracy_drop == 0.02);
  CHECK(recipe.verify->max_size_mb == 12.5);
  CHECK(recipe.verify->max_latency_ms == 40.0);
  CHECK(recipe.verify->samples == 200);
}

TEST_CASE("recipe: SmoothQuant stages carry the W8A8 scheme apply_method gives them") {
  const Recipe recipe = parse_valid("two-stages.yaml");
  CHECK(recipe.model.format == ModelFormat::hf);
  CHECK(recipe.calibration->kind == CalibrationKind::generated);
  CHECK(recipe.calibration->dataset.empty());
  const QuantizeStage& sq = quantize_stage(recipe, 1);
  CHECK(sq.method == "smoothquant");
  CHECK(sq.scheme.bits == 8);
  CHECK(sq.scheme.group_size == 0);
  CHECK(sq.scheme.symmetric);
  CHECK(sq.scheme.activations == ActivationMode::int8_dynamic);
  CHECK(sq.alpha == 0.6);
  const quant::QuantizeOptions options = to_quantize_options(sq);
  CHECK(options.transform == quant::Transform::smoothquant);
  CHECK(options.rounding == quant::Rounding::rtn);
  CHECK(options.scheme.bits == sq.scheme.bits);
  CHECK(options.scheme.group_size == sq.scheme.group_size);
  CHECK(options.scheme.activations == sq.scheme.activations);
  CHECK(options.smoothquant.alpha == 0.6);

  const Recipe static_act = parse_valid("two-stages.yaml", {"stages.1.activations=int8-static"});
  CHECK(quantize_stage(static_act, 1).scheme.activations == ActivationMode::int8_static);
}

TEST_CASE("recipe: a quantize stage converts to the QuantizeOptions `edgec quantize` would build") {
  const std::string yaml = R"(version: 1
model: ../data/model
calibration: {dataset: ../data/calib.i32}
stages:
  - pass: quantize
    method: awq+gptq
    bits: 3
    group: 64
    symmetric: true
    scale_dtype: f32
    mse_clip: true
    clip_norm: 2.4
    damp: 0.05
    block: 64
    act_order: false
    ignore: [lm_head, "re:embed"]
    overrides:
      - targets: ["*.down_proj", "*.o_proj"]
        bits: 8
        group: 0
)";
  const Recipe recipe = parse_recipe(yaml, "inline.yaml", valid_dir());
  const quant::QuantizeOptions options = to_quantize_options(quantize_stage(recipe, 0), {"model.layers.0.mlp.up_proj.weight"});
  CHECK(options.transform == quant::Transform::awq);
  CHECK(options.rounding == quant::Rounding::gptq);
  CHECK(options.scheme.bits == 3);
  CHECK(options.scheme.group_size == 64);
  CHECK(options.scheme.symmetric);
  CHECK(options.scheme.scale_dtype == DType::f32);
  CHECK(options.scheme.activations == ActivationMode::float_);
  CHECK(options.rtn.mse_clip);
  CHECK(options.gptq.group_fit.mse_clip);
  CHECK(options.rtn.norm == doctest::Approx(2.4f));
  CHECK(options.gptq.group_fit.norm == doctest::Approx(2.4f));
  CHECK(options.gptq.percdamp == 0.05);
  CHECK(options.gptq.block_size == 64);
  CHECK_FALSE(options.gptq.act_order);
  CHECK(options.ignore == std::vector<std::string>{"lm_head", "re:embed", "re:^model\\.layers\\.0\\.mlp\\.up_proj\\.weight$"});
  REQUIRE(options.overrides.size() == 2);
  CHECK(options.overrides[0].pattern == "*.down_proj");
  CHECK(options.overrides[1].pattern == "*.o_proj");
  for (const auto& rule : options.overrides) {
    CHECK(rule.scheme.bits == 8);
    CHECK(rule.scheme.group_size == 0);
    CHECK(rule.scheme.symmetric);  // inherited
    CHECK(rule.scheme.scale_dtype == DType::f32);
  }
}

TEST_CASE("recipe: --set replaces values, creates keys and sections, and indexes lists") {
  const Recipe recipe = parse_valid("llm-gptq-w4.yaml", {"stages.0.bits=3", "calibration.samples=16", "stages.0.targets=[\"*.mlp.*\"]",
                                                          "target.device=x86-64", "verify={}"});
  const QuantizeStage& q = quantize_stage(recipe, 0);
  CHECK(q.scheme.bits == 3);
  REQUIRE(q.targets.size() == 1);
  CHECK(q.targets[0].text == "*.mlp.*");
  CHECK(q.targets[0].where.set_argument == "stages.0.targets=[\"*.mlp.*\"]");
  CHECK(q.targets[0].where.prefix() == "--set stages.0.targets=[\"*.mlp.*\"]");
  CHECK(recipe.calibration->samples == 16);
  CHECK(recipe.target.device == "x86-64");
  CHECK_FALSE(recipe.verify->max_kl.has_value());

  const Recipe created = parse_valid("minimal.yaml", {"output.compression=zstd", "calibration.dataset=" + data_path("calib.i32").string(),
                                                      "stages.0.method=gptq"});
  CHECK(created.output.compression == Compression::zstd);
  REQUIRE(created.calibration.has_value());
  CHECK(created.calibration->dataset == data_path("calib.i32"));
  CHECK(quantize_stage(created, 0).method == "gptq");
}

TEST_CASE("recipe: a path given with --set is relative to the current folder, not the recipe's") {
  const fs::path here = fs::current_path();
  const fs::path relative = fs::relative(data_path("calib.i32"), here);
  const Recipe recipe = parse_valid("minimal.yaml", {"calibration.dataset=" + relative.string()});
  CHECK(recipe.calibration->dataset == relative.lexically_normal());
}

TEST_CASE("recipe: load_recipe names the file as passed and resolves against its folder") {
  const fs::path relative = fs::relative(valid_dir() / "minimal.yaml", fs::current_path());
  const Recipe recipe = load_recipe(relative.string());
  CHECK(recipe.file == relative.string());
  CHECK(recipe.model.path == (relative.parent_path() / "../data/model").lexically_normal());
  CHECK(recipe.output.path == relative.parent_path() / "minimal.edgepack");

  const std::string message = usage_error([&] { load_recipe(relative.string(), {"stages.0.bits=5"}); });
  CHECK(message == "--set stages.0.bits=5: stages.0.bits must be one of 2, 3, 4, 8; got 5");
  CHECK(usage_error([] { load_recipe("no/such/recipe.yaml"); }) == "no/such/recipe.yaml: cannot open the recipe file");
  CHECK(usage_error([&] { load_recipe(valid_dir().string()); }) == valid_dir().string() + ": is a folder, not a recipe file");
}

TEST_CASE("recipe: every example recipe validates") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(valid_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().filename().string());
    CHECK_NOTHROW(parse_valid(entry.path().filename().string()));
    ++count;
  }
  CHECK(count >= 4);
}

TEST_CASE("device profiles: every profile runs 2/3/4/8-bit weights except aarch64-neon (4 and 8)") {
  CHECK(device_profiles().size() == 4);
  for (const DeviceProfile& profile : device_profiles()) {
    CAPTURE(profile.name);
    CHECK(find_device_profile(profile.name) == &profile);
    for (int bits : {4, 8}) CHECK(profile.runs_bits(bits));
    CHECK(profile.runs_bits(2) == (profile.name != "aarch64-neon"));
    CHECK(profile.runs_bits(3) == (profile.name != "aarch64-neon"));
    CHECK_FALSE(profile.runs_bits(5));
    CHECK(profile.runs_activations(ActivationMode::int8_dynamic));
  }
  CHECK(find_device_profile("riscv") == nullptr);
}

TEST_CASE("did you mean: optimal string alignment distance and the closest candidate") {
  CHECK(edit_distance("seqlen", "seq_len") == 1);
  CHECK(edit_distance("gtpq", "gptq") == 1);  // a swap of neighbours is one edit
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest_match("modle", {"version", "model", "stages"}) == "model");
  CHECK(closest_match("Bits", {"bits", "group"}) == "bits");
  CHECK_FALSE(closest_match("xyz", {"version", "model"}).has_value());
  CHECK(closest_match("quantise", {"quantize"}) == "quantize");
}

TEST_CASE("exact_name_pattern matches one name, whatever characters it holds") {
  const std::string pattern = exact_name_pattern("model.layers.0.mlp.up_proj.weight");
  CHECK(pattern == "re:^model\\.layers\\.0\\.mlp\\.up_proj\\.weight$");
  CHECK(quant::name_matches(pattern, "model.layers.0.mlp.up_proj.weight"));
  CHECK_FALSE(quant::name_matches(pattern, "model.layers.0.mlp.up_proj.weight_1"));
  CHECK_FALSE(quant::name_matches(pattern, "model.layers.0xmlp.up_proj.weight"));
  const std::string odd = "a(b)[c]*+?{1}|^$\\d";
  CHECK(quant::name_matches(exact_name_pattern(odd), odd));
}

}  // namespace
}  // namespace edgec::pipeline::test
