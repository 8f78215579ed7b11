#pragma once
// Runs a callable on a thread pool of a given size (edgec/core/parallel.hpp), for tests that compare results at
// several thread counts.
#include <utility>

#include "edgec/core/parallel.hpp"

namespace edgec::test {

template <typename Fn>
auto with_threads(int threads, Fn&& fn) {
  ThreadPool pool(threads);
  const ParallelScope scope(&pool);
  return std::forward<Fn>(fn)();
}

}  // namespace edgec::test
