#pragma once
// Collects every problem of a recipe so the user can fix them at once; thrown together as one Error(usage).
#include <string>
#include <vector>

#include "edgec/pipeline/recipe.hpp"

namespace edgec::pipeline::detail {

class Diagnostics {
 public:
  void error(const SourceRef& where, std::string message);
  bool empty() const { return errors_.empty(); }
  // Sorted (command line first, then by line and column), duplicates dropped, one `PREFIX: message` per line.
  std::string text() const;
  // Throws Error(usage) with text() when any error was recorded.
  void throw_if_any() const;

 private:
  struct Entry {
    SourceRef where;
    std::string message;
  };
  std::vector<Entry> errors_;
};

}  // namespace edgec::pipeline::detail
