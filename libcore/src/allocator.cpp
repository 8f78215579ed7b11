#include "edgec/core/allocator.hpp"

#include <malloc.h>

namespace edgec {

void keep_freed_memory_for_reuse() {
  // Blocks up to 1 GiB come from the heap, and the heap is never trimmed: the peak stays mapped for reuse (the
  // resident high-water mark a run reports is the same either way).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}

}  // namespace edgec
