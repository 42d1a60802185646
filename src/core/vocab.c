/*
 * vocab.c - names, transitions, tiers, levels and the rule catalogue declared in vocab.h.
 * docs/domain.md quotes this file; tests/unit/test_vocab.c checks that every rule id appears there.
 */
#include "core/vocab.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

static int name_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] && strcasecmp(names[i], s) == 0)
            return i;
    return -1;
}

static const char *const meter_status_names[MTR_METER_STATUS_COUNT] = {
    "pending", "active", "inactive", "maintenance", "faulty", "decommissioned"};
static const char *const meter_type_names[MTR_METER_TYPE_COUNT] = {"residential", "commercial",
                                                                   "industrial"};
static const char *const site_status_names[MTR_SITE_COUNT] = {"active", "inactive", "maintenance"};
static const char *const kind_names[MTR_KIND_COUNT] = {"readings", "grid",      "weather",
                                                       "meters",   "operators", "stations"};
static const char *const tier_names[] = {"unknown", "poor", "fair", "good", "excellent"};
static const char *const level_names[] = {"low", "medium", "high", "critical"};

const char *mtr_meter_status_name(enum mtr_meter_status s)
{
    return (unsigned)s < MTR_METER_STATUS_COUNT ? meter_status_names[s] : "unknown";
}
int mtr_meter_status_parse(const char *s)
{
    return name_index(meter_status_names, MTR_METER_STATUS_COUNT, s);
}
const char *mtr_meter_type_name(enum mtr_meter_type t)
{
    return (unsigned)t < MTR_METER_TYPE_COUNT ? meter_type_names[t] : "unknown";
}
int mtr_meter_type_parse(const char *s)
{
    return name_index(meter_type_names, MTR_METER_TYPE_COUNT, s);
}
const char *mtr_site_status_name(enum mtr_site_status s)
{
    return (unsigned)s < MTR_SITE_COUNT ? site_status_names[s] : "unknown";
}
int mtr_site_status_parse(const char *s)
{
    return name_index(site_status_names, MTR_SITE_COUNT, s);
}
const char *mtr_kind_name(enum mtr_kind k)
{
    return (unsigned)k < MTR_KIND_COUNT ? kind_names[k] : "unknown";
}

/*
 * Allowed meter status transitions (row = from, column = to). Decommissioned is terminal; a
 * faulty meter returns to service only through maintenance; pending becomes active once master
 * data confirms it.
 */
static const unsigned char meter_moves[MTR_METER_STATUS_COUNT][MTR_METER_STATUS_COUNT] = {
    /*                 pend act inact maint faulty decom */
    /* pending */ {0, 1, 1, 0, 0, 1},
    /* active */ {0, 0, 1, 1, 1, 1},
    /* inactive */ {0, 1, 0, 1, 0, 1},
    /* maintenance */ {0, 1, 1, 0, 1, 1},
    /* faulty */ {0, 0, 1, 1, 0, 1},
    /* decommissioned*/ {0, 0, 0, 0, 0, 0},
};

int mtr_meter_status_can_move(enum mtr_meter_status from, enum mtr_meter_status to)
{
    if ((unsigned)from >= MTR_METER_STATUS_COUNT || (unsigned)to >= MTR_METER_STATUS_COUNT)
        return 0;
    return meter_moves[from][to];
}

int mtr_meter_status_accepts_readings(enum mtr_meter_status s)
{
    return s != MTR_METER_DECOMMISSIONED;
}

const char *mtr_quality_code_name(int code)
{
    switch (code) {
    case MTR_Q_VALID:
        return "valid";
    case MTR_Q_EDITED:
        return "edited";
    case MTR_Q_EST_REFERENCE_DAY:
        return "estimated_reference_day";
    case MTR_Q_EST_INTERPOLATION:
        return "estimated_interpolation";
    case MTR_Q_QUESTIONABLE:
        return "questionable";
    default:
        return "other";
    }
}

int mtr_quality_code_is_estimate(int code)
{
    return code == MTR_Q_EST_REFERENCE_DAY || code == MTR_Q_EST_INTERPOLATION;
}

