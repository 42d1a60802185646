/*
 * thrift_compact.c - Thrift compact-protocol encoder (see thrift_compact.h).
 *
 * Written from apache/thrift doc/specs/thrift-compact-protocol.md: field header = delta<<4 | type
 * when the id grows by 1..15, else type byte + zigzag varint id; integers are zigzag varints;
 * binary = varint length + bytes; list header = size<<4 | elem type, or 0xF0 | type + varint size.
 */
#include "adapters/parquet/thrift_compact.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int mtr_tc_buf_reserve(struct mtr_tc_buf *b, size_t extra)
{
    if (b->oom)
        return MTR_ENOMEM;
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return MTR_ENOMEM;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return MTR_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int mtr_tc_buf_append(struct mtr_tc_buf *b, const void *p, size_t n)
{
    if (mtr_tc_buf_reserve(b, n) != 0)
        return MTR_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void mtr_tc_buf_free(struct mtr_tc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void mtr_tc_varint(struct mtr_tc_buf *b, uint64_t v)
{
    if (mtr_tc_buf_reserve(b, 10) != 0)
        return;
    uint8_t *p = b->data + b->len;
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    b->len += n;
}

static void put_byte(struct mtr_tc_buf *b, uint8_t v)
{
    mtr_tc_buf_append(b, &v, 1);
}

void mtr_tc_init(struct mtr_tc *tc, struct mtr_tc_buf *out)
{
    memset(tc, 0, sizeof *tc);
    tc->out = out;
    tc->depth = 1;
}

int mtr_tc_status(const struct mtr_tc *tc)
{
    if (tc->out->oom)
        return MTR_ENOMEM;
    if (tc->bad || tc->depth != 0)
        return MTR_EINVAL;
    return 0;
}

static void field_header(struct mtr_tc *tc, int16_t id, int type)
{
    if (tc->depth < 1 || id <= 0) {
        tc->bad = true;
        return;
    }
    int16_t *last = &tc->last_id[tc->depth - 1];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        put_byte(tc->out, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(tc->out, (uint8_t)type);
        mtr_tc_varint(tc->out, mtr_tc_zigzag32(id));
    }
    *last = id;
}

static void push(struct mtr_tc *tc)
{
    if (tc->depth >= MTR_TC_MAX_DEPTH) {
        tc->bad = true;
        return;
    }
    tc->last_id[tc->depth++] = 0;
}

void mtr_tc_field_bool(struct mtr_tc *tc, int16_t id, bool v)
{
    /* Compact protocol folds a bool field's value into the header's type nibble. */
    field_header(tc, id, v ? MTR_TC_BOOL_TRUE : MTR_TC_BOOL_FALSE);
}

void mtr_tc_field_i16(struct mtr_tc *tc, int16_t id, int16_t v)
{
    field_header(tc, id, MTR_TC_I16);
    mtr_tc_varint(tc->out, mtr_tc_zigzag32(v));
}

void mtr_tc_field_i32(struct mtr_tc *tc, int16_t id, int32_t v)
{
    field_header(tc, id, MTR_TC_I32);
    mtr_tc_varint(tc->out, mtr_tc_zigzag32(v));
}

void mtr_tc_field_i64(struct mtr_tc *tc, int16_t id, int64_t v)
{
    field_header(tc, id, MTR_TC_I64);
    mtr_tc_varint(tc->out, mtr_tc_zigzag64(v));
}

void mtr_tc_field_binary(struct mtr_tc *tc, int16_t id, const void *p, size_t n)
{
    field_header(tc, id, MTR_TC_BINARY);
    mtr_tc_elem_binary(tc, p, n);
}

void mtr_tc_field_string(struct mtr_tc *tc, int16_t id, const char *s)
{
    mtr_tc_field_binary(tc, id, s, strlen(s));
}

void mtr_tc_field_struct_begin(struct mtr_tc *tc, int16_t id)
{
    field_header(tc, id, MTR_TC_STRUCT);
    push(tc);
}

void mtr_tc_field_list_begin(struct mtr_tc *tc, int16_t id, int elem_type, uint32_t count)
{
    field_header(tc, id, MTR_TC_LIST);
    if (count < 15) {
        put_byte(tc->out, (uint8_t)(count << 4 | (uint32_t)elem_type));
    } else {
        put_byte(tc->out, (uint8_t)(0xF0 | elem_type));
        mtr_tc_varint(tc->out, count);
    }
}

void mtr_tc_elem_i32(struct mtr_tc *tc, int32_t v)
{
    mtr_tc_varint(tc->out, mtr_tc_zigzag32(v));
}

void mtr_tc_elem_i64(struct mtr_tc *tc, int64_t v)
{
    mtr_tc_varint(tc->out, mtr_tc_zigzag64(v));
}

void mtr_tc_elem_binary(struct mtr_tc *tc, const void *p, size_t n)
{
    mtr_tc_varint(tc->out, n);
    mtr_tc_buf_append(tc->out, p, n);
}

void mtr_tc_elem_string(struct mtr_tc *tc, const char *s)
{
    mtr_tc_elem_binary(tc, s, strlen(s));
}

void mtr_tc_elem_struct_begin(struct mtr_tc *tc)
{
    push(tc);
}

void mtr_tc_struct_end(struct mtr_tc *tc)
{
    if (tc->depth < 1) {
        tc->bad = true;
        return;
    }
    put_byte(tc->out, 0); /* STOP */
    tc->depth--;
}
