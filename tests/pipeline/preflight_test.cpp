// Preflight on the synthetic Llama graph (always) and on stories260k (when the shared models are present): the
// layers each stage touches, the size estimate against a hand computation and against the bytes quantize_graph
// actually writes, the calibration memory estimate, the options, and the text / JSON forms of the plan.
#include <numeric>

#include "edgec/formats/load.hpp"
#include "edgec/pipeline/preflight.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "recipe_test_support.hpp"
#include "synthetic_model.hpp"
#include "test_paths.hpp"

namespace edgec::pipeline::test {
namespace {

Recipe inline_recipe(const std::string& stages, const std::string& extra = "") {
  const std::string yaml = "version: 1\nmodel: ../data/model\n" + extra + "stages:\n" + stages;
  return parse_recipe(yaml, "inline.yaml", recipes_dir() / "valid");
}

std::vector<std::string> scopes(const StagePlan& stage) {
  std::vector<std::string> out;
  for (const LayerPlan& layer : stage.layers) out.push_back(layer.scope);
  return out;
}

int64_t constant_bytes(const Graph& graph) {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : graph.initializers) bytes += static_cast<int64_t>(tensor.bytes().size());
  return bytes;
}

TEST_CASE("preflight: the size estimate of w4 g32 over every layer equals the hand computation") {
  const Recipe recipe = inline_recipe("  - pass: quantize\n    group: 32\n");
  const Plan plan = preflight(recipe, synthetic_llama());
  REQUIRE(plan.stages.size() == 1);
  CHECK(plan.linear_layers == 15);
  CHECK(plan.stages[0].layers.size() == 15);
  // Packed bytes per layer: N * ceil(K * 4 / 8) codes + N * ceil(K / 32) * 2 f16 scales + N * ceil(K / 32) zeros.
  //   q, o   64 x 64: 2048 + 256 + 128 = 2432        k, v 32 x 64: 1024 + 128 + 64 = 1216
  //   gate, up 96 x 64: 3072 + 384 + 192 = 3648     down 64 x 96: 3072 + 384 + 192 = 3648
  //   one decoder layer: 2 * 2432 + 2 * 1216 + 3 * 3648 = 18240; two: 36480
  //   lm_head 128 x 64: 4096 + 512 + 256 = 4864                              -> 41344
  CHECK(plan.stages[0].packed_bytes == 41344);
  // Unchanged: the embedding 128 x 64 f32 = 32768, five RMSNorm weights of 64 f32 = 1280.
  CHECK(plan.unquantized_bytes == 34048);
  CHECK(plan.estimated_bytes == 75392);
  // Now: per decoder layer (2*4096 + 2*2048 + 3*6144) * 4 = 122880, lm_head 32768, embedding 32768, norms 1280.
  CHECK(plan.original_bytes == 2 * 122880 + 32768 + 32768 + 1280);
  CHECK(plan.stages[0].original_bytes == 2 * 122880 + 32768);
  CHECK(plan.unquantized.empty());
  CHECK(plan.calibration_peak_bytes == 0);  // round-to-nearest needs no data
  CHECK(plan.calibration_tokens == 0);

  const LayerPlan& down = plan.stages[0].layers[6];
  CHECK(down.name == "model.layers.0.mlp.down_proj.weight");
  CHECK(down.scope == "model.layers.0.mlp.down_proj");
  CHECK(down.op == "edgec.Linear");
  CHECK(down.out_features == 64);
  CHECK(down.in_features == 96);
  CHECK(down.packed_bytes == 3648);
  CHECK(down.original_bytes == 64 * 96 * 4);
}

TEST_CASE("preflight: the estimate equals the bytes quantize_graph writes with the plan's options, stage after stage") {
  const Recipe recipe = inline_recipe(R"(  - name: attention
    pass: quantize
    bits: 3
    group: 32
    symmetric: true
    targets: ["*.self_attn.*"]
  - name: mlp
    pass: quantize
    bits: 8
    group: 0
    scale_dtype: f32
    targets: ["re:mlp"]
    overrides:
      - targets: ["*.down_proj"]
        bits: 2
        group: 32
)");
  Graph graph = synthetic_llama();
  const Plan plan = preflight(recipe, graph);
  REQUIRE(plan.stages.size() == 2);
  CHECK(scopes(plan.stages[0]) == std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                                           "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj",
                                                           "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj",
                                                           "model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.o_proj"});
  CHECK(plan.stages[1].layers.size() == 6);
  CHECK(plan.stages[1].layers[2].scope == "model.layers.0.mlp.down_proj");
  CHECK(plan.stages[1].layers[2].scheme.bits == 2);
  CHECK(plan.stages[1].layers[2].scheme.scale_dtype == DType::f32);  // the override inherits the stage's scale dtype
  CHECK(plan.stages[1].layers[0].scheme.bits == 8);
  REQUIRE(plan.unquantized.size() == 1);
  CHECK(plan.unquantized[0].name == "lm_head.weight");
  CHECK(plan.unquantized[0].scope == "lm_head");
  CHECK(plan.stages[0].excluded.size() == 7);  // 6 MLP layers and lm_head

