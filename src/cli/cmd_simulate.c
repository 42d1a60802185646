/*
 * cmd_simulate.c - `metrify simulate`: writes a simulated fleet (core/sim.h) as CSV: readings,
 * fault labels, grid status, weather, and master data in the layout of the reference CSVs.
 * Numbers go through a hand-written fixed-point formatter into large buffers, because printf per
 * field would dominate the run time (millions of rows).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/sim.h"
#include "core/vocab.h"

#define OB_SIZE (1 << 17)

/* A buffered output file; write errors are remembered and reported once at the end. */
struct outbuf {
    FILE *f;
    const char *path;
    int owned; /* 1: we fclose it */
    int err;
    size_t len;
    char buf[OB_SIZE];
};

static void ob_flush(struct outbuf *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->err = errno ? errno : EIO;
    o->len = 0;
}

/* Room for `need` (< OB_SIZE) more bytes; returns the write position. */
static inline char *ob_reserve(struct outbuf *o, size_t need)
{
    if (o->len + need > OB_SIZE)
        ob_flush(o);
    return o->buf + o->len;
}

static void ob_puts(struct outbuf *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(ob_reserve(o, n), s, n);
    o->len += n;
}

/* Writes q / 10^dec with exactly dec decimals ("-12.0300"); returns the end. */
static char *put_fixed(char *p, int64_t q, int dec)
{
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint64_t u;
    if (q < 0) {
        *p++ = '-';
        u = (uint64_t)0 - (uint64_t)q;
    } else {
        u = (uint64_t)q;
    }
    uint64_t ip = u / (uint64_t)pow10[dec], fp = u % (uint64_t)pow10[dec];
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (n)
        *p++ = tmp[--n];
    if (dec > 0) {
        *p++ = '.';
        for (int i = dec - 1; i >= 0; i--) {
            p[i] = (char)('0' + fp % 10);
            fp /= 10;
        }
        p += dec;
    }
    return p;
}

static inline char *put_num(char *p, double x, int dec)
{
    static const double scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    return put_fixed(p, llround(x * scale[dec]), dec);
}

