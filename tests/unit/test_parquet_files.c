/*
 * test_parquet_files.c - writes a corpus of Parquet files plus the expected contents as JSON.
 *
 * The files are verified by an independent reader, DuckDB (tests/integration/parquet_duckdb.sh
 * sets MTR_PQ_OUT_DIR and runs tests/js/check_parquet.mjs over the directory). Expected values
 * and per-row-group statistics are computed here from the input arrays with plain loops, not by
 * the writer. Run without MTR_PQ_OUT_DIR, the binary writes into a temporary directory and only
 * checks the files' framing (magic, footer length), so it is also an ordinary unit test.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/parquet/parquet_writer.h"
#include "t.h"

static char g_dir[4096];
static bool g_tmpdir;

/* One generated table: column arrays for every row, strings pointing into a pool. */
struct table {
    size_t nrows, ncols;
    struct mtr_pq_column_def defs[8];
    void *vals[8];
    uint8_t *nulls[8];
    char **pool; /* owned strings referenced by string columns */
    size_t npool;
    char **uids; /* owned per-row strings (nrows of them), or NULL */
};

static size_t type_size(enum mtr_pq_type t)
{
    switch (t) {
    case MTR_PQ_INT32:
    case MTR_PQ_DATE:
        return 4;
    case MTR_PQ_BOOLEAN:
        return sizeof(bool);
    case MTR_PQ_STRING:
        return sizeof(struct mtr_pq_bytes);
    default:
        return 8;
    }
}

static void table_init(struct table *t, size_t nrows, size_t npool)
{
    memset(t, 0, sizeof *t);
    t->nrows = nrows;
    t->pool = calloc(npool ? npool : 1, sizeof *t->pool);
    t->npool = npool;
}

static void table_add(struct table *t, const char *name, enum mtr_pq_type type, bool nullable,
                      enum mtr_pq_dict dict)
{
    size_t k = t->ncols++;
    t->defs[k] = (struct mtr_pq_column_def){name, type, nullable, dict};
    t->vals[k] = calloc(t->nrows ? t->nrows : 1, type_size(type));
    t->nulls[k] = nullable ? calloc(t->nrows ? t->nrows : 1, 1) : NULL;
}

static void table_free(struct table *t)
{
    for (size_t k = 0; k < t->ncols; k++) {
        free(t->vals[k]);
        free(t->nulls[k]);
    }
    for (size_t i = 0; i < t->npool; i++)
        free(t->pool[i]);
    for (size_t i = 0; t->uids && i < t->nrows; i++)
        free(t->uids[i]);
    free(t->uids);
    free(t->pool);
}

static void set_str(struct table *t, size_t k, size_t row, const char *s)
{
    ((struct mtr_pq_bytes *)t->vals[k])[row] = (struct mtr_pq_bytes){s, strlen(s)};
}

/* ---- expected JSON --------------------------------------------------------------------- */

static json_t *value_json(const struct table *t, size_t k, size_t row)
{
    if (t->nulls[k] && t->nulls[k][row])
        return json_null();
    char buf[32];
    switch (t->defs[k].type) {
    case MTR_PQ_INT32:
    case MTR_PQ_DATE:
        return json_integer(((int32_t *)t->vals[k])[row]);
    case MTR_PQ_INT64:
    case MTR_PQ_TIMESTAMP_US:
        snprintf(buf, sizeof buf, "%" PRId64, ((int64_t *)t->vals[k])[row]);
        return json_string(buf);
    case MTR_PQ_DOUBLE: {
        double d = ((double *)t->vals[k])[row];
        if (isnan(d))
            return json_string("NaN");
        if (isinf(d))
            return json_string(d > 0 ? "Infinity" : "-Infinity");
        return json_real(d);
    }
    case MTR_PQ_BOOLEAN:
        return json_boolean(((bool *)t->vals[k])[row]);
    case MTR_PQ_STRING: {
        const struct mtr_pq_bytes *b = &((struct mtr_pq_bytes *)t->vals[k])[row];
        return json_stringn(b->ptr, b->len);
    }
    }
    return json_null();
}

