/*
 * timeparse.h - ISO-8601 date-times to Unix seconds (UTC) and back, and the proleptic Gregorian
 * day arithmetic under it. Pure functions, no locale, no libc time zone state: the ingest hot
 * path parses one timestamp per record, so this is a hand-written fixed-position parser.
 */
#ifndef MTR_TIMEPARSE_H
#define MTR_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s[0..len) (need not be NUL-terminated) into Unix seconds at *out. Accepted:
 *   YYYY-MM-DD                      (00:00 UTC)
 *   YYYY-MM-DD<sep>HH:MM[:SS[.f+]]  sep 'T', 't' or one space; any number of fraction digits
 *                                   ('.' or ','), TRUNCATED to the whole second (intervals and
 *                                   readings are second-granular; rounding could move a reading
 *                                   into the next interval)
 * followed by an optional zone: Z/z, +HH:MM, -HH:MM, +HHMM, +HH (none = UTC). Spaces and tabs
 * around the text are ignored. Years 1970..9999; month, day-of-month (leap years included), hour
 * 0..23, minute and second 0..59 are checked; a leap second (60) is rejected.
 * Returns 0, or MTR_EPARSE (out untouched).
 */
int mtr_time_parse(const char *s, size_t len, int64_t *out);

/*
 * As mtr_time_parse, and on MTR_EPARSE writes why into msg (capacity cap, always terminated when
 * cap > 0), e.g. "invalid date: month 13", "invalid date: 2013-02-30 (February 2013 has 28 days)",
 * "invalid time: hour 25", "not an ISO-8601 date-time: \"yesterday\"". msg may be NULL.
 */
int mtr_time_parse_msg(const char *s, size_t len, int64_t *out, char *msg, size_t cap);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" and a NUL into buf; returns the length (20 for years 0..9999). */
size_t mtr_time_format(int64_t t, char buf[24]);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31); any year. */
int64_t mtr_days_from_civil(int y, int m, int d);

/* Inverse of mtr_days_from_civil. */
void mtr_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Days in month m (1..12) of year y. */
int mtr_days_in_month(int y, int m);

#endif
