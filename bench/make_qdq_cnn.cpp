// Writes an int8 QDQ copy of a float ONNX CNN, as ONNX Runtime's static quantizer lays one out, for the CNN speed
// benchmark (bench/cnn_vs_onnxruntime.sh): every Conv with a constant weight gets
//   x -> QuantizeLinear(u8, per tensor) -> DequantizeLinear -> Conv(DequantizeLinear(w: i8 per output channel,
//   symmetric), DequantizeLinear(bias: i32, scale sx * sw[c]))
// with activation ranges from one run of the float model on a seeded uniform [0, 1) input of the given shape.
// Speed only: the ranges come from one random input, so the copy is not an accuracy reference. Per-channel
// DequantizeLinear needs opset 13: a graph of opset 11-12 is moved to 13 when its ops mean the same there (the CNN ops
// below), anything else is refused.
//   make_qdq_cnn IN.onnx OUT.onnx [N,C,H,W]      (default 1,3,128,960: PP-OCRv4 det at bench_ocr's page size)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/runtime/executor.hpp"

using namespace edgec;

namespace {

template <class T>
Tensor tensor_of(DType dtype, std::vector<int64_t> dims, const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor::owning(dtype, std::move(dims), std::move(bytes));
}

std::vector<float> floats(const Tensor& t) {
  std::vector<float> v(t.bytes().size() / 4);
  std::memcpy(v.data(), t.bytes().data(), v.size() * 4);
  return v;
}

Node make(std::string op, std::vector<std::string> inputs, std::string output, std::map<std::string, Attribute> attrs = {}) {
  Node n;
  n.op = std::move(op);
  n.name = output;
  n.inputs = std::move(inputs);
  n.outputs = {std::move(output)};
  n.attributes = std::move(attrs);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_qdq_cnn IN.onnx OUT.onnx [N,C,H,W]\n";
    return 2;
  }
  std::vector<int64_t> dims{1, 3, 128, 960};
  if (argc > 3) {
    dims.clear();
    std::stringstream in(argv[3]);
    for (std::string d; std::getline(in, d, ',');) dims.push_back(std::stoll(d));
  }
  try {
    Model model = onnx_format::import_onnx_file(argv[1]);
    Graph& g = model.graphs.at(0);
    constants_to_initializers(g);
    const int64_t opset = g.opset_imports.count("") ? g.opset_imports.at("") : 13;
    const std::vector<std::string> same_in_13{"Add", "Sub", "Mul", "Div", "BatchNormalization", "Clip", "Concat", "Conv", "ConvTranspose",
                                              "GlobalAveragePool", "HardSigmoid", "Relu", "Resize", "Sigmoid", "MaxPool", "AveragePool"};
    for (const Node& n : g.nodes)
      if (opset < 13 && (opset < 11 || std::find(same_in_13.begin(), same_in_13.end(), n.op) == same_in_13.end()))
        throw Error(ErrorCategory::usage, std::string(argv[1]) + ": opset " + std::to_string(opset) + " with " + n.op +
                                              " cannot be moved to opset 13 (per-channel DequantizeLinear) unchanged");
    // Activation ranges: the float model once, every Conv input kept.
    std::vector<std::string> conv_inputs;
    for (const Node& n : g.nodes)
      if (n.op == "Conv" && n.inputs.size() >= 2 && g.initializers.count(n.inputs[1])) conv_inputs.push_back(n.inputs[0]);
    int64_t count = 1;
    for (const int64_t d : dims) count *= d;
    std::vector<float> x(static_cast<size_t>(count));
    uint64_t state = 0;
    for (float& v : x) {  // SplitMix64, as bench/peers/ort_bench.mjs --random
      uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      v = static_cast<float>(z >> 40) / 16777216.0f;
    }
    const runtime::Executor executor(g, nullptr, runtime::ExecutorOptions{false});
    runtime::RunOptions options;
    options.outputs = conv_inputs;
    const auto values = executor.run({{g.inputs.at(0).name, runtime::HostTensor::from_values<float>(DType::f32, dims, x)}}, options);
    std::map<std::string, std::pair<float, uint8_t>> act;  // value -> (scale, zero point)
    for (const auto& [name, t] : values) {
      const auto v = t.to_f32();
      const float lo = std::min(0.0f, *std::min_element(v.begin(), v.end())), hi = std::max(0.0f, *std::max_element(v.begin(), v.end()));
      const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
      act[name] = {scale, static_cast<uint8_t>(std::clamp(std::nearbyint(-lo / scale), 0.0f, 255.0f))};
    }
    std::vector<Node> nodes;
    int quantized = 0;
    for (Node n : g.nodes) {
      if (n.op != "Conv" || n.inputs.size() < 2 || !g.initializers.count(n.inputs[1])) {
        nodes.push_back(std::move(n));
        continue;
      }
      const std::string base = "qdq" + std::to_string(quantized++);
      const auto [sx, zx] = act.at(n.inputs[0]);
      g.initializers[base + "_sx"] = tensor_of<float>(DType::f32, {}, {sx});
      g.initializers[base + "_zx"] = tensor_of<uint8_t>(DType::u8, {}, {zx});
      nodes.push_back(make("QuantizeLinear", {n.inputs[0], base + "_sx", base + "_zx"}, base + "_xq"));
      nodes.push_back(make("DequantizeLinear", {base + "_xq", base + "_sx", base + "_zx"}, base + "_x"));
      const Tensor& wt = g.initializers.at(n.inputs[1]);
      const auto w = floats(wt);
      const int64_t maps = wt.dims()[0], per = static_cast<int64_t>(w.size()) / maps;
      std::vector<float> sw(static_cast<size_t>(maps));
      std::vector<int8_t> wq(w.size());
      for (int64_t c = 0; c < maps; ++c) {
        float amax = 0;
        for (int64_t i = 0; i < per; ++i) amax = std::max(amax, std::fabs(w[static_cast<size_t>(c * per + i)]));
        sw[static_cast<size_t>(c)] = amax > 0 ? amax / 127.0f : 1.0f;
        for (int64_t i = 0; i < per; ++i)
          wq[static_cast<size_t>(c * per + i)] = static_cast<int8_t>(std::clamp(std::nearbyint(w[static_cast<size_t>(c * per + i)] / sw[static_cast<size_t>(c)]), -127.0f, 127.0f));
      }
      g.initializers[base + "_wq"] = tensor_of<int8_t>(DType::i8, wt.dims(), wq);
      g.initializers[base + "_sw"] = tensor_of<float>(DType::f32, {maps}, sw);
      g.initializers[base + "_zw"] = tensor_of<int8_t>(DType::i8, {maps}, std::vector<int8_t>(static_cast<size_t>(maps), 0));
      nodes.push_back(make("DequantizeLinear", {base + "_wq", base + "_sw", base + "_zw"}, base + "_w", {{"axis", int64_t{0}}}));
      n.inputs[0] = base + "_x";
      n.inputs[1] = base + "_w";
      if (n.inputs.size() > 2 && !n.inputs[2].empty() && g.initializers.count(n.inputs[2])) {
        const auto b = floats(g.initializers.at(n.inputs[2]));
        std::vector<int32_t> bq(b.size());
        std::vector<float> sb(b.size());
        for (size_t c = 0; c < b.size(); ++c) {
          sb[c] = sx * sw[c];
          bq[c] = static_cast<int32_t>(std::nearbyint(b[c] / sb[c]));
        }
        g.initializers[base + "_bq"] = tensor_of<int32_t>(DType::i32, {maps}, bq);
        g.initializers[base + "_sb"] = tensor_of<float>(DType::f32, {maps}, sb);
        g.initializers[base + "_zb"] = tensor_of<int32_t>(DType::i32, {maps}, std::vector<int32_t>(b.size(), 0));
        nodes.push_back(make("DequantizeLinear", {base + "_bq", base + "_sb", base + "_zb"}, base + "_b", {{"axis", int64_t{0}}}));
        n.inputs[2] = base + "_b";
      }
      nodes.push_back(std::move(n));
    }
    g.nodes = std::move(nodes);
    g.opset_imports[""] = std::max<int64_t>(13, opset);  // per-axis DequantizeLinear
    std::erase_if(g.initializers, [&](const auto& entry) {
      for (const Node& n : g.nodes)
        if (std::find(n.inputs.begin(), n.inputs.end(), entry.first) != n.inputs.end()) return false;
      return true;
    });
    onnx_format::export_onnx(g, argv[2]);
    std::cerr << "make_qdq_cnn: " << quantized << " Conv layers as QDQ int8 -> " << argv[2] << "\n";
  } catch (const Error& e) {
    std::cerr << "make_qdq_cnn: " << e.what() << "\n";
    return exit_code(e.category());
  }
  return 0;
}
