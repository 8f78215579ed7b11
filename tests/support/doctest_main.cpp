// The test executables' main: like the edgec CLI, every test runs with a thread pool of all the CPUs installed, so
// the kernels' parallel paths are the ones tested (tests that compare thread counts install their own, threads.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "edgec/core/parallel.hpp"

int main(int argc, char** argv) {
  edgec::ThreadPool pool;
  const edgec::ParallelScope scope(&pool);
  return doctest::Context(argc, argv).run();
}
