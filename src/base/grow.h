/*
 * grow.h - the one growable-array helper: doubling capacity, so appending n elements costs
 * O(n) copies in total. Used by the use cases' bounded work lists.
 */
#ifndef MTR_GROW_H
#define MTR_GROW_H

#include <stddef.h>

/*
 * Makes *arr (realloc'ed, caller-owned; may be NULL with *cap 0) hold at least `need` elements of
 * `elem` bytes, doubling from `first`. On success *cap is the new capacity; on failure *arr and
 * *cap are unchanged. Returns 0 or MTR_ENOMEM.
 */
int mtr_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
