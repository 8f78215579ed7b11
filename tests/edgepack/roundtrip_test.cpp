// .edgepack round trips: a synthetic graph with every dtype and attribute kind (subgraphs, tensor attributes)
// and every extra comes back identical, uncompressed and with zstd; writing is deterministic and reading then
// writing again gives the same bytes; uncompressed tensors are 64-byte aligned views of the mapping; inspect
// lists every section without loading data; load_model opens an artifact.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/load.hpp"
#include "edgepack_support.hpp"

using namespace edgec;
using namespace edgec::test::edgepack;

namespace {

// Every tensor a graph holds (initializers and attribute tensors, subgraphs included).
void collect_tensors(const Graph& graph, std::vector<Tensor>& out) {
  for (const auto& [name, tensor] : graph.initializers) out.push_back(tensor);
  for (const auto& node : graph.nodes)
    for (const auto& [key, value] : node.attributes) {
      if (const auto* t = std::get_if<Tensor>(&value)) out.push_back(*t);
      if (const auto* ts = std::get_if<std::vector<Tensor>>(&value)) out.insert(out.end(), ts->begin(), ts->end());
      if (const auto* g = std::get_if<GraphPtr>(&value)) collect_tensors(**g, out);
      if (const auto* gs = std::get_if<std::vector<GraphPtr>>(&value))
        for (const auto& sub : *gs) collect_tensors(*sub, out);
    }
}

}  // namespace

TEST_CASE("edgepack: synthetic graph with every dtype and attribute kind round-trips, uncompressed and zstd") {
  ScratchDir dir("roundtrip");
  const Graph graph = synthetic_graph();
  validate_graph(graph, "synthetic");
  for (const auto compression : {EdgepackCompression::none, EdgepackCompression::zstd}) {
    INFO("compression " << compression_name(compression));
    EdgepackExtras extras = synthetic_extras();
    extras.compression = compression;
    const auto file = dir / ("model_" + std::string(compression_name(compression)) + ".edgepack");
    write_edgepack(graph, extras, file);
    const auto contents = read_edgepack(file);
    check_same_graph(graph, contents.graph);
    check_same_extras(extras, contents.extras);
    CHECK(contents.extras.compression == compression);

    // Read back, written again: the same bytes.
    const auto again = dir / "again.edgepack";
    EdgepackExtras extras_again = contents.extras;
    write_edgepack(contents.graph, extras_again, again);
    CHECK(read_bytes(again) == read_bytes(file));
  }
}

TEST_CASE("edgepack: writing twice gives identical bytes, zstd shrinks a compressible model and leaves others plain") {
  ScratchDir dir("determinism");
  const Graph graph = synthetic_graph();
  EdgepackExtras extras = synthetic_extras();
  write_edgepack(graph, extras, dir / "a.edgepack");
  write_edgepack(synthetic_graph(), synthetic_extras(), dir / "b.edgepack");
  CHECK(read_bytes(dir / "a.edgepack") == read_bytes(dir / "b.edgepack"));

  extras.compression = EdgepackCompression::zstd;
  write_edgepack(graph, extras, dir / "c.edgepack");
  write_edgepack(graph, extras, dir / "d.edgepack");
  CHECK(read_bytes(dir / "c.edgepack") == read_bytes(dir / "d.edgepack"));
  CHECK(fs::file_size(dir / "c.edgepack") < fs::file_size(dir / "a.edgepack"));

  const auto info = inspect_edgepack(dir / "c.edgepack");
  int compressed = 0, plain = 0;
  for (const auto& section : info.sections) {
    if (section.compression == EdgepackCompression::zstd) {
      ++compressed;
      CHECK(section.stored_size < section.size);
    } else {
      ++plain;
      CHECK(section.stored_size == section.size);
    }
  }
  CHECK(compressed > 0);  // w_large's repeating pattern compresses
  CHECK(plain > 0);       // tiny tensors do not pay for a frame header
  CHECK(info.flags == 1);
  CHECK(inspect_edgepack(dir / "a.edgepack").flags == 0);

  // No temporary file is left next to the outputs.
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.insert(entry.path().filename().string());
  CHECK(names == std::set<std::string>{"a.edgepack", "b.edgepack", "c.edgepack", "d.edgepack"});
}

