/*
 * test_parquet.c - unit tests of the Parquet writer's building blocks and of small files.
 *
 * Expected byte sequences are derived by hand from the specifications (Thrift compact protocol,
 * parquet-format Encodings.md), not produced by the code under test. The RLE/bit-packed hybrid is
 * also checked by round trip through a decoder written here from the grammar.
 */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "adapters/parquet/parquet_writer.h"
#include "adapters/parquet/rle_hybrid.h"
#include "adapters/parquet/thrift_compact.h"
#include "t.h"

static int bytes_eq(const struct mtr_tc_buf *b, const uint8_t *want, size_t n)
{
    if (b->len != n || memcmp(b->data, want, n) != 0) {
        printf("  got %zu bytes:", b->len);
        for (size_t i = 0; i < b->len && i < 64; i++)
            printf(" %02x", b->data[i]);
        printf("\n");
        return 0;
    }
    return 1;
}
#define T_BYTES(buf, ...)                                                                          \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        T_CHECK(bytes_eq((buf), want_, sizeof want_));                                             \
    } while (0)

static void test_zigzag_varint(void)
{
    T_EQ_INT(mtr_tc_zigzag32(0), 0);
    T_EQ_INT(mtr_tc_zigzag32(-1), 1);
    T_EQ_INT(mtr_tc_zigzag32(1), 2);
    T_EQ_INT(mtr_tc_zigzag32(-2), 3);
    T_EQ_INT(mtr_tc_zigzag32(INT32_MAX), 0xFFFFFFFEu);
    T_EQ_INT(mtr_tc_zigzag32(INT32_MIN), 0xFFFFFFFFu);
    T_CHECK(mtr_tc_zigzag64(INT64_MIN) == UINT64_MAX);
    T_CHECK(mtr_tc_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    T_CHECK(mtr_tc_zigzag64(-64) == 127);

    struct mtr_tc_buf b = {0};
    mtr_tc_varint(&b, 0);
    mtr_tc_varint(&b, 127);
    mtr_tc_varint(&b, 128);
    mtr_tc_varint(&b, 300);
    T_BYTES(&b, 0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02);
    b.len = 0;
    mtr_tc_varint(&b, UINT64_MAX); /* 64 bits = 9*7 + 1: ten bytes */
    T_BYTES(&b, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
    mtr_tc_buf_free(&b);
}

static void test_thrift_fields(void)
{
    struct mtr_tc_buf b = {0};
    struct mtr_tc tc;
    mtr_tc_init(&tc, &b);
    mtr_tc_field_i32(&tc, 1, 1);       /* delta 1, type 5: 0x15, zigzag(1)=2 */
    mtr_tc_field_i64(&tc, 2, -1);      /* 0x16, zigzag(-1)=1 */
    mtr_tc_field_bool(&tc, 3, true);   /* delta 1, value folded into the type: 0x11 */
    mtr_tc_field_bool(&tc, 4, false);  /* 0x12 */
    mtr_tc_field_string(&tc, 8, "ab"); /* delta 4: 0x48, len 2, 'a' 'b' */
    mtr_tc_field_i32(&tc, 24, 150);    /* delta 16: long form 0x05, zigzag(24)=48=0x30 */
    mtr_tc_field_i16(&tc, 25, -3);     /* 0x14, zigzag(-3)=5 */
    mtr_tc_struct_end(&tc);            /* stop */
    T_EQ_INT(mtr_tc_status(&tc), 0);
    T_BYTES(&b, 0x15, 0x02, 0x16, 0x01, 0x11, 0x12, 0x48, 0x02, 'a', 'b', 0x05, 0x30, 0xAC, 0x02,
            0x14, 0x05, 0x00);
    mtr_tc_buf_free(&b);
}

static void test_thrift_nesting_and_lists(void)
{
    struct mtr_tc_buf b = {0};
    struct mtr_tc tc;
    mtr_tc_init(&tc, &b);
    mtr_tc_field_struct_begin(&tc, 1);              /* 0x1C */
    mtr_tc_field_i32(&tc, 1, 5);                    /* inner ids restart at 0: 0x15 0x0A */
    mtr_tc_struct_end(&tc);                         /* 0x00 */
    mtr_tc_field_i32(&tc, 2, 0);                    /* outer delta from 1: 0x15 0x00 */
    mtr_tc_field_list_begin(&tc, 3, MTR_TC_I32, 3); /* 0x19, size 3 | I32: 0x35 */
    mtr_tc_elem_i32(&tc, 1);
    mtr_tc_elem_i32(&tc, 2);
    mtr_tc_elem_i32(&tc, 3);
    mtr_tc_field_list_begin(&tc, 4, MTR_TC_STRUCT, 1); /* 0x19, 0x1C */
    mtr_tc_elem_struct_begin(&tc);
    mtr_tc_field_string(&tc, 1, "k"); /* 0x18 0x01 'k' */
    mtr_tc_struct_end(&tc);
    mtr_tc_struct_end(&tc);
    T_EQ_INT(mtr_tc_status(&tc), 0);
    T_BYTES(&b, 0x1C, 0x15, 0x0A, 0x00, 0x15, 0x00, 0x19, 0x35, 0x02, 0x04, 0x06, 0x19, 0x1C, 0x18,
            0x01, 'k', 0x00, 0x00);

    /* a list of 20 elements needs the long header: 0xF0 | type, then varint size */
    b.len = 0;
    mtr_tc_init(&tc, &b);
    mtr_tc_field_list_begin(&tc, 1, MTR_TC_BINARY, 20);
    T_BYTES(&b, 0x19, 0xF8, 0x14);

    /* unbalanced end is reported */
    mtr_tc_init(&tc, &b);
    mtr_tc_struct_end(&tc);
    mtr_tc_struct_end(&tc);
    T_EQ_INT(mtr_tc_status(&tc), MTR_EINVAL);
    mtr_tc_buf_free(&b);
}

static void test_rle_known_bytes(void)
{
    struct mtr_tc_buf b = {0};
    uint32_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    T_EQ_INT(mtr_pq_rle_encode(&b, ones, 8, 1), 0); /* RLE run: varint(8<<1), value byte */
    T_BYTES(&b, 0x10, 0x01);

    /* Encodings.md's own example: 0..7 bit-packed with width 3 */
    uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    b.len = 0;
    T_EQ_INT(mtr_pq_rle_encode(&b, seq, 8, 3), 0);
    T_BYTES(&b, 0x03, 0x88, 0xC6, 0xFA);

    /* a short tail is one padded group */
    uint32_t tail[3] = {1, 0, 1};
    b.len = 0;
    T_EQ_INT(mtr_pq_rle_encode(&b, tail, 3, 1), 0);
    T_BYTES(&b, 0x03, 0x05);

    /* a run that reaches the end is RLE even when short; wide values take 2 bytes */
    uint32_t wide[3] = {300, 300, 300};
    b.len = 0;
    T_EQ_INT(mtr_pq_rle_encode(&b, wide, 3, 9), 0);
    T_BYTES(&b, 0x06, 0x2C, 0x01);

    /* run then a packed group */
    uint32_t mixed[28];
    for (int i = 0; i < 20; i++)
        mixed[i] = 2;
    for (int i = 0; i < 8; i++)
        mixed[20 + i] = (uint32_t)(i % 4);
    b.len = 0;
    T_EQ_INT(mtr_pq_rle_encode(&b, mixed, 28, 2), 0);
    T_BYTES(&b, 0x28, 0x02, 0x03, 0xE4, 0xE4);

    uint32_t *many = calloc(1000, sizeof *many);
    b.len = 0;
    T_EQ_INT(mtr_pq_rle_encode(&b, many, 1000, 1), 0); /* varint(2000) = D0 0F */
    T_BYTES(&b, 0xD0, 0x0F, 0x00);
    free(many);

    T_EQ_INT(mtr_pq_rle_encode(&b, ones, 8, 0), MTR_EINVAL);
    T_EQ_INT(mtr_pq_bit_width(0), 0);
    T_EQ_INT(mtr_pq_bit_width(1), 1);
    T_EQ_INT(mtr_pq_bit_width(255), 8);
    T_EQ_INT(mtr_pq_bit_width(256), 9);
    T_EQ_INT(mtr_pq_bit_width(UINT32_MAX), 32);
    mtr_tc_buf_free(&b);
}

/* Decoder written from the grammar, for round trips. Returns values decoded, or -1. */
static long rle_decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t max)
{
    size_t i = 0, o = 0;
    while (i < n && o < max) {
        uint64_t h = 0;
        int shift = 0;
        while (i < n) {
            h |= (uint64_t)(p[i] & 0x7F) << shift;
            shift += 7;
            if (!(p[i++] & 0x80))
                break;
        }
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t k = 0; k < count; k++) {
                while (bits < bw) {
                    if (i >= n)
                        return -1;
                    acc |= (uint64_t)p[i++] << bits;
                    bits += 8;
                }
                uint32_t v = (uint32_t)(acc & ((bw == 32) ? 0xFFFFFFFFull : ((1ull << bw) - 1)));
                acc >>= bw;
                bits -= bw;
                if (o < max)
                    out[o++] = v;
            }
        } else {
            size_t count = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int k = 0; k < (bw + 7) / 8; k++) {
                if (i >= n)
                    return -1;
                v |= (uint32_t)p[i++] << (8 * k);
            }
            for (size_t k = 0; k < count && o < max; k++)
                out[o++] = v;
        }
    }
    return (long)o;
}