  for (size_t s = 0; s < plan.stages.size(); ++s) {
    const StagePlan& stage = plan.stages[s];
    const quant::QuantizeReport report = quant::quantize_graph(graph, nullptr, stage.options, stage.method);
    REQUIRE(report.layers.size() == stage.layers.size());
    for (size_t i = 0; i < stage.layers.size(); ++i) {
      CHECK(report.layers[i].name == stage.layers[i].name);
      CHECK(report.layers[i].scheme == quant::describe(stage.layers[i].scheme));
    }
  }
  CHECK(constant_bytes(graph) == plan.estimated_bytes);
}

TEST_CASE("preflight: two layers sharing one weight are told apart by their scopes") {
  Graph graph;
  graph.inputs.push_back(ValueInfo{"x", {}});
  const std::vector<float> zeros(16 * 16, 0.0f);
  graph.initializers["shared.weight"] = Tensor::from_values<float>(DType::f32, {16, 16}, std::span<const float>(zeros));
  for (const std::string scope : {"first", "second"}) {
    Node node;
    node.op = "Linear";
    node.domain = "edgec";
    node.scope = scope;
    node.inputs = {scope == "first" ? "x" : "first.out", "shared.weight"};
    node.outputs = {scope + ".out"};
    graph.nodes.push_back(node);
  }
  graph.outputs.push_back(ValueInfo{"second.out", {}});
  const Plan plan = preflight(inline_recipe("  - pass: quantize\n    group: 8\n    targets: [first]\n"), graph);
  REQUIRE(plan.stages[0].layers.size() == 1);
  CHECK(plan.stages[0].excluded == std::vector<std::string>{"second"});
  const quant::QuantizeReport report = quant::quantize_graph(graph, nullptr, plan.stages[0].options, plan.stages[0].method);
  CHECK(report.layers.size() == 1);
  CHECK(graph.nodes[0].op == "QLinear");
  CHECK(graph.nodes[1].op == "Linear");
  // The shared f32 weight stays (the second layer reads it): the estimate counts it once, beside the packed copy.
  CHECK(constant_bytes(graph) == plan.estimated_bytes);
}

TEST_CASE("preflight: calibration peak memory follows the documented formula") {
  const Recipe recipe = inline_recipe("  - pass: quantize\n    method: gptq\n    group: 32\n",
                                      "calibration:\n  dataset: ../data/calib.i32\n  samples: 16\n  seq_len: 32\n");
  const Plan plan = preflight(recipe, synthetic_llama());
  CHECK(plan.calibration_tokens == 16 * 32);
  CHECK(plan.hidden_size == 64);  // 13 of the 15 layers read 64 features
  // A decoder layer: f32 weights 122880, Hessians 8 * (6 * 64^2 + 96^2) = 270336, activations 3 * 512 * 64 * 4 = 393216.
  CHECK(plan.calibration_peak_bytes == 122880 + 270336 + 393216);
  CHECK(plan.peak_block == "model.layers.0");
}