TEST_CASE("edgepack: uncompressed tensors are 64-byte aligned views of the mapped file") {
  ScratchDir dir("mmap");
  const Graph graph = synthetic_graph();
  write_edgepack(graph, synthetic_extras(), dir / "m.edgepack");
  const auto contents = read_edgepack(dir / "m.edgepack");
  const std::string file = read_bytes(dir / "m.edgepack");
  std::vector<Tensor> tensors;
  collect_tensors(contents.graph, tensors);
  REQUIRE(tensors.size() > 30);
  for (const auto& sample : contents.extras.golden)
    for (const auto* side : {&sample.inputs, &sample.outputs})
      for (const auto& [name, tensor] : *side) tensors.push_back(tensor);
  for (const auto& tensor : tensors) {
    CHECK(tensor.is_view());
    const auto address = reinterpret_cast<uintptr_t>(tensor.bytes().data());
    CHECK(address % 64 == 0);
  }

  // Each section's bytes sit at the offset inspect reports, and the tensors view exactly those bytes.
  const auto info = inspect_edgepack(dir / "m.edgepack");
  const Tensor& large = contents.graph.initializers.at("w_large");
  bool found = false;
  for (const auto& section : info.sections) {
    CHECK(section.offset % 64 == 0);
    CHECK(section.offset + section.stored_size <= file.size());
    CHECK(sha256_hex(std::string_view(file).substr(section.offset, section.stored_size)) == section.sha256);
    if (section.name == "w_large") {
      found = true;
      CHECK(section.kind == "initializer");
      CHECK(section.dtype == DType::f32);
      CHECK(section.dims == std::vector<int64_t>{256, 64});
      CHECK(std::memcmp(file.data() + section.offset, large.bytes().data(), large.bytes().size()) == 0);
    }
  }
  CHECK(found);

  // A tensor keeps the mapping alive after everything else read with it is gone.
  Tensor kept;
  {
    const auto again = read_edgepack(dir / "m.edgepack");
    kept = again.graph.initializers.at("w_large");
  }
  CHECK(kept.is_view());
  CHECK(same_tensor(kept, synthetic_graph().initializers.at("w_large")));
}

TEST_CASE("edgepack: inspect lists header, extras and every section with its name and kind") {
  ScratchDir dir("inspect");
  write_edgepack(synthetic_graph(), synthetic_extras(), dir / "i.edgepack");
  const auto info = inspect_edgepack(dir / "i.edgepack");
  CHECK(info.format_version == 1);
  CHECK(info.file_size == fs::file_size(dir / "i.edgepack"));
  CHECK(info.data_offset % 64 == 0);
  CHECK(info.data_offset >= 56 + info.manifest_size);
  CHECK(info.data_offset + info.data_size == info.file_size);
  CHECK(info.graph_name == "synthetic");
  CHECK(info.nodes == 4);
  CHECK(info.target.device == "rk3588");
  CHECK(info.provenance.recipe == synthetic_extras().provenance.recipe);
  CHECK(info.golden_samples == std::vector<std::string>{"bos", "zeros"});
  CHECK(info.files == std::vector<std::string>{"config.json", "empty.txt", "tok512.bin"});
  std::map<std::string, std::string> kinds;
  for (const auto& section : info.sections) {
    CHECK_MESSAGE(!section.name.empty(), "section " << section.index << " is not referenced");
    kinds[section.name] = section.kind;
  }
  CHECK(kinds.at("w_i4") == "initializer");
  CHECK(kinds.at("const.value") == "attribute");
  CHECK(kinds.at("everything.tensors[1]") == "attribute");
  CHECK(kinds.at("everything.g/bias_g") == "initializer");  // a subgraph's initializer
  CHECK(kinds.at("everything.graphs[1]/const_l1.value") == "attribute");
  CHECK(kinds.at("#2.then_branch/bias_then") == "initializer");  // the unnamed If is node #2
  CHECK(kinds.at("bos/x") == "golden input");
  CHECK(kinds.at("bos/z") == "golden output");
  CHECK(kinds.at("tok512.bin") == "file");
  // Sections are numbered and laid out in the documented order: top-level initializers first (sorted).
  CHECK(info.sections.front().name == "w_bf16");
  CHECK(info.sections.back().name == "tok512.bin");
  for (size_t i = 1; i < info.sections.size(); ++i) CHECK(info.sections[i].offset >= info.sections[i - 1].offset + info.sections[i - 1].stored_size);

  CHECK(read_edgepack_file(dir / "i.edgepack", "tok512.bin") == synthetic_extras().files.at("tok512.bin"));
  CHECK_THROWS_AS(read_edgepack_file(dir / "i.edgepack", "tokenizer.json"), Error);
}

