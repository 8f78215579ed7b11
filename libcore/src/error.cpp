#include "edgec/core/error.hpp"

namespace edgec {

int exit_code(ErrorCategory category) { return static_cast<int>(category); }

const char* category_name(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::internal: return "internal error";
    case ErrorCategory::usage: return "usage error";
    case ErrorCategory::accuracy: return "accuracy gate failed";
    case ErrorCategory::input: return "input error";
  }
  return "error";
}

void throw_input_error(const std::string& where, const std::string& what) {
  throw Error(ErrorCategory::input, where + ": " + what);
}

}  // namespace edgec
