#pragma once
// Readers of the recipe's sections (sections.cpp: model, calibration, target, output, verify; stages.cpp: stages).
#include <optional>
#include <string>
#include <vector>

#include "edgec/pipeline/device_profile.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "reader.hpp"

namespace edgec::pipeline::detail {

std::optional<ModelSpec> read_model(const TreeNode& node, Context& context);
std::optional<Calibration> read_calibration(const TreeNode& node, Context& context);
Target read_target(const TreeNode& node, Context& context);
// `recipe_file` (as passed) gives the default output name: its stem + ".edgepack".
Output read_output(const TreeNode* node, const std::string& recipe_file, Context& context);
std::optional<Verify> read_verify(const TreeNode& node, Context& context);

// What stage validation needs to know of the other sections.
struct StageContext {
  bool has_calibration = false;
  const DeviceProfile* device = nullptr;  // null when target.device was invalid
  std::string device_name;
};
std::vector<Stage> read_stages(const TreeNode& node, const StageContext& stage_context, Context& context);

// Validates one layer pattern (non-empty; `re:` must compile); reports and returns nullopt otherwise.
std::optional<Pattern> read_pattern(const TreeNode& node, const std::string& path, Diagnostics& diagnostics);

}  // namespace edgec::pipeline::detail
