/* heap.c - bulk-job heap policy: large growth steps and transparent huge pages (see heap.h). */
#define _DEFAULT_SOURCE /* sbrk, madvise; posix_memalign */
#include "base/heap.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/err.h"

#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

int mtr_heap_bulk(size_t step)
{
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE)
    static int applied; /* a second call (demo: three ingests) keeps the first one's heap */
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (applied)
        return 0;
    if (step < huge || step > INT32_MAX || !mallopt(M_TOP_PAD, (int)step) ||
        !mallopt(M_TRIM_THRESHOLD, (int)step))
        return MTR_EINVAL;
    /* grow the heap now, with chunks below the mmap threshold (the main arena serves them), so
     * that the growth reserves `step` at once; then advise exactly the new part */
    enum { CHUNK = 64 << 10, MAX_CHUNKS = 64 };
    void *held[MAX_CHUNKS], *top0 = sbrk(0), *top = top0;
    int n = 0;
    while (n < MAX_CHUNKS && top == top0 && top0 != (void *)-1 && (held[n] = malloc(CHUNK))) {
        n++;
        top = sbrk(0);
    }
    uintptr_t lo = ((uintptr_t)top0 + huge - 1) & ~(huge - 1), hi = (uintptr_t)top & ~(huge - 1);
    int ok = top != top0 && top != (void *)-1 && hi > lo &&
             madvise((void *)lo, hi - lo, MADV_HUGEPAGE) == 0;
    while (n > 0)
        free(held[--n]);
    applied = ok;
    return ok ? 0 : MTR_EINVAL;
#else
    (void)step;
    return MTR_EINVAL;
#endif
}

void *mtr_heap_huge_alloc(size_t bytes)
{
    void *p = NULL;
    size_t n = (bytes + MTR_HUGE_PAGE - 1) / MTR_HUGE_PAGE * MTR_HUGE_PAGE;
    if (!n || posix_memalign(&p, MTR_HUGE_PAGE, n) != 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, n, MADV_HUGEPAGE); /* without it: ordinary pages */
#endif
    return p;
}
