#pragma once
// For programs that run graphs (the edgec CLI, the benchmarks): keep freed memory in the process for the next
// tensor of the same size. glibc serves blocks above its mmap threshold (128 KiB at first) with a fresh mmap and
// gives them back on free, and trims the heap top, so every large intermediate tensor of every run page-faulted its
// memory in again (15% of a ViT batch's time). Called once at the start of main, before threads are started.
namespace edgec {

void keep_freed_memory_for_reuse();

}  // namespace edgec
