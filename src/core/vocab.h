/*
 * vocab.h - the one vocabulary of Metrify: status names and transitions, reading-quality codes,
 * quality tiers, alert levels, rule ids and anomaly types, with every threshold defined once here
 * (values in vocab.c) and quoted in docs/domain.md. Names are lower-case snake_case everywhere:
 * code, database, CLI/API output and docs. Parsers accept any case.
 */
#ifndef MTR_VOCAB_H
#define MTR_VOCAB_H

#include <stdint.h>

#include "core/types.h"

/* ---- names <-> enums; *_parse return the enum value or -1 (case-insensitive) ---- */
const char *mtr_meter_status_name(enum mtr_meter_status s);
int mtr_meter_status_parse(const char *s);
const char *mtr_meter_type_name(enum mtr_meter_type t);
int mtr_meter_type_parse(const char *s);
const char *mtr_site_status_name(enum mtr_site_status s);
int mtr_site_status_parse(const char *s);
const char *mtr_kind_name(enum mtr_kind k); /* "readings", "grid", "weather" */

/* 1 when a meter may move from `from` to `to` (see docs/domain.md for the graph). */
int mtr_meter_status_can_move(enum mtr_meter_status from, enum mtr_meter_status to);
/* 1 when readings for a meter in this status are accepted (all but decommissioned). */
int mtr_meter_status_accepts_readings(enum mtr_meter_status s);

/* ---- reading-quality codes: NAESB ESPI ReadingQuality values ---- */
enum mtr_quality_code {
    MTR_Q_VALID = 0,
    MTR_Q_EDITED = 7,
    MTR_Q_EST_REFERENCE_DAY = 8,
    MTR_Q_EST_INTERPOLATION = 9,
    MTR_Q_QUESTIONABLE = 10, /* failed a validation rule: stored, kept out of analytics */
};
const char *mtr_quality_code_name(int code); /* "valid", "estimated_interpolation", ... */
int mtr_quality_code_is_estimate(int code);

/* ---- quality tiers from a 0..1 score ---- */
enum mtr_tier {
    MTR_TIER_UNKNOWN = 0,
    MTR_TIER_POOR,
    MTR_TIER_FAIR,
    MTR_TIER_GOOD,
    MTR_TIER_EXCELLENT
};
#define MTR_TIER_EXCELLENT_MIN 0.90
#define MTR_TIER_GOOD_MIN      0.80
#define MTR_TIER_FAIR_MIN      0.70
enum mtr_tier mtr_tier_from_score(double score); /* NAN -> unknown */
const char *mtr_tier_name(enum mtr_tier t);
int mtr_tier_parse(const char *s);

/* ---- alert levels, graded from an anomaly score in 0..1 (reference-spec 3.4) ---- */
enum mtr_level { MTR_LEVEL_LOW = 0, MTR_LEVEL_MEDIUM, MTR_LEVEL_HIGH, MTR_LEVEL_CRITICAL };
#define MTR_LEVEL_CRITICAL_MIN 0.95
#define MTR_LEVEL_HIGH_MIN     0.80
#define MTR_LEVEL_MEDIUM_MIN   0.60
enum mtr_level mtr_level_from_score(double score);
const char *mtr_level_name(enum mtr_level l);
int mtr_level_parse(const char *s);

/*
 * ---- rules ----
 * Every check that can reject, flag or raise an alert has a stable id. `action` says what a
 * failure does: quarantine the record, flag it (stored, quality code questionable, excluded from
 * analytics), or raise an anomaly alert (reading stays valid).
 */
enum mtr_rule_action { MTR_ACT_QUARANTINE, MTR_ACT_FLAG, MTR_ACT_ALERT, MTR_ACT_INFO };

