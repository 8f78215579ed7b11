// The thread pool behind every parallel loop (edgec/core/parallel.hpp): each chunk runs exactly once, on a valid
// thread index, exceptions reach the caller, nested and concurrent uses fall back to serial, and sleeping workers
// wake for the next job.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "edgec/core/parallel.hpp"

using namespace edgec;

TEST_CASE("thread pool: every chunk runs exactly once, on a thread index below threads()") {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    REQUIRE(pool.threads() == threads);
    for (const int64_t count : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{100003}})
      for (const int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{64}, int64_t{5000}}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
        std::atomic<bool> bad_thread{false}, bad_range{false};
        auto body = [&](int64_t begin, int64_t end, int thread) {
          if (thread < 0 || thread >= threads) bad_thread = true;
          if (begin % chunk != 0 || end - begin > chunk || end > count || begin >= end) bad_range = true;
          for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        };
        pool.run(count, chunk, body);
        CHECK_FALSE(bad_thread);
        CHECK_FALSE(bad_range);
        int64_t wrong = 0;
        for (const auto& h : hits) wrong += h.load() != 1;
        CHECK(wrong == 0);
      }
  }
}

TEST_CASE("thread pool: thousands of tiny jobs back to back (the decode pattern), with sleeps between some") {
  ThreadPool pool(2, std::chrono::microseconds(20));
  std::atomic<int64_t> total{0};
  for (int job = 0; job < 5000; ++job) {
    auto body = [&](int64_t begin, int64_t end, int) { total.fetch_add(end - begin); };
    pool.run(16, 1, body);
    // Long enough that the worker's spin ends and it sleeps on the futex: the next job must wake it.
    if (job % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(total.load() == 5000 * 16);
}

TEST_CASE("thread pool: the first exception of a chunk reaches the caller, later chunks are skipped") {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  auto body = [&](int64_t begin, int64_t, int) {
    ran.fetch_add(1);
    if (begin == 3) throw std::runtime_error("chunk 3 failed");
  };
  CHECK_THROWS_WITH_AS(pool.run(100000, 1, body), "chunk 3 failed", std::runtime_error);
  CHECK(ran.load() < 100000);
  // The pool is usable afterwards.
  std::atomic<int64_t> sum{0};
  auto add = [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
  };
  pool.run(1000, 10, add);
  CHECK(sum.load() == 999 * 1000 / 2);
}

TEST_CASE("parallel_for: no pool runs serially on the caller, a scope uses the pool, chunks do not nest") {
  const ParallelScope serial(nullptr);  // the test main installs a pool of every CPU
  CHECK(current_pool() == nullptr);
  CHECK(parallel_threads() == 1);
  const auto caller = std::this_thread::get_id();
  bool all_on_caller = true;
  parallel_for(1000, 1, [&](int64_t) { all_on_caller = all_on_caller && std::this_thread::get_id() == caller; });
  CHECK(all_on_caller);

  ThreadPool pool(2);
  {
    const ParallelScope scope(&pool);
    CHECK(current_pool() == &pool);
    CHECK(parallel_threads() == 2);
    std::atomic<int> nested_parallel{0};
    std::atomic<int64_t> items{0};
    parallel_for(64, 1, [&](int64_t) {
      // Inside a chunk there is no pool: a kernel calling another parallel loop runs it serially.
      if (current_pool() != nullptr || parallel_threads() != 1) nested_parallel.fetch_add(1);
      parallel_for(10, 1, [&](int64_t) { items.fetch_add(1); });
    });
    CHECK(nested_parallel.load() == 0);
    CHECK(items.load() == 640);
  }
  CHECK(current_pool() == nullptr);
}

TEST_CASE("thread pool: two threads using one pool at once both finish (the second runs serially)") {
  ThreadPool pool(2);
  std::atomic<int64_t> a{0}, b{0};
  auto job = [&pool](std::atomic<int64_t>& counter) {
    for (int r = 0; r < 200; ++r) {
      auto body = [&](int64_t begin, int64_t end, int) { counter.fetch_add(end - begin); };
      pool.run(1000, 7, body);
    }
  };
  std::thread other([&] { job(b); });
  job(a);
  other.join();
  CHECK(a.load() == 200 * 1000);
  CHECK(b.load() == 200 * 1000);
}

TEST_CASE("available_cpus is at least one, and a pool of 0 threads takes all of them") {
  CHECK(available_cpus() >= 1);
  const ThreadPool pool(0);
  CHECK(pool.threads() == available_cpus());
}
