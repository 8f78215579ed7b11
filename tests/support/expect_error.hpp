#pragma once
// Runs `action`, which must throw edgec::Error of category input with a one-line message; returns the message.
// Any other exception escapes and fails the test.
#include <string>

#include <doctest/doctest.h>

#include "edgec/core/error.hpp"

namespace edgec::test {

template <class Action>
std::string expect_input_error(Action&& action) {
  try {
    action();
  } catch (const edgec::Error& error) {
    CHECK(error.category() == edgec::ErrorCategory::input);
    const std::string message = error.what();
    CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
    return message;
  }
  FAIL("expected an edgec::Error (input), but nothing was thrown");
  return {};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace edgec::test
