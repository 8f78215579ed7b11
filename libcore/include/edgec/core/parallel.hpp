#pragma once
// Data-parallel loops on a fixed pool of worker threads, built for machines whose cores are shared (a CI runner, a
// workstation running a build): OpenMP's waiting threads spin for milliseconds and its static schedule makes every
// thread wait for a descheduled team mate, so with another process on the cores two threads ran slower than one.
//
//  * Work is cut into chunks that the calling thread and the workers claim in order from one shared counter: a
//    thread the OS deschedules delays at most the one chunk it is running; the others take the rest.
//  * An idle worker spins for a bounded time (ThreadPool's `spin`, 50 us by default: back-to-back kernels find it
//    awake), then sleeps on a futex until the next job. The calling thread waits the same way for running chunks.
//  * Which thread runs a chunk never changes what the chunk computes, so a loop whose chunks write disjoint
//    outputs gives the same bytes at any thread count.
//
// There is no process-wide pool: whoever owns the work (the CLI for a command, a test, a benchmark) creates a
// ThreadPool and installs it for a scope with ParallelScope; parallel_for on that thread then uses it. Without a
// scope, and inside a chunk (no nesting), loops run serially on the calling thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace edgec {

// A non-owning reference to a callable `void(int64_t begin, int64_t end, int thread)`; it must outlive the call.
class ChunkFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, ChunkFn>>>
  ChunkFn(F& f)  // NOLINT: implicit on purpose, like std::function_ref
      : object_(static_cast<void*>(&f)),
        call_([](void* object, int64_t begin, int64_t end, int thread) { (*static_cast<F*>(object))(begin, end, thread); }) {}
  void operator()(int64_t begin, int64_t end, int thread) const { call_(object_, begin, end, thread); }

 private:
  void* object_;
  void (*call_)(void*, int64_t, int64_t, int);
};

class ThreadPool {
 public:
  // `threads` counts the calling thread: 1 runs everything on the caller, n starts n - 1 workers. 0 means
  // available_cpus().
  explicit ThreadPool(int threads = 0, std::chrono::microseconds spin = std::chrono::microseconds(50));
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(begin, end, thread) over [0, count) in chunks of `chunk` items (the last may be shorter); `thread` is
  // 0 for the caller and 1..threads()-1 for the workers, so per-thread scratch can be indexed by it. Returns when
  // every chunk is done. If a chunk throws, the chunks not yet started are skipped and the first exception is
  // rethrown here. Called from inside a chunk, or while another thread is using the pool, it runs serially.
  void run(int64_t count, int64_t chunk, ChunkFn fn);

 private:
  void worker_loop(int index);
  void work_on_job(int thread);
  bool wait_for_job(uint32_t& last_job, uint64_t& state);
  void wait_until_idle();

  // state_: job id (bits 33..63) | open (bit 32) | workers inside the job (bits 0..31). Workers join an open job
  // by incrementing it; the caller closes the job when every chunk is claimed and waits until none is inside, so
  // the job's fields below are never rewritten while a worker reads them.
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<bool> failed_{false};
  // Futex words: idle workers sleep on wake_ (bumped for every job), the caller on done_ (bumped when the last
  // worker leaves a closed job); the counters say whether anyone sleeps, so a job with everyone awake costs no
  // system call.
  std::atomic<uint32_t> wake_{0}, sleeping_workers_{0};
  std::atomic<uint32_t> done_{0}, caller_sleeping_{0};
  std::atomic<bool> stopping_{false};

  uint32_t job_id_ = 0;
  int64_t job_count_ = 0, job_chunk_ = 1, job_chunks_ = 0;
  const ChunkFn* job_fn_ = nullptr;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  std::mutex run_mutex_;  // one job at a time; a concurrent caller runs serially instead

  std::chrono::microseconds spin_;
  std::vector<std::thread> workers_;
};

// CPUs this process may run on (its affinity mask), at least 1.
int available_cpus();

// The pool parallel loops started on this thread use, or nullptr (serial): set by ParallelScope, nullptr inside a
// chunk.
ThreadPool* current_pool();
// Threads a parallel loop started here would use: current_pool()->threads(), or 1.
int parallel_threads();

// Installs `pool` (may be nullptr: serial) as this thread's current pool until the scope ends.
class ParallelScope {
 public:
  explicit ParallelScope(ThreadPool* pool);
  ~ParallelScope();
  ParallelScope(const ParallelScope&) = delete;
  ParallelScope& operator=(const ParallelScope&) = delete;

 private:
  ThreadPool* previous_;
};

// Runs body(begin, end, thread) over [0, count) in chunks of `chunk` on the current pool (serially, as one call
// per chunk with thread 0, without one).
template <class Body>
void parallel_chunks(int64_t count, int64_t chunk, Body&& body) {
  if (count <= 0) return;
  if (chunk < 1) chunk = 1;
  ThreadPool* pool = current_pool();
  if (!pool || pool->threads() == 1 || count <= chunk) {
    for (int64_t begin = 0; begin < count; begin += chunk) body(begin, begin + chunk < count ? begin + chunk : count, 0);
    return;
  }
  pool->run(count, chunk, body);
}

// Runs body(i) for i in [0, count); `min_chunk` items at least per chunk (amortises the hand-out), and about four
// chunks per thread so a descheduled thread's share is taken over by the others.
template <class Body>
void parallel_for(int64_t count, int64_t min_chunk, Body&& body) {
  const int64_t threads = parallel_threads();
  int64_t chunk = (count + threads * 4 - 1) / (threads * 4);
  if (chunk < min_chunk) chunk = min_chunk;
  auto run_chunk = [&body](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) body(i);
  };
  parallel_chunks(count, chunk, run_chunk);
}

}  // namespace edgec
