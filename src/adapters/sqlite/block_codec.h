/*
 * block_codec.h - the byte format of a meter-day block of readings (the BLOB of reading_blocks):
 * pure encode/decode, no SQLite, so the format can be tested and read on its own.
 *
 * Version 2 (written): meter data arrive as short decimals (0.7389 kWh, 229.6 V, 49.998 Hz), so a
 * value is stored as its decimal mantissa, delta-coded against the same field of the previous
 * reading, when that round-trips exactly to the same double; anything else (an interpolated
 * estimate, -0.0, Inf) is stored as its 8 raw bytes. Everything that repeats from the previous
 * reading (interval, step, quality code and flags, ingestion time, which fields are present)
 * costs one bit of a control byte. A typical 15-minute reading with five fields takes ~9 bytes
 * (version 1, still read: ~49). The layout, all integers LEB128 varints:
 *
 *   u8 version (2), n, then per reading:
 *   u8 ctl: bit0 ts step given (else previous interval_s), bit1 interval_s given, bit2 quality
 *           code and flags given, bit3 ingested_at delta given, bit4 presence mask given
 *   [ts step] [interval_s] [u8 code, flags] [zigzag ingested_at delta] [u16 mask]
 *   [8-byte score, when mask bit 9] then per present value (mask bits 0-7, bit 8: kwh equals
 *   raw_kwh and is not written) a varint u:
 *     u even: mantissa = previous mantissa of the field + unzigzag(u >> 1), same scale;
 *     u odd, t = u >> 1: t <= 15: new scale t, then the zigzag mantissa; t == 16: 8 raw bytes.
 *   value = (double)mantissa / 10^scale, the correctly rounded quotient, which is the double
 *   nearest to the decimal and thus the one any correct parser produced from it.
 * The first reading's "previous" is: ts = the day start, interval 0, code 0, flags 0, ingested
 * 0, mask 0, no scale for any field. Version 1 (read only) is described in block_codec.c.
 */
#ifndef MTR_BLOCK_CODEC_H
#define MTR_BLOCK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "app/ports.h"

#define MTR_BC_VERSION   2
#define MTR_BC_MAX_BYTES 128 /* upper bound of one encoded reading */

/* One numeric field's coding state: its last mantissa and decimal scale (-1: none yet, so the
 * next value carries its scale). */
struct mtr_bc_num {
    int64_t mant;
    int8_t scale;
};

/* What the encoder (and decoder) carries from one reading to the next. Plain data. */
struct mtr_bc_state {
    int64_t ts, ingested_at;
    int32_t interval_s;
    uint8_t code;
    uint16_t mask;
    uint64_t flags;
    struct mtr_bc_num num[8];
};

#define MTR_BC_NUM_MAX_BYTES 11 /* upper bound of one coded value */

/* Codes v after the field's previous value (state *f) at p (room for MTR_BC_NUM_MAX_BYTES);
 * returns the end. get reads one back from [*p, end): 0 or MTR_ESTORE. Any double round-trips
 * bit for bit (NaN, -0.0 and Inf as raw bytes). */
void mtr_bc_num_start(struct mtr_bc_num *f);
uint8_t *mtr_bc_put_num(uint8_t *p, struct mtr_bc_num *f, double v);
int mtr_bc_get_num(const uint8_t **p, const uint8_t *end, struct mtr_bc_num *f, double *v);

/* The state before a day's first reading. */
void mtr_bc_start(struct mtr_bc_state *s, int64_t day);

/* Encodes x after the readings that left *s (x->ts later than s->ts) at p, which has room for
 * MTR_BC_MAX_BYTES; advances *s and returns the end of the bytes written. */
uint8_t *mtr_bc_put(uint8_t *p, struct mtr_bc_state *s, const struct mtr_stored_reading *x);

/* The body (readings, no header) of n sorted readings of the day into buf (room for n *
 * MTR_BC_MAX_BYTES); *s gets the state after the last one (for appends). Returns the length. */
size_t mtr_bc_encode_body(const struct mtr_stored_reading *r, int n, int64_t day, uint8_t *buf,
                          struct mtr_bc_state *s);

/* The header (version, count) of a block of n readings into hdr (room for 16); its length. */
size_t mtr_bc_header(uint8_t *hdr, int n);

/* Parses a block's header: version and count; *p moves to the body. 0 or MTR_ESTORE. */
int mtr_bc_parse_header(const uint8_t **p, const uint8_t *end, int *version, uint64_t *cnt);

/* Decodes cnt readings of a body of `version` in [p, end) for meter_key and day into out (room
 * for cnt). 0, or MTR_ESTORE when the bytes are not a valid body. */
int mtr_bc_decode_body(int version, const uint8_t *p, const uint8_t *end, uint64_t cnt,
                       int64_t meter_key, int64_t day, struct mtr_stored_reading *out);

/* Point lookups in a version-2 body: decodes from the start up to and including the first
 * reading with ts >= until (or all); *got gets how many. The bytes after it are not checked. */
int mtr_bc_decode_until(const uint8_t *p, const uint8_t *end, uint64_t cnt, int64_t meter_key,
                        int64_t day, int64_t until, struct mtr_stored_reading *out, int *got);

/*
 * Hour blocks (rollup_hour_blocks.data): the hourly rollups of one meter-day. Version 2
 * (written): u32 of the hours present with bit 31 set, then per present hour varints n and
 * n_estimated, and kwh, min, max as numbers above (each delta-coded against the previous
 * present hour; ~12 bytes an hour). Version 1 (read): u32 of the hours present (bit 31 clear),
 * then per hour kwh, min, max (8-byte doubles) and n, n_estimated (4-byte). encode needs
 * MTR_BC_HOURS_MAX_BYTES in buf; decode returns 0 or MTR_ESTORE.
 */
#define MTR_BC_HOURS_MAX_BYTES (4 + 24 * (2 * 10 + 3 * MTR_BC_NUM_MAX_BYTES))
int mtr_bc_hours_encode(const struct mtr_rollup_hour h[24], uint32_t present, uint8_t *buf,
                        size_t *len);
int mtr_bc_hours_decode(const uint8_t *p, size_t len, int64_t meter_key, int64_t day,
                        struct mtr_rollup_hour h[24], uint32_t *present);

#endif
