// Preflight: the recipe against the model's layers (patterns, group sizes, overlapping stages), and the plan.
#include "edgec/pipeline/preflight.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "diagnostics.hpp"
#include "edgec/core/error.hpp"
#include "edgec/pipeline/did_you_mean.hpp"
#include "edgec/pipeline/quantize_options.hpp"
#include "edgec/quant/layers.hpp"
#include "estimates.hpp"

namespace edgec::pipeline {

namespace {

using detail::Diagnostics;
using detail::packed_size;
using detail::tensor_bytes;
using quant::LinearLayer;

struct LayerView {
  LinearLayer layer;
  const Node* node = nullptr;
  std::string label;  // what messages call it: the scope when there is one, else the weight's name
};

// As quantize_graph selects layers: a pattern may match the weight's name, the node's scope or its name.
bool matches(const std::string& pattern, const LayerView& view) {
  return quant::name_matches(pattern, view.layer.weight) || (!view.node->scope.empty() && quant::name_matches(pattern, view.node->scope)) ||
         (!view.node->name.empty() && quant::name_matches(pattern, view.node->name));
}

// `model.layers.3.mlp.up_proj` -> `model.layers.*.mlp.up_proj`: the form users write patterns in.
std::string generalize(const std::string& name) {
  std::string out;
  size_t i = 0;
  while (i < name.size()) {
    if (std::isdigit(static_cast<unsigned char>(name[i])) && (i == 0 || name[i - 1] == '.')) {
      size_t j = i;
      while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
      if (j == name.size() || name[j] == '.') {
        out += '*';
        i = j;
        continue;
      }
    }
    out += name[i++];
  }
  return out;
}

// "; did you mean 'x'?" when a name or generalised name is close, else a few names the layers have.
std::string suggestion(const std::string& pattern, const std::vector<const LayerView*>& layers) {
  if (layers.empty()) return "; the stage has no layers to match";
  if (pattern.rfind("re:", 0) != 0) {
    std::set<std::string> unique;
    for (const LayerView* view : layers) {
      for (const std::string& name : {view->layer.weight, view->node->scope}) {
        if (name.empty()) continue;
        unique.insert(name);
        unique.insert(generalize(name));
      }
    }
    const std::vector<std::string> candidates(unique.begin(), unique.end());
    if (const auto best = closest_match(pattern, candidates, std::max<size_t>(3, pattern.size() / 3))) return "; did you mean '" + *best + "'?";
  }
  std::string text = "; layers are named like ";
  const size_t shown = std::min<size_t>(3, layers.size());
  for (size_t i = 0; i < shown; ++i) text += (i > 0 ? ", '" : "'") + layers[i]->label + "'";
  return text + " (" + std::to_string(layers.size()) + (layers.size() == 1 ? " layer)" : " layers)");
}

// The name an exact ignore entry names a layer by: one no other linear layer has (a weight can be shared by two
// layers, a scope or node name can be empty or repeated in ONNX graphs). quantize_graph matches an ignore pattern
// against the weight, the scope and the node name alike.
std::string exclusion_name(const LayerView& view, const std::vector<LayerView>& layers) {
  const auto unique = [&](const std::string& name) {
    if (name.empty()) return false;
    return std::count_if(layers.begin(), layers.end(), [&](const LayerView& other) {
             return other.layer.weight == name || other.node->scope == name || other.node->name == name;
           }) == 1;
  };
  if (unique(view.node->scope)) return view.node->scope;
  if (unique(view.node->name)) return view.node->name;
  return view.layer.weight;
}

std::string stage_path(size_t index) { return "stages." + std::to_string(index); }

// One preflight run: the model's linear layers, the layers each stage claims, and the problems found.
class Preflight {
 public:
  Preflight(const Recipe& recipe, const Graph& graph) : recipe_(recipe), graph_(graph) {
    for (const LinearLayer& layer : quant::find_linear_layers(graph)) {
      const Node& node = graph.nodes[layer.node];
      layers_.push_back(LayerView{layer, &node, node.scope.empty() ? layer.weight : node.scope});
    }
    for (const LayerView& view : layers_) all_.push_back(&view);
  }

  // Images feed a VLM with the prompt they come with (prompt_ids), a vision model alone.
  void check_calibration() {
    const auto& c = recipe_.calibration;
    if (!c || c->resolved_kind != CalibrationKind::images) return;
    const bool reads_tokens = std::any_of(graph_.inputs.begin(), graph_.inputs.end(), [](const ValueInfo& v) { return v.name == "input_ids"; });
    if (reads_tokens && c->prompt_ids.empty())
      diagnostics_.error(c->where, "calibration: kind images needs prompt_ids for this model (it reads input_ids: the token ids fed with each image)");
    if (!reads_tokens && !c->prompt_ids.empty())
      diagnostics_.error(c->where, "calibration.prompt_ids: the model reads no input_ids (a vision model takes the images alone)");
    if (!reads_tokens && c->answer_tokens > 0)
      diagnostics_.error(c->where, "calibration.answer_tokens: the model generates no text (it reads no input_ids)");
  }

