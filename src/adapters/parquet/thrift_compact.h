/*
 * thrift_compact.h - a minimal Thrift compact-protocol encoder, enough to write Parquet metadata.
 *
 * Only encoding is supported (Parquet writers never read Thrift). Output goes to a growable byte
 * buffer with a sticky out-of-memory flag, so metadata serialisers can emit many fields and check
 * for failure once at the end. Field ids are delta-encoded per nesting level, as the compact
 * protocol requires (doc/specs/thrift-compact-protocol.md in apache/thrift).
 */
#ifndef MTR_THRIFT_COMPACT_H
#define MTR_THRIFT_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. Zero-initialise it ({0}) before use; free with mtr_tc_buf_free(). Once an
 * allocation fails, `oom` stays set and every later append is a no-op. */
struct mtr_tc_buf {
    uint8_t *data;
    size_t len, cap;
    bool oom;
};

/* Ensures room for `extra` more bytes. Returns 0 or MTR_ENOMEM (and sets b->oom). */
int mtr_tc_buf_reserve(struct mtr_tc_buf *b, size_t extra);
/* Appends n bytes copied from p (borrowed). Returns 0 or MTR_ENOMEM. */
int mtr_tc_buf_append(struct mtr_tc_buf *b, const void *p, size_t n);
/* Releases the memory and zeroes the buffer; safe on a zeroed buffer. */
void mtr_tc_buf_free(struct mtr_tc_buf *b);

/* Compact-protocol type ids as they appear in field and list headers. */
enum {
    MTR_TC_BOOL_TRUE = 1,
    MTR_TC_BOOL_FALSE = 2,
    MTR_TC_BYTE = 3,
    MTR_TC_I16 = 4,
    MTR_TC_I32 = 5,
    MTR_TC_I64 = 6,
    MTR_TC_DOUBLE = 7,
    MTR_TC_BINARY = 8,
    MTR_TC_LIST = 9,
    MTR_TC_SET = 10,
    MTR_TC_MAP = 11,
    MTR_TC_STRUCT = 12
};

#define MTR_TC_MAX_DEPTH 16

/* Encoder state: the output buffer (borrowed) and, per open struct, the last field id written. A
 * nesting error (too deep, unbalanced end) sets `bad`; check mtr_tc_status() at the end. */
struct mtr_tc {
    struct mtr_tc_buf *out;
    int16_t last_id[MTR_TC_MAX_DEPTH];
    int depth;
    bool bad;
};

/* Starts encoding one top-level struct into out (borrowed, appended to). */
void mtr_tc_init(struct mtr_tc *tc, struct mtr_tc_buf *out);
/* Returns 0 if everything was encoded, MTR_ENOMEM if the buffer ran out of memory, MTR_EINVAL on a
 * nesting error (unbalanced struct begin/end). */
int mtr_tc_status(const struct mtr_tc *tc);

/* Zigzag mappings (signed -> unsigned) used for all compact-protocol integers. */
static inline uint32_t mtr_tc_zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline uint64_t mtr_tc_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
/* Appends v as an unsigned LEB128 varint (1-10 bytes). */
void mtr_tc_varint(struct mtr_tc_buf *b, uint64_t v);

/* Fields of the current struct. `id` must be > 0; ids may come in any order but ascending ids give
 * the short (delta) header form. Strings are borrowed and copied. */
void mtr_tc_field_bool(struct mtr_tc *tc, int16_t id, bool v);
void mtr_tc_field_i16(struct mtr_tc *tc, int16_t id, int16_t v);
void mtr_tc_field_i32(struct mtr_tc *tc, int16_t id, int32_t v);
void mtr_tc_field_i64(struct mtr_tc *tc, int16_t id, int64_t v);
void mtr_tc_field_binary(struct mtr_tc *tc, int16_t id, const void *p, size_t n);
void mtr_tc_field_string(struct mtr_tc *tc, int16_t id, const char *s);
/* Opens a nested struct field; close it with mtr_tc_struct_end(). */
void mtr_tc_field_struct_begin(struct mtr_tc *tc, int16_t id);
/* Writes a list field header; then write exactly `count` elements of elem_type with the
 * mtr_tc_elem_* functions (struct elements with mtr_tc_elem_struct_begin / mtr_tc_struct_end). */
void mtr_tc_field_list_begin(struct mtr_tc *tc, int16_t id, int elem_type, uint32_t count);

/* List elements (no field header). */
void mtr_tc_elem_i32(struct mtr_tc *tc, int32_t v);
void mtr_tc_elem_i64(struct mtr_tc *tc, int64_t v);
void mtr_tc_elem_binary(struct mtr_tc *tc, const void *p, size_t n);
void mtr_tc_elem_string(struct mtr_tc *tc, const char *s);
void mtr_tc_elem_struct_begin(struct mtr_tc *tc);

/* Ends the innermost open struct (writes the stop byte). Also ends the top-level struct. */
void mtr_tc_struct_end(struct mtr_tc *tc);

#endif
