/*
 * test_heap.c - memory on huge pages (base/heap.h): huge-page arrays are aligned and whole; the
 * bulk-job heap policy, where it can apply (a glibc brk heap, transparent huge pages not
 * disabled), leaves the grown heap with the huge-page advice in /proc/self/smaps, and where it
 * cannot (AddressSanitizer's allocator, which `make test` uses) says so and changes nothing; in
 * both cases allocation goes on working.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/heap.h"
#include "t.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* 1 when a mapping of this process has the `hg` (MADV_HUGEPAGE) flag. */
static int has_hugepage_advice(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " hg");
    if (f)
        fclose(f);
    return found;
}

static int thp_disabled(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    return !f || strstr(line, "[never]") != NULL;
}

static void test_too_small_step_is_refused(void)
{
    T_EQ_INT(mtr_heap_bulk(4096), MTR_EINVAL);
}

static void test_advice_where_possible(void)
{
    int expect_applied = !UNDER_ASAN && !thp_disabled();
    int rc = mtr_heap_bulk((size_t)64 << 20);
    T_EQ_INT(rc, expect_applied ? 0 : MTR_EINVAL);
    if (rc == 0)
        T_CHECK(has_hugepage_advice());
    /* the heap still serves small and large requests, and gives them back */
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t)(i + 1) * 100000;
        char *p = malloc(n);
        T_CHECK(p != NULL);
        if (p) {
            memset(p, i, n);
            T_EQ_INT(p[n - 1], i);
            free(p);
        }
    }
}

static void test_huge_alloc(void)
{
    T_CHECK(mtr_heap_huge_alloc(0) == NULL);
    size_t sizes[] = {1, MTR_HUGE_PAGE, MTR_HUGE_PAGE + 1, 3 * MTR_HUGE_PAGE - 7};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = mtr_heap_huge_alloc(sizes[i]);
        T_CHECK(p != NULL);
        if (!p)
            continue;
        T_EQ_INT((uintptr_t)p % MTR_HUGE_PAGE, 0);
        /* the whole rounded-up size is usable */
        size_t n = (sizes[i] + MTR_HUGE_PAGE - 1) / MTR_HUGE_PAGE * MTR_HUGE_PAGE;
        memset(p, 0x5a, n);
        T_EQ_INT(p[n - 1], 0x5a);
        free(p);
    }
}

int main(void)
{
    T_RUN(test_too_small_step_is_refused);
    T_RUN(test_advice_where_possible);
    T_RUN(test_huge_alloc);
    return T_END();
}
