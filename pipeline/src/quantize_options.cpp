// A quantize stage -> quant::QuantizeOptions (the same mapping as `edgec quantize`'s options).
#include "edgec/pipeline/quantize_options.hpp"

#include <string_view>

namespace edgec::pipeline {

std::string exact_name_pattern(const std::string& name) {
  static constexpr std::string_view special = R"(\^$.|?*+()[]{})";
  std::string pattern = "re:^";
  for (char c : name) {
    if (special.find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  return pattern + "$";
}

quant::QuantizeOptions to_quantize_options(const QuantizeStage& stage, const std::vector<std::string>& excluded) {
  quant::QuantizeOptions options;
  options.scheme = stage.scheme;
  for (const SchemeOverride& rule : stage.overrides)
    for (const Pattern& pattern : rule.targets) options.overrides.push_back(quant::LayerRule{pattern.text, rule.scheme});
  for (const Pattern& pattern : stage.ignore) options.ignore.push_back(pattern.text);
  for (const std::string& name : excluded) options.ignore.push_back(exact_name_pattern(name));
  options.rtn.mse_clip = stage.mse_clip;
  options.gptq.group_fit.mse_clip = stage.mse_clip;
  options.rtn.norm = options.gptq.group_fit.norm = static_cast<float>(stage.clip_norm);
  options.gptq.percdamp = stage.damp;
  options.gptq.block_size = stage.block;
  options.gptq.act_order = stage.act_order;
  options.smoothquant.alpha = stage.alpha;
  quant::apply_method(stage.method, options);
  return options;
}

}  // namespace edgec::pipeline
