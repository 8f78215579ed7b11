#pragma once
// Errors are values with a category; the CLI maps each category to a documented exit code.
#include <stdexcept>
#include <string>

namespace edgec {

enum class ErrorCategory {
  internal = 1,  // a bug in edgec
  usage = 2,     // bad command line or recipe
  accuracy = 3,  // a verify gate failed
  input = 4,     // unreadable, corrupt or unsupported input, or an I/O failure
};

int exit_code(ErrorCategory category);
const char* category_name(ErrorCategory category);

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, const std::string& message)
      : std::runtime_error(message), category_(category) {}
  ErrorCategory category() const { return category_; }

 private:
  ErrorCategory category_;
};

// Shorthand for the most common case: the input (a file) is wrong. `where` names the file and,
// when known, the field; the message says what was expected.
[[noreturn]] void throw_input_error(const std::string& where, const std::string& what);

}  // namespace edgec
