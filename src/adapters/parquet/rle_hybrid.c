/*
 * rle_hybrid.c - RLE / bit-packing hybrid encoder (see rle_hybrid.h).
 *
 * Grammar from apache/parquet-format Encodings.md: run := rle-run | bit-packed-run;
 * rle-run = varint(len << 1) + value in ceil(bw/8) little-endian bytes; bit-packed-run =
 * varint(groups << 1 | 1) + groups * bw bytes, 8 values per group packed from the least
 * significant bit. Only the final group of a stream may carry padding values.
 */
#include "adapters/parquet/rle_hybrid.h"

#include "base/err.h"

int mtr_pq_bit_width(uint32_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

static size_t run_at(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

/* A run worth RLE-encoding: 8 or more, or whatever repeats up to the end of the stream. */
static int is_rle_run(size_t run, size_t i, size_t n)
{
    return run >= 8 || i + run == n;
}

static void put_rle(struct mtr_tc_buf *out, uint32_t value, size_t run, int bw)
{
    mtr_tc_varint(out, (uint64_t)run << 1);
    uint8_t b[4];
    int nbytes = (bw + 7) / 8;
    for (int k = 0; k < nbytes; k++)
        b[k] = (uint8_t)(value >> (8 * k));
    mtr_tc_buf_append(out, b, (size_t)nbytes);
}

/* Bit-packs vals[i..i+count) (count may be < 8*groups only at the end; padded with zeros). */
static void put_packed(struct mtr_tc_buf *out, const uint32_t *v, size_t i, size_t count,
                       size_t groups, int bw)
{
    mtr_tc_varint(out, (uint64_t)groups << 1 | 1);
    size_t nbytes = groups * (size_t)bw;
    if (mtr_tc_buf_reserve(out, nbytes) != 0)
        return;
    uint8_t *p = out->data + out->len;
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t k = 0; k < groups * 8; k++) {
        uint64_t x = k < count ? v[i + k] : 0;
        acc |= x << bits;
        bits += bw;
        while (bits >= 8) {
            p[o++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    /* groups*8*bw bits is a whole number of bytes, so nothing is left in acc. */
    out->len += o;
}

int mtr_pq_rle_encode(struct mtr_tc_buf *out, const uint32_t *vals, size_t n, int bit_width)
{
    if (bit_width < 1 || bit_width > 32)
        return MTR_EINVAL;
    size_t i = 0;
    while (i < n) {
        size_t run = run_at(vals, i, n);
        if (is_rle_run(run, i, n)) {
            put_rle(out, vals[i], run, bit_width);
            i += run;
            continue;
        }
        /* Collect whole groups of 8 until a group would start on an RLE-worthy run. */
        size_t j = i;
        for (;;) {
            if (j + 8 >= n) { /* last (possibly partial) group: take the rest */
                j = n;
                break;
            }
            j += 8;
            size_t r = run_at(vals, j, n);
            if (is_rle_run(r, j, n))
                break;
        }
        size_t count = j - i;
        put_packed(out, vals, i, count, (count + 7) / 8, bit_width);
        i = j;
    }
    return out->oom ? MTR_ENOMEM : 0;
}
