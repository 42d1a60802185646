/*
 * format.h - how an input file is laid out: its format name, an optional column map that renames
 * columns to Metrify's field names, and defaults for what some formats' rows do not carry (the
 * entity id, the interval length). Filled by the CLI/API from flags, read by the decoders.
 */
#ifndef MTR_FORMAT_H
#define MTR_FORMAT_H

#include <stdint.h>

#include "base/err.h"
#include "core/types.h"

enum mtr_format_name {
    MTR_FORMAT_AUTO = 0, /* NDJSON if the first non-blank byte is '{', else CSV with a header */
    MTR_FORMAT_CSV,      /* CSV with a header row; columns found by name and alias */
    MTR_FORMAT_NDJSON,   /* one JSON object per line (optionally {"payload": {...}}) */
    MTR_FORMAT_LCL,      /* London "Low Carbon London" readings: LCLid,tstp,energy(kWh/hh);
                            interval 1800 s unless set; "Null" is a number error */
    MTR_FORMAT_DARKSKY,  /* Dark Sky hourly weather: humidity 0..1 -> %, NULL = absent, station
                            id from the format (default "LONDON"), time taken as UTC */
    MTR_FORMAT_COUNT
};

#define MTR_FORMAT_MAP_MAX 16

struct mtr_format_map {
    char field[32];  /* Metrify field name, e.g. "meter_id" */
    char column[64]; /* the column (CSV) or key (JSON) that holds it, matched case-insensitively */
};

struct mtr_format {
    enum mtr_format_name name;
    int nmap;
    struct mtr_format_map map[MTR_FORMAT_MAP_MAX];
    /* Ids used when a row has no id column/key ("" = none: the id column is then required). */
    char meter_id[MTR_ID_MAX], operator_id[MTR_ID_MAX], station_id[MTR_ID_MAX];
    int32_t interval_s; /* interval of readings that carry none; 0 = leave to the pipeline */
};

/* Sets f to: auto, no map, no default ids, interval 0. */
void mtr_format_init(struct mtr_format *f);

/* Sets f->name from "auto", "csv", "ndjson" (or "json"), "lcl", "darksky" (any case).
 * Returns 0 or MTR_EINVAL with a message listing the names. */
int mtr_format_set_name(struct mtr_format *f, const char *name, struct mtr_errbuf *eb);

/* The lower-case name of n ("auto", ...). */
const char *mtr_format_name_str(enum mtr_format_name n);

/*
 * Appends the entries of spec, "field=column[,field=column...]" (spaces around names ignored), to
 * f's column map; a later entry for the same field replaces the earlier one. Field names must be
 * Metrify field names of any kind (meter_id, timestamp, consumption_kwh, temperature_c, ...).
 * Returns 0, or MTR_EINVAL naming the bad entry (missing '=', empty name, unknown field, name too
 * long, more than MTR_FORMAT_MAP_MAX entries); f is unchanged on error.
 */
int mtr_format_set_map(struct mtr_format *f, const char *spec, struct mtr_errbuf *eb);

#endif
