#pragma once
// A realistic report of a small VLM compiled to W4 GPTQ: 12 vision layers (3 blocks x q/v/fc1/fc2), 2 projector
// layers (W8) and 26 language-model layers (5 blocks x q/o/gate/up/down, lm_head) — 40 layers in graph order —
// with end-to-end metrics, latency, and one failing gate (perplexity). Deterministic: the per-layer numbers
// come from a fixed formula, not from a random device.
#include <cmath>
#include <cstdint>
#include <string>

#include "edgec/report/report.hpp"

namespace edgec::report::test {

inline LayerReport fixture_layer(size_t index, Component component, std::string scope, int64_t out, int64_t in) {
  LayerReport l;
  l.name = scope + ".weight";
  l.scope = std::move(scope);
  l.component = component;
  l.op = "edgec.QLinear";
  l.out_features = out;
  l.in_features = in;
  l.scheme = component == Component::projector ? "w8 per-channel sym f16" : "w4 g32 asym f16";
  l.method = "gptq";
  // Vision layers sit around 24 dB, the projector at 8-bit near 42 dB, the language model around 19 dB,
  // with a smooth wobble so bars differ; down_proj layers are a few dB worse, as they are in practice.
  const double base = component == Component::vision ? 24.0 : component == Component::projector ? 42.0 : 19.0;
  double snr = base + 3.0 * std::sin(0.7 * static_cast<double>(index)) - (l.scope.find("down_proj") != std::string::npos ? 4.5 : 0.0);
  snr = std::round(snr * 1000.0) / 1000.0;
  l.snr_db = snr;
  l.relative_mse = std::pow(10.0, -snr / 10.0);
  l.cosine = std::sqrt(1.0 - l.relative_mse);
  l.error = 0.01 * l.relative_mse * static_cast<double>(out);
  l.rtn_error = l.error * (1.35 + 0.05 * std::cos(static_cast<double>(index)));
  return l;
}

inline CompileReport realistic_report() {
  CompileReport r;
  r.edgec_version = "0.1.0";
  r.recipe_path = "recipes/fmnist-vlm-a-w4.yaml";
  r.recipe_sha256 = "9f2c1b7e4d0a6c3f8e5b2a1d7c4f0e9b3a6d8c2f1e4b7a0d5c8f3e6b9a2d1c4f";
  r.model_name = "fmnist-vlm-a";
  r.model_path = "../shared/models/fmnist-vlm-a";
  r.target = "rk3588-cpu";

  r.stages = {{"import", "", 0.42},        {"calibrate", "blockwise", 12.7}, {"quantize", "gptq", 31.25},
              {"export", "edgepack", 1.9}, {"verify", "", 48.6}};

  size_t index = 0;
  const char* vision_layers[] = {"self_attn.q_proj", "self_attn.v_proj", "mlp.fc1", "mlp.fc2"};
  for (int block = 0; block < 3; ++block)
    for (const char* layer : vision_layers) {
      const bool fc1 = std::string(layer) == "mlp.fc1", fc2 = std::string(layer) == "mlp.fc2";
      r.layers.push_back(fixture_layer(index++, Component::vision,
                                       "vision_tower.vision_model.encoder.layers." + std::to_string(block) + "." + layer,
                                       fc1 ? 512 : 128, fc2 ? 512 : 128));
    }
  r.layers.push_back(fixture_layer(index++, Component::projector, "multi_modal_projector.linear_1", 256, 128));
  r.layers.push_back(fixture_layer(index++, Component::projector, "multi_modal_projector.linear_2", 256, 256));
  const char* language_layers[] = {"self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
  for (int block = 0; block < 5; ++block)
    for (const char* layer : language_layers) {
      const bool down = std::string(layer) == "mlp.down_proj", up = !down && std::string(layer).find("mlp") != std::string::npos;
      r.layers.push_back(fixture_layer(index++, Component::language,
                                       "language_model.model.layers." + std::to_string(block) + "." + layer,
                                       up ? 688 : 256, down ? 688 : 256));
    }
  r.layers.push_back(fixture_layer(index++, Component::language, "language_model.lm_head", 512, 256));

  r.sizes = {{Component::vision, 6'815'744, 1'916'928},
             {Component::projector, 393'216, 100'352},
             {Component::language, 18'874'368, 5'046'272}};

  r.metrics = {
      {"perplexity", 57.96, 62.24, "", "held-out wikitext stream, 16 windows of 256 tokens", false},
      {"kl", 0.0, 0.152, "nats/token", "mean KL divergence to the fp32 model's next-token distribution", false},
      {"top1_agreement", 1.0, 0.874, "", "share of positions where the argmax token matches fp32", true},
      {"accuracy", 0.8262, 0.8263, "", "exact captions on the Fashion-MNIST test set (10000 images)", true},
  };
  r.latency = Latency{41.8, 17.3, 64, 4};
  r.gates = {make_gate("perplexity", GateOp::at_most, 60.0, 62.24), make_gate("kl", GateOp::at_most, 0.2, 0.152),
             make_gate("top1_agreement", GateOp::at_least, 0.85, 0.874)};
  r.status = status_of(r.gates);
  r.notes = {"calibration: 128 Fashion-MNIST training images with 16 answer tokens each",
             "embedding tables and patch-embedding Conv weights stay f32 (not yet quantized)"};
  return r;
}

// A report with `count` layers in three components (for layout tests at scale).
inline CompileReport report_with_layers(size_t count) {
  CompileReport r = realistic_report();
  r.layers.clear();
  for (size_t i = 0; i < count; ++i) {
    const Component c = i < count / 3 ? Component::vision : i < count / 3 + 4 ? Component::projector : Component::language;
    r.layers.push_back(fixture_layer(i, c, "model.layers." + std::to_string(i / 7) + ".proj_" + std::to_string(i % 7), 64, 64));
  }
  return r;
}

}  // namespace edgec::report::test
