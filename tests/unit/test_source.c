/*
 * test_source.c - the file/stdin record source (adapters/io/source_file.h) and the decoders:
 * the bad-input catalogue (every malformed record gets the right rule, line and field, and every
 * valid record of the same file still arrives), gzip, NDJSON, column maps, and the real London
 * files from ../shared when present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "adapters/io/decode.h"
#include "adapters/io/source_file.h"
#include "base/err.h"
#include "t.h"

#define MAXREC 64

struct result {
    int rc_open, rc_end;
    int n_ok, n_err;
    struct mtr_record rec[MAXREC];
    struct mtr_record_error err[MAXREC];
    struct mtr_errbuf eb;
};

static char tmpdir[] = "/tmp/mtr_test_source_XXXXXX";

static char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static void run(const char *path, enum mtr_kind kind, const struct mtr_format *fmt,
                struct result *r)
{
    memset(r, 0, sizeof *r);
    struct mtr_source *src;
    r->rc_open = mtr_source_open(path, kind, fmt, &src, &r->eb);
    if (r->rc_open < 0)
        return;
    for (;;) {
        struct mtr_record rec;
        struct mtr_record_error err;
        memset(&err, 0, sizeof err);
        int rc = src->ops->next(src, &rec, &err);
        if (rc == 1) {
            if (r->n_ok < MAXREC)
                r->rec[r->n_ok] = rec;
            r->n_ok++;
        } else if (rc == MTR_EPARSE) {
            if (r->n_err < MAXREC)
                r->err[r->n_err] = err;
            r->n_err++;
        } else {
            r->rc_end = rc;
            break;
        }
    }
    src->ops->close(src);
}

static void run_str(const char *text, enum mtr_kind kind, const struct mtr_format *fmt,
                    struct result *r)
{
    run(write_tmp("in.csv", text, strlen(text)), kind, fmt, r);
}

#define HDR "meter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,frequency_hz\n"

static void check_err(const struct result *r, int i, uint64_t line, enum mtr_rule_id rule,
                      const char *field, const char *msg_part)
{
    T_CHECK(i < r->n_err);
    if (i >= r->n_err)
        return;
    T_EQ_INT(r->err[i].line, line);
    T_EQ_INT(r->err[i].rule, rule);
    T_EQ_STR(r->err[i].field, field);
    if (!strstr(r->err[i].message, msg_part)) {
        printf("message \"%s\" lacks \"%s\"\n", r->err[i].message, msg_part);
        T_CHECK(0);
    }
}

static struct result R;

static void test_valid_default_layout(void)
{
    run_str("\xEF\xBB\xBF" HDR "SM000001,2026-11-26T10:00:00Z,0.25,230.1,1.2,0.95,50.01\r\n"
            "SM000001,2026-11-26T10:15:00+01:00, 0.219 ,,,,\r\n"
            "\r\n"
            "SM000002,2026-11-26 10:30:00,-1e-3,,,,",
            MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.rc_end, 0);
    T_EQ_INT(R.n_ok, 3);
    T_EQ_INT(R.n_err, 0);
    const struct mtr_reading *a = &R.rec[0].u.reading, *b = &R.rec[1].u.reading;
    T_EQ_INT(R.rec[0].kind, MTR_KIND_READING);
    T_EQ_STR(a->meter_id, "SM000001");
    T_EQ_INT(a->ts, 1795687200);
    T_EQ_INT(a->line, 2);
    T_EQ_DBL(a->kwh, 0.25, 0);
    T_EQ_DBL(a->voltage_v, 230.1, 0);
    T_EQ_DBL(a->frequency_hz, 50.01, 0);
    T_EQ_INT(a->interval_s, 0);
    T_EQ_INT(b->ts, 1795687200 + 900 - 3600);
    T_EQ_DBL(b->kwh, 0.219, 0);
    T_CHECK(!mtr_has(b->voltage_v) && !mtr_has(b->power_factor));
    T_EQ_INT(R.rec[2].u.reading.line, 5);
    T_EQ_DBL(R.rec[2].u.reading.kwh, -0.001, 0);
}

/* The bad-input catalogue: one file, every kind of malformed record between valid ones. */
static void test_catalogue(void)
{
    const char *text = HDR                              /* 1 */
        "M1,2013-01-01T00:00:00Z,1.0,230,1,0.9,50\n"    /* 2 ok */
        "M1,2013-01-01T00:30:00Z,1.0\n"                 /* 3 truncated: columns */
        "M1,2013-01-01T01:00:00Z,1.0,230,1,0.9,50,9\n"  /* 4 too many columns */
        "M1,2013-01-01T01:30:00Z,abc,230,1,0.9,50\n"    /* 5 not a number */
        "M1,2013-01-01T02:00:00Z,NaN,230,1,0.9,50\n"    /* 6 NaN */
        "M1,2013-01-01T02:30:00Z,1.0,Inf,1,0.9,50\n"    /* 7 Inf */
        "M1,2013-01-01T03:00:00Z,,230,1,0.9,50\n"       /* 8 empty required */
        ",2013-01-01T03:30:00Z,1.0,230,1,0.9,50\n"      /* 9 empty meter */
        "M1,,1.0,230,1,0.9,50\n"                        /* 10 empty timestamp */
        "M1,2013-13-01T00:00:00Z,1.0,230,1,0.9,50\n"    /* 11 month 13 */
        "M1,2013-02-30T00:00:00Z,1.0,230,1,0.9,50\n"    /* 12 30 February */
        "M1,2013-01-01T25:00:00Z,1.0,230,1,0.9,50\n"    /* 13 hour 25 */
        "M1,yesterday,1.0,230,1,0.9,50\n"               /* 14 not a date */
        "M\xff,2013-01-01T04:00:00Z,1.0,230,1,0.9,50\n" /* 15 invalid UTF-8 */
        "M1,2013-01-01T04:30:00Z,0x10,230,1,0.9,50\n"   /* 16 hex */
        "M1,2013-01-01T05:00:00Z,1.0,230,1,0.9,50\n"    /* 17 ok */
        "\"M1,2013-01-01T05:30:00Z,1.0,230,1,0.9,50\n"  /* 18 unterminated quote ... */
        "M1,2013-01-01T06:00:00Z,2.5,,,,\n"             /* 19 ok after resync */
        "0123456789012345678901234567890123456789012345678901234567890123,"
        "2013-01-01T06:30:00Z,1,,,,\n"                   /* 20 id of 64 bytes */
        "\"M2\",\"2013-01-01T07:00:00Z\",\"3.5\",,,,\n"; /* 21 ok, quoted */
    run_str(text, MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.rc_end, 0);
    T_EQ_INT(R.n_ok, 4);
    T_EQ_INT(R.n_err, 16);
    T_EQ_INT(R.n_ok + R.n_err, 20); /* records read = valid + errors */
    T_EQ_INT(R.rec[0].u.reading.line, 2);
    T_EQ_INT(R.rec[1].u.reading.line, 17);
    T_EQ_INT(R.rec[2].u.reading.line, 19);
    T_EQ_DBL(R.rec[2].u.reading.kwh, 2.5, 0);
    T_EQ_INT(R.rec[3].u.reading.line, 21);
    T_EQ_STR(R.rec[3].u.reading.meter_id, "M2");
    T_EQ_DBL(R.rec[3].u.reading.kwh, 3.5, 0);
    int i = 0;
    check_err(&R, i++, 3, MTR_R_PARSE_COLUMNS, "", "expected 7 columns, got 3");
    check_err(&R, i++, 4, MTR_R_PARSE_COLUMNS, "", "got 8");
    check_err(&R, i++, 5, MTR_R_NUMBER, "consumption_kwh",
              "consumption_kwh: not a number: \"abc\"");
    check_err(&R, i++, 6, MTR_R_NUMBER, "consumption_kwh", "not a finite number: \"NaN\"");
    check_err(&R, i++, 7, MTR_R_NUMBER, "voltage_v", "voltage_v: not a finite number");
    check_err(&R, i++, 8, MTR_R_REQUIRED, "consumption_kwh", "consumption_kwh: required");
    check_err(&R, i++, 9, MTR_R_REQUIRED, "meter_id", "meter_id: required");
    check_err(&R, i++, 10, MTR_R_REQUIRED, "timestamp", "timestamp: required");
    check_err(&R, i++, 11, MTR_R_TIMESTAMP, "timestamp", "timestamp: invalid date: month 13");
    check_err(&R, i++, 12, MTR_R_TIMESTAMP, "timestamp", "timestamp: invalid date: 2013-02-30");
    check_err(&R, i++, 13, MTR_R_TIMESTAMP, "timestamp", "invalid time: hour 25");
    check_err(&R, i++, 14, MTR_R_TIMESTAMP, "timestamp", "not an ISO-8601 date-time");
    check_err(&R, i++, 15, MTR_R_PARSE_ENCODING, "", "UTF-8");
    check_err(&R, i++, 16, MTR_R_NUMBER, "consumption_kwh", "not a number: \"0x10\"");
    check_err(&R, i++, 18, MTR_R_PARSE_QUOTE, "", "quote");
    check_err(&R, i++, 20, MTR_R_REQUIRED, "meter_id", "meter_id longer than 63 bytes");
    /* raw excerpts are the line start, printable */
    T_EQ_STR(R.err[2].raw, "M1,2013-01-01T01:30:00Z,abc,230,1,0.9,50");
    T_EQ_STR(R.err[12].raw, "M?,2013-01-01T04:00:00Z,1.0,230,1,0.9,50");
}

