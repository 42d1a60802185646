/*
 * num.h - exact decimal-to-double parsing for the ingest hot path. Gives bit-for-bit the same
 * double as strtod in the C locale, but without strtod's cost for the common short values
 * ("0.219", "230.4") and without its extras (hex, "inf", "nan", locale decimal commas).
 */
#ifndef MTR_NUM_H
#define MTR_NUM_H

#include <stddef.h>

/*
 * Parses s[0..len) (need not be NUL-terminated) into *out. Leading/trailing spaces and tabs are
 * ignored. Grammar: [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?.
 * Returns 0; MTR_EPARSE when the text is empty, blank, not in the grammar (this includes NaN, Inf,
 * 0x.., trailing garbage) or longer than 400 characters; MTR_ERANGE when the value overflows a
 * double (1e999). *out is untouched on failure.
 * Fast path: at most 19 significant digits forming an integer mantissa below 2^53 with a decimal
 * exponent in [-22, 22] is computed as mantissa * or / an exact power of ten: one correctly
 * rounded IEEE operation, hence identical to strtod. Everything else goes to strtod_l (C locale)
 * on a NUL-terminated stack copy.
 */
int mtr_parse_double(const char *s, size_t len, double *out);

/* 1 when s[0..len), trimmed of spaces, is a case-insensitive spelling of NaN or +-Inf[inity]. */
int mtr_num_is_nonfinite_word(const char *s, size_t len);

#endif
