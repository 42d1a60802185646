/* grow.c - the growable-array helper (see grow.h). */
#include "base/grow.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"

int mtr_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : first;
    while (n < need)
        n *= 2;
    if (elem && n > SIZE_MAX / elem)
        return MTR_ENOMEM;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return MTR_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}
