/*
 * test_ptab.c - the open-addressing pointer table (base/ptab.h) against a plain array: adds that
 * grow it, deletions (backward shift, across the wrap-around at the end of the slots) mixed with
 * lookups, with a hash that puts many keys on few homes so that probe runs are long.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/ptab.h"
#include "t.h"

struct item {
    int64_t key;
    int in;
};

static size_t hash_key(int64_t k)
{
    return (size_t)(k % 37) * 131 + 4000; /* 37 homes near the end of a 4,096-slot table */
}
static size_t hash(const void *e)
{
    return hash_key(((const struct item *)e)->key);
}

static struct item *find(const struct mtr_ptab *t, int64_t key)
{
    if (!t->cap)
        return NULL;
    for (size_t i = mtr_ptab_first(t, hash_key(key)); t->slots[i]; i = mtr_ptab_next(t, i))
        if (((struct item *)t->slots[i])->key == key)
            return t->slots[i];
    return NULL;
}

static void test_against_array(void)
{
    enum { N = 6000 };
    static struct item items[N];
    struct mtr_ptab t = {.hash = hash};
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
        items[i].key = i * 7 + 3;
        items[i].in = 0;
    }
    for (int round = 0; round < 20000 && !t_failed_checks; round++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        struct item *it = &items[(rng >> 33) % N];
        if (!it->in) {
            T_EQ_INT(mtr_ptab_add(&t, it), 0);
            it->in = 1;
        } else if ((rng >> 20) & 1) {
            mtr_ptab_del(&t, it);
            it->in = 0;
        }
        if (round % 500 == 0) {
            size_t n = 0;
            for (int i = 0; i < N; i++) {
                n += (size_t)items[i].in;
                T_CHECK(find(&t, items[i].key) == (items[i].in ? &items[i] : NULL));
            }
            T_EQ_INT(t.n, n);
            T_CHECK(t.n * 10 <= t.cap * 7);
        }
    }
    mtr_ptab_clear(&t);
    T_EQ_INT(t.n, 0);
    T_CHECK(find(&t, items[0].key) == NULL);
    mtr_ptab_free(&t);
    T_CHECK(t.slots == NULL && t.cap == 0);
}

int main(void)
{
    T_RUN(test_against_array);
    return T_END();
}
