// stories260k as an .edgepack: the f32 model (uncompressed, used in place from the mapping) and an RTN W4 g32
// quantized one (edgec.QLinear with u8 codes and f16 scales, zstd) come back with byte-identical tensors and the
// executor gives bit-identical logits; the config / tokenizer files travel inside; `edgec run ARTIFACT` generates
// the same tokens as the in-memory graph, and `edgec inspect ARTIFACT` lists the sections.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <nlohmann/json.hpp>

#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgepack_support.hpp"
#include "raw_file.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::test::edgepack;
using Json = nlohmann::json;

namespace {

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

edgec::test::CommandResult run_edgec(const std::string& args) {
  return edgec::test::run_command(edgec::test::edgec_binary() + " " + args);
}

// What `edgec compile` will store for an HF folder: its model facts, the runner's side files, the sources' digests.
EdgepackExtras stories_extras(const fs::path& dir, const Model& model, EdgepackCompression compression) {
  EdgepackExtras extras;
  extras.model = edgepack_model_info(model);
  for (const char* name : {"config.json", "generation_config.json", "tok512.bin"}) extras.files[name] = read_bytes(dir / name);
  extras.target.device = "host";
  extras.target.properties = {{"isa", "x86-64"}};
  extras.provenance.edgec_version = "test";
  extras.provenance.recipe = "quantize: {method: rtn, bits: 4, group: 32}\n";
  extras.provenance.inputs.push_back({"model", (dir / "model.safetensors").string(), sha256_file(dir / "model.safetensors")});
  extras.compression = compression;
  return extras;
}

// Logits at every position of a short prompt, [1, S, V].
std::vector<float> logits_of(const Graph& graph, const std::vector<int64_t>& ids) {
  runtime::GraphCausalModel lm(graph, false);
  lm.prefill({ids}, nullptr);
  const auto values = lm.last_logits().span<float>();
  return {values.begin(), values.end()};
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<int64_t> greedy(const Graph& graph, int64_t tokens) {
  runtime::GraphCausalModel lm(graph);
  runtime::GenerationOptions options;
  options.max_new_tokens = tokens;
  return runtime::generate(lm, {{1}}, nullptr, options).tokens.at(0);
}

}  // namespace

TEST_CASE("edgepack stories260k: f32 and RTN W4 g32 artifacts give identical logits, edgec run and inspect use them") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  ScratchDir tmp("stories");
  const Model model = load_model(dir);
  const Graph& original = model.graphs.at(0);
  const auto ids32 = edgec::test::read_raw_file<int32_t>(dir / "eval/golden_prompt_ids.i32");
  const std::vector<int64_t> prompt(ids32.begin(), ids32.begin() + 12);

  // f32, uncompressed: every weight is used in place from the artifact's mapping.
  const auto f32_file = tmp / "stories_f32.edgepack";
  write_edgepack(original, stories_extras(dir, model, EdgepackCompression::none), f32_file);
  const Model f32 = load_model(f32_file);
  CHECK(f32.format == "edgepack");
  CHECK(f32.architecture == "LlamaForCausalLM");
  REQUIRE(f32.graphs.size() == 1);
  check_same_graph(original, f32.graphs[0]);
  for (const auto& [name, tensor] : f32.graphs[0].initializers) CHECK_MESSAGE(tensor.is_view(), name);
  CHECK(bit_identical(logits_of(original, prompt), logits_of(f32.graphs[0], prompt)));
  const auto stats = parameter_stats(f32), source_stats = parameter_stats(model);
  REQUIRE(stats.size() == source_stats.size());
  for (const auto& [component, stat] : source_stats) {
    CHECK(stats.at(component).parameters == stat.parameters);
    CHECK(stats.at(component).bytes == stat.bytes);
  }