static void test_rle_round_trip(void)
{
    uint64_t seed = 42;
    size_t n = 5000;
    uint32_t *in = malloc(n * sizeof *in), *out = malloc((n + 8) * sizeof *out);
    struct mtr_tc_buf b = {0};
    for (int bw = 1; bw <= 32; bw++) {
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (size_t i = 0; i < n;) { /* mix runs of random lengths and random noise */
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t len = 1 + (seed >> 33) % 23;
            uint32_t v = (uint32_t)(seed >> 17) & mask;
            bool run = (seed >> 60) & 1;
            for (size_t k = 0; k < len && i < n; k++, i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                in[i] = run ? v : (uint32_t)(seed >> 20) & mask;
            }
        }
        size_t cnt = n - (size_t)bw * 7; /* vary lengths, not multiples of 8 */
        b.len = 0;
        T_EQ_INT(mtr_pq_rle_encode(&b, in, cnt, bw), 0);
        long got = rle_decode(b.data, b.len, bw, out, cnt);
        T_EQ_INT(got, (long)cnt);
        T_CHECK(memcmp(in, out, cnt * sizeof *in) == 0);
    }
    free(in);
    free(out);
    mtr_tc_buf_free(&b);
}

/* ---- whole (tiny) files ------------------------------------------------------------------ */

