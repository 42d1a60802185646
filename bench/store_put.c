/*
 * store_put.c - micro-benchmark of the SQLite store's hot path: reading_put inside one
 * transaction, in meter-major order (each meter's intervals in turn: appends to the packed-key
 * b-tree) and in time-major order (each interval across all meters: scattered inserts, the order
 * a live feed arrives in). Prints puts/s for each; it measures, it asserts nothing.
 *   build/release/bench/store_put [METERS [INTERVALS [DIR]]]   (defaults 10000 300 /tmp)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/sqlite/sqlite_store.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void rm_db(const char *path)
{
    char side[600];
    remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

/* One run into a fresh database; time_major selects the order. Returns 0 or a negative MTR_E*. */
static int run(const char *dir, int meters, int intervals, int time_major)
{
    char path[512], id[32];
    struct mtr_store *s = NULL;
    struct mtr_errbuf eb = {{0}};
    int64_t *keys = NULL;
    int rc;
    snprintf(path, sizeof path, "%s/mtr-bench-store-put-%ld.db", dir, (long)getpid());
    rm_db(path);
    if ((rc = mtr_sqlite_open(path, &s, &eb))) {
        fprintf(stderr, "store_put: %s\n", eb.msg);
        return rc;
    }
    keys = calloc((size_t)meters, sizeof *keys);
    if (!keys) {
        rc = MTR_ENOMEM;
        goto out;
    }
    if ((rc = s->ops->begin(s)))
        goto out;
    for (int m = 0; m < meters; m++) {
        snprintf(id, sizeof id, "SM%06d", m);
        if ((rc = s->ops->meter_key(s, id, 1, &keys[m], NULL)))
            goto out;
    }
    if ((rc = s->ops->commit(s)))
        goto out;

    struct mtr_stored_reading r;
    memset(&r, 0, sizeof r);
    r.interval_s = 900;
    r.voltage_v = 230.1;
    r.current_a = 3.2;
    r.power_factor = 0.97;
    r.frequency_hz = 50.0;
    r.active_power_kw = NAN;
    r.reactive_power_kvar = NAN;
    r.score = 1.0;
    const int64_t t0 = 1699920000;
    long long n = (long long)meters * intervals;
    double start = now_s();
    if ((rc = s->ops->begin(s)))
        goto out;
    for (long long i = 0; i < n; i++) {
        int m = time_major ? (int)(i % meters) : (int)(i / intervals);
        int k = time_major ? (int)(i / meters) : (int)(i % intervals);
        r.meter_key = keys[m];
        r.ts = t0 + (int64_t)k * 900;
        r.raw_kwh = r.kwh = 0.1 + (double)((m * 7 + k) % 50) / 100.0;
        r.ingested_at = r.ts + 1200;
        if ((rc = s->ops->reading_put(s, &r)))
            goto out;
    }
    double puts = now_s() - start;
    if ((rc = s->ops->commit(s)))
        goto out;
    double total = now_s() - start;
    printf("store_put %-10s %d meters x %d intervals: %.0f puts/s in the transaction "
           "(%.2f s), %.0f/s including commit (%.2f s)\n",
           time_major ? "time-major" : "meter-major", meters, intervals, (double)n / puts, puts,
           (double)n / total, total);
out:
    if (rc && s)
        fprintf(stderr, "store_put: %s\n", s->err.msg);
    if (s)
        s->ops->close(s);
    free(keys);
    rm_db(path);
    return rc;
}

int main(int argc, char **argv)
{
    int meters = argc > 1 ? atoi(argv[1]) : 10000;
    int intervals = argc > 2 ? atoi(argv[2]) : 300;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    if (meters <= 0 || intervals <= 0) {
        fprintf(stderr, "usage: store_put [METERS [INTERVALS [DIR]]]\n");
        return 2;
    }
    if (run(dir, meters, intervals, 0) || run(dir, meters, intervals, 1))
        return 1;
    return 0;
}
