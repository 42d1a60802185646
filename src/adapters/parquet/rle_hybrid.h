/*
 * rle_hybrid.h - Parquet's RLE / bit-packing hybrid encoding (Encodings.md, "RLE = 3").
 *
 * Used for definition levels (bit width 1) and dictionary indices (bit width of the largest
 * index). The encoder sees a whole page of values at once, so it can choose runs optimally:
 * repeats of 8 or more (or a repeat that reaches the end) become RLE runs, everything else goes
 * into bit-packed groups of 8 values, LSB first.
 */
#ifndef MTR_PQ_RLE_HYBRID_H
#define MTR_PQ_RLE_HYBRID_H

#include <stddef.h>
#include <stdint.h>

#include "adapters/parquet/thrift_compact.h"

/* Number of bits needed for max_value (0 for 0). */
int mtr_pq_bit_width(uint32_t max_value);

/* Appends the hybrid encoding of vals[0..n) with bit_width (1..32) to out, without any length
 * prefix or bit-width byte (the caller adds what the context needs). Every value must fit in
 * bit_width bits. vals is borrowed. Returns 0, MTR_ENOMEM (out->oom set) or MTR_EINVAL. */
int mtr_pq_rle_encode(struct mtr_tc_buf *out, const uint32_t *vals, size_t n, int bit_width);

#endif
