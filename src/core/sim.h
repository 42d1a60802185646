/*
 * sim.h - a deterministic smart-meter fleet simulator with labelled faults (pure: no I/O, no
 * globals). It produces the fleet's master data, interval readings (time-major), grid status per
 * operator per interval, weather per station per hour, and exact labels for every injected fault.
 * Same config + seed -> the same bytes. Memory is O(meters), independent of the number of days.
 * The fault definitions below are the contract with the detectors; the model is in sim.c.
 */
#ifndef MTR_SIM_H
#define MTR_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/types.h"

#define MTR_SIM_OPERATORS 4
#define MTR_SIM_STATIONS  20

/* Fault types; names (mtr_sim_fault_name) are the label file's `fault` column. */
enum mtr_sim_fault {
    MTR_SIM_GAP = 0,        /* 1-40 intervals not emitted */
    MTR_SIM_SPIKE,          /* 1 interval: k x typical daily peak interval value, k in [5,12] */
    MTR_SIM_ZERO_RUN,       /* 12-48 intervals with consumption exactly 0 (current 0) */
    MTR_SIM_COUNTER_RESET,  /* 1 interval: minus the cumulative register value */
    MTR_SIM_FROZEN,         /* 4-16 intervals repeating the value of the interval before */
    MTR_SIM_VOLTAGE_SAG,    /* 1-4 intervals with voltage in 170-200 V */
    MTR_SIM_FREQ_EXCURSION, /* operator-wide: 1-4 intervals at 49.55-49.75 or 50.25-50.45 Hz */
    MTR_SIM_FAULT_COUNT
};

/* "gap", "spike", ..., "frequency_excursion"; NULL when out of range. */
const char *mtr_sim_fault_name(int fault);

struct mtr_sim_config {
    uint64_t seed;
    int64_t start;      /* first interval start, UTC seconds, must be a midnight */
    int32_t days;       /* 1..3660 */
    int32_t interval_s; /* 60..3600 and divides 3600 */
    double fault_rate;  /* expected faults of EACH type per meter per 30 days; 0 = none */
};

/* Defaults: seed 1, start 2026-01-01T00:00:00Z, 30 days, 900 s, fault rate 1.0. */
void mtr_sim_config_default(struct mtr_sim_config *c);

/* Returns 0 or MTR_EINVAL with a message in eb (eb may be NULL). */
int mtr_sim_config_check(const struct mtr_sim_config *c, struct mtr_errbuf *eb);

/* One simulated meter: its master data plus the hidden model parameters. */
struct mtr_sim_meter {
    struct mtr_meter info; /* id, location, address, type, operator_id, station_id, base_kwh */
    uint32_t index;        /* fleet index: selects the meter's random streams */
    int op;                /* index into the operator table */
    int station;           /* index into the station table (nearest station) */
    int pattern; /* load profile: 0 residential, 1 commercial, 2 industrial 3-shift, 3 2-shift */
    double daily_kwh;            /* weekday mean daily kWh at mild weather */
    double heat_sens, cool_sens; /* relative load increase per 10 K below 15 / above 22 C */
    double shift_h;              /* per-meter time shift of the load shape, hours */
    double v_offset, pf;         /* voltage offset (V) and mean power factor */
    double register0;            /* cumulative register at simulation start, kWh */
};

/* Fills *out with meter number `index` of the fleet of seed c->seed (independent of the fleet
 * size: meter 5 is the same in a 10-meter and a 1000-meter fleet). */
void mtr_sim_make_meter(const struct mtr_sim_config *c, uint32_t index, struct mtr_sim_meter *out);

/* Static master data of operators and stations (the --master CSV columns). */
struct mtr_sim_operator_info {
    struct mtr_operator op; /* id, name, type, region, capacity_mw, voltage_kv, lat, lon */
    const char *address, *email, *phone, *website, *control_area;
    double coverage_km2;
};
struct mtr_sim_station_info {
    struct mtr_station st; /* id, name, type, latitude, longitude, elevation_m */
    const char *address, *operator_name, *email, *phone;
};
/* Borrowed pointers into constant tables; i < MTR_SIM_OPERATORS / MTR_SIM_STATIONS. */
const struct mtr_sim_operator_info *mtr_sim_operator_info(int i);
const struct mtr_sim_station_info *mtr_sim_station_info(int i);

/* One injected fault: meter index into the meters array, first and last affected interval
 * start (inclusive, UTC). */
