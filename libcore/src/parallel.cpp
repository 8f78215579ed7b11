#include "edgec/core/parallel.hpp"

#include <sched.h>

#include <algorithm>

namespace edgec {
namespace {

constexpr uint64_t kOpen = uint64_t{1} << 32;
constexpr uint64_t kActiveMask = kOpen - 1;
constexpr int kJobShift = 33;

uint32_t job_of(uint64_t state) { return static_cast<uint32_t>(state >> kJobShift); }
bool is_open(uint64_t state) { return (state & kOpen) != 0; }
uint64_t active_of(uint64_t state) { return state & kActiveMask; }

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or `budget` has passed; true when done() held. The clock is read every 64 pauses only.
template <class Done>
bool spin_until(Done&& done, std::chrono::microseconds budget) {
  if (budget.count() <= 0) return done();
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

// This thread's current pool and whether it is running a chunk (then loops inside run serially).
thread_local ThreadPool* tl_pool = nullptr;
thread_local bool tl_in_chunk = false;

struct InChunk {
  bool previous = tl_in_chunk;
  InChunk() { tl_in_chunk = true; }
  ~InChunk() { tl_in_chunk = previous; }
};

void run_serially(int64_t count, int64_t chunk, const ChunkFn& fn) {
  const InChunk guard;
  for (int64_t begin = 0; begin < count; begin += chunk) fn(begin, std::min(count, begin + chunk), 0);
}

}  // namespace

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool* current_pool() { return tl_in_chunk ? nullptr : tl_pool; }

int parallel_threads() {
  const ThreadPool* pool = current_pool();
  return pool ? pool->threads() : 1;
}

ParallelScope::ParallelScope(ThreadPool* pool) : previous_(tl_pool) { tl_pool = pool; }
ParallelScope::~ParallelScope() { tl_pool = previous_; }

ThreadPool::ThreadPool(int threads, std::chrono::microseconds spin) : spin_(spin) {
  if (threads <= 0) threads = available_cpus();
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  wake_.fetch_add(1);
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run(int64_t count, int64_t chunk, ChunkFn fn) {
  if (count <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  const int64_t chunks = (count + chunk - 1) / chunk;
  if (workers_.empty() || chunks == 1 || tl_in_chunk) return run_serially(count, chunk, fn);
  std::unique_lock<std::mutex> exclusive(run_mutex_, std::try_to_lock);
  if (!exclusive.owns_lock()) return run_serially(count, chunk, fn);

  // Publish: the job's fields first, then the open state (release), then wake sleepers.
  job_fn_ = &fn;
  job_count_ = count;
  job_chunk_ = chunk;
  job_chunks_ = chunks;
  error_ = nullptr;
  failed_.store(false, std::memory_order_relaxed);
  next_chunk_.store(0, std::memory_order_relaxed);
  job_id_ = job_id_ + 1 == (1u << 31) ? 1 : job_id_ + 1;
  state_.store((static_cast<uint64_t>(job_id_) << kJobShift) | kOpen);
  wake_.fetch_add(1);
  if (sleeping_workers_.load() > 0) wake_.notify_all();

  work_on_job(0);

  // Every chunk is claimed: close the job (no new worker joins) and wait for the ones still inside.
  uint64_t state = state_.load();
  while (!state_.compare_exchange_weak(state, state & ~kOpen)) {
  }
  wait_until_idle();
  job_fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::work_on_job(int thread) {
  const InChunk guard;
  const ChunkFn& fn = *job_fn_;
  for (;;) {
    const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= job_chunks_ || failed_.load(std::memory_order_relaxed)) return;
    const int64_t begin = c * job_chunk_;
    try {
      fn(begin, std::min(job_count_, begin + job_chunk_), thread);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::wait_until_idle() {
  const auto idle = [this] { return active_of(state_.load()) == 0; };
  if (spin_until(idle, spin_)) return;
  for (;;) {
    caller_sleeping_.store(1);
    const uint32_t seen = done_.load();
    if (idle()) break;
    done_.wait(seen);
    if (idle()) break;
  }
  caller_sleeping_.store(0);
}

// Waits for a job newer than `last_job` that is still open; false when the pool is stopping.
bool ThreadPool::wait_for_job(uint32_t& last_job, uint64_t& state) {
  const auto ready = [&] {
    if (stopping_.load(std::memory_order_relaxed)) return true;
    state = state_.load(std::memory_order_acquire);
    if (job_of(state) == last_job) return false;
    if (is_open(state)) return true;
    last_job = job_of(state);  // closed before this worker saw it: nothing left to do
    return false;
  };
  if (!spin_until(ready, spin_)) {
    for (;;) {
      sleeping_workers_.fetch_add(1);
      const uint32_t seen = wake_.load();
      const bool found = ready();
      if (!found) wake_.wait(seen);
      sleeping_workers_.fetch_sub(1);
      if (found || ready()) break;
    }
  }
  return !stopping_.load();
}

void ThreadPool::worker_loop(int index) {
  uint32_t last_job = 0;
  uint64_t state = 0;
  while (wait_for_job(last_job, state)) {
    // Join: only an open job with this id can be entered (a failed exchange re-reads the state and retries).
    if (!state_.compare_exchange_strong(state, state + 1)) continue;
    last_job = job_of(state);
    work_on_job(index);
    const uint64_t after = state_.fetch_sub(1) - 1;
    if (active_of(after) == 0 && !is_open(after)) {
      done_.fetch_add(1);
      if (caller_sleeping_.load() != 0) done_.notify_all();
    }
  }
}

}  // namespace edgec
