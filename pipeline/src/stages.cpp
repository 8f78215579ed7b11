// `stages`: the ordered list of passes, each a map of `name`, `pass` and the pass's parameters. A pass is one row of
// pass_table(); prune.* passes become new rows (and new alternatives of Stage::params).
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "edgec/pipeline/did_you_mean.hpp"
#include "sections.hpp"

namespace edgec::pipeline::detail {

namespace {

using quant::ActivationMode;
using quant::WeightScheme;

const std::vector<std::string> kMethods{"rtn", "gptq", "awq", "smoothquant", "awq+gptq", "smoothquant+gptq"};

bool is_smoothquant(const std::string& method) { return method == "smoothquant" || method == "smoothquant+gptq"; }

// Algorithm parameters that only some methods read: setting one for another method is an error, not a no-op.
struct MethodKey {
  const char* key;
  std::vector<std::string> methods;
};
const std::vector<MethodKey> kMethodKeys{
    {"mse_clip", {"rtn", "gptq", "smoothquant", "awq+gptq", "smoothquant+gptq"}},
    {"clip_norm", {"rtn", "gptq", "smoothquant", "awq+gptq", "smoothquant+gptq"}},
    {"damp", {"gptq", "awq+gptq", "smoothquant+gptq"}},
    {"block", {"gptq", "awq+gptq", "smoothquant+gptq"}},
    {"act_order", {"gptq", "awq+gptq", "smoothquant+gptq"}},
    {"alpha", {"smoothquant", "smoothquant+gptq"}},
};

std::string regex_problem(std::regex_constants::error_type code) {
  namespace rc = std::regex_constants;
  // Our own words: the standard library's what() differs between implementations.
  if (code == rc::error_paren) return "unbalanced ( )";
  if (code == rc::error_brack) return "unbalanced [ ]";
  if (code == rc::error_brace) return "unbalanced { }";
  if (code == rc::error_badbrace) return "invalid repetition count in { }";
  if (code == rc::error_range) return "invalid character range";
  if (code == rc::error_escape) return "invalid escape";
  if (code == rc::error_backref) return "invalid back reference";
  if (code == rc::error_badrepeat) return "*, +, ? or { } with nothing to repeat";
  if (code == rc::error_ctype) return "invalid character class";
  if (code == rc::error_collate) return "invalid collating element";
  return "too complex";
}

// The scheme keys a stage or an override wrote (unset: inherited or defaulted).
struct SchemeKeys {
  std::optional<int> bits;
  std::optional<int64_t> group;
  std::optional<bool> symmetric;
  std::optional<DType> scale_dtype;
  std::optional<ActivationMode> activations;
  bool any() const { return bits || group || symmetric || scale_dtype || activations; }
};

const std::vector<std::string> kSchemeKeys{"bits", "group", "symmetric", "scale_dtype", "activations"};

SchemeKeys read_scheme_keys(MapReader& map, Diagnostics& diagnostics) {
  SchemeKeys keys;
  if (const auto bits = map.integer("bits")) {
    if (*bits >= 0 && *bits <= 8 && quant_bits_supported(static_cast<int>(*bits)))
      keys.bits = static_cast<int>(*bits);
    else
      diagnostics.error(map.where("bits"), map.path("bits") + " must be one of 2, 3, 4, 8; got " + std::to_string(*bits));
  }
  if (const auto group = map.integer("group")) {
    if (*group == 0 || (*group > 0 && *group % 8 == 0))
      keys.group = *group;
    else
      diagnostics.error(map.where("group"), map.path("group") + " must be 0 (per channel) or a positive multiple of 8 (32, 64, 128, ...); got " +
                                                std::to_string(*group));
  }
  keys.symmetric = map.boolean("symmetric");
  if (const auto dtype = map.choice("scale_dtype", "scale dtype", {"f16", "f32"})) keys.scale_dtype = *dtype == "f32" ? DType::f32 : DType::f16;
  if (const auto mode = map.choice("activations", "activation mode", {"float", "int8-dynamic", "int8-static"}))
    keys.activations = *mode == "int8-dynamic" ? ActivationMode::int8_dynamic
                       : *mode == "int8-static" ? ActivationMode::int8_static
                                                : ActivationMode::float_;
  return keys;
}

void apply(const SchemeKeys& keys, WeightScheme& scheme) {
  if (keys.bits) scheme.bits = *keys.bits;
  if (keys.group) scheme.group_size = *keys.group;
  if (keys.symmetric) scheme.symmetric = *keys.symmetric;
  if (keys.scale_dtype) scheme.scale_dtype = *keys.scale_dtype;
  if (keys.activations) scheme.activations = *keys.activations;
}

std::string bits_list(const DeviceProfile& device) {
  std::vector<std::string> bits;
  for (int b : device.weight_bits) bits.push_back(std::to_string(b));
  return join_choices(bits, "and");
}

// Checks one scheme (a stage's, or an override's on top of it) against the method and the target. `is_stage`:
// defaults count as written (an override's unwritten keys were checked with its stage).
void check_scheme(MapReader& map, const SchemeKeys& keys, const WeightScheme& scheme, const std::string& method, bool is_stage,
                  const StageContext& stage, Diagnostics& diagnostics) {
  const auto at = [&](const char* key) { return map.where(key); };
  if (is_smoothquant(method)) {
    // SmoothQuant is W8A8: apply_method fixes the weights to 8-bit symmetric per channel.
    if (keys.bits && *keys.bits != 8)
      diagnostics.error(at("bits"), map.path("bits") + ": " + method + " quantizes weights to 8 bits; got " + std::to_string(*keys.bits));
    if (keys.group && *keys.group != 0)
      diagnostics.error(at("group"), map.path("group") + ": " + method + " quantizes weights per channel (group 0); got " +
                                         std::to_string(*keys.group));
    if (keys.symmetric && !*keys.symmetric)
      diagnostics.error(at("symmetric"), map.path("symmetric") + ": " + method + " quantizes weights symmetrically; got false");
    if (keys.activations && *keys.activations == ActivationMode::float_)
      diagnostics.error(at("activations"), map.path("activations") + ": " + method + " runs int8 activations (int8-dynamic or int8-static); got float");
  } else if (scheme.activations != ActivationMode::float_ && scheme.bits != 8 && (is_stage || keys.bits || keys.activations)) {
    const char* key = keys.activations ? "activations" : "bits";
    diagnostics.error(at(key), map.path(key) + ": " + to_string(scheme.activations) + " activations need 8-bit weights (W8A8); bits is " +
                                   std::to_string(scheme.bits));
  }
  if (scheme.activations == ActivationMode::int8_static && keys.activations && !stage.has_calibration && method == "rtn")
    diagnostics.error(at("activations"), map.path("activations") +
                                             ": int8-static measures the activation scale on calibration data; add a 'calibration' section");
  if (stage.device == nullptr) return;
  if ((is_stage || keys.bits) && !stage.device->runs_bits(scheme.bits))
    diagnostics.error(at("bits"), map.path("bits") + ": target " + stage.device_name + " cannot run " + std::to_string(scheme.bits) +
                                      "-bit weights; it runs " + bits_list(*stage.device));
  if ((is_stage || keys.activations) && !stage.device->runs_activations(scheme.activations))
    diagnostics.error(at("activations"), map.path("activations") + ": target " + stage.device_name + " cannot run " +
                                             to_string(scheme.activations) + " activations");
}

std::vector<Pattern> read_patterns(MapReader& map, const char* key, Diagnostics& diagnostics) {
  std::vector<Pattern> patterns;
  const auto* items = map.list(key);
  if (items == nullptr) return patterns;
  for (size_t i = 0; i < items->size(); ++i)
    if (auto pattern = read_pattern((*items)[i], map.path(key) + "." + std::to_string(i), diagnostics)) patterns.push_back(std::move(*pattern));
  return patterns;
}

std::vector<SchemeOverride> read_overrides(MapReader& stage_map, const WeightScheme& stage_scheme, const std::string& method,
                                           const StageContext& stage, Context& context) {
  std::vector<SchemeOverride> overrides;
  const auto* items = stage_map.list("overrides");
  if (items == nullptr) return overrides;
  std::vector<std::string> known{"targets"};
  known.insert(known.end(), kSchemeKeys.begin(), kSchemeKeys.end());
  for (size_t i = 0; i < items->size(); ++i) {
    MapReader map((*items)[i], stage_map.path("overrides") + "." + std::to_string(i), known, context,
                  "a map {targets: [...], bits: ..., ...}");
    if (!map.ok()) continue;
    SchemeOverride rule;
    rule.where = map.where();
    if (map.require("targets")) {
      rule.targets = read_patterns(map, "targets", context.diagnostics);
      if (const auto* list = map.list("targets"); list != nullptr && list->empty())
        context.diagnostics.error(map.where("targets"), map.path("targets") + ": empty list; an override needs at least one pattern");
    }
    const SchemeKeys keys = read_scheme_keys(map, context.diagnostics);
    if (std::none_of(kSchemeKeys.begin(), kSchemeKeys.end(), [&](const std::string& key) { return map.has(key); }))
      context.diagnostics.error(map.where(), map.own_path() + ": sets nothing; give at least one of " + join_choices(kSchemeKeys, "or"));
    rule.scheme = stage_scheme;
    apply(keys, rule.scheme);
    if (map.has("bits")) rule.bits_where = map.where("bits");
    if (map.has("group")) rule.group_where = map.where("group");
    check_scheme(map, keys, rule.scheme, method, false, stage, context.diagnostics);
    overrides.push_back(std::move(rule));
  }
  return overrides;
}

QuantizeStage read_quantize(MapReader& map, const StageContext& stage, Context& context) {
  Diagnostics& diagnostics = context.diagnostics;
  QuantizeStage q;
  q.method_where = map.where("method");
  bool method_known = true;
  if (map.has("method")) {
    const auto method = map.choice("method", "method", kMethods);
    method_known = method.has_value();
    if (method) q.method = *method;
  }
  const SchemeKeys keys = read_scheme_keys(map, diagnostics);
  if (is_smoothquant(q.method)) {  // the W8A8 scheme apply_method() will set; written out so the plan shows it
    q.scheme.bits = 8;
    q.scheme.group_size = 0;
    q.scheme.symmetric = true;
    q.scheme.activations = ActivationMode::int8_dynamic;
    if (keys.activations == ActivationMode::int8_static) q.scheme.activations = ActivationMode::int8_static;
    if (keys.scale_dtype) q.scheme.scale_dtype = *keys.scale_dtype;
  } else {
    apply(keys, q.scheme);
  }
  q.bits_where = map.where("bits");
  q.group_where = map.where("group");
  if (method_known) check_scheme(map, keys, q.scheme, q.method, true, stage, diagnostics);

  if (const auto v = map.boolean("allow_partial_groups")) q.allow_partial_groups = *v;
  if (const auto v = map.boolean("mse_clip")) q.mse_clip = *v;
  if (const auto v = map.number("clip_norm", Bound{0.0, true})) q.clip_norm = *v;
  if (const auto v = map.number("damp", Bound{0.0, true}, Bound{1.0, true})) q.damp = *v;
  if (const auto v = map.integer_at_least("block", 1)) q.block = *v;
  if (const auto v = map.boolean("act_order")) q.act_order = *v;
  if (const auto v = map.number("alpha", Bound{0.0, false}, Bound{1.0, false})) q.alpha = *v;
  if (method_known)
    for (const MethodKey& rule : kMethodKeys)
      if (map.has(rule.key) && std::find(rule.methods.begin(), rule.methods.end(), q.method) == rule.methods.end())
        diagnostics.error(map.where(rule.key), map.path(rule.key) + ": only used by method" + (rule.methods.size() > 1 ? "s " : " ") +
                                                   join_choices(rule.methods, "and") + "; this stage's method is " + q.method);

  q.targets_where = map.where("targets");
  q.targets = read_patterns(map, "targets", diagnostics);
  if (const auto* list = map.list("targets"); list != nullptr && list->empty())
    diagnostics.error(map.where("targets"), map.path("targets") + ": empty list; leave the key out to target every linear layer");
  q.ignore = read_patterns(map, "ignore", diagnostics);
  q.overrides = read_overrides(map, q.scheme, method_known ? q.method : std::string(), stage, context);

  if (method_known && q.method != "rtn" && !stage.has_calibration)
    diagnostics.error(map.where("method"), map.path("method") + ": " + q.method + " needs calibration data; add a 'calibration' section");
  return q;
}

// One row per pass: its name, its parameters and its reader.
struct PassSpec {
  std::string name;
  std::vector<std::string> keys;
  Stage::Params (*read)(MapReader&, const StageContext&, Context&);
};

const std::vector<PassSpec>& pass_table() {
  static const std::vector<PassSpec> table{
      {"quantize",
       {"method", "bits", "group", "symmetric", "scale_dtype", "activations", "allow_partial_groups", "mse_clip", "clip_norm", "damp",
        "block", "act_order", "alpha", "targets", "ignore", "overrides"},
       [](MapReader& map, const StageContext& stage, Context& context) -> Stage::Params { return read_quantize(map, stage, context); }},
  };
  return table;
}

bool valid_stage_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '+' || c == '-';
  });
}

}  // namespace

