/*
 * export.h - the data lake export use case: readings (final and raw values, quality codes,
 * anomaly flags), grid status, weather and daily rollups as Parquet files partitioned Hive-style
 * (dataset=NAME/date=YYYY-MM-DD/part-NNNN.parquet), incrementally: per dataset and destination a
 * watermark (a store change number) says what the destination already holds; a run exports the
 * rows changed since, adds new part files only, and advances the watermark once they are visible.
 * The Parquet encoder (adapters/parquet) does no I/O; files go through the lake port (ports.h).
 */
#ifndef MTR_EXPORT_H
#define MTR_EXPORT_H

#include <stdint.h>

#include "adapters/parquet/parquet_writer.h"
#include "app/ports.h"

enum mtr_export_codec { MTR_EXPORT_ZSTD = 0, MTR_EXPORT_NONE };

/* One written file, for progress reports (borrowed for the callback). */
struct mtr_export_file {
    enum mtr_dataset ds;
    const char *key;
    uint64_t rows, bytes;
};

struct mtr_export_opts {
    unsigned datasets; /* bits 1u << enum mtr_dataset; 0 = all */
    enum mtr_export_codec codec;
    int zstd_level;        /* 0 = the writer's default (3) */
    int full;              /* ignore the watermark: export every row again (new parts) */
    size_t row_group_rows; /* 0 = the writer's default */
    void (*progress)(void *ctx, const struct mtr_export_file *f);
    void *progress_ctx;
};

struct mtr_export_ds_stats {
    int ran;             /* the dataset was selected */
    int64_t after, upto; /* the change range exported: (after, upto] */
    uint64_t files, rows, bytes, partitions;
};
struct mtr_export_stats {
    struct mtr_export_ds_stats ds[MTR_DS_COUNT];
};

/* "readings", "grid", "weather", "daily"; NULL for an invalid value. */
const char *mtr_dataset_name(enum mtr_dataset ds);
/* The dataset named s, or -1. */
int mtr_dataset_parse(const char *s);

/* The Parquet schema the exporter writes for ds (static; never NULL for a valid ds). */
const struct mtr_pq_schema *mtr_export_schema(enum mtr_dataset ds);

/* Fills o with the defaults (all datasets, zstd, incremental). */
void mtr_export_opts_default(struct mtr_export_opts *o);

/*
 * Exports the selected datasets from store s (borrowed) to lake l (borrowed): for each dataset,
 * the rows whose change number is in (watermark, current] grouped by UTC day, one new part file
 * per day partition, rows ordered by entity then time, streamed in bounded batches. The
 * watermark of (dataset, l->name) is advanced only after every file of that dataset is visible,
 * so an interrupted run is repeated by the next one (possibly re-adding identical rows: readers
 * deduplicate on (entity, ts, change_seq), see docs/lake.md). A re-run without changes writes
 * nothing. st (may be NULL) receives per-dataset counts. Errors: the store's, the lake's
 * (MTR_EIO), MTR_ENOMEM, MTR_EINVAL (options); eb says which file or dataset.
 */
int mtr_export_lake(struct mtr_store *s, struct mtr_lake *l, const struct mtr_export_opts *o,
                    struct mtr_export_stats *st, struct mtr_errbuf *eb);

#endif