  Plan run() {
    check_calibration();
    Plan plan;
    plan.model = recipe_.model.path.string();
    plan.device = recipe_.target.device;
    plan.linear_layers = static_cast<int64_t>(layers_.size());
    std::vector<LinearLayer> linear;
    for (const LayerView& view : layers_) linear.push_back(view.layer);
    plan.hidden_size = detail::hidden_size(linear);

    std::vector<const QuantizeStage*> stages;  // the quantize stages, by recipe index (null for other passes)
    std::vector<std::vector<const LayerView*>> selected(recipe_.stages.size());
    for (size_t s = 0; s < recipe_.stages.size(); ++s) {
      const auto* q = std::get_if<QuantizeStage>(&recipe_.stages[s].params);
      stages.push_back(q);
      if (q == nullptr) continue;
      selected[s] = select(s, *q);
      check_overlap(s, *q, selected[s]);
      for (const LayerView* view : selected[s]) claimed_.emplace(view->layer.node, s);
      plan.stages.push_back(plan_stage(s, *q, selected[s]));
    }
    diagnostics_.throw_if_any();

    // Options for quantize_graph: everything a stage does not select is ignored by an exact name.
    for (size_t s = 0, p = 0; s < stages.size(); ++s) {
      if (stages[s] == nullptr) continue;
      StagePlan& stage_plan = plan.stages[p++];
      const std::set<const LayerView*> chosen(selected[s].begin(), selected[s].end());
      for (const LayerView& view : layers_)
        if (!chosen.count(&view)) stage_plan.excluded.push_back(exclusion_name(view, layers_));
      stage_plan.options = to_quantize_options(*stages[s], stage_plan.excluded);
    }

    std::set<size_t> quantized_nodes;
    for (const LayerView& view : layers_) {
      if (claimed_.count(view.layer.node)) quantized_nodes.insert(view.layer.node);
      else plan.unquantized.push_back(LayerRef{view.layer.weight, view.node->scope});
    }
    detail::estimate_size(graph_, quantized_nodes, plan);
    std::vector<std::vector<const LinearLayer*>> calibrated;
    for (size_t s = 0; s < stages.size(); ++s) {
      if (stages[s] == nullptr || !stages[s]->needs_calibration()) continue;
      calibrated.emplace_back();
      for (const LayerView* view : selected[s]) calibrated.back().push_back(&view->layer);
    }
    if (recipe_.calibration)
      detail::estimate_calibration_memory(graph_, linear, calibrated, recipe_.calibration->samples * recipe_.calibration->seq_len, plan);
    return plan;
  }

 private:
  // targets -> ignore -> overrides: the stage's layers, each pattern required to match something at its step.
  std::vector<const LayerView*> select(size_t s, const QuantizeStage& q) {
    const Stage& stage = recipe_.stages[s];
    const auto matches_any = [](const std::vector<Pattern>& patterns, const LayerView& view) {
      return std::any_of(patterns.begin(), patterns.end(), [&](const Pattern& p) { return matches(p.text, view); });
    };
    const auto report_unmatched = [&](const Pattern& pattern, const std::vector<const LayerView*>& among, const std::string& which) {
      if (among.empty() || std::any_of(among.begin(), among.end(), [&](const LayerView* v) { return matches(pattern.text, *v); })) return;
      diagnostics_.error(pattern.where, "pattern '" + pattern.text + "' matches no layer" + which + suggestion(pattern.text, among));
    };
    for (const Pattern& pattern : q.targets) report_unmatched(pattern, all_, "");
    std::vector<const LayerView*> targeted, selected;
    for (const LayerView* view : all_)
      if (q.targets.empty() || matches_any(q.targets, *view)) targeted.push_back(view);
    for (const Pattern& pattern : q.ignore) report_unmatched(pattern, targeted, " targeted by stage '" + stage.name + "'");
    for (const LayerView* view : targeted)
      if (!matches_any(q.ignore, *view)) selected.push_back(view);
    if (all_.empty())
      diagnostics_.error(stage.where, stage_path(s) + ": stage '" + stage.name + "' quantizes no layer (the model has no linear layers)");
    else if (selected.empty() && !targeted.empty())
      diagnostics_.error(stage.where, stage_path(s) + ": stage '" + stage.name + "' quantizes no layer (its ignore patterns cover every targeted layer)");
    for (const SchemeOverride& rule : q.overrides)
      for (const Pattern& pattern : rule.targets) report_unmatched(pattern, selected, " quantized by stage '" + stage.name + "'");
    return selected;
  }