static int cmp_value(const struct table *t, size_t k, size_t a, size_t b)
{
    switch (t->defs[k].type) {
    case MTR_PQ_INT32:
    case MTR_PQ_DATE: {
        int32_t x = ((int32_t *)t->vals[k])[a], y = ((int32_t *)t->vals[k])[b];
        return (x > y) - (x < y);
    }
    case MTR_PQ_INT64:
    case MTR_PQ_TIMESTAMP_US: {
        int64_t x = ((int64_t *)t->vals[k])[a], y = ((int64_t *)t->vals[k])[b];
        return (x > y) - (x < y);
    }
    case MTR_PQ_DOUBLE: {
        double x = ((double *)t->vals[k])[a], y = ((double *)t->vals[k])[b];
        return (x > y) - (x < y);
    }
    case MTR_PQ_BOOLEAN: {
        int x = ((bool *)t->vals[k])[a], y = ((bool *)t->vals[k])[b];
        return (x > y) - (x < y);
    }
    case MTR_PQ_STRING: {
        const struct mtr_pq_bytes *x = &((struct mtr_pq_bytes *)t->vals[k])[a];
        const struct mtr_pq_bytes *y = &((struct mtr_pq_bytes *)t->vals[k])[b];
        int c = memcmp(x->ptr, y->ptr, x->len < y->len ? x->len : y->len);
        return c ? c : (x->len > y->len) - (x->len < y->len);
    }
    }
    return 0;
}

static bool skip_for_stats(const struct table *t, size_t k, size_t row)
{
    if (t->nulls[k] && t->nulls[k][row])
        return true;
    return t->defs[k].type == MTR_PQ_DOUBLE && isnan(((double *)t->vals[k])[row]);
}

/* Statistics of rows [from, to) of column k, as the spec defines them. */
static json_t *stats_json(const struct table *t, size_t k, size_t from, size_t to)
{
    long long nulls = 0;
    size_t lo = SIZE_MAX, hi = SIZE_MAX;
    for (size_t r = from; r < to; r++) {
        if (t->nulls[k] && t->nulls[k][r]) {
            nulls++;
            continue;
        }
        if (skip_for_stats(t, k, r))
            continue;
        if (lo == SIZE_MAX || cmp_value(t, k, r, lo) < 0)
            lo = r;
        if (hi == SIZE_MAX || cmp_value(t, k, r, hi) > 0)
            hi = r;
    }
    json_t *s = json_object();
    json_object_set_new(s, "nulls", json_integer(nulls));
    if (lo == SIZE_MAX) {
        json_object_set_new(s, "min", json_null());
        json_object_set_new(s, "max", json_null());
        return s;
    }
    json_t *mn = value_json(t, k, lo), *mx = value_json(t, k, hi);
    if (t->defs[k].type == MTR_PQ_DOUBLE) { /* zero bounds: min -0.0, max +0.0 (spec) */
        if (json_real_value(mn) == 0)
            json_real_set(mn, -0.0);
        if (json_real_value(mx) == 0)
            json_real_set(mx, 0.0);
    }
    json_object_set_new(s, "min", mn);
    json_object_set_new(s, "max", mx);
    return s;
}

