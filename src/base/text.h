/*
 * text.h - small UTF-8 helpers for decoders: validation (strict: no overlongs, no surrogates,
 * nothing above U+10FFFF) and making an untrusted excerpt safe to store and print.
 */
#ifndef MTR_TEXT_H
#define MTR_TEXT_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8, else 0. Fast for ASCII (checked 8 bytes at a time). */
int mtr_utf8_valid(const char *s, size_t len);

/*
 * Copies at most cap-1 bytes of s[0..len) into dst and terminates it (cap > 0). Control bytes
 * (< 0x20, 0x7f) and bytes of invalid UTF-8 sequences become '?'; a multi-byte sequence is never
 * cut. Returns the number of bytes written (without the NUL).
 */
size_t mtr_text_excerpt(char *dst, size_t cap, const char *s, size_t len);

#endif