static void test_ten_mb_line(void)
{
    size_t big = 10u << 20;
    char *s = malloc(big + 256);
    size_t p = (size_t)sprintf(s, HDR "M1,2013-01-01T00:00:00Z,1,,,,\nM1,2013-01-01T00:30:00Z,");
    memset(s + p, '7', big);
    p += big;
    p += (size_t)sprintf(s + p, ",,,,\nM1,2013-01-01T01:00:00Z,3,,,,\n");
    char *path = write_tmp("big.csv", s, p);
    free(s);
    run(path, MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_end, 0);
    T_EQ_INT(R.n_ok, 2);
    T_EQ_INT(R.n_err, 1);
    check_err(&R, 0, 3, MTR_R_PARSE_LINE_LENGTH, "", "longer than 1 MiB");
    T_EQ_INT(R.rec[1].u.reading.line, 4);
    T_EQ_INT(strlen(R.err[0].raw), 255);
}

static void test_header_errors(void)
{
    run_str("meterid,ts,voltage\nM1,2013-01-01,230\n", MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, MTR_EINVAL);
    T_CHECK(strstr(R.eb.msg, "in.csv:1: header has no column for 'consumption_kwh' (looked for: "
                             "consumption_kwh, energy_kwh, kwh") != NULL);
    run_str("kwh,ts\n1,2013-01-01\n", MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, MTR_EINVAL);
    T_CHECK(strstr(R.eb.msg, "header has no column for 'meter_id' (looked for: meter_id") != NULL);
    /* a default meter id makes the id column optional */
    struct mtr_format f;
    mtr_format_init(&f);
    snprintf(f.meter_id, sizeof f.meter_id, "FIXED");
    run_str("kwh,ts,Extra\n1,2013-01-01,x\n", MTR_KIND_READING, &f, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.n_ok, 1);
    T_EQ_STR(R.rec[0].u.reading.meter_id, "FIXED");
    run_str("operator_id,timestamp,name\nTSO1,2013-01-01,x\n", MTR_KIND_GRID, NULL, &R);
    T_EQ_INT(R.rc_open, MTR_EINVAL);
    T_CHECK(strstr(R.eb.msg, "no measurement column") != NULL);
    run_str("", MTR_KIND_READING, NULL, &R); /* empty file: zero records */
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.n_ok + R.n_err, 0);
    run("/nonexistent/x.csv", MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, MTR_ENOTFOUND);
}

