#pragma once
// Test instrumentation: the largest single heap allocation made through operator new since the last reset.
// Robustness tests use it to prove that a hostile file cannot make edgec allocate more than its size justifies.
#include <cstddef>

namespace edgec::test {

void reset_largest_allocation();
size_t largest_allocation();

}  // namespace edgec::test