  // RTN W4 g32 (no calibration data needed), zstd.
  Graph quantized = original;
  quant::QuantizeOptions options;
  options.scheme.bits = 4;
  options.scheme.group_size = 32;
  const auto report = quant::quantize_graph(quantized, nullptr, options, "rtn");
  REQUIRE(report.layers.size() == 36);
  const auto q_file = tmp / "stories_w4.edgepack";
  write_edgepack(quantized, stories_extras(dir, model, EdgepackCompression::zstd), q_file);
  const auto contents = read_edgepack(q_file);
  check_same_graph(quantized, contents.graph);
  int qlinears = 0;
  for (const auto& node : contents.graph.nodes) qlinears += node.op == "QLinear";
  CHECK(qlinears == 36);
  std::set<DType> dtypes;
  for (const auto& [name, tensor] : contents.graph.initializers) dtypes.insert(tensor.dtype());
  CHECK(dtypes.count(DType::u8));
  CHECK(dtypes.count(DType::f16));
  const auto quantized_logits = logits_of(quantized, prompt);
  CHECK(bit_identical(quantized_logits, logits_of(contents.graph, prompt)));
  CHECK_FALSE(bit_identical(quantized_logits, logits_of(original, prompt)));  // it really is another model
  CHECK(contents.extras.files.at("tok512.bin") == read_bytes(dir / "tok512.bin"));
  CHECK(contents.extras.files.at("generation_config.json") == read_bytes(dir / "generation_config.json"));
  CHECK(contents.extras.provenance.inputs.at(0).sha256 == sha256_file(dir / "model.safetensors"));
  CHECK(fs::file_size(q_file) < fs::file_size(f32_file) / 3);

  // Writing the same quantized graph again gives the same bytes.
  const auto q_again = tmp / "stories_w4_again.edgepack";
  write_edgepack(quantized, stories_extras(dir, model, EdgepackCompression::zstd), q_again);
  CHECK(read_bytes(q_again) == read_bytes(q_file));

  // edgec run ARTIFACT: greedy generation through the CLI equals the in-memory graph's.
  auto run = run_edgec("run " + quoted(q_file) + " --generate 12 --json");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const Json generated = Json::parse(run.out);
  const auto expected = greedy(quantized, 12);
  CHECK(generated["tokens"].get<std::vector<int64_t>>() == expected);
  run = run_edgec("run " + quoted(q_file) + " --generate 12 --tokenizer " + quoted(dir / "tok512.bin"));
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  MESSAGE("W4 g32 stories260k from the artifact: " << run.out);
  CHECK(run.out.size() > 12);
  run = run_edgec("run " + quoted(f32_file) + " --generate 20 --tokenizer " + quoted(dir / "tok512.bin"));
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);

  // edgec inspect ARTIFACT: the usual report plus header, target, provenance and sections.
  auto inspect = run_edgec("inspect " + quoted(q_file));
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  for (const char* part : {"format:       edgepack", "architecture: LlamaForCausalLM", "edgepack version 1", "target:", "host",
                           "provenance:", "sections:", "zstd", "tok512.bin", "model.embed_tokens.weight"})
    CHECK_MESSAGE(inspect.out.find(part) != std::string::npos, part << "\n" << inspect.out);
  inspect = run_edgec("inspect " + quoted(q_file) + " --json");
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  const Json report_json = Json::parse(inspect.out);
  CHECK(report_json["format"] == "edgepack");
  CHECK(report_json["edgepack"]["format_version"] == 1);
  CHECK(report_json["edgepack"]["target"]["device"] == "host");
  CHECK(report_json["edgepack"]["sections"].size() == inspect_edgepack(q_file).sections.size());

  // A corrupted artifact: exit 4 with the checksum message.
  std::string bytes = read_bytes(q_file);
  const auto info = inspect_edgepack(q_file);
  const auto& last_weight = info.sections.at(info.sections.size() / 2);
  bytes[last_weight.offset + 1] = static_cast<char>(bytes[last_weight.offset + 1] ^ 0x20);
  const auto bad = tmp / "bad.edgepack";
  write_bytes(bad, bytes);
  run = run_edgec("run " + quoted(bad) + " --generate 4");
  CHECK(run.exit_code == 4);
  CHECK_MESSAGE(run.err.find("checksum mismatch (expected " + last_weight.sha256) != std::string::npos, run.err);
}