static int mem_sink(void *ctx, const void *buf, size_t len)
{
    return mtr_tc_buf_append(ctx, buf, len);
}

static const uint8_t *find(const struct mtr_tc_buf *b, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, needle, n) == 0)
            return b->data + i;
    return NULL;
}

static void test_file_layout(void)
{
    struct mtr_pq_column_def defs[] = {{"a", MTR_PQ_INT32, false, MTR_PQ_DICT_OFF}};
    struct mtr_pq_schema schema = {defs, 1};
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.codec = MTR_PQ_UNCOMPRESSED;
    struct mtr_tc_buf out = {0};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pq_writer_open(&schema, &o, mem_sink, &out, &w, &eb), 0);
    int32_t v[3] = {1, 2, 3};
    struct mtr_pq_column_data cd = {v, NULL};
    T_EQ_INT(mtr_pq_write_batch(w, &cd, 3, &eb), 0);
    T_EQ_INT(mtr_pq_writer_rows(w), 3);
    T_EQ_INT(mtr_pq_writer_close(w, &eb), 0);
    /* PAR1, then the page header derived by hand: PageHeader{type 0, sizes 12, 12,
     * DataPageHeader{3 values, PLAIN, RLE, RLE, Statistics{nulls 0, max 3, min 1, exact}}} */
    static const uint8_t head[] = {'P',  'A',  'R',  '1',  0x15, 0x00, 0x15, 0x18, 0x15, 0x18, 0x2C,
                                   0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x1C, 0x36, 0x00,
                                   0x28, 0x04, 3,    0,    0,    0,    0x18, 0x04, 1,    0,    0,
                                   0,    0x11, 0x11, 0x00, 0x00, 0x00, 1,    0,    0,    0,    2,
                                   0,    0,    0,    3,    0,    0,    0,    0};
    T_CHECK(out.len > sizeof head + 8);
    T_CHECK(memcmp(out.data, head, sizeof head - 1) == 0);
    T_CHECK(memcmp(out.data + out.len - 4, "PAR1", 4) == 0);
    uint32_t flen;
    memcpy(&flen, out.data + out.len - 8, 4);
    T_EQ_INT(flen, out.len - 8 - (sizeof head - 1));
    T_CHECK(find(&out, "metrify version " MTR_PQ_VERSION, 21) != NULL);
    mtr_tc_buf_free(&out);
}

