#include <doctest/doctest.h>

#include <array>

#include "edgec/core/error.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/core/model.hpp"

using namespace edgec;

namespace {

Node make_node(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
  Node node;
  node.op = std::move(op);
  node.name = outputs.empty() ? node.op : outputs[0];
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  return node;
}

Graph small_graph() {
  Graph graph;
  graph.name = "g";
  graph.inputs.push_back({"x", {ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::named("n"), Dim::of(2)}}});
  graph.initializers["w"] = Tensor::from_values<float>(DType::f32, {2}, std::array<float, 2>{1, 2});
  graph.nodes.push_back(make_node("Mul", {"x", "w"}, {"a"}));
  graph.nodes.push_back(make_node("Relu", {"a"}, {"b"}));
  graph.outputs.push_back({"b", {}});
  return graph;
}

std::string validation_error(const Graph& graph) {
  try {
    validate_graph(graph, "m.onnx");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a well-formed graph validates") {
  CHECK(validation_error(small_graph()).empty());
}

TEST_CASE("validator: dangling values, double definitions, missing outputs, bad initializers") {
  auto graph = small_graph();
  graph.nodes[1].inputs[0] = "nope";
  CHECK(validation_error(graph) ==
        "m.onnx: node 1 (Relu 'b') reads 'nope', which is not defined before it (dangling value or nodes out of order)");

  graph = small_graph();
  graph.nodes[1].outputs[0] = "a";
  CHECK(validation_error(graph).find("value 'a' is defined more than once") != std::string::npos);

  graph = small_graph();
  graph.outputs[0].name = "c";
  CHECK(validation_error(graph) == "m.onnx: graph output 'c' is not produced by any node");

  graph = small_graph();
  graph.value_info["w"] = ValueType{ValueKind::tensor, DType::f32, std::vector<Dim>{Dim::of(3)}};
  CHECK(validation_error(graph).find("initializer 'w' is f32 [2] but its declared type disagrees") != std::string::npos);

  graph = small_graph();
  std::swap(graph.nodes[0], graph.nodes[1]);
  CHECK(validation_error(graph).find("reads 'a'") != std::string::npos);
}

TEST_CASE("topological sort repairs order, keeps sorted graphs unchanged, detects cycles") {
  auto graph = small_graph();
  sort_topologically(graph, "m.onnx");
  CHECK(graph.nodes[0].op == "Mul");
  std::swap(graph.nodes[0], graph.nodes[1]);
  sort_topologically(graph, "m.onnx");
  CHECK(graph.nodes[0].op == "Mul");
  CHECK(validation_error(graph).empty());

  graph.nodes[0].inputs[0] = "b";  // Mul reads Relu's output: a cycle
  CHECK_THROWS_WITH_AS(sort_topologically(graph, "m.onnx"), "m.onnx: the graph has a cycle", Error);
}

TEST_CASE("subgraphs see enclosing values and are validated") {
  auto graph = small_graph();
  auto body = std::make_shared<Graph>();
  body->nodes.push_back(make_node("Neg", {"a"}, {"y"}));  // reads outer 'a'
  body->outputs.push_back({"y", {}});
  Node branch = make_node("If", {"cond"}, {"r"});
  branch.attributes["then_branch"] = body;
  graph.inputs.push_back({"cond", {ValueKind::tensor, DType::boolean, std::vector<Dim>{}}});
  graph.nodes.insert(graph.nodes.begin(), branch);  // out of order: reads 'a' through its body
  CHECK(validation_error(graph).find("subgraph of node 0 (If 'r')") != std::string::npos);
  sort_topologically(graph, "m.onnx");
  CHECK(graph.nodes[0].op == "Mul");  // If moves after the producer of what its body reads
  CHECK(graph.nodes[1].op == "If");
  CHECK(validation_error(graph).empty());
}

TEST_CASE("parameter stats group tensors by component prefix and count Constant nodes") {
  Model model;
  model.components = {{"vision_tower", {"vision."}}, {"language_model", {"lm."}}};
  Graph graph;
  graph.initializers["vision.w"] = Tensor::from_values<float>(DType::f32, {3}, std::array<float, 3>{});
  graph.initializers["lm.w"] = Tensor::from_values<uint16_t>(DType::f16, {2}, std::array<uint16_t, 2>{});
  graph.initializers["shape"] = Tensor::from_values<int64_t>(DType::i64, {1}, std::array<int64_t, 1>{4});
  Node constant = make_node("Constant", {}, {"lm.c"});
  constant.attributes["value"] = Tensor::from_values<float>(DType::f32, {5}, std::array<float, 5>{});
  graph.nodes.push_back(constant);
  model.graphs.push_back(graph);
  const auto stats = parameter_stats(model);
  CHECK(stats.at("vision_tower").parameters == 3);
  CHECK(stats.at("language_model").parameters == 7);
  CHECK(stats.at("language_model").bytes == 4 + 20);
  CHECK(stats.at("").parameters == 0);  // integer constants are not parameters
  CHECK(stats.at("").bytes == 8);
  CHECK(component_of(model, "lm.layers.0") == "language_model");
}

TEST_CASE("constants_to_initializers: Constant tensors become initializers, other nodes stay") {
  Graph graph;
  graph.inputs.push_back(ValueInfo{"x", {}});
  graph.outputs.push_back(ValueInfo{"y", {}});
  graph.outputs.push_back(ValueInfo{"c_out", {}});
  const std::vector<float> values{1.0f, 2.0f, 3.0f, 4.0f};
  auto constant = [&](const std::string& out) {
    Node node;
    node.op = "Constant";
    node.outputs = {out};
    node.attributes["value"] = Tensor::from_values<float>(DType::f32, {2, 2}, std::span<const float>(values));
    return node;
  };
  graph.nodes.push_back(constant("w"));
  graph.nodes.push_back(constant("c_out"));  // a graph output: stays a node
  Node scalar;
  scalar.op = "Constant";
  scalar.outputs = {"s"};
  scalar.attributes["value_float"] = 2.0f;  // not a tensor attribute: stays
  graph.nodes.push_back(scalar);
  Node matmul;
  matmul.op = "MatMul";
  matmul.inputs = {"x", "w"};
  matmul.outputs = {"y"};
  graph.nodes.push_back(matmul);

  CHECK(constants_to_initializers(graph) == 1);
  REQUIRE(graph.nodes.size() == 3);
  CHECK(graph.nodes[0].outputs.front() == "c_out");
  CHECK(graph.nodes[1].outputs.front() == "s");
  CHECK(graph.nodes[2].op == "MatMul");
  const Tensor* w = graph.initializer("w");
  REQUIRE(w != nullptr);
  CHECK(w->to_f32() == values);
  CHECK_NOTHROW(validate_graph(graph, "test"));
  CHECK(constants_to_initializers(graph) == 0);
}
