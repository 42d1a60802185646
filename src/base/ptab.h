/*
 * ptab.h - an open-addressing table of pointers: linear probing, a power-of-two capacity, at most
 * 70 % full. It stores and moves elements; the caller owns them, hashes them (`hash`, set once)
 * and compares keys while probing (mtr_ptab_first / mtr_ptab_next). The stores' caches of
 * meter-day blocks use it.
 */
#ifndef MTR_PTAB_H
#define MTR_PTAB_H

#include <stddef.h>

struct mtr_ptab {
    void **slots; /* NULL: empty */
    size_t cap;   /* 0 or a power of two */
    size_t n;
    size_t (*hash)(const void *elem); /* of an element's key; any bits, the table masks them */
};

/* The first slot to probe for a key hashing to h, and the next one (probing ends at an empty
 * slot). Only when t->cap > 0. */
static inline size_t mtr_ptab_first(const struct mtr_ptab *t, size_t h)
{
    return h & (t->cap - 1);
}
static inline size_t mtr_ptab_next(const struct mtr_ptab *t, size_t i)
{
    return (i + 1) & (t->cap - 1);
}

/* Adds elem (not NULL, not already in), growing the table first when it would pass 70 %.
 * Returns 0 or MTR_ENOMEM (the table unchanged). */
int mtr_ptab_add(struct mtr_ptab *t, void *elem);

/* Removes elem, which must be in the table (backward-shift deletion: no tombstones). */
void mtr_ptab_del(struct mtr_ptab *t, const void *elem);

/* Empties the table, keeping its capacity; the elements are the caller's to free first. */
void mtr_ptab_clear(struct mtr_ptab *t);

/* Frees the slots (not the elements). */
void mtr_ptab_free(struct mtr_ptab *t);

#endif
