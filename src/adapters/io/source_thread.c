/*
 * source_thread.c - the decoding thread behind mtr_source_threaded (see source_thread.h).
 *
 * A ring of batches: the producer thread fills one while the consumer drains another. A batch ends
 * early at a parse error (carrying that one error), at the end of input or at a fatal error, so a
 * batch never needs more than one error slot and the order of records and errors is kept.
 */
#include "adapters/io/source_thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 2048
#define RING  4
#define AHEAD 8 /* records prefetched ahead of the consumer */

struct batch {
    int n;                       /* records in rec[] */
    int last_rc;                 /* 1: none (full batch); else the rc that ended the batch */
    struct mtr_record_error err; /* for last_rc == MTR_EPARSE or a fatal error */
    struct mtr_record rec[BATCH];
};

struct ts_source {
    struct mtr_source base;
    struct mtr_source *inner;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, drained;
    struct batch *ring[RING];
    int head, tail, count; /* consumer reads ring[head], producer writes ring[tail] */
    int stop, done;        /* consumer gave up; producer finished */
    struct batch *cur;     /* the batch being drained, owned by the consumer */
    int pos;
    int ended, final_rc; /* the consumer has seen the end or a fatal error */
};

static void *produce(void *arg)
{
    struct ts_source *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        while (t->count == RING && !t->stop)
            pthread_cond_wait(&t->drained, &t->mu);
        struct batch *b = t->stop ? NULL : t->ring[t->tail];
        pthread_mutex_unlock(&t->mu);
        if (!b)
            return NULL;
        b->n = 0;
        b->last_rc = 1;
        while (b->n < BATCH) {
            mtr_record_error_clear(&b->err);
            int rc = t->inner->ops->next(t->inner, &b->rec[b->n], &b->err);
            if (rc == 1) {
                b->n++;
                continue;
            }
            b->last_rc = rc;
            if (rc == MTR_EPARSE)
                b->n++; /* the record's kind is known to the caller through rec */
            break;
        }
        int end = b->last_rc != 1 && b->last_rc != MTR_EPARSE;
        pthread_mutex_lock(&t->mu);
        t->tail = (t->tail + 1) % RING;
        t->count++;
        if (end)
            t->done = 1;
        pthread_cond_signal(&t->filled);
        pthread_mutex_unlock(&t->mu);
        if (end)
            return NULL;
    }
}

/* Gives the drained batch back and takes the next one; NULL when the producer is done. */
static struct batch *next_batch(struct ts_source *t)
{
    pthread_mutex_lock(&t->mu);
    if (t->cur) {
        t->head = (t->head + 1) % RING;
        t->count--;
        t->cur = NULL;
        pthread_cond_signal(&t->drained);
    }
    while (t->count == 0 && !t->done)
        pthread_cond_wait(&t->filled, &t->mu);
    struct batch *b = t->count ? t->ring[t->head] : NULL;
    pthread_mutex_unlock(&t->mu);
    t->cur = b;
    t->pos = 0;
    return b;
}

static int ts_next(struct mtr_source *src, struct mtr_record *rec, struct mtr_record_error *err)
{
    struct ts_source *t = (struct ts_source *)src;
    for (;;) {
        if (t->ended)
            return t->final_rc; /* the end (0) or the fatal error, again */
        struct batch *b = t->cur ? t->cur : next_batch(t);
        if (!b)
            return 0;
        int plain = b->last_rc == MTR_EPARSE ? b->n - 1 : b->n;
        if (t->pos < plain) {
            /* the records were written on the other core: load them a few ahead of use, or
             * every record would first wait on the cache line's transfer */
            if (t->pos + AHEAD < b->n)
                for (size_t off = 0; off < sizeof b->rec[0]; off += 64)
                    __builtin_prefetch((const char *)&b->rec[t->pos + AHEAD] + off);
            *rec = b->rec[t->pos++];
            return 1;
        }
        if (t->pos == plain && b->last_rc != 1) {
            t->pos++;
            *err = b->err;
            if (b->last_rc == MTR_EPARSE) {
                *rec = b->rec[plain];
                return MTR_EPARSE;
            }
            t->ended = 1;
            t->final_rc = b->last_rc;
            return b->last_rc;
        }
        next_batch(t);
    }
}

static void ts_close(struct mtr_source *src)
{
    struct ts_source *t = (struct ts_source *)src;
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->drained);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    t->inner->ops->close(t->inner);
    for (int i = 0; i < RING; i++)
        free(t->ring[i]);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->filled);
    pthread_cond_destroy(&t->drained);
    free(t);
}

static const struct mtr_source_ops ts_ops = {.next = ts_next, .close = ts_close};

int mtr_source_threaded(struct mtr_source *inner, struct mtr_source **out, struct mtr_errbuf *eb)
{
    struct ts_source *t = calloc(1, sizeof *t);
    int rc = 0;
    *out = NULL;
    if (!t) {
        rc = mtr_err(eb, MTR_ENOMEM, "%s: out of memory", inner->name);
        goto fail;
    }
    for (int i = 0; i < RING; i++)
        if (!(t->ring[i] = malloc(sizeof *t->ring[i]))) {
            rc = mtr_err(eb, MTR_ENOMEM, "%s: out of memory", inner->name);
            goto fail;
        }
    t->base.ops = &ts_ops;
    snprintf(t->base.name, sizeof t->base.name, "%s", inner->name);
    t->inner = inner;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->filled, NULL);
    pthread_cond_init(&t->drained, NULL);
    if (pthread_create(&t->thread, NULL, produce, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->filled);
        pthread_cond_destroy(&t->drained);
        rc = mtr_err(eb, MTR_EIO, "%s: cannot start the decoding thread", inner->name);
        goto fail;
    }
    *out = &t->base;
    return 0;
fail:
    if (t)
        for (int i = 0; i < RING; i++)
            free(t->ring[i]);
    free(t);
    inner->ops->close(inner);
    return rc;
}
