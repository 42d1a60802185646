/*
 * parquet_bench.c - measures the Parquet writer on readings-like rows: meter_id (string, 10,000
 * distinct), ts (timestamp), 6 doubles, quality (int32), ZSTD. Rows are generated in batches by
 * the same formulas bench/parquet_vs_duckdb.sh gives DuckDB, so both files hold the same data.
 * usage: parquet_bench OUT.parquet [ROWS] ; prints "rows N bytes N write_s S rows_per_s R".
 * Build: see bench/parquet_vs_duckdb.sh (links build/release/libmetrify.a and libzstd).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "adapters/parquet/parquet_writer.h"

#define BATCH 65536

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUT.parquet [ROWS]\n", argv[0]);
        return 2;
    }
    long long rows = argc > 2 ? atoll(argv[2]) : 3000000;
    static const struct mtr_pq_column_def defs[] = {
        {"meter_id", MTR_PQ_STRING, false, MTR_PQ_DICT_AUTO},
        {"ts", MTR_PQ_TIMESTAMP_US, false, MTR_PQ_DICT_AUTO},
        {"energy_kwh", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"power_kw", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"voltage_v", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"current_a", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"power_factor", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"frequency_hz", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO},
        {"quality", MTR_PQ_INT32, false, MTR_PQ_DICT_AUTO},
    };
    static char ids[10000][16];
    for (int i = 0; i < 10000; i++)
        snprintf(ids[i], sizeof ids[i], "DE%011d", i);
    static struct mtr_pq_bytes meter[BATCH];
    static int64_t ts[BATCH];
    static double d[6][BATCH];
    static int32_t q[BATCH];
    struct mtr_pq_column_data cols[9] = {{meter, NULL}, {ts, NULL}};
    for (int k = 0; k < 6; k++)
        cols[2 + k] = (struct mtr_pq_column_data){d[k], NULL};
    cols[8] = (struct mtr_pq_column_data){q, NULL};

    FILE *fp = fopen(argv[1], "wb");
    if (!fp) {
        perror(argv[1]);
        return 1;
    }
    struct mtr_pq_schema schema = {defs, 9};
    struct mtr_pq_writer *w;
    struct mtr_errbuf eb = {{0}};
    double spent = 0, t0 = now();
    int rc = mtr_pq_writer_open(&schema, NULL, mtr_pq_file_sink, fp, &w, &eb);
    for (long long base = 0; rc == 0 && base < rows; base += BATCH) {
        size_t n = (size_t)(rows - base < BATCH ? rows - base : BATCH);
        for (size_t j = 0; j < n; j++) {
            long long i = base + (long long)j;
            meter[j] = (struct mtr_pq_bytes){ids[i % 10000], 13};
            ts[j] = 1704067200000000LL + (i / 10000) * 900000000LL;
            /* the formulas of bench/parquet_vs_duckdb.sh */
            d[0][j] = (double)((i * 2654435761LL) % 100000) / 1000.0;
            d[1][j] = (double)((i * 40503LL) % 50000) / 10000.0;
            d[2][j] = 220.0 + (double)((i * 69069LL) % 2000) / 100.0;
            d[3][j] = (double)((i * 1103515245LL) % 32000) / 1000.0;
            d[4][j] = (double)((i * 22695477LL) % 1000) / 1000.0;
            d[5][j] = 49.9 + (double)((i * 134775813LL) % 20) / 100.0;
            q[j] = i % 97 == 0 ? 2 : 0;
        }
        double a = now();
        rc = mtr_pq_write_batch(w, cols, n, &eb);
        spent += now() - a;
    }
    double a = now();
    if (rc == 0)
        rc = mtr_pq_writer_close(w, &eb);
    else
        mtr_pq_writer_abort(w);
    if (fclose(fp) != 0 && rc == 0)
        rc = MTR_EIO;
    spent += now() - a;
    double total = now() - t0;
    if (rc != 0) {
        fprintf(stderr, "parquet_bench: %s\n", eb.msg);
        return 1;
    }
    FILE *st = fopen(argv[1], "rb");
    long bytes = -1;
    if (st && fseek(st, 0, SEEK_END) == 0)
        bytes = ftell(st);
    if (st)
        fclose(st);
    printf("rows %lld bytes %ld write_s %.3f total_s %.3f rows_per_s %.0f\n", rows, bytes, spent,
           total, (double)rows / spent);
    return 0;
}