static void test_aliases_grid_weather(void)
{
    run_str(" TSO , Timestamp ,Grid_Frequency_Hz,voltage_level,load,capacity,stability_score\n"
            "TSO1,2026-01-01T00:00Z,50.01,380,1000,2000,0.9\n"
            "TSO1,2026-01-01T00:15Z,,,,,\n",
            MTR_KIND_GRID, NULL, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.n_ok, 1);
    T_EQ_STR(R.rec[0].u.grid.operator_id, "TSO1");
    T_EQ_DBL(R.rec[0].u.grid.voltage_kv, 380, 0);
    T_EQ_DBL(R.rec[0].u.grid.stability, 0.9, 0);
    check_err(&R, 0, 3, MTR_R_REQUIRED, "", "no measurement");
    run_str("station,time,temperature,humidity_percent,windspeed,windbearing,cloudcover\n"
            "ST1,2026-01-01T00:00Z,-3.5,80,2,270,50\n",
            MTR_KIND_WEATHER, NULL, &R);
    T_EQ_INT(R.n_ok, 1);
    T_EQ_DBL(R.rec[0].u.weather.temperature_c, -3.5, 0);
    T_EQ_DBL(R.rec[0].u.weather.humidity_pct, 80, 0);
    T_EQ_DBL(R.rec[0].u.weather.wind_direction_deg, 270, 0);
    run_str("meter,datetime,energy_kwh,interval_minutes\nM,2026-01-01,1,15\nM,2026-01-01,1,-5\n",
            MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.n_ok, 1);
    T_EQ_INT(R.rec[0].u.reading.interval_s, 900);
    check_err(&R, 0, 3, MTR_R_NUMBER, "interval_minutes", "whole number of seconds");
}