TEST_CASE("edgepack: load_model opens an artifact as a Model with the stored architecture, components and metadata") {
  ScratchDir dir("load");
  const auto file = dir / "model.edgepack";
  write_edgepack(synthetic_graph(), synthetic_extras(), file);
  const Model model = load_model(file);
  CHECK(model.format == "edgepack");
  CHECK(model.architecture == "Synthetic");
  CHECK(model.source == file);
  CHECK(model.files == std::vector<fs::path>{file});
  REQUIRE(model.graphs.size() == 1);
  check_same_graph(synthetic_graph(), model.graphs[0]);
  REQUIRE(model.components.size() == 2);
  CHECK(model.components[0].name == "language_model");
  CHECK(model.metadata.at("producer") == "tests");
  CHECK(component_of(model, "lm_head.weight") == "language_model");
}

TEST_CASE("edgepack: an empty graph with no extras is a valid artifact") {
  ScratchDir dir("empty");
  Graph graph;
  graph.name = "empty";
  write_edgepack(graph, {}, dir / "e.edgepack");
  const auto contents = read_edgepack(dir / "e.edgepack");
  check_same_graph(graph, contents.graph);
  const auto info = inspect_edgepack(dir / "e.edgepack");
  CHECK(info.sections.empty());
  CHECK(info.data_size == 0);
  CHECK(info.file_size == info.data_offset);
}

TEST_CASE("edgepack: the writer refuses what it cannot store and leaves nothing behind") {
  ScratchDir dir("refuse");
  const Graph graph = synthetic_graph();
  auto refused = [&](const EdgepackExtras& extras, const std::string& part) {
    try {
      write_edgepack(graph, extras, dir / "x.edgepack");
      FAIL("expected an error mentioning " << part);
    } catch (const Error& error) {
      CHECK_MESSAGE(std::string(error.what()).find(part) != std::string::npos, error.what());
    }
    CHECK(fs::is_empty(dir.path()));
  };
  EdgepackExtras extras = synthetic_extras();
  extras.files["../escape"] = "x";
  refused(extras, "not a plain file name");
  extras = synthetic_extras();
  extras.provenance.inputs[0].sha256 = "abc";
  refused(extras, "not 64 hex digits");
  extras = synthetic_extras();
  extras.golden[0].tolerances["nope"] = {};
  refused(extras, "not one of its outputs");
  extras = synthetic_extras();
  extras.golden[0].tolerances["z"] = {-1.0, 0.0};
  refused(extras, ">= 0");

  // An invalid graph is an input error naming what is wrong.
  Graph broken = graph;
  broken.nodes.push_back(make_node("Relu", {"undefined_value"}, {"r"}, "relu"));
  try {
    write_edgepack(broken, {}, dir / "x.edgepack");
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    CHECK(std::string(error.what()).find("undefined_value") != std::string::npos);
  }
  // A folder that does not exist: an input error naming the output, no temporary file anywhere.
  try {
    write_edgepack(graph, {}, dir / "missing" / "x.edgepack");
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    CHECK(std::string(error.what()).find("x.edgepack") != std::string::npos);
  }
  CHECK(fs::is_empty(dir.path()));

  // An existing artifact is replaced whole.
  write_edgepack(graph, {}, dir / "x.edgepack");
  Graph small;
  small.name = "small";
  write_edgepack(small, {}, dir / "x.edgepack");
  CHECK(read_edgepack(dir / "x.edgepack").graph.name == "small");
}
