#include "edgec/core/confined_path.hpp"

#include <system_error>

namespace edgec {
namespace fs = std::filesystem;

namespace {

bool is_strictly_inside(const fs::path& folder, const fs::path& target) {
  auto t = target.begin();
  for (auto f = folder.begin(); f != folder.end(); ++f, ++t)
    if (t == target.end() || *f != *t) return false;
  return t != target.end();
}

}  // namespace

ConfinedPath resolve_inside_folder(const fs::path& folder, const std::string& relative_name,
                                   const std::string& folder_label) {
  auto fail = [](std::string problem) { return ConfinedPath{{}, std::move(problem)}; };
  if (relative_name.empty()) return fail("is empty; expected a file name relative to " + folder_label);
  for (const char c : relative_name)
    if (static_cast<unsigned char>(c) < 0x20) return fail("contains control characters");
  const fs::path relative(relative_name);
  if (relative.is_absolute() || relative.has_root_directory() || relative.has_root_name())
    return fail("is absolute; expected a path relative to " + folder_label);
  for (const auto& part : relative)
    if (part == "..") return fail("contains '..'; it must stay inside " + folder_label);
  std::error_code ec;
  const fs::path base = fs::canonical(folder, ec);
  if (ec) return fail("cannot be resolved: " + folder_label + " '" + folder.string() + "': " + ec.message());
  const fs::path target = fs::canonical(base / relative, ec);
  if (ec) return fail("cannot be opened: " + ec.message() + " (looked in '" + base.string() + "')");
  if (!is_strictly_inside(base, target))
    return fail("resolves to '" + target.string() + "', outside " + folder_label + " '" + base.string() + "'");
  if (!fs::is_regular_file(target, ec)) return fail("is not a regular file");
  return ConfinedPath{target, {}};
}

}  // namespace edgec