static const char *duckdb_type(enum mtr_pq_type t)
{
    static const char *names[] = {
        "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "DATE"};
    return names[t];
}

static const char *kind(enum mtr_pq_type t)
{
    static const char *names[] = {"i32", "i64", "f64", "bool", "str", "ts", "date"};
    return names[t];
}

/* Options of a case besides the writer options: which checks the JSON asks for. */
struct expect {
    const char *encodings_has[8][3]; /* per column, encodings that must appear */
    const char *encodings_not[8][3]; /* per column, encodings that must not appear */
    bool full_values;
    size_t batch;
};

static int write_expected(const char *name, const struct table *t, const struct mtr_pq_options *o,
                          const struct expect *e)
{
    json_t *j = json_object();
    char file[256];
    snprintf(file, sizeof file, "%s.parquet", name);
    json_object_set_new(j, "file", json_string(file));
    json_object_set_new(j, "codec", json_string(o->codec == MTR_PQ_ZSTD ? "ZSTD" : "UNCOMPRESSED"));
    json_object_set_new(j, "rows", json_integer((json_int_t)t->nrows));
    json_object_set_new(j, "stats_max_bytes", json_integer((json_int_t)o->stats_max_bytes));
    size_t rgs = t->nrows ? (t->nrows + o->row_group_rows - 1) / o->row_group_rows : 0;
    json_object_set_new(j, "row_groups", json_integer((json_int_t)rgs));
    json_t *cols = json_array();
    for (size_t k = 0; k < t->ncols; k++) {
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(t->defs[k].name));
        json_object_set_new(c, "kind", json_string(kind(t->defs[k].type)));
        json_object_set_new(c, "duckdb_type", json_string(duckdb_type(t->defs[k].type)));
        json_object_set_new(c, "nullable", json_boolean(t->defs[k].nullable));
        json_t *has = json_array(), *not = json_array();
        for (int q = 0; q < 3; q++) {
            if (e->encodings_has[k][q])
                json_array_append_new(has, json_string(e->encodings_has[k][q]));
            if (e->encodings_not[k][q])
                json_array_append_new(not, json_string(e->encodings_not[k][q]));
        }
        json_object_set_new(c, "encodings_has", has);
        json_object_set_new(c, "encodings_not", not );
        json_t *st = json_array();
        for (size_t g = 0; g < rgs; g++) {
            size_t from = g * o->row_group_rows, to = from + o->row_group_rows;
            json_array_append_new(st, stats_json(t, k, from, to < t->nrows ? to : t->nrows));
        }
        json_object_set_new(c, "rg_stats", st);
        if (t->defs[k].type == MTR_PQ_INT32 || t->defs[k].type == MTR_PQ_INT64) {
            /* sum over every value: DuckDB must see each one */
            __int128 sum = 0;
            long long nonnull = 0;
            for (size_t r = 0; r < t->nrows; r++) {
                if (t->nulls[k] && t->nulls[k][r])
                    continue;
                nonnull++;
                sum += t->defs[k].type == MTR_PQ_INT32 ? ((int32_t *)t->vals[k])[r]
                                                       : ((int64_t *)t->vals[k])[r];
            }
            char buf[64], *p = buf + sizeof buf;
            *--p = 0;
            bool neg = sum < 0;
            unsigned __int128 u = neg ? -(unsigned __int128)sum : (unsigned __int128)sum;
            do {
                *--p = (char)('0' + (int)(u % 10));
                u /= 10;
            } while (u);
            if (neg)
                *--p = '-';
            json_object_set_new(c, "sum", nonnull ? json_string(p) : json_null());
        }
        json_array_append_new(cols, c);
    }
    json_object_set_new(j, "columns", cols);
    /* values: every row for small files, otherwise a deterministic sample */
    json_t *rows = json_array();
    size_t step = e->full_values ? 1 : t->nrows / 997 + 1;
    for (size_t r = 0; r < t->nrows; r += step) {
        for (int pass = 0; pass < (r + 1 < t->nrows && step > 1 ? 2 : 1); pass++) {
            size_t row = pass ? r + 1 : r; /* neighbours too, to catch off-by-one shifts */
            json_t *v = json_array();
            json_array_append_new(v, json_integer((json_int_t)row));
            for (size_t k = 0; k < t->ncols; k++)
                json_array_append_new(v, value_json(t, k, row));
            json_array_append_new(rows, v);
        }
    }
    if (t->nrows && step > 1) { /* and the last row */
        json_t *v = json_array();
        json_array_append_new(v, json_integer((json_int_t)(t->nrows - 1)));
        for (size_t k = 0; k < t->ncols; k++)
            json_array_append_new(v, value_json(t, k, t->nrows - 1));
        json_array_append_new(rows, v);
    }
    json_object_set_new(j, "rows_sample", rows);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.json", g_dir, name);
    int rc = json_dump_file(j, path, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    return rc;
}

/* Writes the table in batches and returns the file size, or -1. */
static long write_table(const char *name, const struct table *t, const struct mtr_pq_options *o,
                        const struct expect *e)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.parquet", g_dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    struct mtr_pq_schema schema = {t->defs, t->ncols};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    int rc = mtr_pq_writer_open(&schema, o, mtr_pq_file_sink, fp, &w, &eb);
    size_t batch = e->batch ? e->batch : 10007;
    for (size_t r = 0; rc == 0 && r < t->nrows; r += batch) {
        size_t n = t->nrows - r < batch ? t->nrows - r : batch;
        struct mtr_pq_column_data cd[8];
        for (size_t k = 0; k < t->ncols; k++) {
            cd[k].values = (const char *)t->vals[k] + r * type_size(t->defs[k].type);
            cd[k].nulls = t->nulls[k] ? t->nulls[k] + r : NULL;
        }
        rc = mtr_pq_write_batch(w, cd, n, &eb);
    }
    if (w) {
        if (rc == 0)
            rc = mtr_pq_writer_close(w, &eb);
        else
            mtr_pq_writer_abort(w);
    }
    long size = ftell(fp);
    if (fclose(fp) != 0 || rc != 0) {
        fprintf(stderr, "%s: %s\n", name, eb.msg);
        return -1;
    }
    if (write_expected(name, t, o, e) != 0)
        return -1;
    return size;
}

