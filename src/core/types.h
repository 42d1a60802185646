/*
 * types.h - the domain records of Metrify: master data (meters, grid operators, weather stations)
 * and the three time series (interval readings, grid status, weather observations).
 *
 * Records are fixed-size plain structs with no heap pointers, so a batch is an array and the hot
 * path never allocates per record. Identifiers are opaque strings (SM000000, MAC000002,
 * MET-BER-E-000001 ...) of at most MTR_ID_MAX-1 bytes. Times are Unix seconds, UTC. An optional
 * measurement that is absent is NAN (mtr_has(x)); an input that says "NaN" is rejected by the
 * parsers, so NAN inside the pipeline always means "not delivered".
 */
#ifndef MTR_TYPES_H
#define MTR_TYPES_H

#include <math.h>
#include <stdint.h>

#define MTR_ID_MAX   64
#define MTR_TEXT_MAX 160

static inline int mtr_has(double x)
{
    return !isnan(x);
}

/* 1 when x is delivered and outside [lo, hi]. */
static inline int mtr_outside(double x, double lo, double hi)
{
    return !isnan(x) && (x < lo || x > hi);
}

/* Meter lifecycle status; transitions in core/vocab.c (mtr_meter_status_can_move). */
enum mtr_meter_status {
    MTR_METER_PENDING = 0, /* auto-registered from readings, no master data yet */
    MTR_METER_ACTIVE,
    MTR_METER_INACTIVE,
    MTR_METER_MAINTENANCE,
    MTR_METER_FAULTY,
    MTR_METER_DECOMMISSIONED, /* terminal; readings for it are quarantined */
    MTR_METER_STATUS_COUNT
};

enum mtr_meter_type {
    MTR_METER_RESIDENTIAL = 0,
    MTR_METER_COMMERCIAL,
    MTR_METER_INDUSTRIAL,
    MTR_METER_TYPE_COUNT
};

/* Status of grid operators and weather stations (they have no maintenance workflow of their own).
 */
enum mtr_site_status {
    MTR_SITE_ACTIVE = 0,
    MTR_SITE_INACTIVE,
    MTR_SITE_MAINTENANCE,
    MTR_SITE_COUNT
};

struct mtr_meter {
    char id[MTR_ID_MAX];
    double latitude, longitude; /* NAN when unknown */
    char address[MTR_TEXT_MAX];
    char manufacturer[MTR_ID_MAX], model[MTR_ID_MAX], firmware[MTR_ID_MAX];
    enum mtr_meter_type type;
    char tariff[MTR_ID_MAX]; /* free text: standard, time_of_use, demand_response, ... */
    enum mtr_meter_status status;
    int64_t installed_at;         /* 0 when unknown */
    char operator_id[MTR_ID_MAX]; /* grid operator, "" when unknown */
    char station_id[MTR_ID_MAX];  /* nearest weather station, "" when unknown */
    double base_kwh;              /* typical daily kWh from master data, NAN if unknown */
};

struct mtr_operator {
    char id[MTR_ID_MAX];
    char name[MTR_TEXT_MAX];
    char type[16]; /* TSO or DSO */
    char region[MTR_TEXT_MAX];
    double capacity_mw, voltage_kv, latitude, longitude;
    enum mtr_site_status status;
};

struct mtr_station {
    char id[MTR_ID_MAX];
    char name[MTR_TEXT_MAX];
    char type[32];
    double latitude, longitude, elevation_m;
    enum mtr_site_status status;
};

/* One interval reading as delivered. `line` is the 1-based source line (0 if not from a file). */
struct mtr_reading {
    char meter_id[MTR_ID_MAX];
    int64_t ts;         /* interval start, UTC */
    int32_t interval_s; /* interval length; 0 = not delivered (taken from the meter or default) */
    uint64_t line;
    double kwh; /* consumption in the interval; required */
    double voltage_v, current_a, power_factor, frequency_hz, active_power_kw, reactive_power_kvar;
};

struct mtr_grid_status {
    char operator_id[MTR_ID_MAX];
    int64_t ts;
    uint64_t line;
    double frequency_hz, voltage_kv, load_mw, capacity_mw, stability; /* stability 0..1 */
};

struct mtr_weather_obs {
    char station_id[MTR_ID_MAX];
    int64_t ts;
    uint64_t line;
    double temperature_c, humidity_pct, pressure_hpa, wind_speed_ms, wind_direction_deg,
        precipitation_mm, cloud_cover_pct;
};

/* Which of the three series a record, file or batch belongs to. */
enum mtr_kind {
    MTR_KIND_READING = 0,
    MTR_KIND_GRID,
    MTR_KIND_WEATHER,
    MTR_KIND_METER, /* master data (import) */
    MTR_KIND_OPERATOR,
    MTR_KIND_STATION,
    MTR_KIND_COUNT
};

/* One record of any kind; the parsers fill the member named by kind. */
struct mtr_record {
    enum mtr_kind kind;
    union {
        struct mtr_reading reading;
        struct mtr_grid_status grid;
        struct mtr_weather_obs weather;
    } u;
};

/* Sets every optional measurement to NAN and the rest to zero. */
void mtr_reading_init(struct mtr_reading *r);
void mtr_grid_status_init(struct mtr_grid_status *g);
void mtr_weather_obs_init(struct mtr_weather_obs *w);
void mtr_meter_init(struct mtr_meter *m);

#endif