enum mtr_tier mtr_tier_from_score(double score)
{
    if (isnan(score))
        return MTR_TIER_UNKNOWN;
    if (score >= MTR_TIER_EXCELLENT_MIN)
        return MTR_TIER_EXCELLENT;
    if (score >= MTR_TIER_GOOD_MIN)
        return MTR_TIER_GOOD;
    if (score >= MTR_TIER_FAIR_MIN)
        return MTR_TIER_FAIR;
    return MTR_TIER_POOR;
}
const char *mtr_tier_name(enum mtr_tier t)
{
    return (unsigned)t <= MTR_TIER_EXCELLENT ? tier_names[t] : "unknown";
}
int mtr_tier_parse(const char *s)
{
    return name_index(tier_names, 5, s);
}

enum mtr_level mtr_level_from_score(double score)
{
    if (score >= MTR_LEVEL_CRITICAL_MIN)
        return MTR_LEVEL_CRITICAL;
    if (score >= MTR_LEVEL_HIGH_MIN)
        return MTR_LEVEL_HIGH;
    if (score >= MTR_LEVEL_MEDIUM_MIN)
        return MTR_LEVEL_MEDIUM;
    return MTR_LEVEL_LOW;
}
const char *mtr_level_name(enum mtr_level l)
{
    return (unsigned)l <= MTR_LEVEL_CRITICAL ? level_names[l] : "unknown";
}
int mtr_level_parse(const char *s)
{
    return name_index(level_names, 4, s);
}