struct mtr_sim_label {
    uint32_t meter;
    int fault; /* enum mtr_sim_fault */
    int64_t start, end;
};

struct mtr_sim_meter_state; /* private, one per meter */

struct mtr_sim_op_state {
    double f_ar, v_ar, load_ar;
    uint64_t rng[4], xrng[4]; /* natural signal / excursion schedule */
    int64_t prev_end;         /* last interval of the previous excursion (or very negative) */
    int64_t next_start, next_end;
    double x_lo, x_hi; /* excursion frequency band of the next excursion */
};

struct mtr_sim_wx_state {
    double t_ar, cloud_ar, wind_ar;
};

/* The simulator. Fields are private; use the functions. */
struct mtr_sim {
    struct mtr_sim_config cfg;
    const struct mtr_sim_meter *meters; /* borrowed */
    size_t n;
    int64_t t;            /* index of the next interval to produce */
    int64_t total;        /* intervals in the simulation */
    int32_t per_day;      /* intervals per day */
    double meter_p;       /* per-interval probability of the geometric wait between meter faults */
    double op_p;          /* same for operator excursions */
    double shape_norm[4]; /* weekday mean of each load profile */
    struct mtr_sim_meter_state *ms; /* n, owned */
    struct mtr_sim_label *labels;   /* n, owned: labels started in the last interval */
    size_t n_labels;
    struct mtr_sim_op_state ops[MTR_SIM_OPERATORS];
    struct mtr_grid_status grid[MTR_SIM_OPERATORS]; /* status of the last interval */
    /* weather: national state, per-station state, observations of hours h and h+1 */
    uint64_t wrng[4];
    double nat_t, nat_p, nat_cloud, nat_wind, nat_dir;
    struct mtr_sim_wx_state wst[MTR_SIM_STATIONS];
    struct mtr_weather_obs wx[2][MTR_SIM_STATIONS];
    int64_t wx_hour;  /* hour index (from start) of wx[0] */
    int wx_emit;      /* 1 when the last interval started an hour (wx[0] is new) */
    double wx_mean_t; /* mean temperature over the stations at hour wx_hour */
    int64_t counts[MTR_SIM_FAULT_COUNT]; /* labels emitted so far, per type */
};

/* Prepares s for cfg over meters[0..n) (borrowed: must outlive s; n >= 1). Allocates O(n).
 * Errors: MTR_EINVAL (bad config, message in eb), MTR_ENOMEM. On error nothing needs freeing. */
int mtr_sim_init(struct mtr_sim *s, const struct mtr_sim_config *cfg,
                 const struct mtr_sim_meter *meters, size_t n, struct mtr_errbuf *eb);

/* Releases what mtr_sim_init allocated; safe on a zeroed or already freed s. */
void mtr_sim_free(struct mtr_sim *s);

/* Produces the next interval: every meter's reading at that time (meters in a gap are left out),
 * in meter order, into out[0..*n). cap must be >= the number of meters. Values are already
 * rounded to the output precision (kWh 4, V 1, A 2, PF 3, Hz 3 decimals).
 * Returns 1 when an interval was produced, 0 when the simulation is over (then *n = 0),
 * MTR_ERANGE when cap is too small. After it returns 1, mtr_sim_labels / mtr_sim_grid /
 * mtr_sim_weather describe the same interval. */
int mtr_sim_next_interval(struct mtr_sim *s, struct mtr_reading *out, size_t cap, size_t *n);

/* Start (UTC) of the interval last produced. */
int64_t mtr_sim_time(const struct mtr_sim *s);

/* Faults that started in the last interval (borrowed, valid until the next call). */
const struct mtr_sim_label *mtr_sim_labels(const struct mtr_sim *s, size_t *n);

/* Grid status of every operator for the last interval (borrowed, *n = MTR_SIM_OPERATORS). */
const struct mtr_grid_status *mtr_sim_grid(const struct mtr_sim *s, size_t *n);

/* Weather of every station for the hour that started in the last interval, or *n = 0 when the
 * interval did not start an hour (borrowed, valid until the next call). */
const struct mtr_weather_obs *mtr_sim_weather(const struct mtr_sim *s, size_t *n);

/* Bytes of state held by s (for tests: independent of cfg->days). */
size_t mtr_sim_state_bytes(const struct mtr_sim *s);

/* Civil helpers (UTC): days since 1970-01-01 of a date, and back. */
int64_t mtr_sim_days_from_civil(int y, int m, int d);
void mtr_sim_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif
