#pragma once
// A validated quantize stage as the options of edgec::quant::quantize_graph.
#include <string>
#include <vector>

#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/quantize_graph.hpp"

namespace edgec::pipeline {

// The stage's scheme, overrides (one LayerRule per override pattern, in order: the first match wins), ignore
// patterns, algorithm parameters, and apply_method(stage.method). QuantizeOptions has no `targets`: the linear
// layers a stage does not select are passed as `excluded` (names only they have — scope, node or weight name —
// which preflight computes from the model: StagePlan::options already holds the result) and become anchored
// `re:^NAME$` ignore entries.
quant::QuantizeOptions to_quantize_options(const QuantizeStage& stage, const std::vector<std::string>& excluded = {});

// `re:^NAME$` with NAME's regex metacharacters escaped: a pattern matching exactly one name.
std::string exact_name_pattern(const std::string& name);

}  // namespace edgec::pipeline
