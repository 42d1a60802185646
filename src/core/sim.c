/*
 * sim.c - the fleet simulator behind `metrify simulate`: PRNG, fleet, weather, grid and fault
 * models. Pure and deterministic: every random draw comes from a xoshiro256** stream seeded by
 * splitmix64 from (seed, kind, index), so each meter, operator and the weather have their own
 * stream, a meter is the same whatever the fleet size, and the natural data of a run with faults
 * equals that of the same run with --no-faults outside the labelled intervals.
 *
 * THE MODEL (times are UTC in the output; load shapes follow German local time, CET/CEST)
 * Fleet: meter i (SM%06u) is residential 70 %, commercial 20 %, industrial 10 %, placed around one
 *   of ten German cities (population-weighted) with a Gaussian scatter of ~5 km; its operator is
 *   the TSO of the city (TenneT: Hamburg, Munich, Frankfurt, Nuremberg; 50Hertz: Berlin, Leipzig;
 *   Amprion: Cologne, Dortmund, Duesseldorf; TransnetBW: Stuttgart), its station the nearest of
 *   the 20 stations (coordinates of the reference weather_stations.csv). Daily kWh is log-normal:
 *   residential median 11 (7.5-16), commercial 250 (100-600), industrial 3200 (1000-10000).
 * Load: hourly profiles per type and day type (weekday, Saturday, Sunday/public holiday: Jan 1,
 *   May 1, Oct 3, Dec 25-26), linearly interpolated, shifted per meter by up to +-45 min.
 *   Residential: night ~0.45, morning peak 7-8 h, lower midday, evening peak 18-20 h (~1.9x);
 *   weekends later and higher. Commercial: 9-17 h on weekdays (~1.85), 0.4 at night, Sunday ~0.5.
 *   Industrial: half three shifts (flat, dips at shift changes, weekend 85 %/75 %), half two
 *   shifts 6-22 h on weekdays over a 0.55 base. Weather factor 1 + h*max(0, 15-T)/10 +
 *   c*max(0, T-22)/10 with per-meter sensitivities h, c. Noise: exp(AR(1) + white), AR phi 0.75
 *   per 15 min, sigma 10/7/5 % (res/com/ind) plus white 7/5/4 %, each clipped at 2.5 sigma, so
 *   no natural value exceeds ~2.3x its neighbours' level. Values are rounded to 1e-4 kWh, never
 *   below 1e-4, and a natural value is nudged by +1e-4 when it equals the previous emitted value,
 *   so natural data never holds two equal consecutive values (frozen runs are unambiguous).
 * Electrical: V = 230 + offset (+-4) + N(0, 1.5), clipped to 215-245; PF = U(0.92, 0.98) per
 *   meter + N(0, 0.01) clipped to 0.90-0.99; I = P / (V PF), P = kWh / interval hours; frequency =
 *   the operator's signal: 50 + AR(1) (sigma 0.02 Hz, clipped at +-0.12).
 * Weather, per station per hour: T = 9.5 - 9 cos(2 pi (doy - 15) / 365.25) - 0.6 (lat - 51)
 *   - 0.0065 elev + diurnal (max 15 h solar time, 3-6 K, damped by clouds) + national AR(1)
 *   (sigma 3.5 K, phi 0.985/h) + station AR(1) (0.8 K); pressure 1013 + AR(1) (9 hPa); cloud a
 *   logistic of AR(1)s and pressure; humidity from season, diurnal cycle and cloud; wind
 *   log-normal AR(1) (median 3.8 m/s, stronger at low pressure), direction around 240 deg;
 *   precipitation only above 70 % cloud. Meters interpolate their station's T to the interval.
 * Grid, per operator per interval: frequency as above; voltage_kv 400 + AR(1) (sigma 3, 391-411,
 *   inside the 380-420 kV operating band the grid rules check); load_mw = capacity x (0.30 +
 *   0.25 x aggregate residential/commercial shape + heating + noise), capacity TENNET 15000,
 *   50HERTZ 12000, AMPRION 14000, TRANSNETBW 8000 MW; stability 0.85-0.99, falling with load
 *   (0.70-0.84 during a frequency excursion).
 * FAULTS: see sim.h and the scheduling comment above schedule_meter_fault().
 */
#include "core/sim.h"

#include "base/timeparse.h"

#include <math.h>
#include <stdio.h> /* snprintf only */
#include <stdlib.h>
#include <string.h>

#define END_MARGIN   4   /* faults end at least this many intervals before the simulation ends */
#define FAULT_SEP    24  /* clean intervals between two faults of one meter */
#define EXCUR_MINSEP 146 /* min intervals between excursions of one operator: room for a fault */
#define NONE         INT64_MAX

