/*
 * master.h - reads master-data CSV files (meters, grid operators, weather stations) in the layout
 * of the reference data (shared/data/metrify-reference) and of `metrify simulate --master`:
 * columns found by name (case-insensitive), unknown columns ignored, quoted fields and tuple
 * columns such as "(220, 240)" handled by the CSV reader.
 */
#ifndef MTR_MASTER_H
#define MTR_MASTER_H

#include "app/ports.h"

struct mtr_master_record {
    enum mtr_kind kind; /* MTR_KIND_METER, MTR_KIND_OPERATOR or MTR_KIND_STATION */
    uint64_t line;
    union {
        struct mtr_meter meter;
        struct mtr_operator op;
        struct mtr_station station;
    } u;
};

struct mtr_master_reader;

/* Opens path (plain or gzip) for records of kind; the header is read here and a missing id
 * column fails with MTR_EINVAL ("FILE:1: header has no column 'meter_id'"). *out is new; free
 * with mtr_master_close. */
int mtr_master_open(const char *path, enum mtr_kind kind, struct mtr_master_reader **out,
                    struct mtr_errbuf *eb);

/* Returns 1 with *rec filled, 0 at end, MTR_EPARSE for a bad row (err filled, row skipped), or
 * MTR_EIO. */
int mtr_master_next(struct mtr_master_reader *r, struct mtr_master_record *rec,
                    struct mtr_record_error *err);

void mtr_master_close(struct mtr_master_reader *r);

#endif