#define Q MTR_ACT_QUARANTINE
#define F MTR_ACT_FLAG
#define A MTR_ACT_ALERT
#define I MTR_ACT_INFO
static const struct mtr_rule rules[MTR_RULE_COUNT] = {
    {MTR_R_PARSE_COLUMNS, "parse.columns", Q,
     "the line has a different number of columns than the header"},
    {MTR_R_PARSE_QUOTE, "parse.quote", Q, "a quoted field is not terminated"},
    {MTR_R_PARSE_ENCODING, "parse.encoding", Q, "the line is not valid UTF-8"},
    {MTR_R_PARSE_LINE_LENGTH, "parse.line_length", Q, "the line is longer than the 1 MiB limit"},
    {MTR_R_PARSE_JSON, "parse.json", Q, "the message is not a JSON object of the expected shape"},
    {MTR_R_REQUIRED, "required", Q, "a required field is missing or empty"},
    {MTR_R_NUMBER, "number", Q,
     "a numeric field is not a finite decimal number (NaN/Inf rejected)"},
    {MTR_R_TIMESTAMP, "timestamp", Q, "the timestamp is not a valid ISO-8601 date-time"},
    {MTR_R_METER_UNKNOWN, "meter.unknown", Q,
     "the meter is not registered (only with --strict-meters)"},
    {MTR_R_METER_DECOMMISSIONED, "meter.decommissioned", Q, "the meter is decommissioned"},
    {MTR_R_ENTITY_UNKNOWN, "entity.unknown", Q,
     "the grid operator or weather station is not registered (strict mode)"},
    {MTR_R_TIME_FUTURE, "time.future", Q,
     "the interval starts in the future (beyond the tolerance)"},
    {MTR_R_TIME_ANCIENT, "time.ancient", Q,
     "the interval starts before 2000-01-01 (clock not set)"},
    {MTR_R_INTERVAL_SIZE, "interval.size", Q,
     "the interval length is not 1..1440 minutes dividing a day, or the start is not aligned to "
     "it"},
    {MTR_R_CONSUMPTION_NEGATIVE, "consumption.negative", F, "consumption is negative"},
    {MTR_R_COUNTER_RESET, "consumption.counter_reset", F,
     "a large negative value: the register was reset or rolled over"},
    {MTR_R_CONSUMPTION_MAX, "range.consumption", F,
     "consumption exceeds the meter type's maximum power over the interval"},
    {MTR_R_VOLTAGE_RANGE, "range.voltage", F, "voltage outside the physical range 0..1000 V"},
    {MTR_R_CURRENT_RANGE, "range.current", F, "current outside the physical range 0..5000 A"},
    {MTR_R_POWER_FACTOR_RANGE, "range.power_factor", F, "power factor outside 0..1"},
    {MTR_R_FREQUENCY_RANGE, "range.frequency", F, "frequency outside the physical range 45..55 Hz"},
    {MTR_R_SPIKE, "spike", F,
     "the interval is far above the meter's 3rd-highest interval of the last 24 h"},
    {MTR_R_FROZEN, "frozen", F, "the same non-zero value repeats (stuck register)"},
    {MTR_R_GAP, "gap", A, "intervals are missing between two readings"},
    {MTR_R_ZERO_RUN, "zero_run", A,
     "zero consumption for hours where the meter's profile expects use"},
    {MTR_R_VOLTAGE_SAG, "voltage_sag", A, "voltage below 207 V (230 V - 10 %, EN 50160)"},
    {MTR_R_VOLTAGE_SWELL, "voltage_swell", A, "voltage above 253 V (230 V + 10 %, EN 50160)"},
    {MTR_R_FREQUENCY_EXCURSION, "frequency_excursion", A,
     "frequency outside the normal band 49.8..50.2 Hz"},
    {MTR_R_POWER_FACTOR_LOW, "power_factor_low", A, "power factor below 0.7"},
    {MTR_R_CONSUMPTION_HIGH, "consumption_high", A,
     "consumption far above the meter's hour-of-week profile"},
    {MTR_R_DUPLICATE, "duplicate", I, "the same interval with the same values again: a no-op"},
    {MTR_R_REVISION, "revision", I,
     "the same interval with changed values: replaces it, previous kept"},
    {MTR_R_GRID_FREQUENCY_RANGE, "grid.range.frequency", F, "grid frequency outside 45..55 Hz"},
    {MTR_R_GRID_VOLTAGE_RANGE, "grid.range.voltage", F,
     "grid voltage outside 0..1200 kV or 50..150 % of the operator's voltage level"},
    {MTR_R_GRID_LOAD_RANGE, "grid.range.load", F, "load negative or above the operator's capacity"},
    {MTR_R_GRID_STABILITY_RANGE, "grid.range.stability", F, "stability score outside 0..1"},
    {MTR_R_VALUE, "value", Q, "a field holds a value outside its vocabulary (status, type, ...)"},
    {MTR_R_WEATHER_RANGE, "weather.range", F,
     "an observation outside physical bounds (T -60..60 C, RH 0..100 %, p 850..1090 hPa, wind "
     "0..100 m/s, direction 0..360, cloud 0..100 %, precipitation >= 0)"},
    {MTR_R_GRID_FREQUENCY_DEVIATION, "grid.frequency_deviation", A,
     "grid frequency outside the normal band 49.8..50.2 Hz (critical outside 49.5..50.5)"},
    {MTR_R_GRID_VOLTAGE_HIGH, "grid.voltage_high", A,
     "grid voltage above the operator's level + 10 % (critical above + 15 %)"},
    {MTR_R_GRID_VOLTAGE_LOW, "grid.voltage_low", A,
     "grid voltage below the operator's level - 10 % (critical below - 15 %)"},
    {MTR_R_GRID_LOAD_HIGH, "grid.load_high", A,
     "load above 90 % of capacity (critical above 95 %)"},
    {MTR_R_GRID_STABILITY_LOW, "grid.stability_low", A,
     "stability score below 0.7 (critical below 0.5)"},
    {MTR_R_MONITOR_METER_SILENT, "monitor.meter_silent", A,
     "an active meter has delivered nothing for monitor.silent_hours (default 6 h)"},
    {MTR_R_MONITOR_TIER_DROP, "monitor.tier_drop", A,
     "a meter's quality tier yesterday is monitor.tier_drop tiers (default 2) below its previous "
     "7 days"},
    {MTR_R_MONITOR_ANOMALY_RATE, "monitor.anomaly_rate", A,
     "more than monitor.anomaly_rate (default 10 %) of a meter's intervals yesterday were "
     "anomalous"},
    {MTR_R_MONITOR_WEATHER_STALE, "monitor.weather_stale", A,
     "an active weather station has sent no observation for monitor.stale_weather_hours (default "
     "3 h)"},
};
#undef Q
#undef F
#undef A
#undef I

const struct mtr_rule *mtr_rule(enum mtr_rule_id id)
{
    return (unsigned)id < MTR_RULE_COUNT ? &rules[id] : NULL;
}

int mtr_rule_parse(const char *name)
{
    for (int i = 0; i < MTR_RULE_COUNT; i++)
        if (name && strcasecmp(rules[i].name, name) == 0)
            return i;
    return -1;
}
