#pragma once
// This machine's memory read bandwidth, measured the way decode reads weights: the threads stream a buffer much
// larger than the caches in 16 MiB chunks taken in order (as the kernels take their channel blocks), summing it with
// AVX-512 loads into 8 independent sums (plain loops without AVX-512), three ways (below). Best of all passes, GB/s
// (1e9 bytes/s).
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "edgec/core/parallel.hpp"

namespace edgec::bench {

__attribute__((noinline)) inline float sum_floats_portable(const float* p, int64_t n) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) s[l] += p[i + l];
  for (; i < n; ++i) s[0] += p[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// n a multiple of 128 floats (the 16 MiB chunks are). GCC 12 reports its own _mm512_undefined_*() as uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((noinline, target("avx512f"))) inline float sum_floats_avx512(const float* p, int64_t n) {
  __m512 s[8];
  for (auto& v : s) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 128)
    for (int l = 0; l < 8; ++l) s[l] = _mm512_add_ps(s[l], _mm512_loadu_ps(p + i + 16 * l));
  for (int l = 1; l < 8; ++l) s[0] = _mm512_add_ps(s[0], s[l]);
  return _mm512_reduce_add_ps(s[0]);
}

// The same with a software prefetch 8 KiB ahead (the hardware prefetcher stops at 4 KiB pages), and as two streams (the two halves at once): the best of the three
// is the bandwidth reported, so a kernel's fraction of it is not flattered by a weak measurement.
__attribute__((noinline, target("avx512f"))) inline float sum_floats_prefetch(const float* p, int64_t n) {
  __m512 s[8];
  for (auto& v : s) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 128) {
    for (int l = 0; l < 8; ++l) _mm_prefetch(reinterpret_cast<const char*>(p + i + 2048 + 16 * l), _MM_HINT_T0);  // 8 KiB ahead
    for (int l = 0; l < 8; ++l) s[l] = _mm512_add_ps(s[l], _mm512_loadu_ps(p + i + 16 * l));
  }
  for (int l = 1; l < 8; ++l) s[0] = _mm512_add_ps(s[0], s[l]);
  return _mm512_reduce_add_ps(s[0]);
}
__attribute__((noinline, target("avx512f"))) inline float sum_floats_two_streams(const float* p, int64_t n) {
  __m512 s[8];
  for (auto& v : s) v = _mm512_setzero_ps();
  const float* q = p + n / 2;
  for (int64_t i = 0; i < n / 2; i += 64)
    for (int l = 0; l < 4; ++l) {
      s[l] = _mm512_add_ps(s[l], _mm512_loadu_ps(p + i + 16 * l));
      s[4 + l] = _mm512_add_ps(s[4 + l], _mm512_loadu_ps(q + i + 16 * l));
    }
  for (int l = 1; l < 8; ++l) s[0] = _mm512_add_ps(s[0], s[l]);
  return _mm512_reduce_add_ps(s[0]);
}

#pragma GCC diagnostic pop

inline float sum_floats(const float* p, int64_t n, int method) {
  if (n % 128 != 0 || !__builtin_cpu_supports("avx512f")) return sum_floats_portable(p, n);
  return method == 0 ? sum_floats_avx512(p, n) : method == 1 ? sum_floats_prefetch(p, n) : sum_floats_two_streams(p, n);
}

// Read bandwidth with `threads` threads over `bytes` bytes (default 1 GiB), best of `passes`; `huge_pages` asks the
// kernel for 2 MiB pages (below).
inline double read_bandwidth_gbs(int threads, bool huge_pages, int64_t bytes = int64_t{1} << 30, int passes = 7) {
  const int64_t n = bytes / 4;
  // With 4 KiB pages (what a mapped checkpoint's weights get here) TLB misses cap the stream well below what the
  // memory delivers with 2 MiB pages (on this machine about 27 against 37 GB/s at 1 thread, 45 against 74 at 2):
  // benchmarks report both, so a fraction of "bandwidth" says which it is.
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> buffer(static_cast<float*>(std::aligned_alloc(size_t{2} << 20, static_cast<size_t>(bytes))));
  if (!buffer) return 0;
  madvise(buffer.get(), static_cast<size_t>(bytes), huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  ThreadPool pool(threads);
  const ParallelScope scope(&pool);
  const int64_t part = int64_t{4} << 20;  // 16 MiB of floats per hand-out
  std::vector<double> sink(static_cast<size_t>(threads));
  // First touch by the thread that will read the part, then the timed passes.
  parallel_chunks(n, part, [&](int64_t begin, int64_t end, int) { std::fill(buffer.get() + begin, buffer.get() + end, 1.0f); });
  double best = 0;
  for (int pass = 0; pass < 3 * passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    parallel_chunks(n, part, [&](int64_t begin, int64_t end, int thread) {
      sink[static_cast<size_t>(thread)] += sum_floats(buffer.get() + begin, end - begin, pass % 3);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(bytes) / seconds / 1e9);
  }
  return sink[0] > -1 ? best : 0;  // keeps the sums alive
}

}  // namespace edgec::bench