static inline char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static void iso_utc(int64_t ts, char out[32])
{
    time_t t = (time_t)ts;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The reference layout's timestamps: no zone, microseconds. */
static void iso_ref(int64_t ts, char out[40])
{
    time_t t = (time_t)ts;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

static int ob_open(struct outbuf **out, const char *path)
{
    struct outbuf *o = malloc(sizeof *o);
    if (!o) {
        mtr_cli_error("simulate: out of memory");
        return MTR_EXIT_INTERNAL;
    }
    o->len = 0;
    o->err = 0;
    o->path = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->owned = 0;
    } else {
        o->f = fopen(path, "wb");
        o->owned = 1;
        if (!o->f) {
            mtr_cli_error("simulate: cannot create %s: %s", path, strerror(errno));
            free(o);
            return MTR_EXIT_IO;
        }
    }
    *out = o;
    return MTR_EXIT_OK;
}

/* Flushes and closes; returns MTR_EXIT_IO (after a message) on any write error. */
static int ob_close(struct outbuf *o)
{
    if (!o)
        return MTR_EXIT_OK;
    ob_flush(o);
    int err = o->err;
    if (fflush(o->f) != 0 && !err)
        err = errno ? errno : EIO;
    if (o->owned && fclose(o->f) != 0 && !err)
        err = errno ? errno : EIO;
    if (err)
        mtr_cli_error("simulate: cannot write %s: %s", strcmp(o->path, "-") ? o->path : "stdout",
                      strerror(err));
    free(o);
    return err ? MTR_EXIT_IO : MTR_EXIT_OK;
}

/* ---------------------------------------------------------------- master data */

static const char *const meters_header =
    "meter_id,latitude,longitude,address,manufacturer,model,installation_date,status,quality_tier,"
    "firmware_version,meter_type,tariff_type,base_consumption,voltage_range,current_range,"
    "created_at,updated_at,operator_id\n";
static const char *const operators_header =
    "operator_id,name,operator_type,latitude,longitude,address,contact_email,contact_phone,"
    "website,status,grid_capacity_mw,voltage_level_kv,coverage_area_km2,grid_region,control_area,"
    "created_at,updated_at\n";
static const char *const stations_header =
    "station_id,name,station_type,latitude,longitude,address,operator,contact_email,"
    "contact_phone,status,elevation_m,total_observations,average_quality_score,created_at,"
    "updated_at\n";

/* Writes s as a CSV field, quoted when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        mtr_cli_error("simulate: cannot create %s: %s", path, strerror(errno));
    return f;
}

static int close_checked(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        mtr_cli_error("simulate: cannot write %s", path);
        return MTR_EXIT_IO;
    }
    return MTR_EXIT_OK;
}

static int write_master(const char *dir, const struct mtr_sim_config *cfg,
                        const struct mtr_sim_meter *meters, size_t n)
{
    char path[4096], created[40], inst[40];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        mtr_cli_error("simulate: cannot create directory %s: %s", dir, strerror(errno));
        return MTR_EXIT_IO;
    }
    iso_ref(cfg->start - 86400, created);
    static const char *const current_range[] = {"(1, 15)", "(5, 30)", "(10, 100)"};

    FILE *f = open_in(dir, "meters.csv", path, sizeof path);
    if (!f)
        return MTR_EXIT_IO;
    fputs(meters_header, f);
    for (size_t i = 0; i < n; i++) {
        const struct mtr_meter *m = &meters[i].info;
        iso_ref(m->installed_at, inst);
        fprintf(f, "%s,%.6f,%.6f,", m->id, m->latitude, m->longitude);
        csv_field(f, m->address);
        fputc(',', f);
        csv_field(f, m->manufacturer);
        fprintf(f, ",%s,%s,ACTIVE,UNKNOWN,%s,%s,%s,%.2f,\"(220, 240)\",\"%s\",%s,%s,%s\n", m->model,
                inst, m->firmware, mtr_meter_type_name(m->type), m->tariff, m->base_kwh,
                current_range[m->type], created, created, m->operator_id);
    }
    int rc = close_checked(f, path);
    if (rc)
        return rc;

    f = open_in(dir, "operators.csv", path, sizeof path);
    if (!f)
        return MTR_EXIT_IO;
    fputs(operators_header, f);
    for (int i = 0; i < MTR_SIM_OPERATORS; i++) {
        const struct mtr_sim_operator_info *o = mtr_sim_operator_info(i);
        csv_field(f, o->op.id);
        fputc(',', f);
        csv_field(f, o->op.name);
        fprintf(f, ",%s,%g,%g,", o->op.type, o->op.latitude, o->op.longitude);
        csv_field(f, o->address);
        fprintf(f, ",%s,%s,%s,ACTIVE,%g,%g,%g,", o->email, o->phone, o->website, o->op.capacity_mw,
                o->op.voltage_kv, o->coverage_km2);
        csv_field(f, o->op.region);
        fputc(',', f);
        csv_field(f, o->control_area);
        fprintf(f, ",%s,%s\n", created, created);
    }
    rc = close_checked(f, path);
    if (rc)
        return rc;

    f = open_in(dir, "stations.csv", path, sizeof path);
    if (!f)
        return MTR_EXIT_IO;
    fputs(stations_header, f);
    for (int i = 0; i < MTR_SIM_STATIONS; i++) {
        const struct mtr_sim_station_info *s = mtr_sim_station_info(i);
        csv_field(f, s->st.id);
        fputc(',', f);
        csv_field(f, s->st.name);
        fprintf(f, ",%s,%.4f,%.4f,", s->st.type, s->st.latitude, s->st.longitude);
        csv_field(f, s->address);
        fputc(',', f);
        csv_field(f, s->operator_name);
        fprintf(f, ",%s,%s,ACTIVE,%g,%lld,1.0,%s,%s\n", s->email, s->phone, s->st.elevation_m,
                (long long)cfg->days * 24, created, created);
    }
    return close_checked(f, path);
}

/* ---------------------------------------------------------------- arguments */

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: metrify simulate [OPTIONS]\n\n"
        "Generates a deterministic, realistic smart-meter fleet with labelled faults: interval\n"
        "readings (CSV on stdout or --out), and optionally the fault labels, grid status per\n"
        "operator, hourly weather per station and the master data.\n\n"
        "Options:\n"
        "  --meters N        meters in the fleet, SM000000.. (default 1000)\n"
        "  --days D          days to simulate, 1..3660 (default 30)\n"
        "  --interval I      15m, 30m, 1h, or seconds (900); must divide one hour (default 15m)\n"
        "  --seed S          random seed, unsigned integer (default 1)\n"
        "  --start DATE      first day, YYYY-MM-DD, UTC midnight (default 2026-01-01)\n"
        "  --out FILE|-      readings CSV (default -, stdout)\n"
        "  --labels FILE     fault labels: meter_id,fault,start,end (inclusive interval starts)\n"
        "  --grid FILE       grid status per operator per interval\n"
        "  --weather FILE    weather per station per hour\n"
        "  --master DIR      write DIR/meters.csv, operators.csv, stations.csv (reference layout;\n"
        "                    meters.csv adds operator_id: the TSO of the meter's city)\n"
        "  --fault-rate R    expected faults of each type per meter per 30 days (default 1.0)\n"
        "  --no-faults       a clean fleet (same as --fault-rate 0)\n"
        "  --json            summary as JSON on stdout (on stderr when readings go to stdout)\n"
        "  --help            this text\n\n"
        "Faults: gap, spike, zero_run, counter_reset, frozen, voltage_sag, frequency_excursion;\n"
        "never in the first day, never overlapping, >= 24 intervals apart per meter.\n"
        "The same arguments always give byte-identical files.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_interval(const char *s, int32_t *out)
{
    uint64_t v;
    char num[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    uint64_t mult = 1;
    if (num[n - 1] == 'm' || num[n - 1] == 'h' || num[n - 1] == 's') {
        mult = num[n - 1] == 'm' ? 60 : num[n - 1] == 'h' ? 3600 : 1;
        num[n - 1] = 0;
    }
    if (parse_u64(num, &v) < 0 || v == 0 || v > 3600)
        return -1;
    v *= mult;
    if (v < 60 || v > 3600 || 3600 % v != 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || s[4] != '-' ||
        s[7] != '-')
        return -1;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t z = mtr_sim_days_from_civil(y, m, d);
    int y2, m2, d2;
    mtr_sim_civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return -1;
    *out = z * 86400;
    return 0;
}

struct opts {
    struct mtr_sim_config cfg;
    uint64_t meters;
    const char *out, *labels, *grid, *weather, *master;
};

/* Returns MTR_EXIT_OK, MTR_EXIT_USAGE (message printed) or -1 for --help (printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    mtr_sim_config_default(&o->cfg);
    o->meters = 1000;
    o->out = "-";
    int no_faults = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char name[32];
        const char *eq = strchr(a, '=');
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--no-faults") == 0) {
            no_faults = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            mtr_cli_error("simulate: unexpected argument '%s' (see metrify simulate --help)", a);
            return MTR_EXIT_USAGE;
        }
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            v = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            if (i + 1 >= argc) {
                mtr_cli_error("simulate: option %s needs a value", a);
                return MTR_EXIT_USAGE;
            }
            v = argv[++i];
        }
        int bad = 0;
        if (strcmp(name, "--meters") == 0) {
            bad = parse_u64(v, &o->meters) < 0 || o->meters < 1 || o->meters > 10000000;
        } else if (strcmp(name, "--days") == 0) {
            uint64_t d;
            bad = parse_u64(v, &d) < 0 || d < 1 || d > 3660;
            o->cfg.days = bad ? 0 : (int32_t)d;
        } else if (strcmp(name, "--interval") == 0) {
            bad = parse_interval(v, &o->cfg.interval_s) < 0;
        } else if (strcmp(name, "--seed") == 0) {
            bad = parse_u64(v, &o->cfg.seed) < 0;
        } else if (strcmp(name, "--start") == 0) {
            bad = parse_date(v, &o->cfg.start) < 0;
        } else if (strcmp(name, "--fault-rate") == 0) {
            char *end;
            errno = 0;
            double r = strtod(v, &end);
            bad = !*v || *end || errno || !(r >= 0 && r <= 100);
            o->cfg.fault_rate = r;
        } else if (strcmp(name, "--out") == 0) {
            o->out = v;
        } else if (strcmp(name, "--labels") == 0) {
            o->labels = v;
        } else if (strcmp(name, "--grid") == 0) {
            o->grid = v;
        } else if (strcmp(name, "--weather") == 0) {
            o->weather = v;
        } else if (strcmp(name, "--master") == 0) {
            o->master = v;
        } else {
            mtr_cli_error("simulate: unknown option '%s' (see metrify simulate --help)", name);
            return MTR_EXIT_USAGE;
        }
        if (bad || !*v) {
            mtr_cli_error("simulate: invalid value '%s' for %s (see metrify simulate --help)", v,
                          name);
            return MTR_EXIT_USAGE;
        }
    }
    if (no_faults)
        o->cfg.fault_rate = 0;
    const char *files[] = {o->labels, o->grid, o->weather};
    for (int i = 0; i < 3; i++)
        if (files[i] && strcmp(files[i], "-") == 0) {
            mtr_cli_error("simulate: only --out may be '-' (stdout)");
            return MTR_EXIT_USAGE;
        }
    return MTR_EXIT_OK;
}

/* ---------------------------------------------------------------- the command */

static void write_readings(struct outbuf *o, const struct mtr_reading *r, size_t n, const char *ts)
{
    for (size_t i = 0; i < n; i++) {
        char *p = ob_reserve(o, 200), *b = p;
        p = put_str(p, r[i].meter_id);
        *p++ = ',';
        p = put_str(p, ts);
        *p++ = ',';
        p = put_num(p, r[i].kwh, 4);
        *p++ = ',';
        p = put_num(p, r[i].voltage_v, 1);
        *p++ = ',';
        p = put_num(p, r[i].current_a, 2);
        *p++ = ',';
        p = put_num(p, r[i].power_factor, 3);
        *p++ = ',';
        p = put_num(p, r[i].frequency_hz, 3);
        *p++ = '\n';
        o->len += (size_t)(p - b);
    }
}

int mtr_cmd_simulate(struct mtr_cli *cli, int argc, char **argv)
{
    struct opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc < 0)
        return MTR_EXIT_OK;
    if (rc)
        return rc;

    struct mtr_sim sim = {0};
    struct mtr_sim_meter *meters = calloc(o.meters, sizeof *meters);
    struct mtr_reading *buf = calloc(o.meters, sizeof *buf);
    struct outbuf *out = NULL, *lab = NULL, *grid = NULL, *wx = NULL;
    int64_t rows = 0, grid_rows = 0, wx_rows = 0;
    if (!meters || !buf) {
        mtr_cli_error("simulate: out of memory for %llu meters", (unsigned long long)o.meters);
        rc = MTR_EXIT_INTERNAL;
        goto out;
    }
    for (uint64_t i = 0; i < o.meters; i++)
        mtr_sim_make_meter(&o.cfg, (uint32_t)i, &meters[i]);
    struct mtr_errbuf eb = {{0}};
    int src = mtr_sim_init(&sim, &o.cfg, meters, o.meters, &eb);
    if (src < 0) {
        mtr_cli_error("simulate: %s", eb.msg);
        rc = mtr_cli_exit_code(src);
        goto out;
    }
    if (o.master && (rc = write_master(o.master, &o.cfg, meters, o.meters)) != 0)
        goto out;
    if ((rc = ob_open(&out, o.out)) != 0)
        goto out;
    if (o.labels && (rc = ob_open(&lab, o.labels)) != 0)
        goto out;
    if (o.grid && (rc = ob_open(&grid, o.grid)) != 0)
        goto out;
    if (o.weather && (rc = ob_open(&wx, o.weather)) != 0)
        goto out;
    ob_puts(out, "meter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,"
                 "frequency_hz\n");
    if (lab)
        ob_puts(lab, "meter_id,fault,start,end\n");
    if (grid)
        ob_puts(grid, "operator_id,timestamp,frequency_hz,voltage_kv,load_mw,capacity_mw,"
                      "stability\n");
    if (wx)
        ob_puts(wx, "station_id,timestamp,temperature_c,humidity_pct,pressure_hpa,wind_speed_ms,"
                    "wind_direction_deg,precipitation_mm,cloud_cover_pct\n");

    size_t n;
    int64_t k = 0;
    while ((src = mtr_sim_next_interval(&sim, buf, o.meters, &n)) == 1) {
        char ts[32];
        iso_utc(mtr_sim_time(&sim), ts);
        write_readings(out, buf, n, ts);
        rows += (int64_t)n;
        if (lab) {
            size_t nl;
            const struct mtr_sim_label *l = mtr_sim_labels(&sim, &nl);
            for (size_t i = 0; i < nl; i++) {
                char a[32], b[32];
                iso_utc(l[i].start, a);
                iso_utc(l[i].end, b);
                char *p = ob_reserve(lab, 160), *s0 = p;
                p = put_str(p, meters[l[i].meter].info.id);
                *p++ = ',';
                p = put_str(p, mtr_sim_fault_name(l[i].fault));
                *p++ = ',';
                p = put_str(p, a);
                *p++ = ',';
                p = put_str(p, b);
                *p++ = '\n';
                lab->len += (size_t)(p - s0);
            }
        }
        if (grid) {
            size_t ng;
            const struct mtr_grid_status *g = mtr_sim_grid(&sim, &ng);
            for (size_t i = 0; i < ng; i++) {
                char *p = ob_reserve(grid, 200), *s0 = p;
                p = put_str(p, g[i].operator_id);
                *p++ = ',';
                p = put_str(p, ts);
                *p++ = ',';
                p = put_num(p, g[i].frequency_hz, 3);
                *p++ = ',';
                p = put_num(p, g[i].voltage_kv, 1);
                *p++ = ',';
                p = put_num(p, g[i].load_mw, 1);
                *p++ = ',';
                p = put_num(p, g[i].capacity_mw, 1);
                *p++ = ',';
                p = put_num(p, g[i].stability, 3);
                *p++ = '\n';
                grid->len += (size_t)(p - s0);
            }
            grid_rows += (int64_t)ng;
        }
        if (wx) {
            size_t nw;
            const struct mtr_weather_obs *w = mtr_sim_weather(&sim, &nw);
            for (size_t i = 0; i < nw; i++) {
                char *p = ob_reserve(wx, 200), *s0 = p;
                p = put_str(p, w[i].station_id);
                *p++ = ',';
                p = put_str(p, ts);
                *p++ = ',';
                p = put_num(p, w[i].temperature_c, 1);
                *p++ = ',';
                p = put_num(p, w[i].humidity_pct, 1);
                *p++ = ',';
                p = put_num(p, w[i].pressure_hpa, 1);
                *p++ = ',';
                p = put_num(p, w[i].wind_speed_ms, 1);
                *p++ = ',';
                p = put_num(p, w[i].wind_direction_deg, 0);
                *p++ = ',';
                p = put_num(p, w[i].precipitation_mm, 1);
                *p++ = ',';
                p = put_num(p, w[i].cloud_cover_pct, 0);
                *p++ = '\n';
                wx->len += (size_t)(p - s0);
            }
            wx_rows += (int64_t)nw;
        }
        k++;
        if (cli->progress && k % sim.per_day == 0)
            fprintf(stderr, "\rsimulate: day %lld/%d", (long long)(k / sim.per_day),
                    (int)o.cfg.days);
    }
    if (cli->progress)
        fputc('\n', stderr);
    if (src < 0) {
        mtr_cli_error("simulate: %s", mtr_strerror(src));
        rc = MTR_EXIT_INTERNAL;
        goto out;
    }
    int crc = ob_close(out);
    out = NULL;
    rc = rc ? rc : crc;
    crc = ob_close(lab);
    lab = NULL;
    rc = rc ? rc : crc;
    crc = ob_close(grid);
    grid = NULL;
    rc = rc ? rc : crc;
    crc = ob_close(wx);
    wx = NULL;
    rc = rc ? rc : crc;
    if (rc)
        goto out;

    int64_t total = 0;
    for (int f = 0; f < MTR_SIM_FAULT_COUNT; f++)
        total += sim.counts[f];
    int to_stdout = strcmp(o.out, "-") == 0;
    if (cli->json) {
        json_t *faults = json_object();
        for (int f = 0; f < MTR_SIM_FAULT_COUNT; f++)
            json_object_set_new(faults, mtr_sim_fault_name(f), json_integer(sim.counts[f]));
        char start[32];
        iso_utc(o.cfg.start, start);
        json_t *j =
            json_pack("{s:I,s:I,s:I,s:i,s:s,s:i,s:I,s:f,s:I,s:I,s:I,s:o}", "meters",
                      (json_int_t)o.meters, "intervals", (json_int_t)sim.total, "readings",
                      (json_int_t)rows, "interval_s", (int)o.cfg.interval_s, "start", start, "days",
                      (int)o.cfg.days, "seed", (json_int_t)o.cfg.seed, "fault_rate",
                      o.cfg.fault_rate, "labels", (json_int_t)total, "grid_rows",
                      (json_int_t)grid_rows, "weather_rows", (json_int_t)wx_rows, "faults", faults);
        json_dumpf(j, to_stdout ? stderr : stdout, JSON_INDENT(2));
        fputc('\n', to_stdout ? stderr : stdout);
        json_decref(j);
    } else if (!cli->quiet) {
        fprintf(stderr,
                "simulate: %lld readings (%llu meters x %lld intervals of %d s), %lld faults:",
                (long long)rows, (unsigned long long)o.meters, (long long)sim.total,
                (int)o.cfg.interval_s, (long long)total);
        for (int f = 0; f < MTR_SIM_FAULT_COUNT; f++)
            fprintf(stderr, " %s %lld", mtr_sim_fault_name(f), (long long)sim.counts[f]);
        fputc('\n', stderr);
    }
    rc = MTR_EXIT_OK;
out:
    ob_close(out);
    ob_close(lab);
    ob_close(grid);
    ob_close(wx);
    mtr_sim_free(&sim);
    free(buf);
    free(meters);
    return rc;
}