TEST_CASE("preflight: group sizes that do not divide a layer are allowed when the stage says so") {
  const Recipe strict = inline_recipe("  - pass: quantize\n    group: 64\n");
  CHECK(usage_error([&] { preflight(strict, synthetic_llama()); }) ==
        "inline.yaml:5:12: stages.0.group: group 64 does not divide in_features 96 of layer 'model.layers.0.mlp.down_proj'; "
        "use a group that divides it, an override for the layer, or allow_partial_groups: true");
  const Recipe relaxed = inline_recipe("  - pass: quantize\n    group: 64\n    allow_partial_groups: true\n");
  const Plan plan = preflight(relaxed, synthetic_llama());
  // down_proj 64 x 96 in groups of 64: a full group and one of 32 -> 2 groups.
  CHECK(plan.stages[0].layers[6].packed_bytes == 64 * 48 + 64 * 2 * 2 + 64 * 2);
  // A group as large as K (or larger) is one group per output channel, which always fits.
  const Recipe wide = inline_recipe("  - pass: quantize\n    group: 128\n");
  CHECK(preflight(wide, synthetic_llama()).stages[0].layers[0].packed_bytes == 64 * 32 + 64 * 2 + 64);
}

TEST_CASE("preflight: a model of several graphs is refused at the model key") {
  Model model;
  model.graphs = {synthetic_llama(), synthetic_llama()};
  const Recipe recipe = inline_recipe("  - pass: quantize\n");
  const std::string message = usage_error([&] { preflight(recipe, model); });
  CHECK(message == "inline.yaml:2:8: model: '" + recipe.model.path.string() +
                       "' holds 2 graphs; compile works on one graph (use the Hugging Face checkpoint, or one .onnx file)");
}

TEST_CASE("preflight: a model without linear layers has nothing to quantize") {
  Graph graph;
  graph.inputs.push_back(ValueInfo{"x", {}});
  graph.outputs.push_back(ValueInfo{"x", {}});
  CHECK(usage_error([&] { preflight(inline_recipe("  - pass: quantize\n"), graph); }) ==
        "inline.yaml:4:5: stages.0: stage 'stage0' quantizes no layer (the model has no linear layers)");
}

TEST_CASE("preflight: the plan as text and as JSON") {
  const Recipe recipe = inline_recipe("  - name: w4\n    pass: quantize\n    method: gptq\n    group: 32\n    ignore: [lm_head]\n",
                                      "calibration:\n  dataset: ../data/calib.i32\n  samples: 8\n  seq_len: 16\n");
  const Plan plan = preflight(recipe, synthetic_llama());
  const std::string text = plan_to_text(plan);
  CHECK(text.find("stage 'w4' (quantize, gptq): 14 layers") != std::string::npos);
  CHECK(text.find("  model.layers.1.mlp.down_proj     edgec.Linear  64 x 96   w4 g32 asym f16-scales  3648\n") != std::string::npos);
  CHECK(text.find("left unquantized: 1 linear layer (lm_head)") != std::string::npos);
  CHECK(text.find("estimated artifact weights: ") != std::string::npos);
  CHECK(text.find("estimated calibration peak memory: ") != std::string::npos);
  const auto json = plan_to_json(plan);
  CHECK(json["device"] == "x86-64");
  CHECK(json["linear_layers"] == 15);
  CHECK(json["stages"][0]["name"] == "w4");
  CHECK(json["stages"][0]["method"] == "gptq");
  CHECK(json["stages"][0]["layers"].size() == 14);
  CHECK(json["stages"][0]["layers"][0]["name"] == "model.layers.0.self_attn.q_proj.weight");
  CHECK(json["stages"][0]["layers"][0]["group"] == 32);
  CHECK(json["stages"][0]["layers"][0]["activations"] == "float");
  CHECK(json["stages"][0]["excluded"] == nlohmann::ordered_json::array({"lm_head"}));
  CHECK(json["unquantized"][0]["name"] == "lm_head.weight");
  CHECK(json["unquantized"][0]["scope"] == "lm_head");
  CHECK(json["estimated_bytes"] == plan.estimated_bytes);
  CHECK(json["calibration"]["tokens"] == 8 * 16);
  CHECK(json["calibration"]["peak_block"] == "model.layers.0");
}

