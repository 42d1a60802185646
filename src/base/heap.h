/*
 * heap.h - memory on transparent huge pages: the process heap's policy for bulk jobs (grow in
 * large steps, huge-page backed) and huge-page-aligned arrays. A bulk ingest touches its whole
 * working set (meter states, cached meter-days, page cache) for the first time within seconds; in 4
 * KiB pages that is ~40,000 page faults, and on a virtual machine each one also costs the host a
 * fault (measured: ~10 % of the ingest thread).
 */
#ifndef MTR_HEAP_H
#define MTR_HEAP_H

#include <stddef.h>

/*
 * Makes the main heap (the calling process's brk heap; glibc's main arena, which serves the
 * main thread) grow by at least `step` bytes at a time and keep that much when memory is freed,
 * and asks the kernel to back the heap grown now with transparent huge pages (MADV_HUGEPAGE:
 * honoured when /sys/kernel/mm/transparent_hugepage/enabled is `always` or `madvise`). Only
 * address space is reserved: memory is still committed page by page as it is touched.
 * Best effort and process-wide; call early, from the thread that will do the work (once it has
 * applied, later calls return 0 and change nothing; not thread-safe).
 * Returns 0 when the advice was taken, MTR_EINVAL when this platform or allocator cannot do it
 * (nothing changes then; e.g. under AddressSanitizer, whose allocator has no brk heap).
 */
int mtr_heap_bulk(size_t step);

#define MTR_HUGE_PAGE ((size_t)2 << 20)

/*
 * `bytes` rounded up to whole huge pages (MTR_HUGE_PAGE), aligned to them and advised
 * MADV_HUGEPAGE (best effort: ordinary pages where that cannot be). For a large array that is
 * touched soon and whole, outside the main heap's policy (another thread, another store).
 * NULL without memory (or for 0 bytes); the caller frees it with free().
 */
void *mtr_heap_huge_alloc(size_t bytes);

#endif
