/*
 * jsonnum.h - the one JSON number scanner (RFC 8259 section 6) of the decoders that read JSON
 * without building a tree: the workers' message decoder (adapters/io/decode_msg.c) and the REST
 * API's batch fast path (api/batch.c). Pure, libc only, no allocation.
 */
#ifndef MTR_JSONNUM_H
#define MTR_JSONNUM_H

#include <stddef.h>

/* What a scanned number looks like. */
struct mtr_json_number {
    size_t len;     /* bytes of the number */
    int int_digits; /* digits before the decimal point */
    int is_real;    /* has a fraction or an exponent: a real to a JSON library, else an integer */
    /* where the text to read as a double starts: 1 for the integer "-0" (an integer to a JSON
     * library, hence +0.0, while the text "-0" is -0.0), else 0 */
    size_t text_off;
};

/*
 * Scans the number at s[0..len): the grammar is  -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]?
 * [0-9]+)?  and no letter, digit, '.', '+', '-' or '_' may follow it (what may follow otherwise
 * is the caller's grammar). Returns 0 with *out filled; MTR_EPARSE when the text at s is not a
 * JSON number, with
 * the reason in msg (capacity cap, may be NULL), e.g. "NaN and Infinity are not JSON numbers (use
 * null)", "a JSON number has no leading '+'", "hexadecimal is not a JSON number", "a JSON number
 * has no leading zeros", "a digit must follow the decimal point".
 */
int mtr_json_number_scan(const char *s, size_t len, struct mtr_json_number *out, char *msg,
                         size_t cap);

/*
 * 1 when the number's text from text_off, read by mtr_parse_double (base/num.h), gives the same
 * double as a JSON library that keeps integers in 64 bits (jansson) gives: any real, and integers
 * of at most 18 digits (longer ones jansson refuses). The fast paths take only these, so they
 * agree with their jansson fallbacks bit for bit.
 */
int mtr_json_number_plain(const struct mtr_json_number *n);

/*
 * For a JSON text that a parser refused with the error near byte pos (jansson's
 * json_error_t.position, just after the token it choked on): when a number-like token in value
 * position is to blame ("NaN", "+1", "0x1F", "01", "1."), writes the scanner's reason (as above)
 * to msg and returns 1; otherwise returns 0 and msg is untouched, and the parser's words stand.
 */
int mtr_json_number_explain(const char *text, size_t len, size_t pos, char *msg, size_t cap);

#endif
