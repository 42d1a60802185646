/*
 * test_heap.c - the bulk-job heap policy (base/heap.h): where it can apply (a glibc brk heap,
 * transparent huge pages not disabled) the grown heap carries the huge-page advice in
 * /proc/self/smaps; where it cannot (AddressSanitizer's allocator, which `make test` uses) it
 * says so and changes nothing; in both cases allocation goes on working.
 */
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

int main(void)
{
    T_RUN(test_too_small_step_is_refused);
    T_RUN(test_advice_where_possible);
    return T_END();
}
