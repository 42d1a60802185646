/*
 * jsonw.h - a small streaming JSON writer into a growable buffer, for hot API responses: no DOM,
 * no per-value allocation (the buffer grows geometrically and can be reused across requests).
 * Commas are placed automatically; NAN and infinities are written as null; strings are escaped
 * (control bytes as \u00XX; the caller passes valid UTF-8). Errors (out of memory, nesting deeper
 * than MTR_JW_DEPTH) are sticky: check mtr_jw_failed() once at the end.
 */
#ifndef MTR_JSONW_H
#define MTR_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MTR_JW_DEPTH 32

struct mtr_jw {
    char *buf; /* owned; NUL-terminated when len > 0 */
    size_t len, cap;
    int failed;
    int depth;
    unsigned char count[MTR_JW_DEPTH]; /* values written at each level (saturating) */
    int after_key;
};

/* Starts an empty writer (no allocation yet). */
void mtr_jw_init(struct mtr_jw *w);
/* Starts an empty writer on buf (malloc'd, cap bytes, may be NULL), which w now owns: a buffer
 * recycled from an earlier response saves the allocation and the page faults of growing one. */
void mtr_jw_adopt(struct mtr_jw *w, char *buf, size_t cap);
/* Empties w and keeps its buffer for reuse. */
void mtr_jw_reset(struct mtr_jw *w);
/* Frees the buffer. */
void mtr_jw_free(struct mtr_jw *w);
/* Hands the buffer (malloc'd, NUL-terminated, may be NULL when nothing was written) to the
 * caller, who frees it; *len gets its length. w is left empty. */
char *mtr_jw_take(struct mtr_jw *w, size_t *len);
/* 1 when a write failed (out of memory or nesting too deep). */
int mtr_jw_failed(const struct mtr_jw *w);

void mtr_jw_obj(struct mtr_jw *w);
void mtr_jw_end_obj(struct mtr_jw *w);
void mtr_jw_arr(struct mtr_jw *w);
void mtr_jw_end_arr(struct mtr_jw *w);
/* An object key; the next value written is its value. */
void mtr_jw_key(struct mtr_jw *w, const char *k);
/* A key already quoted with its colon ("\"kwh\":", n bytes), for hot loops: one copy. Use
 * MTR_JW_KEY(w, "kwh") with a string literal that needs no escaping. */
void mtr_jw_key_lit(struct mtr_jw *w, const char *quoted, size_t n);
#define MTR_JW_KEY(w, lit) mtr_jw_key_lit((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
void mtr_jw_str(struct mtr_jw *w, const char *s); /* NULL writes null */
void mtr_jw_strn(struct mtr_jw *w, const char *s, size_t n);
void mtr_jw_int(struct mtr_jw *w, int64_t v);
void mtr_jw_num(struct mtr_jw *w, double v); /* shortest of %.15g that reads back; NAN -> null */
void mtr_jw_bool(struct mtr_jw *w, int v);
void mtr_jw_null(struct mtr_jw *w);
void mtr_jw_time(struct mtr_jw *w, int64_t t); /* "YYYY-MM-DDTHH:MM:SSZ" */
/* Inserts already-encoded JSON text as one value (trusted: not checked). */
void mtr_jw_raw(struct mtr_jw *w, const char *json, size_t n);

/* Cursor writing, for loops that write thousands of values (a page of readings): one bounds
 * check per value instead of one per token. mtr_jw_value_begin() places the comma as before any
 * value and makes room for max bytes; the caller writes ONE complete JSON value there (literals
 * with MTR_JW_LIT, numbers with the mtr_jw_put_* formatters) and passes the end to
 * mtr_jw_value_end(). NULL when out of memory (w has then failed; write nothing). */
char *mtr_jw_value_begin(struct mtr_jw *w, size_t max);
void mtr_jw_value_end(struct mtr_jw *w, char *end);
#define MTR_JW_NUM_MAX  32 /* bytes mtr_jw_put_num or mtr_jw_put_int write at most */
#define MTR_JW_TIME_MAX 40 /* bytes mtr_jw_put_time writes at most */
/* Each writes its value at p and returns the end; the same text as mtr_jw_num/int/time. */
char *mtr_jw_put_num(char *p, double v);
char *mtr_jw_put_int(char *p, int64_t v);
char *mtr_jw_put_time(char *p, int64_t t);
/* Copies a string literal (no escaping) and advances p. */
#define MTR_JW_LIT(p, lit) ((p) = (char *)memcpy((p), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)

/* Appends bytes as they are, outside the JSON structure (for text responses: HTML, metrics). */
void mtr_jw_append(struct mtr_jw *w, const char *s, size_t n);
/* Appends formatted text (printf) as mtr_jw_append does. */
void mtr_jw_appendf(struct mtr_jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* key + value shorthands */
void mtr_jw_kstr(struct mtr_jw *w, const char *k, const char *s);
void mtr_jw_kint(struct mtr_jw *w, const char *k, int64_t v);
void mtr_jw_knum(struct mtr_jw *w, const char *k, double v);
void mtr_jw_kbool(struct mtr_jw *w, const char *k, int v);
void mtr_jw_ktime(struct mtr_jw *w, const char *k, int64_t t); /* 0 -> null */

#endif