TEST_CASE("preflight: stories260k (real model)") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Model model = load_model(dir);
  const std::string yaml = "version: 1\nmodel: " + dir.string() + "\nstages:\n  - pass: quantize\n    method: rtn\n    group: 32\n";
  const Recipe strict = parse_recipe(yaml, "stories.yaml", fs::current_path());
  // intermediate_size 172 = 4 * 43: no multiple of 8 divides it.
  CHECK(usage_error([&] { preflight(strict, model); }) ==
        "stories.yaml:6:12: stages.0.group: group 32 does not divide in_features 172 of layer 'model.layers.0.mlp.down_proj'; "
        "use a group that divides it, an override for the layer, or allow_partial_groups: true");

  const Recipe recipe = parse_recipe(yaml + "    overrides:\n      - targets: [\"*.down_proj\"]\n        group: 0\n", "stories.yaml",
                                     fs::current_path());
  const Plan plan = preflight(recipe, model);
  // 5 decoder layers of 7 linear layers, and the tied lm_head (quantized as its own copy).
  CHECK(plan.linear_layers == 36);
  REQUIRE(plan.stages[0].layers.size() == 36);
  CHECK(plan.stages[0].layers.back().scope == "lm_head");
  CHECK(plan.stages[0].layers[6].scheme.group_size == 0);
  CHECK(plan.stages[0].layers[6].in_features == 172);

  Graph graph = model.graphs[0];
  for (const StagePlan& stage : plan.stages) quant::quantize_graph(graph, nullptr, stage.options, stage.method);
  CHECK(constant_bytes(graph) == plan.estimated_bytes);
}

TEST_CASE("preflight: the example of docs/recipes.md validates and plans on stories260k") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  std::string doc = read_text(fs::path(EDGEC_SOURCE_DIR) / "docs" / "recipes.md");
  const size_t begin = doc.find("```yaml\n");
  REQUIRE(begin != std::string::npos);
  std::string yaml = doc.substr(begin + 8, doc.find("```", begin + 8) - begin - 8);
  const std::string written = "../shared/models/stories260k", actual = fs::absolute(dir).lexically_normal().string();
  for (size_t at = 0; (at = yaml.find(written, at)) != std::string::npos; at += actual.size()) yaml.replace(at, written.size(), actual);
  const Recipe recipe = parse_recipe(yaml, "recipe.yaml", fs::path(EDGEC_SOURCE_DIR));
  const Plan plan = preflight(recipe, load_model(dir));
  REQUIRE(plan.stages.size() == 2);
  CHECK(plan.stages[0].layers.size() == 20);  // q, k, v, o of 5 layers
  CHECK(plan.stages[1].layers.size() == 15);  // gate, up, down of 5 layers
  REQUIRE(plan.unquantized.size() == 1);
  CHECK(plan.unquantized[0].name == "model.embed_tokens.weight");  // lm_head, tied to the embedding
  CHECK(plan.unquantized[0].scope == "lm_head");
  CHECK(recipe.output.path == (fs::path(EDGEC_SOURCE_DIR) / "out" / "stories-w4.edgepack").lexically_normal());
}

}  // namespace
TEST_CASE("preflight: image calibration needs prompt_ids for a model reading input_ids and refuses them for a vision model") {
  const std::string images = "calibration:\n  dataset: ../data/calib.i32\n  kind: images\n";
  const std::string stage = "  - pass: quantize\n    method: gptq\n";
  Graph vision = synthetic_llama();
  vision.inputs.front().name = "pixel_values";  // preflight reads only which inputs exist
  CHECK_NOTHROW(preflight(inline_recipe(stage, images), vision));
  CHECK(usage_error([&] { preflight(inline_recipe(stage, images), synthetic_llama()); }) ==
        "inline.yaml:4:3: calibration: kind images needs prompt_ids for this model (it reads input_ids: the token ids fed with each image)");
  CHECK_NOTHROW(preflight(inline_recipe(stage, images + "  prompt_ids: ../data/prompt.i32\n  answer_tokens: 4\n"), synthetic_llama()));
  CHECK(usage_error([&] { preflight(inline_recipe(stage, images + "  prompt_ids: ../data/prompt.i32\n  answer_tokens: 4\n"), vision); }) ==
        "inline.yaml:4:3: calibration.prompt_ids: the model reads no input_ids (a vision model takes the images alone)\n"
        "inline.yaml:4:3: calibration.answer_tokens: the model generates no text (it reads no input_ids)");
}

}  // namespace edgec::pipeline::test