static void test_zstd_dictionary_page(void)
{
    /* A string column with 3 distinct values: one dictionary page, one RLE_DICTIONARY page, both
     * ZSTD frames that decompress to the PLAIN dictionary and to bw + hybrid indices. */
    struct mtr_pq_column_def defs[] = {{"s", MTR_PQ_STRING, true, MTR_PQ_DICT_AUTO}};
    struct mtr_pq_schema schema = {defs, 1};
    struct mtr_tc_buf out = {0};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pq_writer_open(&schema, NULL, mem_sink, &out, &w, &eb), 0);
    struct mtr_pq_bytes s[64];
    uint8_t nulls[64] = {0};
    static const char *words[] = {"x", "yy", ""};
    for (int i = 0; i < 64; i++) {
        s[i] = (struct mtr_pq_bytes){words[i % 3], strlen(words[i % 3])};
        nulls[i] = i == 5;
    }
    struct mtr_pq_column_data cd = {s, nulls};
    T_EQ_INT(mtr_pq_write_batch(w, &cd, 64, &eb), 0);
    T_EQ_INT(mtr_pq_writer_close(w, &eb), 0);
    /* the first ZSTD frame (magic 28 B5 2F FD) is the dictionary page */
    static const uint8_t magic[] = {0x28, 0xB5, 0x2F, 0xFD};
    const uint8_t *f = find(&out, magic, 4);
    T_CHECK(f != NULL);
    if (f) {
        uint8_t plain[64];
        /* ZSTD_decompress wants exactly one frame: measure it first */
        size_t fl = ZSTD_findFrameCompressedSize(f, out.len - (size_t)(f - out.data));
        T_CHECK(!ZSTD_isError(fl));
        size_t n = ZSTD_decompress(plain, sizeof plain, f, fl);
        static const uint8_t dict[] = {1, 0, 0, 0, 'x', 2, 0, 0, 0, 'y', 'y', 0, 0, 0, 0};
        T_EQ_INT(n, sizeof dict);
        T_CHECK(n == sizeof dict && memcmp(plain, dict, n) == 0);
    }
    mtr_tc_buf_free(&out);
}

static void test_row_group_cut(void)
{
    struct mtr_pq_column_def defs[] = {{"a", MTR_PQ_INT64, false, MTR_PQ_DICT_OFF},
                                       {"b", MTR_PQ_BOOLEAN, true, MTR_PQ_DICT_AUTO}};
    struct mtr_pq_schema schema = {defs, 2};
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.row_group_rows = 4;
    o.codec = MTR_PQ_UNCOMPRESSED;
    struct mtr_tc_buf out = {0};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pq_writer_open(&schema, &o, mem_sink, &out, &w, &eb), 0);
    int64_t a[10];
    bool b[10];
    for (int i = 0; i < 10; i++) {
        a[i] = 1000 + i;
        b[i] = i & 1;
    }
    struct mtr_pq_column_data cd[2] = {{a, NULL}, {b, NULL}};
    T_EQ_INT(mtr_pq_write_batch(w, cd, 3, &eb), 0);
    T_EQ_INT(out.len, 4); /* nothing but the magic until a row group is complete */
    cd[0].values = a + 3;
    cd[1].values = b + 3;
    T_EQ_INT(mtr_pq_write_batch(w, cd, 7, &eb), 0);
    T_CHECK(out.len > 4); /* rows 0-3 and 4-7 were written */
    uint64_t before_close = out.len;
    T_EQ_INT(mtr_pq_writer_bytes(w), before_close);
    T_EQ_INT(mtr_pq_writer_close(w, &eb), 0);
    /* the third row group's INT64 values 1008 and 1009 appear PLAIN after the first two */
    int64_t last[2] = {1008, 1009};
    const uint8_t *p = find(&out, last, 16);
    T_CHECK(p != NULL && (uint64_t)(p - out.data) >= before_close);
    mtr_tc_buf_free(&out);
}

static void test_bad_options(void)
{
    struct mtr_pq_column_def defs[] = {{"a", MTR_PQ_INT32, false, MTR_PQ_DICT_AUTO}};
    struct mtr_pq_schema schema = {defs, 1}, empty = {defs, 0};
    struct mtr_pq_options o;
    mtr_pq_options_default(&o);
    o.page_bytes = 0;
    struct mtr_tc_buf out = {0};
    struct mtr_pq_writer *w = NULL;
    struct mtr_errbuf eb = {{0}};
    T_EQ_INT(mtr_pq_writer_open(&schema, &o, mem_sink, &out, &w, &eb), MTR_EINVAL);
    T_EQ_INT(mtr_pq_writer_open(&empty, NULL, mem_sink, &out, &w, &eb), MTR_EINVAL);
    mtr_pq_options_default(&o);
    o.zstd_level = 99;
    T_EQ_INT(mtr_pq_writer_open(&schema, &o, mem_sink, &out, &w, &eb), MTR_EINVAL);
    T_CHECK(w == NULL);
    T_EQ_INT(out.len, 0);
    mtr_tc_buf_free(&out);
}

int main(void)
{
    T_RUN(test_zigzag_varint);
    T_RUN(test_thrift_fields);
    T_RUN(test_thrift_nesting_and_lists);
    T_RUN(test_rle_known_bytes);
    T_RUN(test_rle_round_trip);
    T_RUN(test_file_layout);
    T_RUN(test_zstd_dictionary_page);
    T_RUN(test_row_group_cut);
    T_RUN(test_bad_options);
    return T_END();
}
