#include <doctest/doctest.h>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

TEST_CASE("executor runs a chain with an initializer and returns graph outputs") {
  Graph g;
  g.name = "chain";
  g.inputs.push_back({"x", {}});
  g.outputs.push_back({"y", {}});
  g.initializers["w"] = ir_f32({2}, {10, 20});
  Node add{"add", "Add", "", "", {"x", "w"}, {"t"}, {}};
  Node relu{"relu", "Relu", "", "", {"t"}, {"y"}, {}};
  g.nodes = {add, relu};
  const Executor executor(g);
  const auto out = executor.run({{"x", f32({2, 2}, {-15, 1, 2, -30})}});
  check_close(out.at("y"), {2, 2}, {0, 21, 12, 0});
}

TEST_CASE("unsupported ops are reported with op and node before anything runs") {
  Graph g;
  g.name = "bad";
  g.inputs.push_back({"x", {}});
  g.outputs.push_back({"y", {}});
  g.nodes.push_back(Node{"first", "Relu", "", "", {"x"}, {"t"}, {}});
  g.nodes.push_back(Node{"mystery_node", "FrobnicateV2", "com.example", "", {"t"}, {"y"}, {}});
  try {
    const Executor executor(g);
    FAIL("expected an error");
  } catch (const Error& error) {
    const std::string message = error.what();
    CHECK(error.category() == ErrorCategory::input);
    CHECK(message.find("FrobnicateV2") != std::string::npos);
    CHECK(message.find("mystery_node") != std::string::npos);
    CHECK(message.find("com.example") != std::string::npos);
  }
}

TEST_CASE("a kernel's static check rejects unsupported attribute variants up front") {
  Graph g;
  g.inputs.push_back({"x", {}});
  g.outputs.push_back({"y", {}});
  g.nodes.push_back(Node{"up", "Resize", "", "", {"x", "", "s"}, {"y"}, {{"antialias", int64_t{1}}}});
  CHECK_THROWS_WITH_AS(Executor{g}, doctest::Contains("antialias"), Error);
}

TEST_CASE("missing inputs and runtime shape errors name the node") {
  Graph g;
  g.inputs.push_back({"a", {}});
  g.inputs.push_back({"b", {}});
  g.outputs.push_back({"y", {}});
  g.nodes.push_back(Node{"adder", "Add", "", "", {"a", "b"}, {"y"}, {}});
  const Executor executor(g);
  CHECK_THROWS_WITH_AS(executor.run({{"a", f32({2}, {1, 2})}}), doctest::Contains("'b' was not given"), Error);
  CHECK_THROWS_WITH_AS(executor.run({{"a", f32({2}, {1, 2})}, {"b", f32({3}, {1, 2, 3})}}),
                       doctest::Contains("node 'adder'"), Error);
}

namespace {
struct Recorder : Observer {
  std::vector<std::string> events;
  void before_node(const Node& node, std::span<const HostTensor* const>) override { events.push_back("before " + node.name); }
  void after_node(const Node& node, std::span<const HostTensor* const>, std::span<const HostTensor> outputs) override {
    events.push_back("after " + node.name + " " + dims_to_string(outputs[0].dims()));
  }
  void linear_input(const Node& node, const HostTensor& input) override {
    events.push_back("linear_in " + node.name + " " + dims_to_string(input.dims()));
  }
  void linear_output(const Node& node, const HostTensor& output) override {
    events.push_back("linear_out " + node.name + " " + dims_to_string(output.dims()));
  }
};
}  // namespace

TEST_CASE("observers see every node and the linear layers' inputs and outputs") {
  Graph g;
  g.inputs.push_back({"x", {}});
  g.outputs.push_back({"y", {}});
  g.initializers["w"] = ir_f32({3, 2}, {1, 0, 0, 1, 1, 1});
  g.nodes.push_back(Node{"mm", "MatMul", "", "", {"x", "w"}, {"t"}, {}});
  g.nodes.push_back(Node{"act", "Relu", "", "", {"t"}, {"y"}, {}});
  Executor executor(g);
  Recorder recorder;
  executor.add_observer(recorder);
  const auto out = executor.run({{"x", f32({1, 3}, {1, -2, 3})}});
  check_close(out.at("y"), {1, 2}, {4, 1});
  const std::vector<std::string> expected{"before mm", "linear_in mm [1,3]", "linear_out mm [1,2]", "after mm [1,2]",
                                          "before act", "after act [1,2]"};
  CHECK(recorder.events == expected);
  executor.clear_observers();
  executor.run({{"x", f32({1, 3}, {1, -2, 3})}});
  CHECK(recorder.events.size() == expected.size());
}

TEST_CASE("intermediate values can be requested and initializers can be overridden by inputs") {
  Graph g;
  g.inputs.push_back({"x", {}});
  g.inputs.push_back({"bias", {}});
  g.outputs.push_back({"y", {}});
  g.initializers["bias"] = ir_f32({1}, {100});
  g.nodes.push_back(Node{"a", "Add", "", "", {"x", "bias"}, {"t"}, {}});
  g.nodes.push_back(Node{"b", "Neg", "", "", {"t"}, {"y"}, {}});
  const Executor executor(g);
  RunOptions options;
  options.outputs = {"t", "y"};
  auto out = executor.run({{"x", f32({1}, {1})}}, options);
  check_close(out.at("t"), {1}, {101});
  check_close(out.at("y"), {1}, {-101});
  out = executor.run({{"x", f32({1}, {1})}, {"bias", f32({1}, {2})}});
  check_close(out.at("y"), {1}, {-3});
}

TEST_CASE("host tensors share IR bytes and copy misaligned views") {
  const Tensor ir = ir_f32({2}, {1.5f, 2.5f});
  const HostTensor shared = HostTensor::from_ir(ir);
  CHECK(shared.raw() == ir.bytes().data());
  const HostTensor reshaped = shared.reshaped({1, 2});
  CHECK(reshaped.raw() == shared.raw());
  CHECK_THROWS_AS(shared.reshaped({3}), Error);
  HostTensor copy = shared;
  CHECK_THROWS_AS(copy.mutable_raw(), Error);
}