static void test_format_map(void)
{
    struct mtr_format f;
    struct mtr_errbuf eb;
    mtr_format_init(&f);
    T_EQ_INT(mtr_format_set_map(&f, "meter_id = Zaehler, timestamp=Zeit,consumption_kwh=Wert", &eb),
             0);
    T_EQ_INT(f.nmap, 3);
    T_EQ_INT(mtr_format_set_map(&f, "meterid=x", &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "unknown field 'meterid'") != NULL);
    T_EQ_INT(mtr_format_set_map(&f, "meter_id", &eb), MTR_EINVAL);
    T_CHECK(strstr(eb.msg, "no '='") != NULL);
    T_EQ_INT(mtr_format_set_map(&f, "meter_id=", &eb), MTR_EINVAL);
    T_EQ_INT(f.nmap, 3);
    /* the mapped column wins over an alias-named column */
    run_str("meter_id,Zaehler,Zeit,Wert\nWRONG,Z1,2026-01-01,4\n", MTR_KIND_READING, &f, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.n_ok, 1);
    T_EQ_STR(R.rec[0].u.reading.meter_id, "Z1");
    T_EQ_DBL(R.rec[0].u.reading.kwh, 4, 0);
    run_str("a,b\n1,2\n", MTR_KIND_READING, &f, &R);
    T_EQ_INT(R.rc_open, MTR_EINVAL);
    T_CHECK(strstr(R.eb.msg, "'meter_id' (looked for: Zaehler, from the column map)") != NULL);
    T_EQ_INT(mtr_format_set_name(&f, "DarkSky", &eb), 0);
    T_EQ_INT(f.name, MTR_FORMAT_DARKSKY);
    T_EQ_INT(mtr_format_set_name(&f, "xml", &eb), MTR_EINVAL);
}

static void test_ndjson(void)
{
    const char *text =
        "{\"meter_id\":\"M1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"consumption_kwh\":0.5,"
        "\"voltage_v\":null}\n"
        "\n"
        "{\"payload\":{\"MeterID\":\"M2\",\"ts\":\"2026-01-01T00:15:00Z\",\"kwh\":1},"
        "\"metadata\":{\"source\":\"x\"}}\n"
        "{\"meter_id\":\"M1\",\"timestamp\":\"2026-01-01T00:30:00Z\",\"consumption_kwh\":\"0.5\"}\n"
        "{\"meter_id\":\"M1\",\"timestamp\":\"2026-01-01T00:30:00Z\",\n"
        "[1,2]\n"
        "{\"meter_id\":\"M1\",\"timestamp\":\"2026-02-30T00:30:00Z\",\"consumption_kwh\":1}\n"
        "{\"meter_id\":\"M1\",\"timestamp\":\"2026-01-01T00:45:00Z\"}\n"
        "{\"meter_id\":7,\"timestamp\":\"2026-01-01T01:00:00Z\",\"consumption_kwh\":2,"
        "\"interval_s\":900}\n";
    run(write_tmp("in.ndjson", text, strlen(text)), MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.n_ok, 3);
    T_EQ_INT(R.n_err, 5);
    T_EQ_STR(R.rec[0].u.reading.meter_id, "M1");
    T_CHECK(!mtr_has(R.rec[0].u.reading.voltage_v));
    T_EQ_INT(R.rec[0].u.reading.line, 1);
    T_EQ_STR(R.rec[1].u.reading.meter_id, "M2");
    T_EQ_INT(R.rec[1].u.reading.line, 3);
    T_EQ_DBL(R.rec[1].u.reading.kwh, 1, 0);
    T_EQ_STR(R.rec[2].u.reading.meter_id, "7");
    T_EQ_INT(R.rec[2].u.reading.interval_s, 900);
    check_err(&R, 0, 4, MTR_R_NUMBER, "consumption_kwh", "got the string \"0.5\"");
    check_err(&R, 1, 5, MTR_R_PARSE_JSON, "", "invalid JSON: ");
    check_err(&R, 2, 6, MTR_R_PARSE_JSON, "", "not a JSON object");
    check_err(&R, 3, 7, MTR_R_TIMESTAMP, "timestamp", "invalid date: 2026-02-30");
    check_err(&R, 4, 8, MTR_R_REQUIRED, "consumption_kwh", "consumption_kwh: required");
}