  // A layer is quantized once: after the first stage it is an edgec.QLinear, no longer a linear layer.
  void check_overlap(size_t s, const QuantizeStage& q, const std::vector<const LayerView*>& selected) {
    std::vector<const LayerView*> overlapping;
    size_t first_owner = 0;
    for (const LayerView* view : selected)
      if (const auto it = claimed_.find(view->layer.node); it != claimed_.end()) {
        if (overlapping.empty()) first_owner = it->second;
        overlapping.push_back(view);
      }
    if (overlapping.empty()) return;
    const std::string path = q.targets.empty() ? stage_path(s) : stage_path(s) + ".targets";
    std::string message = path + ": layer '" + overlapping.front()->label + "'";
    if (overlapping.size() > 1) message += " (and " + std::to_string(overlapping.size() - 1) + " more)";
    message += " is already quantized by stage '" + recipe_.stages[first_owner].name + "' (" + stage_path(first_owner) + ")";
    diagnostics_.error(q.targets.empty() ? recipe_.stages[s].where : q.targets_where,
                       message + "; a layer is quantized once: narrow 'targets' or add the layer to 'ignore'");
  }

  // Per layer: the first matching override's scheme, else the stage's; its group checked against the layer.
  StagePlan plan_stage(size_t s, const QuantizeStage& q, const std::vector<const LayerView*>& selected) {
    const Stage& stage = recipe_.stages[s];
    StagePlan plan{stage.name, stage.pass, q.method, {}, {}, {}, 0, 0};
    std::set<std::string> group_reported;  // one error per place a group was written
    for (const LayerView* view : selected) {
      const SchemeOverride* rule = nullptr;
      size_t rule_index = 0;
      for (size_t r = 0; r < q.overrides.size() && rule == nullptr; ++r)
        if (std::any_of(q.overrides[r].targets.begin(), q.overrides[r].targets.end(), [&](const Pattern& p) { return matches(p.text, *view); })) {
          rule = &q.overrides[r];
          rule_index = r;
        }
      const quant::WeightScheme& scheme = rule != nullptr ? rule->scheme : q.scheme;
      const int64_t k = view->layer.in_features, g = scheme.group_size;
      if (g > 0 && g < k && k % g != 0 && !q.allow_partial_groups) {
        const bool own = rule != nullptr && rule->group_where.has_value();
        const std::string path = own ? stage_path(s) + ".overrides." + std::to_string(rule_index) + ".group" : stage_path(s) + ".group";
        if (group_reported.insert(path).second)
          diagnostics_.error(own ? *rule->group_where : q.group_where,
                             path + ": group " + std::to_string(g) + " does not divide in_features " + std::to_string(k) + " of layer '" +
                                 view->label + "'; use a group that divides it, an override for the layer, or allow_partial_groups: true");
      }
      LayerPlan layer;
      layer.name = view->layer.weight;
      layer.scope = view->node->scope;
      layer.op = view->node->qualified_op();
      layer.out_features = view->layer.out_features;
      layer.in_features = k;
      layer.scheme = scheme;
      if (const Tensor* weight = graph_.initializer(view->layer.weight)) layer.original_bytes = tensor_bytes(*weight);
      layer.packed_bytes = packed_size(scheme, layer.out_features, k);
      plan.original_bytes += layer.original_bytes;
      plan.packed_bytes += layer.packed_bytes;
      plan.layers.push_back(std::move(layer));
    }
    return plan;
  }

  const Recipe& recipe_;
  const Graph& graph_;
  std::vector<LayerView> layers_;
  std::vector<const LayerView*> all_;
  std::map<size_t, size_t> claimed_;  // node -> the stage that quantizes it
  Diagnostics diagnostics_;
};

}  // namespace

Plan preflight(const Recipe& recipe, const Graph& graph) { return Preflight(recipe, graph).run(); }

Plan preflight(const Recipe& recipe, const Model& model) {
  if (model.graphs.size() != 1) {
    Diagnostics diagnostics;
    diagnostics.error(recipe.model.where, "model: '" + recipe.model.path.string() +
                                              "' holds " + std::to_string(model.graphs.size()) +
                                              " graphs; compile works on one graph (use the Hugging Face checkpoint, or one .onnx file)");
    diagnostics.throw_if_any();
  }
  return preflight(recipe, model.graphs.front());
}

}  // namespace edgec::pipeline
