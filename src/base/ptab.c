/* ptab.c - the open-addressing table of pointers (see ptab.h). */
#include "base/ptab.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static void put(void **slots, size_t cap, size_t h, void *elem)
{
    size_t i = h & (cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = elem;
}

int mtr_ptab_add(struct mtr_ptab *t, void *elem)
{
    if ((t->n + 1) * 10 > t->cap * 7) {
        size_t ncap = t->cap ? t->cap * 2 : 4096;
        void **ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return MTR_ENOMEM;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i])
                put(ns, ncap, t->hash(t->slots[i]), t->slots[i]);
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    put(t->slots, t->cap, t->hash(elem), elem);
    t->n++;
    return 0;
}

void mtr_ptab_del(struct mtr_ptab *t, const void *elem)
{
    size_t mask = t->cap - 1, i = t->hash(elem) & mask;
    while (t->slots[i] != elem)
        i = (i + 1) & mask;
    t->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t k = t->hash(t->slots[j]) & mask;
        /* move j back into the hole at i unless its home lies cyclically in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            t->slots[i] = t->slots[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
    t->n--;
}

void mtr_ptab_clear(struct mtr_ptab *t)
{
    if (t->slots)
        memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->n = 0;
}

void mtr_ptab_free(struct mtr_ptab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