static void test_gzip(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/in.csv.gz", tmpdir);
    gzFile gz = gzopen(path, "wb");
    gzputs(gz, HDR);
    for (int i = 0; i < 5000; i++)
        gzprintf(gz, "M%d,2026-01-01T00:00:00Z,%d.5,,,,\n", i % 7, i);
    gzclose(gz);
    run(path, MTR_KIND_READING, NULL, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.rc_end, 0);
    T_EQ_INT(R.n_ok, 5000);
    T_EQ_INT(R.n_err, 0);
    T_EQ_DBL(R.rec[3].u.reading.kwh, 3.5, 0);
    /* a truncated gzip stream is a fatal read error, not silent success */
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run(write_tmp("trunc.csv.gz", buf, n / 2), MTR_KIND_READING, NULL, &R);
    T_CHECK(R.rc_open < 0 || R.rc_end == MTR_EIO);
}

static void test_mtr_decode_json_api(void)
{
    json_error_t je;
    json_t *o =
        json_loads("{\"station_id\":\"S\",\"timestamp\":\"2026-01-01\",\"pressure\":1013}", 0, &je);
    struct mtr_record rec;
    struct mtr_record_error err;
    T_EQ_INT(mtr_decode_json(o, MTR_KIND_WEATHER, NULL, &rec, &err), 0);
    T_EQ_INT(rec.kind, MTR_KIND_WEATHER);
    T_EQ_DBL(rec.u.weather.pressure_hpa, 1013, 0);
    json_decref(o);
    o = json_loads("{\"station_id\":\"S\",\"timestamp\":\"2026-01-01\"}", 0, &je);
    T_EQ_INT(mtr_decode_json(o, MTR_KIND_WEATHER, NULL, &rec, &err), MTR_EPARSE);
    T_EQ_INT(err.rule, MTR_R_REQUIRED);
    json_decref(o);
}

/* ---- the real London data, when ../shared is present ---- */

static char shared[600];

static int find_shared(void)
{
    FILE *p = popen("git rev-parse --show-toplevel 2>/dev/null", "r");
    char top[512] = "";
    if (p) {
        if (!fgets(top, sizeof top, p))
            top[0] = 0;
        pclose(p);
    }
    top[strcspn(top, "\n")] = 0;
    snprintf(shared, sizeof shared, "%s/../shared/data/london-smart-meters-lcl-2013", top);
    char probe[700];
    snprintf(probe, sizeof probe, "%s/weather_hourly_darksky.csv", shared);
    return top[0] && access(probe, R_OK) == 0;
}

