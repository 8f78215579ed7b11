#pragma once
// "did you mean ...?" suggestions for misspelt keys, values and layer patterns.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgec::pipeline {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if within `max_distance` (default: 2, or a third of the word's length when
// longer); ties go to the earliest candidate. Case is ignored.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates,
                                         std::optional<size_t> max_distance = std::nullopt);

}  // namespace edgec::pipeline