/* Framing every reader relies on: "PAR1" at both ends and a footer length that fits. */
static void check_framing(const char *name, long size)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.parquet", g_dir, name);
    FILE *fp = fopen(path, "rb");
    T_CHECK(fp != NULL);
    if (!fp)
        return;
    unsigned char head[4], tail[8];
    T_CHECK(fread(head, 1, 4, fp) == 4);
    T_CHECK(fseek(fp, -8, SEEK_END) == 0);
    T_CHECK(fread(tail, 1, 8, fp) == 8);
    fclose(fp);
    T_CHECK(memcmp(head, "PAR1", 4) == 0);
    T_CHECK(memcmp(tail + 4, "PAR1", 4) == 0);
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                    (uint32_t)tail[3] << 24;
    T_CHECK(flen > 0 && (long)flen + 12 <= size);
}

/* ---- the cases ------------------------------------------------------------------------- */

static const char *g_words[] = {"",
                                "a",
                                "Zürich",
                                "日本語のメーター",
                                "meter-0001",
                                "🙂 emoji",
                                "quote \" and \\ backslash",
                                "tab\tnewline\n",
                                "A",
                                "zzz"};

/* Every type, nullable, with edge values. */
static void fill_types(struct table *t, bool nullable)
{
    table_add(t, "i32", MTR_PQ_INT32, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "i64", MTR_PQ_INT64, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "f64", MTR_PQ_DOUBLE, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "flag", MTR_PQ_BOOLEAN, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "name", MTR_PQ_STRING, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "ts", MTR_PQ_TIMESTAMP_US, nullable, MTR_PQ_DICT_AUTO);
    table_add(t, "day", MTR_PQ_DATE, nullable, MTR_PQ_DICT_AUTO);
    static const double dbl[] = {0.0,       -0.0,    1.5,      -2.25,   NAN,    INFINITY,
                                 -INFINITY, DBL_MAX, -DBL_MAX, DBL_MIN, 1e-300, 0.1};
    static const int64_t i64[] = {INT64_MIN, INT64_MAX, 0, -1, 1, 1234567890123456789LL};
    static const int32_t i32[] = {INT32_MIN, INT32_MAX, 0, -1, 7};
    for (size_t r = 0; r < t->nrows; r++) {
        ((int32_t *)t->vals[0])[r] = r < 5 ? i32[r] : (int32_t)(r * 7919 % 100003) - 50000;
        ((int64_t *)t->vals[1])[r] = r < 6 ? i64[r] : (int64_t)r * 1000000007LL - 400000000000LL;
        ((double *)t->vals[2])[r] = r < 12 ? dbl[r] : (double)r / 3.0 - 100.0;
        ((bool *)t->vals[3])[r] = r % 3 == 0;
        set_str(t, 4, r, g_words[r % 10]);
        /* timestamps from 1960 to 2030, and dates both sides of 1970 */
        ((int64_t *)t->vals[5])[r] = -315619200000000LL + (int64_t)r * 2207520000000LL;
        ((int32_t *)t->vals[6])[r] = -3653 + (int32_t)(r * 37 % 25000);
        for (size_t k = 0; nullable && k < t->ncols; k++)
            t->nulls[k][r] = (r * (k + 3)) % 11 == 4;
    }
}

