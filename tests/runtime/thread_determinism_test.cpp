// Products must not depend on the thread count: gemm.cpp runs Eigen single-threaded on a fixed partition of
// the output, so 1 and 2 threads give the same bytes (Eigen's own threading did not).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "test_helpers.hpp"
#include "threads.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

// Runs `node` on a pool of the given thread count.
HostTensor run_with_threads(const OneNode& node, int threads) {
  return edgec::test::with_threads(threads, [&] { return node.run().at(0); });
}

void check_same_bytes(const OneNode& node) {
  const HostTensor one = run_with_threads(node, 1);
  const HostTensor two = run_with_threads(node, 2);
  REQUIRE(one.dims() == two.dims());
  REQUIRE(one.size_bytes() == two.size_bytes());
  CHECK(std::memcmp(one.raw(), two.raw(), one.size_bytes()) == 0);
}

}  // namespace

TEST_CASE("MatMul gives the same bytes with 1 and 2 threads") {
  // Big enough to be split into several tiles (and, before, to trigger Eigen's threading).
  const int64_t m = 300, k = 700, n = 600;
  const OneNode node("MatMul", {f32({m, k}, pattern(static_cast<size_t>(m * k), 0.1, 0.37)),
                                f32({k, n}, pattern(static_cast<size_t>(k * n), 0.5, 0.37))});
  check_same_bytes(node);
}

TEST_CASE("Conv gives the same bytes with 1 and 2 threads") {
  const int64_t c = 64, h = 40, w = 40, out = 96;
  const OneNode node("Conv", {f32({1, c, h, w}, pattern(static_cast<size_t>(c * h * w), 0.2, 0.37)),
                              f32({out, c, 3, 3}, pattern(static_cast<size_t>(out * c * 9), 0.9, 0.37))},
                     {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  check_same_bytes(node);
}