std::optional<Pattern> read_pattern(const TreeNode& node, const std::string& path, Diagnostics& diagnostics) {
  const auto text = read_string(node, path, diagnostics, "a pattern (a glob or re:REGEX)");
  if (!text) return std::nullopt;
  if (text->empty() || *text == "re:") {
    diagnostics.error(node.where, path + ": empty pattern");
    return std::nullopt;
  }
  if (text->rfind("re:", 0) == 0) {
    try {
      std::regex compiled(text->substr(3));
    } catch (const std::regex_error& e) {
      diagnostics.error(node.where, path + ": invalid regular expression '" + text->substr(3) + "': " + regex_problem(e.code()));
      return std::nullopt;
    }
  }
  return Pattern{*text, node.where};
}

std::vector<Stage> read_stages(const TreeNode& node, const StageContext& stage_context, Context& context) {
  Diagnostics& diagnostics = context.diagnostics;
  std::vector<Stage> stages;
  const auto* items = read_list(node, "stages", diagnostics);
  if (items == nullptr) return stages;
  if (items->empty()) {
    diagnostics.error(node.where, "stages: empty; a recipe needs at least one stage");
    return stages;
  }
  std::vector<std::string> pass_names;
  std::vector<std::string> all_keys{"name", "pass"};
  for (const PassSpec& spec : pass_table()) {
    pass_names.push_back(spec.name);
    all_keys.insert(all_keys.end(), spec.keys.begin(), spec.keys.end());
  }
  std::map<std::string, std::string> names;  // stage name -> the path that named it first
  for (size_t i = 0; i < items->size(); ++i) {
    const TreeNode& item = (*items)[i];
    const std::string path = "stages." + std::to_string(i);
    // Which keys are allowed depends on the pass: look at it first (an unknown pass accepts every pass's keys, so
    // the one error reported is the pass).
    const PassSpec* spec = nullptr;
    if (item.kind == TreeNode::Kind::map)
      if (const TreeNode* pass = item.find("pass"); pass != nullptr && pass->kind == TreeNode::Kind::scalar)
        for (const PassSpec& candidate : pass_table())
          if (candidate.name == pass->text) spec = &candidate;
    std::vector<std::string> known{"name", "pass"};
    if (spec != nullptr) known.insert(known.end(), spec->keys.begin(), spec->keys.end());
    else known = all_keys;
    MapReader map(item, path, known, context, "a map with 'pass' and its parameters");
    if (!map.ok()) continue;
    Stage stage;
    stage.where = map.where();
    stage.name = "stage" + std::to_string(i);
    stage.name_where = map.where("name");
    if (const auto name = map.string("name")) {
      if (valid_stage_name(*name))
        stage.name = *name;
      else
        diagnostics.error(map.where("name"), map.path("name") + " must use only letters, digits and _ . + -; got '" + *name + "'");
    }
    if (const auto [it, inserted] = names.emplace(stage.name, path); !inserted)
      diagnostics.error(stage.name_where, map.path("name") + ": duplicate stage name '" + stage.name + "' (also " + it->second + ")");
    if (!map.require("pass")) continue;
    const auto pass = map.choice("pass", "pass", pass_names);
    if (!pass || spec == nullptr) continue;
    stage.pass = *pass;
    stage.params = spec->read(map, stage_context, context);
    stages.push_back(std::move(stage));
  }
  return stages;
}

}  // namespace edgec::pipeline::detail