enum mtr_rule_id {
    /* record-level parse errors (quarantine) */
    MTR_R_PARSE_COLUMNS = 0,
    MTR_R_PARSE_QUOTE,
    MTR_R_PARSE_ENCODING,
    MTR_R_PARSE_LINE_LENGTH,
    MTR_R_PARSE_JSON,
    MTR_R_REQUIRED,
    MTR_R_NUMBER,
    MTR_R_TIMESTAMP,
    /* master-data and time checks (quarantine) */
    MTR_R_METER_UNKNOWN,
    MTR_R_METER_DECOMMISSIONED,
    MTR_R_ENTITY_UNKNOWN, /* grid operator or weather station not registered (strict mode) */
    MTR_R_TIME_FUTURE,
    MTR_R_TIME_ANCIENT,
    MTR_R_INTERVAL_SIZE,
    /* plausibility (flag) */
    MTR_R_CONSUMPTION_NEGATIVE,
    MTR_R_COUNTER_RESET,
    MTR_R_CONSUMPTION_MAX,
    MTR_R_VOLTAGE_RANGE,
    MTR_R_CURRENT_RANGE,
    MTR_R_POWER_FACTOR_RANGE,
    MTR_R_FREQUENCY_RANGE,
    MTR_R_SPIKE,
    MTR_R_FROZEN,
    /* anomalies (alert; reading stays valid) */
    MTR_R_GAP,
    MTR_R_ZERO_RUN,
    MTR_R_VOLTAGE_SAG,
    MTR_R_VOLTAGE_SWELL,
    MTR_R_FREQUENCY_EXCURSION,
    MTR_R_POWER_FACTOR_LOW,
    MTR_R_CONSUMPTION_HIGH,
    /* duplicates (info: counted, never an error) */
    MTR_R_DUPLICATE,
    MTR_R_REVISION,
    /* grid status and weather plausibility (flag) */
    MTR_R_GRID_FREQUENCY_RANGE,
    MTR_R_GRID_VOLTAGE_RANGE,
    MTR_R_GRID_LOAD_RANGE,
    MTR_R_GRID_STABILITY_RANGE,
    MTR_R_VALUE, /* master data: a value outside its vocabulary */
    MTR_R_WEATHER_RANGE,
    /* grid stability conditions (alert, opened and closed by core/grid.c) */
    MTR_R_GRID_FREQUENCY_DEVIATION,
    MTR_R_GRID_VOLTAGE_HIGH,
    MTR_R_GRID_VOLTAGE_LOW,
    MTR_R_GRID_LOAD_HIGH,
    MTR_R_GRID_STABILITY_LOW,
    /* fleet monitoring (alert, raised by `metrify worker monitor`, app/monitor.c) */
    MTR_R_MONITOR_METER_SILENT,
    MTR_R_MONITOR_TIER_DROP,
    MTR_R_MONITOR_ANOMALY_RATE,
    MTR_R_MONITOR_WEATHER_STALE,
    MTR_RULE_COUNT
};

struct mtr_rule {
    enum mtr_rule_id id;
    const char *name; /* stable id used in quarantine, flags, alerts and docs: "range.voltage" */
    enum mtr_rule_action action;
    const char *what; /* one line for docs and `metrify rules` */
};
const struct mtr_rule *mtr_rule(enum mtr_rule_id id);
int mtr_rule_parse(const char *name); /* -1 when unknown */

/* Bit for a rule in the per-reading `flags` word (rules < 64). */
static inline uint64_t mtr_rule_bit(enum mtr_rule_id id)
{
    return (uint64_t)1 << id;
}

/*
 * ---- thresholds: the single place they are defined ----
 * Defaults of the tunable ones live in struct mtr_params (core/params.h); these are physics and
 * standards, not tuning.
 */
#define MTR_VOLTAGE_MIN_V       0.0 /* range.voltage: physical bounds, V */
#define MTR_VOLTAGE_MAX_V       1000.0
#define MTR_CURRENT_MIN_A       0.0 /* range.current, A */
#define MTR_CURRENT_MAX_A       1000.0
#define MTR_FREQUENCY_MIN_HZ    45.0 /* range.frequency, Hz */
#define MTR_FREQUENCY_MAX_HZ    55.0
#define MTR_NOMINAL_VOLTAGE_V   230.0 /* EN 50160: supply voltage 230 V +-10 % */
#define MTR_VOLTAGE_SAG_V       207.0 /* voltage_sag below 0.9 x 230 V */
#define MTR_VOLTAGE_SWELL_V     253.0 /* voltage_swell above 1.1 x 230 V */
#define MTR_FREQ_BAND_LOW_HZ    49.8  /* frequency_excursion outside the normal band */
#define MTR_FREQ_BAND_HIGH_HZ   50.2
#define MTR_POWER_FACTOR_LOW    0.7       /* power_factor_low below */
#define MTR_TIME_ANCIENT_BEFORE 946684800 /* time.ancient: before 2000-01-01T00:00:00Z */
#define MTR_GRID_FREQ_MIN_HZ    45.0      /* grid range.frequency: physical bound */
#define MTR_GRID_FREQ_MAX_HZ    55.0
#define MTR_GRID_VOLTAGE_MIN_KV 0.0
#define MTR_GRID_VOLTAGE_MAX_KV 1200.0
#define MTR_WEATHER_T_MIN_C     -60.0 /* weather plausibility bounds */
#define MTR_WEATHER_T_MAX_C     60.0
#define MTR_WEATHER_P_MIN_HPA   850.0
#define MTR_WEATHER_P_MAX_HPA   1090.0
#define MTR_WEATHER_WIND_MAX_MS 100.0

#endif