/* ---------------------------------------------------------------- PRNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds stream (kind, index) of seed; streams never share state. */
static void rng_seed(uint64_t st[4], uint64_t seed, uint64_t kind, uint64_t index)
{
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    x = a ^ (kind * 0xd1342543de82ef95ULL) ^ (index * 0x9e3779b97f4a7c15ULL + kind);
    for (int i = 0; i < 4; i++)
        st[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t rng_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static inline double rng_u(uint64_t s[4])
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static inline double rng_range(uint64_t s[4], double lo, double hi)
{
    return lo + (hi - lo) * rng_u(s);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_int(uint64_t s[4], int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_u(s) * (double)(hi - lo + 1));
}

/* Standard normal (Box-Muller, one value per call: simple and stream-stable). */
static double rng_norm(uint64_t s[4])
{
    double u1 = 1.0 - rng_u(s), u2 = rng_u(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Number of failures before the first success of a Bernoulli(p): mean (1-p)/p. */
static int64_t rng_geom(uint64_t s[4], double p)
{
    if (p >= 1.0)
        return 0;
    double u = 1.0 - rng_u(s);
    double g = floor(log(u) / log1p(-p));
    return g > 1e15 ? (int64_t)1e15 : (int64_t)g;
}

static inline double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static inline double round_to(double x, double scale)
{
    return (double)llround(x * scale) / scale;
}

/* ---------------------------------------------------------------- calendar */

/* Calendar conversions are base/timeparse's; these keep the simulator's API self-contained. */
int64_t mtr_sim_days_from_civil(int y, int m, int d)
{
    return mtr_days_from_civil(y, m, d);
}

void mtr_sim_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    mtr_civil_from_days(z, y, m, d);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* 0 = Sunday */
static int weekday(int64_t z)
{
    int64_t w = (z + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* German local time offset: CEST from the last Sunday of March to that of October, 01:00 UTC. */
static int64_t local_offset(int64_t ts)
{
    int y, m, d;
    mtr_sim_civil_from_days(floordiv(ts, 86400), &y, &m, &d);
    int64_t mar = mtr_sim_days_from_civil(y, 3, 31), oct = mtr_sim_days_from_civil(y, 10, 31);
    int64_t on = (mar - weekday(mar)) * 86400 + 3600, off = (oct - weekday(oct)) * 86400 + 3600;
    return ts >= on && ts < off ? 7200 : 3600;
}

/* 0 weekday, 1 Saturday, 2 Sunday or national holiday (fixed-date ones). */
static int day_type(int64_t z)
{
    int y, m, d;
    mtr_sim_civil_from_days(z, &y, &m, &d);
    if ((m == 1 && d == 1) || (m == 5 && d == 1) || (m == 10 && d == 3) ||
        (m == 12 && (d == 25 || d == 26)))
        return 2;
    int w = weekday(z);
    return w == 0 ? 2 : w == 6 ? 1 : 0;
}

/* ---------------------------------------------------------------- static tables */

/* [profile][day type][local hour]; relative, normalised by the weekday mean at init. */
static const double profiles[4][3][24] = {
    {/* residential */
     {0.55, 0.48, 0.45, 0.44, 0.44, 0.50, 0.80, 1.25, 1.30, 1.00, 0.85, 0.85,
      0.90, 0.85, 0.80, 0.82, 0.95, 1.30, 1.75, 1.90, 1.80, 1.55, 1.15, 0.80},
     {0.60, 0.52, 0.47, 0.45, 0.44, 0.45, 0.50, 0.70, 1.05, 1.35, 1.40, 1.30,
      1.35, 1.20, 1.05, 1.00, 1.05, 1.35, 1.75, 1.90, 1.80, 1.60, 1.25, 0.90},
     {0.65, 0.55, 0.48, 0.45, 0.44, 0.45, 0.48, 0.62, 0.95, 1.30, 1.45, 1.40,
      1.50, 1.30, 1.10, 1.05, 1.10, 1.40, 1.80, 1.90, 1.75, 1.50, 1.15, 0.80}},
    {/* commercial */
     {0.40, 0.40, 0.40, 0.40, 0.40, 0.42, 0.55, 0.95, 1.50, 1.80, 1.85, 1.85,
      1.80, 1.80, 1.85, 1.80, 1.70, 1.40, 0.95, 0.65, 0.50, 0.45, 0.42, 0.40},
     {0.42, 0.42, 0.42, 0.42, 0.42, 0.42, 0.45, 0.55, 0.75, 0.95, 1.00, 1.00,
      0.95, 0.85, 0.70, 0.60, 0.55, 0.50, 0.48, 0.46, 0.45, 0.44, 0.43, 0.42},
     {0.42, 0.42, 0.42, 0.42, 0.42, 0.42, 0.43, 0.45, 0.48, 0.52, 0.55, 0.55,
      0.55, 0.55, 0.53, 0.50, 0.48, 0.46, 0.45, 0.44, 0.43, 0.43, 0.42, 0.40}},
    {/* industrial, three shifts */
     {0.95, 0.95, 0.95, 0.95, 0.95, 0.92, 0.85, 0.98, 1.05, 1.05, 1.05, 1.05,
      1.02, 0.98, 0.88, 0.98, 1.04, 1.04, 1.02, 1.00, 0.98, 0.93, 0.86, 0.93},
     {0.81, 0.81, 0.81, 0.81, 0.81, 0.78, 0.72, 0.83, 0.89, 0.89, 0.89, 0.89,
      0.87, 0.83, 0.75, 0.83, 0.88, 0.88, 0.87, 0.85, 0.83, 0.79, 0.73, 0.79},
     {0.71, 0.71, 0.71, 0.71, 0.71, 0.69, 0.64, 0.74, 0.79, 0.79, 0.79, 0.79,
      0.77, 0.74, 0.66, 0.74, 0.78, 0.78, 0.77, 0.75, 0.74, 0.70, 0.65, 0.70}},
    {/* industrial, two shifts 6-22 h on weekdays, Saturday morning */
     {0.55, 0.55, 0.55, 0.55, 0.55, 0.70, 1.15, 1.30, 1.32, 1.32, 1.30, 1.28,
      1.22, 1.28, 1.30, 1.30, 1.28, 1.25, 1.20, 1.15, 1.10, 0.95, 0.70, 0.58},
     {0.55, 0.55, 0.55, 0.55, 0.55, 0.62, 0.85, 0.95, 0.95, 0.95, 0.95, 0.93,
      0.90, 0.80, 0.65, 0.58, 0.56, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55},
     {0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.56, 0.56, 0.56, 0.56, 0.56,
      0.56, 0.56, 0.56, 0.56, 0.56, 0.56, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55}},
};

/* AR sigma, white sigma per meter type */
static const double noise_ar[3] = {0.10, 0.07, 0.05}, noise_white[3] = {0.07, 0.05, 0.04};

static const struct mtr_sim_operator_info operators[MTR_SIM_OPERATORS] = {
    {{"TENNET", "TenneT TSO GmbH", "TSO", "North Germany", 15000, 380, 52.12, 5.2913, 0},
     "Wilhelmsplatz 1, 95444 Bayreuth, Germany",
     "info@tennet.eu",
     "+49-921-50740-0",
     "https://www.tennet.eu",
     "TenneT Control Area",
     35000},
    {{"50HERTZ", "50Hertz Transmission GmbH", "TSO", "East Germany", 12000, 380, 52.52, 13.405, 0},
     "Heidestraße 2, 10557 Berlin, Germany",
     "info@50hertz.com",
     "+49-30-5150-0",
     "https://www.50hertz.com",
     "50Hertz Control Area",
     30000},
    {{"AMPRION", "Amprion GmbH", "TSO", "West Germany", 14000, 380, 51.2277, 6.7735, 0},
     "Robert-Schuman-Straße 7, 44263 Dortmund, Germany",
     "info@amprion.net",
     "+49-231-5849-0",
     "https://www.amprion.net",
     "Amprion Control Area",
     28000},
    {{"TRANSNETBW", "TransnetBW GmbH", "TSO", "South Germany", 8000, 380, 48.7758, 9.1829, 0},
     "Pariser Platz 2, 70173 Stuttgart, Germany",
     "info@transnetbw.de",
     "+49-711-21858-0",
     "https://www.transnetbw.de",
     "TransnetBW Control Area",
     25000},
};

#define STN(id, name, type, lat, lon, elev, city, op, mail, phone)                                 \
    {                                                                                              \
        {id, name, type, lat, lon, elev, 0}, "Weather Station " city ", Germany", op, mail, phone  \
    }
static const struct mtr_sim_station_info stations[MTR_SIM_STATIONS] = {
    STN("WS000", "Berlin-Tegel", "MANUAL", 52.5667, 13.3167, 37, "Berlin-Tegel", "DWD",
        "weather-berlintegel@dwd.de", "+49-30-2000000"),
    STN("WS001", "Munich-Airport", "SATELLITE", 48.3538, 11.7861, 448, "Munich-Airport", "DWD",
        "weather-munichairport@dwd.de", "+49-89-2000001"),
    STN("WS002", "Hamburg-Fuhlsbüttel", "AUTOMATIC", 53.6304, 9.9882, 16, "Hamburg-Fuhlsbüttel",
        "DWD", "weather-hamburgfuhlsbuettel@dwd.de", "+49-40-2000002"),
    STN("WS003", "Cologne-Bonn", "AUTOMATIC", 50.8659, 7.1427, 91, "Cologne-Bonn", "DWD",
        "weather-colognebonn@dwd.de", "+49-221-2000003"),
    STN("WS004", "Frankfurt-Main", "AUTOMATIC", 50.0379, 8.5622, 111, "Frankfurt-Main", "DWD",
        "weather-frankfurtmain@dwd.de", "+49-69-2000004"),
    STN("WS005", "Stuttgart-Echterdingen", "AUTOMATIC", 48.6899, 9.2219, 371,
        "Stuttgart-Echterdingen", "DWD", "weather-stuttgartechterdingen@dwd.de", "+49-711-2000005"),
    STN("WS006", "Düsseldorf-Airport", "AUTOMATIC", 51.2894, 6.7668, 44, "Düsseldorf-Airport",
        "DWD", "weather-duesseldorfairport@dwd.de", "+49-211-2000006"),
    STN("WS007", "Dortmund-Airport", "AUTOMATIC", 51.5183, 7.6122, 130, "Dortmund-Airport", "DWD",
        "weather-dortmundairport@dwd.de", "+49-231-2000007"),
    STN("WS008", "Leipzig-Halle", "AUTOMATIC", 51.4239, 12.2364, 141, "Leipzig-Halle", "DWD",
        "weather-leipzighalle@dwd.de", "+49-341-2000008"),
    STN("WS009", "Nuremberg", "AUTOMATIC", 49.4987, 11.0781, 309, "Nuremberg", "DWD",
        "weather-nuremberg@dwd.de", "+49-911-2000009"),
    STN("WS010", "Stuttgart-Echterdingen-Central", "AUTOMATIC", 48.7513, 9.2048, 455,
        "Stuttgart-Echterdingen-Central", "DWD", "weather-stuttgartcentral@dwd.de",
        "+49-711-2000010"),
    STN("WS011", "Düsseldorf-Airport-South", "AUTOMATIC", 51.2406, 6.8395, 12,
        "Düsseldorf-Airport-South", "DWD", "weather-duesseldorfsouth@dwd.de", "+49-211-2000011"),
    STN("WS012", "Hamburg-Fuhlsbüttel-Central", "AUTOMATIC", 53.6866, 9.9306, 12,
        "Hamburg-Fuhlsbüttel-Central", "DWD", "weather-hamburgcentral@dwd.de", "+49-40-2000012"),
    STN("WS013", "Dortmund-Airport-North", "AUTOMATIC", 51.4210, 7.5489, 192,
        "Dortmund-Airport-North", "DWD", "weather-dortmundnorth@dwd.de", "+49-231-2000013"),
    STN("WS014", "Frankfurt-Main-East", "AUTOMATIC", 50.1309, 8.5593, 151, "Frankfurt-Main-East",
        "DWD", "weather-frankfurteast@dwd.de", "+49-69-2000014"),
    STN("WS015", "Frankfurt-Main-South", "AUTOMATIC", 50.0712, 8.5356, 84, "Frankfurt-Main-South",
        "DWD", "weather-frankfurtsouth@dwd.de", "+49-69-2000015"),
    STN("WS016", "Dortmund-Airport-Central", "AUTOMATIC", 51.4739, 7.6825, 89,
        "Dortmund-Airport-Central", "DWD", "weather-dortmundcentral@dwd.de", "+49-231-2000016"),
    STN("WS017", "Berlin-Tegel-East", "AUTOMATIC", 52.6542, 13.2819, 128, "Berlin-Tegel-East",
        "DWD", "weather-berlineast@dwd.de", "+49-30-2000017"),
    STN("WS018", "Nuremberg-Central", "AUTOMATIC", 49.5259, 10.9904, 382, "Nuremberg-Central",
        "DWD", "weather-nurembergcentral@dwd.de", "+49-911-2000018"),
    STN("WS019", "Hamburg-Fuhlsbüttel-West", "AUTOMATIC", 53.6997, 10.0574, 99,
        "Hamburg-Fuhlsbüttel-West", "DWD", "weather-hamburgwest@dwd.de", "+49-40-2000019"),
};

static const struct {
    const char *name;
    double lat, lon, weight;
    int op;
} cities[] = {
    {"Berlin", 52.520, 13.405, 0.18, 1},    {"Hamburg", 53.551, 9.993, 0.13, 0},
    {"Munich", 48.137, 11.575, 0.12, 0},    {"Cologne", 50.938, 6.960, 0.09, 2},
    {"Frankfurt", 50.110, 8.682, 0.08, 0},  {"Stuttgart", 48.776, 9.183, 0.08, 3},
    {"Düsseldorf", 51.227, 6.773, 0.07, 2}, {"Dortmund", 51.514, 7.468, 0.07, 2},
    {"Leipzig", 51.340, 12.375, 0.07, 1},   {"Nuremberg", 49.452, 11.077, 0.11, 0},
};
#define N_CITIES (sizeof cities / sizeof cities[0])

static const char *const streets[] = {
    "Hauptstraße", "Schulstraße",  "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
    "Birkenweg",   "Lindenstraße", "Kirchstraße",  "Waldstraße",    "Ringstraße", "Schillerstraße"};
static const char *const makers[] = {"Landis+Gyr", "ABB", "Itron", "Siemens", "Elster"};
static const char *const tariffs[] = {"standard", "time_of_use", "demand_response"};

static const char *const fault_names[MTR_SIM_FAULT_COUNT] = {
    "gap", "spike", "zero_run", "counter_reset", "frozen", "voltage_sag", "frequency_excursion"};

const char *mtr_sim_fault_name(int fault)
{
    return fault >= 0 && fault < MTR_SIM_FAULT_COUNT ? fault_names[fault] : NULL;
}

const struct mtr_sim_operator_info *mtr_sim_operator_info(int i)
{
    return i >= 0 && i < MTR_SIM_OPERATORS ? &operators[i] : NULL;
}

const struct mtr_sim_station_info *mtr_sim_station_info(int i)
{
    return i >= 0 && i < MTR_SIM_STATIONS ? &stations[i] : NULL;
}

/* ---------------------------------------------------------------- config and fleet */

enum { STREAM_FLEET = 1, STREAM_LOAD, STREAM_FAULT, STREAM_GRID, STREAM_EXCUR, STREAM_WEATHER };

void mtr_sim_config_default(struct mtr_sim_config *c)
{
    c->seed = 1;
    c->start = mtr_sim_days_from_civil(2026, 1, 1) * 86400;
    c->days = 30;
    c->interval_s = 900;
    c->fault_rate = 1.0;
}

int mtr_sim_config_check(const struct mtr_sim_config *c, struct mtr_errbuf *eb)
{
    if (c->days < 1 || c->days > 3660)
        return mtr_err(eb, MTR_EINVAL, "days must be 1..3660 (got %d)", (int)c->days);
    if (c->interval_s < 60 || c->interval_s > 3600 || 3600 % c->interval_s != 0)
        return mtr_err(eb, MTR_EINVAL, "interval must divide one hour and be >= 60 s (got %d s)",
                       (int)c->interval_s);
    if (c->start % 86400 != 0)
        return mtr_err(eb, MTR_EINVAL, "start must be a UTC midnight");
    if (!(c->fault_rate >= 0 && c->fault_rate <= 100))
        return mtr_err(eb, MTR_EINVAL, "fault rate must be 0..100");
    return MTR_OK;
}

static double dist2(double lat1, double lon1, double lat2, double lon2)
{
    double dx = (lon1 - lon2) * cos((lat1 + lat2) * 0.5 * 3.141592653589793 / 180.0),
           dy = lat1 - lat2;
    return dx * dx + dy * dy;
}

void mtr_sim_make_meter(const struct mtr_sim_config *c, uint32_t index, struct mtr_sim_meter *out)
{
    uint64_t r[4];
    rng_seed(r, c->seed, STREAM_FLEET, index);
    struct mtr_meter *m = &out->info;
    memset(out, 0, sizeof *out);
    mtr_meter_init(m);
    out->index = index;
    snprintf(m->id, sizeof m->id, "SM%06u", (unsigned)index);
    double u = rng_u(r);
    m->type = u < 0.7   ? MTR_METER_RESIDENTIAL
              : u < 0.9 ? MTR_METER_COMMERCIAL
                        : MTR_METER_INDUSTRIAL;
    u = rng_u(r);
    size_t ci = 0;
    double acc = 0;
    for (ci = 0; ci < N_CITIES - 1; ci++) {
        acc += cities[ci].weight;
        if (u < acc)
            break;
    }
    m->latitude = round_to(cities[ci].lat + 0.045 * clampd(rng_norm(r), -3, 3), 1e6);
    m->longitude = round_to(cities[ci].lon + 0.07 * clampd(rng_norm(r), -3, 3), 1e6);
    snprintf(m->address, sizeof m->address, "%s %d, %s, Germany",
             streets[rng_int(r, 0, sizeof streets / sizeof streets[0] - 1)],
             (int)rng_int(r, 1, 199), cities[ci].name);
    snprintf(m->manufacturer, sizeof m->manufacturer, "%s", makers[rng_int(r, 0, 4)]);
    snprintf(m->model, sizeof m->model, "Model-%04d", (int)rng_int(r, 1000, 9999));
    snprintf(m->firmware, sizeof m->firmware, "%d.%d.%d", (int)rng_int(r, 1, 5),
             (int)rng_int(r, 0, 9), (int)rng_int(r, 0, 9));
    snprintf(m->tariff, sizeof m->tariff, "%s", tariffs[rng_int(r, 0, 2)]);
    m->status = MTR_METER_ACTIVE;
    /* installed 0.2 .. 8 years before the start, at a whole second */
    m->installed_at = c->start - (int64_t)rng_range(r, 0.2 * 365 * 86400, 8.0 * 365 * 86400);
    out->op = cities[ci].op;
    snprintf(m->operator_id, sizeof m->operator_id, "%s", operators[out->op].op.id);
    int best = 0;
    for (int s = 1; s < MTR_SIM_STATIONS; s++)
        if (dist2(m->latitude, m->longitude, stations[s].st.latitude, stations[s].st.longitude) <
            dist2(m->latitude, m->longitude, stations[best].st.latitude,
                  stations[best].st.longitude))
            best = s;
    out->station = best;
    snprintf(m->station_id, sizeof m->station_id, "%s", stations[best].st.id);

    double z = clampd(rng_norm(r), -3, 3);
    switch (m->type) {
    case MTR_METER_RESIDENTIAL:
        out->pattern = 0;
        out->daily_kwh = clampd(11.0 * exp(0.2 * z), 7.5, 16);
        out->heat_sens = rng_range(r, 0.02, 0.20);
        out->cool_sens = rng_range(r, 0.0, 0.15);
        out->shift_h = rng_range(r, -0.75, 0.75);
        break;
    case MTR_METER_COMMERCIAL:
        out->pattern = 1;
        out->daily_kwh = clampd(250.0 * exp(0.4 * z), 100, 600);
        out->heat_sens = rng_range(r, 0.02, 0.20);
        out->cool_sens = rng_range(r, 0.05, 0.30);
        out->shift_h = rng_range(r, -0.5, 0.5);
        break;
    default:
        out->pattern = rng_u(r) < 0.5 ? 2 : 3;
        out->daily_kwh = clampd(3200.0 * exp(0.55 * z), 1000, 10000);
        out->heat_sens = rng_range(r, 0.0, 0.08);
        out->cool_sens = rng_range(r, 0.0, 0.10);
        out->shift_h = rng_range(r, -0.25, 0.25);
        break;
    }
    out->daily_kwh = round_to(out->daily_kwh, 100);
    m->base_kwh = out->daily_kwh;
    out->v_offset = rng_range(r, -4, 4);
    out->pf = rng_range(r, 0.92, 0.98);
    out->register0 = round_to(rng_range(r, 1000, 50000), 1e4);
}

/* ---------------------------------------------------------------- state */

struct mtr_sim_meter_state {
    uint64_t rng[4];  /* natural data */
    uint64_t frng[4]; /* fault schedule and fault values */
    double ar;        /* log-scale load noise */
    double reg;       /* cumulative register, kWh */
    double dmax[7];   /* natural daily maxima of the last 7 days (slot = day % 7) */
    int64_t day;
    int64_t prev_q; /* last emitted kWh in 1e-4 units; -1 before the first */
    int fault;      /* active fault, -1 none */
    int64_t fstart, fend, next_at;
    double fparam; /* spike factor */
    int64_t frozen_q;
};

/* Mean length (intervals) of a per-meter fault of a uniformly chosen type. */
static const double mean_fault_len = (0.5 * 6.5 + 0.5 * 26.5 + 1 + 30 + 1 + 10 + 2.5) / 6.0;

static void gen_weather_hour(struct mtr_sim *s, int64_t hour, struct mtr_weather_obs *out);

static void schedule_excursion(struct mtr_sim *s, struct mtr_sim_op_state *o, int64_t from)
{
    o->next_start = o->next_end = NONE;
    if (s->cfg.fault_rate <= 0)
        return;
    int64_t st = from + rng_geom(o->xrng, s->op_p);
    int64_t len = rng_int(o->xrng, 1, 4);
    int low = rng_u(o->xrng) < 0.5;
    if (st + len - 1 > s->total - 1 - END_MARGIN)
        return;
    o->next_start = st;
    o->next_end = st + len - 1;
    o->x_lo = low ? 49.55 : 50.25;
    o->x_hi = low ? 49.75 : 50.45;
}

int mtr_sim_init(struct mtr_sim *s, const struct mtr_sim_config *cfg,
                 const struct mtr_sim_meter *meters, size_t n, struct mtr_errbuf *eb)
{
    memset(s, 0, sizeof *s);
    int rc = mtr_sim_config_check(cfg, eb);
    if (rc < 0)
        return rc;
    if (n == 0 || !meters)
        return mtr_err(eb, MTR_EINVAL, "the fleet needs at least one meter");
    s->cfg = *cfg;
    s->meters = meters;
    s->n = n;
    s->per_day = 86400 / cfg->interval_s;
    s->total = (int64_t)cfg->days * s->per_day;
    s->ms = calloc(n, sizeof *s->ms);
    s->labels = calloc(n, sizeof *s->labels);
    if (!s->ms || !s->labels) {
        mtr_sim_free(s);
        return mtr_err(eb, MTR_ENOMEM, "out of memory for %zu meters", n);
    }
    for (int p = 0; p < 4; p++) {
        double sum = 0;
        for (int h = 0; h < 24; h++)
            sum += profiles[p][0][h];
        s->shape_norm[p] = sum / 24.0;
    }
    /* Geometric waits sized so each meter sees fault_rate faults of each type per 30 days:
     * start-to-start = fault length + FAULT_SEP + wait. */
    double R = cfg->fault_rate;
    if (R > 0) {
        double g = 30.0 * s->per_day / (6.0 * R) - mean_fault_len - FAULT_SEP;
        s->meter_p = g < 0 ? 1.0 : 1.0 / (g + 1.0);
        double go = 30.0 * s->per_day / R - 2.5 - EXCUR_MINSEP;
        s->op_p = go < 0 ? 1.0 : 1.0 / (go + 1.0);
    }
    for (int o = 0; o < MTR_SIM_OPERATORS; o++) {
        struct mtr_sim_op_state *op = &s->ops[o];
        rng_seed(op->rng, cfg->seed, STREAM_GRID, (uint64_t)o);
        rng_seed(op->xrng, cfg->seed, STREAM_EXCUR, (uint64_t)o);
        op->prev_end = -1000000;
        schedule_excursion(s, op, s->per_day);
        mtr_grid_status_init(&s->grid[o]);
    }
    for (size_t i = 0; i < n; i++) {
        struct mtr_sim_meter_state *m = &s->ms[i];
        uint32_t idx = meters[i].index;
        rng_seed(m->rng, cfg->seed, STREAM_LOAD, idx);
        rng_seed(m->frng, cfg->seed, STREAM_FAULT, idx);
        m->reg = meters[i].register0;
        m->prev_q = -1;
        m->day = -1;
        m->fault = -1;
        m->next_at = R > 0 ? s->per_day + rng_geom(m->frng, s->meter_p) : NONE;
    }
    rng_seed(s->wrng, cfg->seed, STREAM_WEATHER, 0);
    s->nat_t = 3.5 * clampd(rng_norm(s->wrng), -2, 2);
    s->nat_p = 9.0 * clampd(rng_norm(s->wrng), -2, 2);
    s->nat_cloud = clampd(rng_norm(s->wrng), -2, 2);
    s->nat_wind = 0.45 * clampd(rng_norm(s->wrng), -2, 2);
    s->nat_dir = clampd(rng_norm(s->wrng), -2, 2);
    gen_weather_hour(s, 0, s->wx[0]);
    double sum = 0;
    for (int k = 0; k < MTR_SIM_STATIONS; k++)
        sum += s->wx[0][k].temperature_c;
    s->wx_mean_t = sum / MTR_SIM_STATIONS;
    gen_weather_hour(s, 1, s->wx[1]);
    s->wx_hour = 0;
    return MTR_OK;
}

void mtr_sim_free(struct mtr_sim *s)
{
    free(s->ms);
    free(s->labels);
    s->ms = NULL;
    s->labels = NULL;
}

size_t mtr_sim_state_bytes(const struct mtr_sim *s)
{
    return sizeof *s + s->n * (sizeof *s->ms + sizeof *s->labels);
}

int64_t mtr_sim_time(const struct mtr_sim *s)
{
    return s->cfg.start + (s->t - 1) * s->cfg.interval_s;
}

const struct mtr_sim_label *mtr_sim_labels(const struct mtr_sim *s, size_t *n)
{
    *n = s->n_labels;
    return s->labels;
}

const struct mtr_grid_status *mtr_sim_grid(const struct mtr_sim *s, size_t *n)
{
    *n = s->t > 0 ? MTR_SIM_OPERATORS : 0;
    return s->grid;
}

const struct mtr_weather_obs *mtr_sim_weather(const struct mtr_sim *s, size_t *n)
{
    *n = s->wx_emit ? MTR_SIM_STATIONS : 0;
    return s->wx[0];
}

/* ---------------------------------------------------------------- weather */

static void gen_weather_hour(struct mtr_sim *s, int64_t hour, struct mtr_weather_obs *out)
{
    uint64_t *r = s->wrng;
    int64_t ts = s->cfg.start + hour * 3600;
    s->nat_t = 0.985 * s->nat_t + 0.60 * rng_norm(r);
    s->nat_p = 0.995 * s->nat_p + 0.90 * rng_norm(r);
    s->nat_cloud = 0.97 * s->nat_cloud + 0.243 * rng_norm(r);
    s->nat_wind = 0.97 * s->nat_wind + 0.109 * rng_norm(r);
    s->nat_dir = 0.99 * s->nat_dir + 0.14 * rng_norm(r);
    int y, m, d;
    int64_t z = floordiv(ts, 86400);
    mtr_sim_civil_from_days(z, &y, &m, &d);
    double doy = (double)(z - mtr_sim_days_from_civil(y, 1, 1)) + (double)(ts - z * 86400) / 86400;
    double season = cos(6.283185307179586 * (doy - 15.0) / 365.25); /* 1 mid-January */
    double utc_h = (double)(ts - z * 86400) / 3600.0;
    for (int k = 0; k < MTR_SIM_STATIONS; k++) {
        const struct mtr_station *st = &stations[k].st;
        struct mtr_sim_wx_state *w = &s->wst[k];
        struct mtr_weather_obs *o = &out[k];
        w->t_ar = 0.9 * w->t_ar + 0.35 * rng_norm(r);
        w->cloud_ar = 0.9 * w->cloud_ar + 0.22 * rng_norm(r);
        w->wind_ar = 0.9 * w->wind_ar + 0.09 * rng_norm(r);
        double p = 1013.0 + s->nat_p + 0.3 * rng_norm(r);
        double cloud =
            100.0 / (1.0 + exp(-(s->nat_cloud + w->cloud_ar + 0.5 * season - (p - 1013.0) / 12.0)));
        double solar = utc_h + st->longitude / 15.0;
        double diurnal = cos(6.283185307179586 * (solar - 15.0) / 24.0);
        double amp = (4.5 - 1.5 * season) * (1.0 - 0.5 * cloud / 100.0);
        double t = 9.5 - 9.0 * season - 0.6 * (st->latitude - 51.0) - 0.0065 * st->elevation_m +
                   amp * diurnal + s->nat_t + w->t_ar;
        double hum = 78.0 + 7.0 * season - 12.0 * diurnal * (1.0 - 0.5 * cloud / 100.0) +
                     12.0 * (cloud / 100.0 - 0.5) + 3.0 * rng_norm(r);
        double wind = exp(log(3.8) + s->nat_wind + w->wind_ar + (1013.0 - p) / 40.0);
        double dir = fmod(240.0 + 60.0 * s->nat_dir + 15.0 * rng_norm(r) + 720.0, 360.0);
        double u = rng_u(r), amount = -1.0 * log(1.0 - rng_u(r));
        double precip = cloud > 70 && u < (cloud - 70.0) / 30.0 * 0.6 ? amount : 0.0;
        mtr_weather_obs_init(o);
        memcpy(o->station_id, st->id, sizeof o->station_id);
        o->ts = ts;
        o->temperature_c = round_to(t, 10);
        o->humidity_pct = round_to(clampd(hum, 20, 100), 10);
        o->pressure_hpa = round_to(p, 10);
        o->wind_speed_ms = round_to(clampd(wind, 0, 35), 10);
        o->wind_direction_deg = round_to(dir, 1);
        if (o->wind_direction_deg >= 360)
            o->wind_direction_deg = 0;
        o->precipitation_mm = round_to(precip, 10);
        o->cloud_cover_pct = round_to(cloud, 1);
    }
}

/* ---------------------------------------------------------------- one interval */

struct clock_ctx {
    double lh;  /* local hour of day, fractional */
    int dt[4];  /* day types of local days -1, 0, +1, +2 */
    double wxf; /* fraction of the hour elapsed (weather interpolation) */
};

static double shape_at(const double prof[3][24], const struct clock_ctx *c, double shift)
{
    double h = c->lh + shift;
    int di = 1;
    if (h < 0) {
        h += 24;
        di = 0;
    } else if (h >= 24) {
        h -= 24;
        di = 2;
    }
    int h0 = (int)h;
    if (h0 > 23)
        h0 = 23;
    double f = h - h0;
    double a = prof[c->dt[di]][h0];
    double b = h0 == 23 ? prof[c->dt[di + 1]][0] : prof[c->dt[di]][h0 + 1];
    return a + (b - a) * f;
}

static void push_label(struct mtr_sim *s, size_t i, int fault, int64_t a, int64_t b)
{
    struct mtr_sim_label *l = &s->labels[s->n_labels++];
    l->meter = (uint32_t)i;
    l->fault = fault;
    l->start = s->cfg.start + a * s->cfg.interval_s;
    l->end = s->cfg.start + b * s->cfg.interval_s;
    s->counts[fault]++;
}

/*
 * Fault scheduling, per meter, memoryless: after a fault ends at e, the next one is due at
 * e + 1 + FAULT_SEP + Geometric(p) (the first one after the first day); its type is uniform over
 * the six meter faults, its length drawn per type. It starts only if it ends END_MARGIN intervals
 * before the end and keeps FAULT_SEP intervals from the operator's previous and next frequency
 * excursion (each operator always knows its next one); otherwise a new due time is drawn.
 * A counter_reset reports minus the register and leaves the register itself untouched (the
 * head-end re-bases on the next read), so every counter_reset value is <= -1000 kWh.
 */
static void schedule_meter_fault(struct mtr_sim *s, size_t i, int64_t k)
{
    struct mtr_sim_meter_state *m = &s->ms[i];
    const struct mtr_sim_op_state *o = &s->ops[s->meters[i].op];
    int type = (int)rng_int(m->frng, 0, 5);
    int64_t len = 1;
    switch (type) {
    case MTR_SIM_GAP:
        len = rng_u(m->frng) < 0.5 ? rng_int(m->frng, 1, 12) : rng_int(m->frng, 13, 40);
        break;
    case MTR_SIM_ZERO_RUN:
        len = rng_int(m->frng, 12, 48);
        break;
    case MTR_SIM_FROZEN:
        len = rng_int(m->frng, 4, 16);
        break;
    case MTR_SIM_VOLTAGE_SAG:
        len = rng_int(m->frng, 1, 4);
        break;
    default:
        break;
    }
    double param = rng_range(m->frng, 5.0, 12.0);
    int64_t end = k + len - 1;
    if (end > s->total - 1 - END_MARGIN || k <= o->prev_end + FAULT_SEP ||
        (o->next_start != NONE && end + FAULT_SEP >= o->next_start) || m->prev_q <= 0) {
        m->next_at = k + 1 + rng_geom(m->frng, s->meter_p);
        return;
    }
    m->fault = type;
    m->fstart = k;
    m->fend = end;
    m->fparam = param;
    m->frozen_q = m->prev_q;
    push_label(s, i, type, k, end);
}

static void step_operators(struct mtr_sim *s, int64_t k, int64_t ts, const struct clock_ctx *c)
{
    double phi_f = pow(0.85, s->cfg.interval_s / 900.0),
           phi_v = pow(0.95, s->cfg.interval_s / 900.0);
    for (int i = 0; i < MTR_SIM_OPERATORS; i++) {
        struct mtr_sim_op_state *o = &s->ops[i];
        if (o->next_start != NONE && k > o->next_end) {
            o->prev_end = o->next_end;
            schedule_excursion(s, o, o->prev_end + 1 + EXCUR_MINSEP);
        }
        o->f_ar = phi_f * o->f_ar + 0.02 * sqrt(1 - phi_f * phi_f) * rng_norm(o->rng);
        o->v_ar = phi_v * o->v_ar + 3.0 * sqrt(1 - phi_v * phi_v) * rng_norm(o->rng);
        o->load_ar = phi_v * o->load_ar + 0.02 * sqrt(1 - phi_v * phi_v) * rng_norm(o->rng);
        double stab_noise = rng_norm(o->rng);
        double agg = 0.6 * shape_at(profiles[0], c, 0) / s->shape_norm[0] +
                     0.4 * shape_at(profiles[1], c, 0) / s->shape_norm[1];
        double lf = clampd(0.30 + 0.25 * agg + 0.006 * fmax(0, 15.0 - s->wx_mean_t) + o->load_ar,
                           0.2, 0.95);
        struct mtr_grid_status *g = &s->grid[i];
        const struct mtr_operator *info = &operators[i].op;
        memcpy(g->operator_id, info->id, sizeof g->operator_id);
        g->ts = ts;
        g->line = 0;
        g->capacity_mw = info->capacity_mw;
        g->load_mw = round_to(lf * info->capacity_mw, 10);
        g->voltage_kv = round_to(400.0 + clampd(o->v_ar, -9, 11), 10);
        if (k >= o->next_start && k <= o->next_end) {
            g->frequency_hz = round_to(rng_range(o->xrng, o->x_lo, o->x_hi), 1000);
            g->stability = round_to(rng_range(o->xrng, 0.70, 0.84), 1000);
        } else {
            g->frequency_hz = round_to(50.0 + clampd(o->f_ar, -0.12, 0.12), 1000);
            g->stability = round_to(
                clampd(0.985 - 0.15 * fmax(0, lf - 0.4) + 0.008 * stab_noise, 0.85, 0.99), 1000);
        }
    }
}

int mtr_sim_next_interval(struct mtr_sim *s, struct mtr_reading *out, size_t cap, size_t *n)
{
    *n = 0;
    s->n_labels = 0;
    s->wx_emit = 0;
    if (s->t >= s->total)
        return 0;
    if (cap < s->n)
        return MTR_ERANGE;
    const int64_t k = s->t, iv = s->cfg.interval_s;
    const int64_t ts = s->cfg.start + k * iv;
    const int64_t hour = k * iv / 3600;
    while (s->wx_hour < hour) {
        memcpy(s->wx[0], s->wx[1], sizeof s->wx[0]);
        s->wx_hour++;
        double sum = 0;
        for (int j = 0; j < MTR_SIM_STATIONS; j++)
            sum += s->wx[0][j].temperature_c;
        s->wx_mean_t = sum / MTR_SIM_STATIONS;
        gen_weather_hour(s, s->wx_hour + 1, s->wx[1]);
    }
    s->wx_emit = (k * iv) % 3600 == 0;

    struct clock_ctx c;
    int64_t local = ts + local_offset(ts);
    int64_t lday = floordiv(local, 86400);
    c.lh = (double)(local - lday * 86400) / 3600.0;
    for (int j = 0; j < 4; j++)
        c.dt[j] = day_type(lday - 1 + j);
    c.wxf = (double)((k * iv) % 3600) / 3600.0;
    step_operators(s, k, ts, &c);

    const double ivh = (double)iv / 3600.0;
    const double phi = pow(0.75, (double)iv / 900.0), innov = sqrt(1 - phi * phi);
    const int64_t day = k / s->per_day;
    size_t cnt = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct mtr_sim_meter *mt = &s->meters[i];
        struct mtr_sim_meter_state *m = &s->ms[i];
        const struct mtr_sim_op_state *o = &s->ops[mt->op];
        const int ty = mt->info.type;
        /* natural values: always drawn in the same order, whatever the faults */
        double t0 = s->wx[0][mt->station].temperature_c, t1 = s->wx[1][mt->station].temperature_c;
        double temp = t0 + (t1 - t0) * c.wxf;
        double wf = 1.0 + mt->heat_sens * fmax(0, 15.0 - temp) / 10.0 +
                    mt->cool_sens * fmax(0, temp - 22.0) / 10.0;
        double sa = noise_ar[ty], sw = noise_white[ty];
        m->ar = clampd(phi * m->ar + sa * innov * rng_norm(m->rng), -2.5 * sa, 2.5 * sa);
        double white = clampd(sw * rng_norm(m->rng), -2.5 * sw, 2.5 * sw);
        double shape =
            shape_at(profiles[mt->pattern], &c, mt->shift_h) / s->shape_norm[mt->pattern];
        double kwh = mt->daily_kwh / s->per_day * shape * wf * exp(m->ar + white);
        int64_t q = llround(kwh * 1e4);
        if (q < 1)
            q = 1;
        double volt = round_to(clampd(230.0 + mt->v_offset + 1.5 * rng_norm(m->rng), 215, 245), 10);
        double pf = round_to(clampd(mt->pf + 0.01 * rng_norm(m->rng), 0.90, 0.99), 1000);

        if (day != m->day) {
            m->day = day;
            m->dmax[day % 7] = 0;
        }
        double typical = 0;
        for (int j = 0; j < 7; j++)
            typical = fmax(typical, m->dmax[j]);
        m->dmax[day % 7] = fmax(m->dmax[day % 7], (double)q / 1e4);
        double reg_before = m->reg;
        m->reg += (double)q / 1e4;

        /* faults */
        if (m->fault >= 0 && k > m->fend) {
            m->fault = -1;
            m->next_at = m->fend + 1 + FAULT_SEP + rng_geom(m->frng, s->meter_p);
        }
        if (k == o->next_start) {
            push_label(s, i, MTR_SIM_FREQ_EXCURSION, o->next_start, o->next_end);
        } else if (m->fault < 0 && k >= m->next_at) {
            schedule_meter_fault(s, i, k);
        }
        int f = m->fault;
        if (f == MTR_SIM_GAP)
            continue;
        int64_t qo = q; /* emitted kWh */
        int64_t qi = q; /* kWh behind the current */
        switch (f) {
        case MTR_SIM_SPIKE:
            qo = llround(m->fparam * typical * 1e4);
            break;
        case MTR_SIM_ZERO_RUN:
            qo = qi = 0;
            break;
        case MTR_SIM_COUNTER_RESET:
            qo = -llround(reg_before * 1e4);
            break;
        case MTR_SIM_FROZEN:
            qo = m->frozen_q;
            break;
        case MTR_SIM_VOLTAGE_SAG:
            volt = round_to(rng_range(m->frng, 170.0, 200.0), 10);
            /* fall through */
        default:
            if (qo == m->prev_q)
                qo = qi = q + 1;
            break;
        }
        m->prev_q = qo;
        struct mtr_reading *r = &out[cnt++];
        memcpy(r->meter_id, mt->info.id, sizeof r->meter_id);
        r->ts = ts;
        r->interval_s = (int32_t)iv;
        r->line = 0;
        r->kwh = (double)qo / 1e4;
        r->voltage_v = volt;
        r->power_factor = pf;
        r->current_a = round_to((double)qi / 1e4 / ivh * 1000.0 / (volt * pf), 100);
        r->frequency_hz = s->grid[mt->op].frequency_hz;
        r->active_power_kw = NAN;
        r->reactive_power_kvar = NAN;
    }
    s->t++;
    *n = cnt;
    return 1;
}