static void test_london_lcl(void)
{
    if (!find_shared()) {
        printf("skip test_london_lcl: ../shared/data/london-smart-meters-lcl-2013 not found\n");
        return;
    }
    static const struct {
        const char *file;
        int rows;
    } want[] = {{"MAC000002", 17520}, {"MAC000004", 17519}, {"MAC000005", 17519},
                {"MAC000006", 17520}, {"MAC000008", 14495}, {"MAC000009", 17511},
                {"MAC000010", 17520}, {"MAC000014", 17514}, {"MAC000028", 13392},
                {"MAC000079", 17039}};
    struct mtr_format f;
    mtr_format_init(&f);
    f.name = MTR_FORMAT_LCL;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/halfhourly/%s.csv", shared, want[i].file);
        run(path, MTR_KIND_READING, &f, &R);
        T_EQ_INT(R.rc_open, 0);
        T_EQ_INT(R.rc_end, 0);
        T_EQ_INT(R.n_ok, want[i].rows);
        T_EQ_INT(R.n_err, 0);
        T_EQ_STR(R.rec[0].u.reading.meter_id, want[i].file);
        T_EQ_INT(R.rec[0].u.reading.ts, 1356998400); /* 2013-01-01 00:00:00 */
        T_EQ_INT(R.rec[0].u.reading.interval_s, 1800);
    }
    T_EQ_DBL(R.rec[0].u.reading.kwh, 0, 1); /* sanity: values are kWh per half hour */
    run_str("LCLid,tstp,energy(kWh/hh)\nMAC1,2013-01-01 00:00:00,Null\n", MTR_KIND_READING, &f, &R);
    check_err(&R, 0, 2, MTR_R_NUMBER, "consumption_kwh", "not a number: \"Null\"");
}

static void test_london_darksky(void)
{
    if (!find_shared()) {
        printf("skip test_london_darksky: ../shared data not found\n");
        return;
    }
    struct mtr_format f;
    mtr_format_init(&f);
    f.name = MTR_FORMAT_DARKSKY;
    char path[800];
    snprintf(path, sizeof path, "%s/weather_hourly_darksky.csv", shared);
    run(path, MTR_KIND_WEATHER, &f, &R);
    T_EQ_INT(R.rc_open, 0);
    T_EQ_INT(R.rc_end, 0);
    T_EQ_INT(R.n_ok, 21165);
    T_EQ_INT(R.n_err, 0);
    const struct mtr_weather_obs *w = &R.rec[0].u.weather;
    /* 5.97,104,10.24,"2011-11-11 00:00:00",8.86,1016.76,10.24,2.77,rain,...,0.91,... */
    T_EQ_STR(w->station_id, "LONDON");
    T_EQ_INT(w->ts, 1320969600);
    T_EQ_DBL(w->temperature_c, 10.24, 0);
    T_EQ_DBL(w->humidity_pct, 91, 1e-9);
    T_EQ_DBL(w->pressure_hpa, 1016.76, 0);
    T_EQ_DBL(w->wind_speed_ms, 2.77, 0);
    T_EQ_DBL(w->wind_direction_deg, 104, 0);
    T_EQ_INT(w->line, 2);
    /* darksky cannot hold readings */
    run(path, MTR_KIND_READING, &f, &R);
    T_EQ_INT(R.rc_open, MTR_EINVAL);
}

static void test_committed_excerpt(void)
{
    /* tests/data/lcl_excerpt.csv: first 96 rows of MAC000002 (see tests/data/README.md) */
    struct mtr_format f;
    mtr_format_init(&f);
    f.name = MTR_FORMAT_LCL;
    run("tests/data/lcl_excerpt.csv", MTR_KIND_READING, &f, &R);
    if (R.rc_open == MTR_ENOTFOUND) {
        printf("skip test_committed_excerpt: run from the repository top\n");
        return;
    }
    T_EQ_INT(R.n_ok, 96);
    T_EQ_INT(R.n_err, 0);
    T_EQ_DBL(R.rec[0].u.reading.kwh, 0.219, 0);
    T_EQ_INT(R.rec[1].u.reading.ts - R.rec[0].u.reading.ts, 1800);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_valid_default_layout);
    T_RUN(test_catalogue);
    T_RUN(test_ten_mb_line);
    T_RUN(test_header_errors);
    T_RUN(test_aliases_grid_weather);
    T_RUN(test_format_map);
    T_RUN(test_ndjson);
    T_RUN(test_gzip);
    T_RUN(test_mtr_decode_json_api);
    T_RUN(test_london_lcl);
    T_RUN(test_london_darksky);
    T_RUN(test_committed_excerpt);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", tmpdir);
    return T_END();
}