static void test_types(void)
{
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    struct expect e = {.full_values = true, .batch = 333};
    struct table t;
    table_init(&t, 1000, 0);
    fill_types(&t, true);
    e.encodings_has[0][0] = "PLAIN";
    e.encodings_has[4][0] = "RLE_DICTIONARY";
    e.encodings_not[0][0] = "RLE_DICTIONARY";
    long n = write_table("types_nullable_zstd", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("types_nullable_zstd", n);
    table_free(&t);

    o.codec = MTR_PQ_UNCOMPRESSED;
    table_init(&t, 1000, 0);
    fill_types(&t, false);
    memset(&e, 0, sizeof e);
    e.full_values = true;
    e.batch = 1000;
    n = write_table("types_required_uncompressed", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("types_required_uncompressed", n);
    table_free(&t);
}

static void test_one_row_and_all_null(void)
{
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    struct expect e = {.full_values = true};
    struct table t;
    table_init(&t, 1, 0);
    fill_types(&t, true);
    long n = write_table("one_row", &t, &o, &e);
    T_CHECK(n > 0);
    table_free(&t);

    table_init(&t, 500, 0);
    fill_types(&t, true);
    for (size_t k = 1; k < t.ncols; k++)
        memset(t.nulls[k], 1, t.nrows);
    n = write_table("all_null", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("all_null", n);
    table_free(&t);

    table_init(&t, 0, 0);
    fill_types(&t, true);
    n = write_table("zero_rows", &t, &o, &e);
    T_CHECK(n > 0);
    table_free(&t);
}

/* Dictionary that pays, dictionary that does not (unique strings), and a dictionary that
 * overflows mid-chunk (dictionary pages followed by PLAIN pages). */
static void test_dictionary(void)
{
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.page_rows = 5000;
    o.dict_max_bytes = 64 * 1024;
    o.row_group_rows = 60000;
    struct expect e = {.batch = 4099};
    struct table t;
    size_t nrows = 120000;
    table_init(&t, nrows, 20000);
    table_add(&t, "meter", MTR_PQ_STRING, false, MTR_PQ_DICT_AUTO);
    table_add(&t, "unique", MTR_PQ_STRING, true, MTR_PQ_DICT_AUTO);
    table_add(&t, "growing", MTR_PQ_STRING, false, MTR_PQ_DICT_AUTO);
    table_add(&t, "quality", MTR_PQ_INT32, false, MTR_PQ_DICT_ON);
    table_add(&t, "plainstr", MTR_PQ_STRING, false, MTR_PQ_DICT_OFF);
    for (size_t i = 0; i < 20000; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s-%05zu", i < 100 ? "MTR" : "G-some-longer-prefix", i);
        t.pool[i] = strdup(buf);
    }
    for (size_t r = 0; r < nrows; r++) {
        set_str(&t, 0, r, t.pool[(r * 31) % 100]);
        /* growing: 100 values for the first 20000 rows of each row group, then ever new ones */
        size_t in_rg = r % 60000;
        set_str(&t, 2, r, in_rg < 20000 ? t.pool[r % 100] : t.pool[100 + (r * 7) % 19900]);
        ((int32_t *)t.vals[3])[r] = (int32_t)(r % 4) * 10;
        set_str(&t, 4, r, t.pool[r % 50]);
        t.nulls[1][r] = r % 17 == 3;
    }
    /* unique: strings built per row into the pool's tail is too small; use r-specific text */
    char **uniq = calloc(nrows, sizeof *uniq);
    for (size_t r = 0; r < nrows; r++) {
        char buf[64];
        snprintf(buf, sizeof buf, "unique-value-%08zu-%zx", r, r * 2654435761u);
        uniq[r] = strdup(buf);
        set_str(&t, 1, r, uniq[r]);
    }
    e.encodings_has[0][0] = "RLE_DICTIONARY";
    e.encodings_not[0][0] = "PLAIN_DICTIONARY";
    e.encodings_has[1][0] = "PLAIN";
    e.encodings_has[2][0] = "RLE_DICTIONARY";
    e.encodings_has[2][1] = "PLAIN";
    e.encodings_has[3][0] = "RLE_DICTIONARY";
    e.encodings_not[4][0] = "RLE_DICTIONARY";
    long n = write_table("dictionary", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("dictionary", n);
    for (size_t r = 0; r < nrows; r++)
        free(uniq[r]);
    free(uniq);
    table_free(&t);
}

/* Long strings: truncated, inexact statistics. */
static void test_long_strings(void)
{
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.stats_max_bytes = 16;
    struct expect e = {.full_values = true};
    struct table t;
    table_init(&t, 300, 3);
    table_add(&t, "s", MTR_PQ_STRING, false, MTR_PQ_DICT_AUTO);
    t.pool[0] = strdup("aaaa-a-very-long-string-that-exceeds-the-limit");
    t.pool[1] = strdup("zzzzzzzzzzzzzzz\xc3\xbc-beyond-sixteen-bytes-umlaut");
    t.pool[2] = strdup("middle");
    for (size_t r = 0; r < t.nrows; r++)
        set_str(&t, 0, r, t.pool[r % 3]);
    long n = write_table("long_strings", &t, &o, &e);
    T_CHECK(n > 0);
    table_free(&t);
}

/* Many row groups and pages; and a million rows with default options. */
static void readings(struct table *t, size_t nrows)
{
    table_init(t, nrows, 10000);
    table_add(t, "meter_id", MTR_PQ_STRING, false, MTR_PQ_DICT_AUTO);
    table_add(t, "ts", MTR_PQ_TIMESTAMP_US, false, MTR_PQ_DICT_AUTO);
    table_add(t, "value", MTR_PQ_DOUBLE, true, MTR_PQ_DICT_AUTO);
    table_add(t, "quality", MTR_PQ_INT32, false, MTR_PQ_DICT_AUTO);
    table_add(t, "seq", MTR_PQ_INT64, false, MTR_PQ_DICT_AUTO);
    table_add(t, "uid", MTR_PQ_STRING, true, MTR_PQ_DICT_AUTO);
    t->uids = calloc(nrows ? nrows : 1, sizeof *t->uids);
    for (size_t i = 0; i < 10000; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "DE%011zu", i * 7 + 1);
        t->pool[i] = strdup(buf);
    }
    for (size_t r = 0; r < nrows; r++) {
        set_str(t, 0, r, t->pool[r % 10000]);
        ((int64_t *)t->vals[1])[r] = 1704067200000000LL + (int64_t)(r / 10000) * 900000000LL;
        ((double *)t->vals[2])[r] = (double)((r * 2654435761u) % 100000) / 1000.0;
        t->nulls[2][r] = r % 101 == 0;
        ((int32_t *)t->vals[3])[r] = (int32_t)(r % 97 == 0 ? 2 : 0);
        ((int64_t *)t->vals[4])[r] = (int64_t)r;
        char buf[48]; /* unique: the dictionary never pays */
        snprintf(buf, sizeof buf, "%08zx-%016llx", r,
                 (unsigned long long)r * 0x9E3779B97F4A7C15ull);
        t->uids[r] = strdup(buf);
        set_str(t, 5, r, t->uids[r]);
        t->nulls[5][r] = r % 1000 == 999;
    }
}

static void test_row_groups_and_pages(void)
{
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.row_group_rows = 100000;
    o.page_rows = 7000;
    struct expect e = {.batch = 65537};
    e.encodings_has[0][0] = "RLE_DICTIONARY";
    e.encodings_has[5][0] = "PLAIN"; /* falls back once the dictionary passes 1 MiB */
    struct table t;
    readings(&t, 250000);
    long n = write_table("multi_rowgroup_pages", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("multi_rowgroup_pages", n);
    table_free(&t);

    mtr_pq_options_default(&o);
    readings(&t, 1000000);
    e.batch = 100000;
    e.encodings_has[5][0] = "PLAIN";
    e.encodings_not[5][0] = "RLE_DICTIONARY";
    n = write_table("million", &t, &o, &e);
    T_CHECK(n > 0);
    check_framing("million", n);
    table_free(&t);
}

/* Errors: a null in a required column fails the batch and poisons the writer. */
static int failing_sink(void *ctx, const void *buf, size_t len)
{
    int *budget = ctx;
    if ((size_t)*budget < len)
        return MTR_EIO;
    *budget -= (int)len;
    return 0;
}

static void test_errors(void)
{
    struct mtr_pq_column_def defs[] = {{"a", MTR_PQ_INT32, false, MTR_PQ_DICT_AUTO}};
    struct mtr_pq_schema schema = {defs, 1};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    int budget = 1 << 20;
    T_EQ_INT(mtr_pq_writer_open(&schema, NULL, failing_sink, &budget, &w, &eb), 0);
    int32_t v[2] = {1, 2};
    uint8_t nulls[2] = {0, 1};
    struct mtr_pq_column_data cd = {v, nulls};
    T_EQ_INT(mtr_pq_write_batch(w, &cd, 2, &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "required") != NULL);
    cd.nulls = NULL;
    T_EQ_INT(mtr_pq_write_batch(w, &cd, 2, &eb), MTR_EINVAL); /* poisoned */
    mtr_pq_writer_abort(w);

    /* a sink that fails while the row group and footer are written at close */
    budget = 4 + 20;
    T_EQ_INT(mtr_pq_writer_open(&schema, NULL, failing_sink, &budget, &w, &eb), 0);
    T_EQ_INT(mtr_pq_write_batch(w, &cd, 2, &eb), 0);
    T_EQ_INT(mtr_pq_writer_close(w, &eb), MTR_EIO);

    struct mtr_pq_column_def dup[] = {{"a", MTR_PQ_INT32, false, 0}, {"a", MTR_PQ_INT64, 0, 0}};
    struct mtr_pq_schema s2 = {dup, 2};
    T_EQ_INT(mtr_pq_writer_open(&s2, NULL, failing_sink, &budget, &w, &eb), MTR_EINVAL);
    T_CHECK(w == NULL);
}

static void rm_dir(void)
{
    static const char *names[] = {"types_nullable_zstd",
                                  "types_required_uncompressed",
                                  "one_row",
                                  "all_null",
                                  "zero_rows",
                                  "dictionary",
                                  "long_strings",
                                  "multi_rowgroup_pages",
                                  "million"};
    char path[4400];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s.parquet", g_dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.json", g_dir, names[i]);
        unlink(path);
    }
    rmdir(g_dir);
}

int main(void)
{
    const char *dir = getenv("MTR_PQ_OUT_DIR");
    if (dir && *dir) {
        snprintf(g_dir, sizeof g_dir, "%s", dir);
        if (mkdir(g_dir, 0777) != 0 && errno != EEXIST) {
            perror(g_dir);
            return 2;
        }
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/mtr-pq-XXXXXX");
        if (!mkdtemp(g_dir)) {
            perror("mkdtemp");
            return 2;
        }
        g_tmpdir = true;
    }
    T_RUN(test_types);
    T_RUN(test_one_row_and_all_null);
    T_RUN(test_dictionary);
    T_RUN(test_long_strings);
    T_RUN(test_row_groups_and_pages);
    T_RUN(test_errors);
    if (g_tmpdir)
        rm_dir();
    return T_END();
}
