/*
 * cron.h - five-field cron expressions (minute hour day-of-month month day-of-week) and the next
 * time they fire, in UTC. Pure: no clock, no time zone state. The background worker's schedule
 * (app/scheduler.c) is written in this language in the configuration.
 */
#ifndef MTR_CRON_H
#define MTR_CRON_H

#include <stddef.h>
#include <stdint.h>

/* A parsed expression: one bit per allowed value of each field. */
struct mtr_cron {
    uint64_t minute; /* bits 0..59 */
    uint32_t hour;   /* bits 0..23 */
    uint32_t dom;    /* bits 1..31 */
    uint16_t month;  /* bits 1..12 */
    uint8_t dow;     /* bits 0..6, 0 = Sunday */
    /* Vixie semantics: when both day fields are restricted, a day matches if EITHER does */
    uint8_t dom_any, dow_any;
};

/*
 * Parses expr: five fields separated by blanks, each a comma list of `*`, `N`, `N-M`, with an
 * optional `/STEP` (`*`/N, N-M/S, N/S = N-max/S); months jan..dec and days sun..sat may be named
 * (any case); day-of-week 7 is Sunday. Aliases: @yearly (@annually), @monthly, @weekly, @daily
 * (@midnight), @hourly. Returns 0, or MTR_EINVAL with the reason in msg (capacity cap, may be
 * NULL), e.g. "minute: 61 is outside 0..59". *out is untouched on error.
 */
int mtr_cron_parse(const char *expr, struct mtr_cron *out, char *msg, size_t cap);

/*
 * The first minute strictly after `after` (Unix seconds, UTC) at which c fires, into *out
 * (always a multiple of 60). Returns 0, or MTR_ENOTFOUND when the expression never fires within
 * eight years (e.g. "0 0 30 2 *").
 */
int mtr_cron_next(const struct mtr_cron *c, int64_t after, int64_t *out);

/* The last minute at or before `at` at which c fires, into *out. Returns 0, or MTR_ENOTFOUND when
 * it did not fire within the `window` seconds before `at`. */
int mtr_cron_prev(const struct mtr_cron *c, int64_t at, int64_t window, int64_t *out);

#endif
