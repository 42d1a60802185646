/*
 * sqlite_store.c - the embedded store: the store port (app/ports.h) on one SQLite file in WAL
 * mode. Holds the versioned schema and its migrations, a cache of prepared statements (prepared
 * once, reset and rebound per call, so the hot paths never allocate), and a bounded in-memory map
 * meter_id -> meter_key for the per-record lookup of ingest.
 *
 * Readings live in meter-day blocks behind a write-back cache: see reading_blocks.h.
 */
#include "adapters/sqlite/sqlite_store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "adapters/sqlite/block_codec.h"
#include "adapters/sqlite/reading_blocks.h"
#include "app/rollup.h"
#include "core/quality.h"

/* ======================= schema ======================= */

struct migration {
    const char *description;
    const char *sql;
    /* optional data conversion run after sql, in the same transaction; message in *msg
     * (sqlite3_malloc'ed) on failure */
    int (*convert)(sqlite3 *db, char **msg);
};

static int readings_to_blocks(sqlite3 *db, char **msg);

/* Append only: a released migration is never edited, a change is a new entry. Version = index+1.
 */
static const struct migration migrations[] = {
    {"initial schema",
     "CREATE TABLE meters("
     " meter_key INTEGER PRIMARY KEY,"
     " meter_id TEXT NOT NULL UNIQUE,"
     " latitude REAL, longitude REAL, address TEXT, manufacturer TEXT, model TEXT, firmware TEXT,"
     " type TEXT NOT NULL DEFAULT 'residential'"
     "  CHECK (type IN ('residential','commercial','industrial')),"
     " tariff TEXT,"
     " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active','inactive',"
     "  'maintenance','faulty','decommissioned')),"
     " installed_at INTEGER, operator_id TEXT, station_id TEXT, base_kwh REAL,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE TABLE grid_operators("
     " operator_id TEXT PRIMARY KEY, name TEXT, type TEXT, region TEXT,"
     " capacity_mw REAL, voltage_kv REAL, latitude REAL, longitude REAL,"
     " status TEXT NOT NULL CHECK (status IN ('active','inactive','maintenance')),"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE TABLE weather_stations("
     " station_id TEXT PRIMARY KEY, name TEXT, type TEXT,"
     " latitude REAL, longitude REAL, elevation_m REAL,"
     " status TEXT NOT NULL CHECK (status IN ('active','inactive','maintenance')),"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "CREATE TABLE meter_state("
     " meter_key INTEGER PRIMARY KEY REFERENCES meters(meter_key),"
     " state BLOB NOT NULL, updated_at INTEGER NOT NULL);"
     /* id = meter_key * 2^31 + ts / 60: one b-tree, no secondary index on the hot path */
     "CREATE TABLE readings("
     " id INTEGER PRIMARY KEY,"
     " meter_key INTEGER NOT NULL, ts INTEGER NOT NULL, interval_s INTEGER NOT NULL,"
     " raw_kwh REAL, kwh REAL, voltage_v REAL, current_a REAL, power_factor REAL,"
     " frequency_hz REAL, active_power_kw REAL, reactive_power_kvar REAL,"
     " quality_code INTEGER NOT NULL, flags INTEGER NOT NULL, score REAL, ingested_at INTEGER);"
     "CREATE TABLE reading_revisions("
     " revision_id INTEGER PRIMARY KEY,"
     " meter_key INTEGER NOT NULL REFERENCES meters(meter_key), ts INTEGER NOT NULL,"
     " interval_s INTEGER NOT NULL,"
     " raw_kwh REAL, kwh REAL, voltage_v REAL, current_a REAL, power_factor REAL,"
     " frequency_hz REAL, active_power_kw REAL, reactive_power_kvar REAL,"
     " quality_code INTEGER NOT NULL, flags INTEGER NOT NULL, score REAL, ingested_at INTEGER,"
     " revised_at INTEGER NOT NULL);"
     "CREATE INDEX reading_revisions_meter_ts ON reading_revisions(meter_key, ts);"
     "CREATE TABLE rollup_hourly("
     " meter_key INTEGER NOT NULL, hour INTEGER NOT NULL,"
     " kwh REAL NOT NULL, min_kwh REAL, max_kwh REAL,"
     " n INTEGER NOT NULL, n_estimated INTEGER NOT NULL,"
     " PRIMARY KEY (meter_key, hour)) WITHOUT ROWID;"
     "CREATE TABLE rollup_daily("
     " meter_key INTEGER NOT NULL, day INTEGER NOT NULL, interval_s INTEGER NOT NULL,"
     " kwh REAL NOT NULL, peak_kwh REAL NOT NULL, offpeak_kwh REAL NOT NULL,"
     " min_kwh REAL, max_kwh REAL,"
     " n_valid INTEGER NOT NULL, n_estimated INTEGER NOT NULL, n_flagged INTEGER NOT NULL,"
     " n_anomalous INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER,"
     " timeliness_sum REAL NOT NULL,"
     " PRIMARY KEY (meter_key, day)) WITHOUT ROWID;"
     "CREATE TABLE rollup_grid_daily("
     " operator_id TEXT NOT NULL, day INTEGER NOT NULL,"
     " n INTEGER NOT NULL, n_flagged INTEGER NOT NULL,"
     " freq_sum REAL NOT NULL, freq_min REAL, freq_max REAL, voltage_sum REAL NOT NULL,"
     " load_sum REAL NOT NULL, load_max REAL, stability_sum REAL NOT NULL, stability_min REAL,"
     " PRIMARY KEY (operator_id, day)) WITHOUT ROWID;"
     "CREATE TABLE grid_status("
     " operator_id TEXT NOT NULL, ts INTEGER NOT NULL,"
     " frequency_hz REAL, voltage_kv REAL, load_mw REAL, capacity_mw REAL, stability REAL,"
     " flags INTEGER NOT NULL, score REAL,"
     " PRIMARY KEY (operator_id, ts)) WITHOUT ROWID;"
     "CREATE TABLE weather_observations("
     " station_id TEXT NOT NULL, ts INTEGER NOT NULL,"
     " temperature_c REAL, humidity_pct REAL, pressure_hpa REAL, wind_speed_ms REAL,"
     " wind_direction_deg REAL, precipitation_mm REAL, cloud_cover_pct REAL,"
     " flags INTEGER NOT NULL, score REAL,"
     " PRIMARY KEY (station_id, ts)) WITHOUT ROWID;"
     /* level is the vocabulary name; level_rank its order, for max() and the min_level filter */
     "CREATE TABLE alerts("
     " alert_id INTEGER PRIMARY KEY,"
     " source TEXT NOT NULL, entity_id TEXT NOT NULL, type TEXT NOT NULL,"
     " level TEXT NOT NULL, level_rank INTEGER NOT NULL, score REAL,"
     " start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL, count INTEGER NOT NULL,"
     " value REAL, detail TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
     " UNIQUE (source, entity_id, type, start_ts));"
     "CREATE TABLE quarantine("
     " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT, line INTEGER,"
     " rule TEXT NOT NULL, field TEXT, message TEXT, raw TEXT, at INTEGER NOT NULL);",
     NULL},
    {"indexes for report queries and retention",
     "CREATE INDEX alerts_start ON alerts(start_ts);"
     "CREATE INDEX quarantine_at ON quarantine(at);"
     "CREATE INDEX rollup_daily_day ON rollup_daily(day);",
     NULL},
    {"readings and hourly rollups in meter-day blocks", mtr_rb_schema_sql, readings_to_blocks},
    /* seq: the change number of the unit of work that last wrote the row or block (ports.h
     * change_seq); export_changes: per dataset and UTC day, the last change number (which days
     * to look at); rows from before this migration get 0, and their days are logged with 0 */
    {"change tracking and watermarks for lake exports",
     "ALTER TABLE reading_blocks ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE grid_status ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE weather_observations ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE rollup_daily ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE change_seq(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
     "INSERT INTO change_seq VALUES (1, 0);"
     "CREATE TABLE export_changes(dataset INTEGER NOT NULL, day INTEGER NOT NULL,"
     " seq INTEGER NOT NULL, PRIMARY KEY (dataset, day)) WITHOUT ROWID;"
     "INSERT INTO export_changes SELECT DISTINCT 0, day, 0 FROM reading_blocks;"
     "INSERT INTO export_changes SELECT DISTINCT 1, ts - ts % 86400, 0 FROM grid_status;"
     "INSERT INTO export_changes SELECT DISTINCT 2, ts - ts % 86400, 0 FROM weather_observations;"
     "INSERT INTO export_changes SELECT DISTINCT 3, day, 0 FROM rollup_daily;"
     "CREATE TABLE export_watermarks(dataset TEXT NOT NULL, destination TEXT NOT NULL,"
     " seq INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
     " PRIMARY KEY (dataset, destination)) WITHOUT ROWID;"
     /* the per-day scans of an export (and retention) read grid status and weather by time */
     "CREATE INDEX grid_status_ts ON grid_status(ts);"
     "CREATE INDEX weather_observations_ts ON weather_observations(ts);",
     NULL},
    {"API keys (hashed) and meter search indexes",
     "CREATE TABLE IF NOT EXISTS api_keys("
     " key_id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT,"
     " role TEXT NOT NULL CHECK (role IN ('viewer','operator','admin')),"
     " created_at INTEGER NOT NULL, revoked_at INTEGER);"
     "CREATE INDEX IF NOT EXISTS meters_status ON meters(status);"
     "CREATE INDEX IF NOT EXISTS meters_lat_lon ON meters(latitude, longitude);",
     NULL},
    /* SQLite evaluates a CHECK's IN list by building a temporary b-tree, on every insert: ~80,000
     * instructions per new meter, a tenth of a first ingest's work on a new fleet. Comparisons
     * say the same. The table is rebuilt as SQLite's ALTER TABLE documentation describes (foreign
     * keys are off during migrations and checked before each commit). */
    {"meter checks without IN lists",
     "CREATE TABLE meters_new("
     " meter_key INTEGER PRIMARY KEY,"
     " meter_id TEXT NOT NULL UNIQUE,"
     " latitude REAL, longitude REAL, address TEXT, manufacturer TEXT, model TEXT, firmware TEXT,"
     " type TEXT NOT NULL DEFAULT 'residential'"
     "  CHECK (type = 'residential' OR type = 'commercial' OR type = 'industrial'),"
     " tariff TEXT,"
     " status TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'active'"
     "  OR status = 'inactive' OR status = 'maintenance' OR status = 'faulty'"
     "  OR status = 'decommissioned'),"
     " installed_at INTEGER, operator_id TEXT, station_id TEXT, base_kwh REAL,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
     "INSERT INTO meters_new SELECT * FROM meters;"
     "DROP TABLE meters;"
     "ALTER TABLE meters_new RENAME TO meters;"
     "CREATE INDEX meters_status ON meters(status);"
     "CREATE INDEX meters_lat_lon ON meters(latitude, longitude);",
     NULL},
};
#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

/* ======================= statements ======================= */

#define READING_COLS                                                                               \
    "meter_key, ts, interval_s, raw_kwh, kwh, voltage_v, current_a, power_factor, frequency_hz, "  \
    "active_power_kw, reactive_power_kvar, quality_code, flags, score, ingested_at"
#define METER_COLS                                                                                 \
    "meter_key, meter_id, latitude, longitude, address, manufacturer, model, firmware, type, "     \
    "tariff, status, installed_at, operator_id, station_id, base_kwh"
#define DAY_COLS                                                                                   \
    "d.meter_key, d.day, d.interval_s, d.kwh, d.peak_kwh, d.offpeak_kwh, d.min_kwh, d.max_kwh, "   \
    "d.n_valid, d.n_estimated, d.n_flagged, d.n_anomalous, d.first_ts, d.last_ts, "                \
    "d.timeliness_sum"
#define OP_COLS                                                                                    \
    "operator_id, name, type, region, capacity_mw, voltage_kv, latitude, longitude, status"
#define STATION_COLS "station_id, name, type, latitude, longitude, elevation_m, status"
#define ALERT_COLS                                                                                 \
    "source, entity_id, type, level_rank, score, start_ts, end_ts, count, value, detail"
/* nullable min/max combine as coalesce(min(a, b), a, b): min(a, NULL) is NULL in SQL */

enum sid {
    S_BEGIN,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_METER_PUT,
    S_METER_GET,
    S_METER_KEY,
    S_METER_NEW,
    S_METER_LIST,
    S_OP_PUT,
    S_OP_GET,
    S_STATION_PUT,
    S_STATION_GET,
    S_STATE_GET,
    S_STATE_PUT,
    S_STATE_NEW,
    S_READ_REVISE,
    S_RECOMP_DEL_DAY,
    S_DAY_MERGE,
    S_GRID_MERGE,
    S_GRID_PUT,
    S_GRID_RECOMPUTE_DEL,
    S_GRID_RECOMPUTE,
    S_WEATHER_PUT,
    S_ALERT_PUT,
    S_QUAR_PUT,
    S_DAY_ROWS,
    S_ALERT_ROWS,
    S_QUAR_ROWS,
    S_STATS,
    S_OP_LIST,
    S_STATION_LIST,
    S_GRID_ROWS,
    S_WEATHER_ROWS,
    S_HOUR_ROWS_ALL,
    S_HOUR_ROWS_METER,
    S_GRID_DAY_ROWS,
    S_SEQ_GET,
    S_SEQ_PUT,
    S_CHG_PUT,
    S_CHG_DAYS,
    S_READ_CHANGED,
    S_GRID_CHANGED,
    S_WEATHER_CHANGED,
    S_DAY_CHANGED,
    S_WM_GET,
    S_WM_PUT,
    S_APIKEY_PUT,
    S_APIKEY_FIND,
    S_APIKEY_LIST,
    S_APIKEY_REVOKE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN DEFERRED",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_METER_PUT] =
        "INSERT INTO meters(meter_id, latitude, longitude, address, manufacturer, model, firmware,"
        " type, tariff, status, installed_at, operator_id, station_id, base_kwh, created_at,"
        " updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?15)"
        " ON CONFLICT(meter_id) DO UPDATE SET latitude = excluded.latitude,"
        " longitude = excluded.longitude, address = excluded.address,"
        " manufacturer = excluded.manufacturer, model = excluded.model,"
        " firmware = excluded.firmware, type = excluded.type, tariff = excluded.tariff,"
        " status = excluded.status, installed_at = excluded.installed_at,"
        " operator_id = excluded.operator_id, station_id = excluded.station_id,"
        " base_kwh = excluded.base_kwh, updated_at = excluded.updated_at",
    [S_METER_GET] = "SELECT " METER_COLS " FROM meters WHERE meter_id = ?1",
    [S_METER_KEY] = "SELECT meter_key FROM meters WHERE meter_id = ?1",
    [S_METER_NEW] = "INSERT INTO meters(meter_id, type, status, created_at, updated_at)"
                    " VALUES (?1, 'residential', 'pending', ?2, ?2)",
    [S_METER_LIST] = "SELECT " METER_COLS " FROM meters WHERE (?1 IS NULL OR meter_id = ?1)"
                     " ORDER BY meter_id LIMIT ?2 OFFSET ?3",
    [S_OP_PUT] = "INSERT INTO grid_operators(operator_id, name, type, region, capacity_mw,"
                 " voltage_kv, latitude, longitude, status, created_at, updated_at)"
                 " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)"
                 " ON CONFLICT(operator_id) DO UPDATE SET name = excluded.name,"
                 " type = excluded.type, region = excluded.region,"
                 " capacity_mw = excluded.capacity_mw, voltage_kv = excluded.voltage_kv,"
                 " latitude = excluded.latitude, longitude = excluded.longitude,"
                 " status = excluded.status, updated_at = excluded.updated_at",
    [S_OP_GET] = "SELECT " OP_COLS " FROM grid_operators WHERE operator_id = ?1",
    [S_STATION_PUT] = "INSERT INTO weather_stations(station_id, name, type, latitude, longitude,"
                      " elevation_m, status, created_at, updated_at)"
                      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?8)"
                      " ON CONFLICT(station_id) DO UPDATE SET name = excluded.name,"
                      " type = excluded.type, latitude = excluded.latitude,"
                      " longitude = excluded.longitude, elevation_m = excluded.elevation_m,"
                      " status = excluded.status, updated_at = excluded.updated_at",
    [S_STATION_GET] = "SELECT " STATION_COLS " FROM weather_stations WHERE station_id = ?1",
    [S_STATE_GET] = "SELECT state FROM meter_state WHERE meter_key = ?1",
    /* UPDATE, then INSERT when there was no row: unlike INSERT OR REPLACE, neither needs a
     * statement journal (which made state writes the costliest part of a commit) */
    [S_STATE_PUT] = "UPDATE meter_state SET state = ?2, updated_at = ?3 WHERE meter_key = ?1",
    [S_STATE_NEW] = "INSERT INTO meter_state(meter_key, state, updated_at) VALUES (?1, ?2, ?3)",
    [S_READ_REVISE] = "INSERT INTO reading_revisions(" READING_COLS ", revised_at)"
                      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    /* SET sees the old row, so the new code is spelled out again for the score */
    [S_RECOMP_DEL_DAY] = "DELETE FROM rollup_daily WHERE meter_key = ?1 AND day = ?2",
    [S_DAY_MERGE] =
        "INSERT INTO rollup_daily(meter_key, day, interval_s, kwh, peak_kwh, offpeak_kwh,"
        " min_kwh, max_kwh, n_valid, n_estimated, n_flagged, n_anomalous, first_ts, last_ts,"
        " timeliness_sum, seq) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
        " ON CONFLICT(meter_key, day) DO UPDATE SET seq = excluded.seq,"
        " interval_s = CASE WHEN excluded.interval_s > 0 THEN excluded.interval_s"
        "  ELSE interval_s END,"
        " kwh = kwh + excluded.kwh, peak_kwh = peak_kwh + excluded.peak_kwh,"
        " offpeak_kwh = offpeak_kwh + excluded.offpeak_kwh,"
        " min_kwh = coalesce(min(min_kwh, excluded.min_kwh), min_kwh, excluded.min_kwh),"
        " max_kwh = coalesce(max(max_kwh, excluded.max_kwh), max_kwh, excluded.max_kwh),"
        " n_valid = n_valid + excluded.n_valid, n_estimated = n_estimated + excluded.n_estimated,"
        " n_flagged = n_flagged + excluded.n_flagged,"
        " n_anomalous = n_anomalous + excluded.n_anomalous,"
        " first_ts = coalesce(min(first_ts, excluded.first_ts), first_ts, excluded.first_ts),"
        " last_ts = coalesce(max(last_ts, excluded.last_ts), last_ts, excluded.last_ts),"
        " timeliness_sum = timeliness_sum + excluded.timeliness_sum",
    [S_GRID_MERGE] =
        "INSERT INTO rollup_grid_daily(operator_id, day, n, n_flagged, freq_sum, freq_min,"
        " freq_max, voltage_sum, load_sum, load_max, stability_sum, stability_min)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
        " ON CONFLICT(operator_id, day) DO UPDATE SET n = n + excluded.n,"
        " n_flagged = n_flagged + excluded.n_flagged, freq_sum = freq_sum + excluded.freq_sum,"
        " freq_min = coalesce(min(freq_min, excluded.freq_min), freq_min, excluded.freq_min),"
        " freq_max = coalesce(max(freq_max, excluded.freq_max), freq_max, excluded.freq_max),"
        " voltage_sum = voltage_sum + excluded.voltage_sum, load_sum = load_sum + "
        "excluded.load_sum,"
        " load_max = coalesce(max(load_max, excluded.load_max), load_max, excluded.load_max),"
        " stability_sum = stability_sum + excluded.stability_sum,"
        " stability_min = coalesce(min(stability_min, excluded.stability_min), stability_min, "
        "excluded.stability_min)",
    [S_GRID_RECOMPUTE_DEL] = "DELETE FROM rollup_grid_daily WHERE operator_id = ?1 AND day = ?2",
    /* sums and extremes over plausible (unflagged) records only; n counts every record */
    [S_GRID_RECOMPUTE] =
        "INSERT INTO rollup_grid_daily(operator_id, day, n, n_flagged, freq_sum, freq_min,"
        " freq_max, voltage_sum, load_sum, load_max, stability_sum, stability_min)"
        " SELECT ?1, ?2, count(*), sum(flags != 0),"
        " coalesce(sum(CASE WHEN flags = 0 THEN frequency_hz END), 0),"
        " min(CASE WHEN flags = 0 THEN frequency_hz END),"
        " max(CASE WHEN flags = 0 THEN frequency_hz END),"
        " coalesce(sum(CASE WHEN flags = 0 THEN voltage_kv END), 0),"
        " coalesce(sum(CASE WHEN flags = 0 THEN load_mw END), 0),"
        " max(CASE WHEN flags = 0 THEN load_mw END),"
        " coalesce(sum(CASE WHEN flags = 0 THEN stability END), 0),"
        " min(CASE WHEN flags = 0 THEN stability END)"
        " FROM grid_status WHERE operator_id = ?1 AND ts >= ?2 AND ts < ?2 + 86400"
        " HAVING count(*) > 0",
    [S_GRID_PUT] = "INSERT OR REPLACE INTO grid_status(operator_id, ts, frequency_hz, voltage_kv,"
                   " load_mw, capacity_mw, stability, flags, score, seq)"
                   " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [S_WEATHER_PUT] = "INSERT OR REPLACE INTO weather_observations(station_id, ts, temperature_c,"
                      " humidity_pct, pressure_hpa, wind_speed_ms, wind_direction_deg,"
                      " precipitation_mm, cloud_cover_pct, flags, score, seq)"
                      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    [S_ALERT_PUT] =
        "INSERT INTO alerts(source, entity_id, type, level, level_rank, score, start_ts, end_ts,"
        " count, value, detail, created_at, updated_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?12)"
        " ON CONFLICT(source, entity_id, type, start_ts) DO UPDATE SET"
        " level = CASE WHEN excluded.level_rank > level_rank THEN excluded.level ELSE level END,"
        " level_rank = max(level_rank, excluded.level_rank),"
        " score = coalesce(max(score, excluded.score), score, excluded.score),"
        " end_ts = max(end_ts, excluded.end_ts), count = max(count, excluded.count),"
        " value = CASE WHEN value IS NULL OR abs(excluded.value) > abs(value)"
        "  THEN excluded.value ELSE value END,"
        " detail = excluded.detail, updated_at = excluded.updated_at",
    [S_QUAR_PUT] = "INSERT INTO quarantine(kind, source, line, rule, field, message, raw, at)"
                   " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [S_DAY_ROWS] = "SELECT m.meter_id, " DAY_COLS " FROM rollup_daily d"
                   " JOIN meters m ON m.meter_key = d.meter_key"
                   " WHERE (?1 IS NULL OR m.meter_id = ?1) AND (?2 IS NULL OR d.day >= ?2)"
                   " AND (?3 IS NULL OR d.day < ?3)"
                   " ORDER BY m.meter_id, d.day LIMIT ?4 OFFSET ?5",
    [S_ALERT_ROWS] = "SELECT " ALERT_COLS " FROM alerts"
                     " WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR entity_id = ?2)"
                     " AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR level_rank >= ?4)"
                     " AND (?5 IS NULL OR start_ts >= ?5) AND (?6 IS NULL OR start_ts < ?6)"
                     " ORDER BY start_ts, entity_id, type LIMIT ?7 OFFSET ?8",
    [S_QUAR_ROWS] = "SELECT kind, source, line, rule, field, message, raw, at FROM quarantine"
                    " WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR at >= ?2)"
                    " AND (?3 IS NULL OR at < ?3) ORDER BY id LIMIT ?4 OFFSET ?5",
    [S_STATS] = "SELECT (SELECT count(*) FROM meters), (SELECT count(*) FROM grid_operators),"
                " (SELECT count(*) FROM weather_stations),"
                " (SELECT coalesce(sum(n), 0) FROM reading_blocks),"
                " (SELECT coalesce(sum(n_estimated), 0) FROM reading_blocks),"
                " (SELECT count(*) FROM reading_revisions), (SELECT count(*) FROM grid_status),"
                " (SELECT count(*) FROM weather_observations), (SELECT count(*) FROM alerts),"
                " (SELECT count(*) FROM quarantine),"
                " (SELECT page_count FROM pragma_page_count()) *"
                " (SELECT page_size FROM pragma_page_size())",
    [S_OP_LIST] = "SELECT " OP_COLS " FROM grid_operators WHERE (?1 IS NULL OR operator_id = ?1)"
                  " ORDER BY operator_id LIMIT ?2 OFFSET ?3",
    [S_STATION_LIST] = "SELECT " STATION_COLS " FROM weather_stations"
                       " WHERE (?1 IS NULL OR station_id = ?1) ORDER BY station_id"
                       " LIMIT ?2 OFFSET ?3",
    [S_GRID_ROWS] = "SELECT operator_id, ts, frequency_hz, voltage_kv, load_mw, capacity_mw,"
                    " stability, flags, score FROM grid_status"
                    " WHERE (?1 IS NULL OR operator_id = ?1) AND (?2 IS NULL OR ts >= ?2)"
                    " AND (?3 IS NULL OR ts < ?3) ORDER BY operator_id, ts LIMIT ?4 OFFSET ?5",
    [S_WEATHER_ROWS] = "SELECT station_id, ts, temperature_c, humidity_pct, pressure_hpa,"
                       " wind_speed_ms, wind_direction_deg, precipitation_mm, cloud_cover_pct,"
                       " flags, score FROM weather_observations"
                       " WHERE (?1 IS NULL OR station_id = ?1) AND (?2 IS NULL OR ts >= ?2)"
                       " AND (?3 IS NULL OR ts < ?3) ORDER BY station_id, ts LIMIT ?4 OFFSET ?5",
    /* two variants so that both the fleet scan and the one-meter lookup use the primary key */
    /* blocks of whole days: the caller trims the hours to [from, to) */
    [S_HOUR_ROWS_ALL] = "SELECT m.meter_id, h.meter_key, h.day, h.data FROM rollup_hour_blocks h"
                        " JOIN meters m ON m.meter_key = h.meter_key"
                        " WHERE h.day > coalesce(?2, -9e18) - 86400 AND h.day < coalesce(?3, 9e18)"
                        " ORDER BY h.id",
    [S_HOUR_ROWS_METER] = "SELECT m.meter_id, h.meter_key, h.day, h.data FROM meters m"
                          " JOIN rollup_hour_blocks h ON h.id >= m.meter_key * 2097152"
                          " AND h.id < (m.meter_key + 1) * 2097152"
                          " WHERE m.meter_id = ?1 AND h.day > coalesce(?2, -9e18) - 86400"
                          " AND h.day < coalesce(?3, 9e18) ORDER BY h.id",
    [S_GRID_DAY_ROWS] = "SELECT operator_id, day, n, n_flagged, freq_sum, freq_min, freq_max,"
                        " voltage_sum, load_sum, load_max, stability_sum, stability_min"
                        " FROM rollup_grid_daily WHERE (?1 IS NULL OR operator_id = ?1)"
                        " AND (?2 IS NULL OR day >= ?2) AND (?3 IS NULL OR day < ?3)"
                        " ORDER BY operator_id, day LIMIT ?4 OFFSET ?5",
    [S_SEQ_GET] = "SELECT seq FROM change_seq WHERE id = 1",
    [S_SEQ_PUT] = "UPDATE change_seq SET seq = max(seq, ?1) WHERE id = 1",
    [S_CHG_PUT] = "INSERT INTO export_changes(dataset, day, seq) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT(dataset, day) DO UPDATE SET seq = max(seq, excluded.seq)",
    [S_CHG_DAYS] = "SELECT day FROM export_changes WHERE dataset = ?1 AND seq > ?2 ORDER BY day",
    /* the changed meter-day blocks of a day, decoded by the caller: meters in meter_id order
     * (their unique index) and each one's block by its key (?1 = mtr_rb_id(0, day number)),
     * so no sort ever holds the blocks' bytes */
    [S_READ_CHANGED] = "SELECT m.meter_id, b.meter_key, b.day, b.data, b.seq"
                       " FROM meters m JOIN reading_blocks b"
                       " ON b.id = m.meter_key * 2097152 + ?1"
                       " WHERE b.seq > ?2 AND b.seq <= ?3 ORDER BY m.meter_id",
    [S_GRID_CHANGED] = "SELECT operator_id, ts, frequency_hz, voltage_kv, load_mw, capacity_mw,"
                       " stability, flags, score, seq FROM grid_status"
                       " WHERE ts >= ?1 AND ts < ?2 AND seq > ?3 AND seq <= ?4"
                       " ORDER BY operator_id, ts",
    [S_WEATHER_CHANGED] = "SELECT station_id, ts, temperature_c, humidity_pct, pressure_hpa,"
                          " wind_speed_ms, wind_direction_deg, precipitation_mm,"
                          " cloud_cover_pct, flags, score, seq FROM weather_observations"
                          " WHERE ts >= ?1 AND ts < ?2 AND seq > ?3 AND seq <= ?4"
                          " ORDER BY station_id, ts",
    [S_DAY_CHANGED] = "SELECT m.meter_id, " DAY_COLS ", d.seq FROM rollup_daily d"
                      " JOIN meters m ON m.meter_key = d.meter_key"
                      " WHERE d.day = ?1 AND d.seq > ?2 AND d.seq <= ?3"
                      " ORDER BY m.meter_id",
    [S_WM_GET] = "SELECT seq FROM export_watermarks WHERE dataset = ?1 AND destination = ?2",
    [S_WM_PUT] = "INSERT INTO export_watermarks(dataset, destination, seq, updated_at)"
                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(dataset, destination)"
                 " DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
    [S_APIKEY_PUT] = "INSERT INTO api_keys(key_id, hash, name, role, created_at, revoked_at)"
                     " VALUES (?1,?2,?3,?4,?5,?6)",
    [S_APIKEY_FIND] = "SELECT key_id, hash, name, role, created_at, revoked_at FROM api_keys"
                      " WHERE hash = ?1",
    [S_APIKEY_LIST] = "SELECT key_id, hash, name, role, created_at, revoked_at FROM api_keys"
                      " ORDER BY created_at, key_id",
    [S_APIKEY_REVOKE] =
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE key_id = ?1",
};

/* ======================= the meter key cache ======================= */

/* Open addressing, linear probing; key 0 marks an empty slot (meter keys start at 1). Bounded:
 * when it would outgrow KEY_CACHE_MAX slots it is cleared instead, and refills from the DB. */
#define KEY_CACHE_MIN 1024
#define KEY_CACHE_MAX (1u << 18)

struct key_slot {
    int64_t key;
    uint32_t hash;
    char id[MTR_ID_MAX];
};
struct key_cache {
    struct key_slot *slots;
    size_t cap, used; /* cap is a power of two */
};

static uint32_t key_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int64_t key_cache_get(const struct key_cache *c, const char *id, uint32_t h)
{
    if (!c->cap)
        return 0;
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        const struct key_slot *sl = &c->slots[i];
        if (!sl->key)
            return 0;
        if (sl->hash == h && strcmp(sl->id, id) == 0)
            return sl->key;
    }
}

static void key_cache_clear(struct key_cache *c)
{
    if (c->slots)
        memset(c->slots, 0, c->cap * sizeof *c->slots);
    c->used = 0;
}

/* Best effort: a failed allocation leaves the cache as it was (the DB stays the truth). */
static void key_cache_put(struct key_cache *c, const char *id, uint32_t h, int64_t key)
{
    if (strlen(id) >= MTR_ID_MAX)
        return;
    if ((c->used + 1) * 10 > c->cap * 7) {
        size_t ncap = c->cap ? c->cap * 2 : KEY_CACHE_MIN;
        if (ncap > KEY_CACHE_MAX) {
            key_cache_clear(c);
        } else {
            struct key_slot *ns = calloc(ncap, sizeof *ns);
            if (!ns)
                return;
            for (size_t i = 0; i < c->cap; i++) {
                if (!c->slots[i].key)
                    continue;
                size_t j = c->slots[i].hash & (ncap - 1);
                while (ns[j].key)
                    j = (j + 1) & (ncap - 1);
                ns[j] = c->slots[i];
            }
            free(c->slots);
            c->slots = ns;
            c->cap = ncap;
        }
    }
    size_t i = h & (c->cap - 1);
    while (c->slots[i].key)
        i = (i + 1) & (c->cap - 1);
    c->slots[i].key = key;
    c->slots[i].hash = h;
    strcpy(c->slots[i].id, id);
    c->used++;
}

/* ======================= the handle ======================= */

#define TOUCHED_MAX 128

struct sq_store {
    struct mtr_store base;
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    struct key_cache keys;
    struct mtr_rb *rb; /* readings: blocks and their cache */
    int held;          /* a read snapshot is open (read_hold) */
    /* change tracking (see track()): the unit of work's change number once known, and the
     * (dataset, day) pairs it touched that are not yet in export_changes */
    int seq_known;
    int64_t txn_seq;
    int ntouched;
    struct touched {
        int ds;
        int64_t day;
    } touched[TOUCHED_MAX];
    struct mtr_stored_reading *xr; /* readings_changed: decoded block scratch */
    int xr_cap;
    /* detector states are stored zstd-packed (~2.6 KB -> ~1 KB: a third of the pages per commit) */
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    uint8_t *zbuf;
    size_t zcap;
};

static struct sq_store *sq(struct mtr_store *s)
{
    return (struct sq_store *)s;
}

static int fail(struct sq_store *s, const char *what)
{
    return mtr_err(&s->base.err, MTR_ESTORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* The cached statement `id`, reset and ready to bind; NULL (err set) when it cannot be prepared.
 */
static sqlite3_stmt *stmt(struct sq_store *s, enum sid id)
{
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
                               NULL) != SQLITE_OK) {
            fail(s, "prepare");
            s->st[id] = NULL;
            return NULL;
        }
    }
    return s->st[id];
}

/* Steps a statement that returns no rows and resets it. */
static int run(struct sq_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = fail(s, what);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return 0;
}

/* NAN <-> NULL for optional measurements; "" <-> NULL for optional text. */
static void bind_dbl(sqlite3_stmt *st, int i, double x)
{
    if (isnan(x))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, x);
}
static void bind_sum(sqlite3_stmt *st, int i, double x)
{
    sqlite3_bind_double(st, i, isnan(x) ? 0.0 : x);
}
static void bind_txt(sqlite3_stmt *st, int i, const char *t)
{
    if (!t || !*t)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
}
/* 0 means "unknown/none" for these times (no valid interval starts at 1970-01-01). */
static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
    if (t)
        sqlite3_bind_int64(st, i, t);
    else
        sqlite3_bind_null(st, i);
}
static double col_dbl(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
static void col_txt(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Readings need 0 < meter_key < 2^32 and a minute-aligned ts < 2^31 minutes (the block key and
 * the row view's rowid keep the former packed-key bounds). */
static int reading_key_ok(int64_t meter_key, int64_t ts)
{
    return meter_key > 0 && meter_key < ((int64_t)1 << 32) && ts >= 0 && ts % 60 == 0 &&
           ts / 60 < ((int64_t)1 << 31);
}

/* ======================= change tracking ======================= */

/* The change number of the running unit of work: one more than the committed one. Writers are
 * serialised (BEGIN IMMEDIATE), so a unit's number exceeds that of every unit committed before. */
static int cur_seq(struct sq_store *s, int64_t *seq)
{
    if (!s->seq_known) {
        sqlite3_stmt *st = stmt(s, S_SEQ_GET);
        if (!st)
            return MTR_ESTORE;
        int rc = sqlite3_step(st);
        int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_reset(st);
        if (v < 0)
            return fail(s, "change_seq");
        s->txn_seq = v + 1;
        s->seq_known = 1;
    }
    *seq = s->txn_seq;
    return 0;
}

static int flush_touched(struct sq_store *s)
{
    sqlite3_stmt *st = stmt(s, S_CHG_PUT);
    if (!st)
        return MTR_ESTORE;
    for (int i = 0; i < s->ntouched; i++) {
        sqlite3_bind_int(st, 1, s->touched[i].ds);
        sqlite3_bind_int64(st, 2, s->touched[i].day);
        sqlite3_bind_int64(st, 3, s->txn_seq);
        int rc = run(s, st, "export_changes");
        if (rc)
            return rc;
    }
    s->ntouched = 0;
    return 0;
}

/* Records the unit's change number and days; called just before COMMIT (or after an
 * autocommitted write). */
static int finish_unit(struct sq_store *s)
{
    if (!s->seq_known)
        return 0;
    int rc = flush_touched(s);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, S_SEQ_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, s->txn_seq);
    return run(s, st, "change_seq");
}

static void forget_unit(struct sq_store *s)
{
    s->seq_known = 0;
    s->ntouched = 0;
}

/* Writes outside a unit of work (autocommit) are settled at once. */
static int settle(struct sq_store *s)
{
    if (!s->seq_known || !sqlite3_get_autocommit(s->db))
        return 0;
    int rc = finish_unit(s);
    forget_unit(s);
    return rc;
}

/* Notes that the unit wrote rows of dataset ds on `day` (a write-combining set: the hot path
 * repeats the last pair). */
static int track(struct sq_store *s, enum mtr_dataset ds, int64_t day)
{
    int n = s->ntouched;
    if (n && s->touched[n - 1].ds == (int)ds && s->touched[n - 1].day == day)
        return settle(s);
    for (int i = 0; i < n; i++)
        if (s->touched[i].ds == (int)ds && s->touched[i].day == day)
            return settle(s);
    if (n == TOUCHED_MAX) {
        int rc = flush_touched(s);
        if (rc)
            return rc;
    }
    s->touched[s->ntouched].ds = (int)ds;
    s->touched[s->ntouched].day = day;
    s->ntouched++;
    return settle(s);
}

/* Binds the unit of work's change number at column seq_col, runs st and records the dataset's
 * day as changed (what the lake export reads). */
static int put_tracked(struct sq_store *s, sqlite3_stmt *st, int seq_col, const char *what,
                       enum mtr_dataset dataset, int64_t day)
{
    int64_t seq = 0;
    int rc = cur_seq(s, &seq);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, seq_col, seq);
    if ((rc = run(s, st, what)))
        return rc;
    return track(s, dataset, day);
}

static int64_t day_of(int64_t ts)
{
    int64_t r = ts % 86400;
    return ts - (r < 0 ? r + 86400 : r);
}

/* Block-layer hooks: a meter-day block is written with the unit's change number; the block
 * layer's own short transactions (writes outside a unit of work) record theirs before COMMIT. */
static int rb_block_write(void *ctx, int64_t day, int64_t *seq)
{
    struct sq_store *s = ctx;
    int rc = cur_seq(s, seq);
    return rc ? rc : track(s, MTR_DS_READINGS, day);
}
static int rb_own_commit(void *ctx)
{
    return finish_unit((struct sq_store *)ctx);
}
static void rb_own_end(void *ctx)
{
    forget_unit((struct sq_store *)ctx);
}

/* ======================= open, migrate, close ======================= */

/* Migration 3, second half: the rows of rollup_hourly become hour blocks. */
static int hours_to_blocks(sqlite3 *db)
{
    sqlite3_stmt *sel = NULL, *ins = NULL;
    struct mtr_rollup_hour h[24];
    uint8_t buf[MTR_BC_HOURS_MAX_BYTES];
    size_t len;
    uint32_t present = 0;
    int64_t key = 0, day = 0;
    int rc = SQLITE_OK;
    memset(h, 0, sizeof h);
    if (sqlite3_prepare_v2(db,
                           "SELECT meter_key, hour, kwh, min_kwh, max_kwh, n, n_estimated"
                           " FROM rollup_hourly ORDER BY meter_key, hour",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO rollup_hour_blocks(id, meter_key, day, data)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = SQLITE_ERROR;
        goto out;
    }
    for (;;) {
        int step = sqlite3_step(sel);
        int64_t k = 0, hour = 0;
        if (step == SQLITE_ROW) {
            k = sqlite3_column_int64(sel, 0);
            hour = sqlite3_column_int64(sel, 1);
        } else if (step != SQLITE_DONE) {
            rc = step;
            goto out;
        }
        if (present && (step == SQLITE_DONE || k != key || hour - hour % 86400 != day)) {
            mtr_bc_hours_encode(h, present, buf, &len);
            sqlite3_bind_int64(ins, 1, mtr_rb_id(key, day / 86400));
            sqlite3_bind_int64(ins, 2, key);
            sqlite3_bind_int64(ins, 3, day);
            sqlite3_bind_blob(ins, 4, buf, (int)len, SQLITE_STATIC);
            if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
                goto out;
            rc = SQLITE_OK;
            sqlite3_reset(ins);
            present = 0;
        }
        if (step == SQLITE_DONE)
            break;
        key = k;
        day = hour - hour % 86400;
        int i = (int)((hour - day) / 3600);
        h[i].kwh = sqlite3_column_double(sel, 2);
        h[i].min_kwh = col_dbl(sel, 3);
        h[i].max_kwh = col_dbl(sel, 4);
        h[i].n = sqlite3_column_int(sel, 5);
        h[i].n_estimated = sqlite3_column_int(sel, 6);
        present |= 1u << i;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    rc = sqlite3_exec(db, "DROP TABLE rollup_hourly", NULL, NULL, NULL);
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    return rc;
}

/* Migration 3: the rows of the former readings table become meter-day blocks. */
static int readings_to_blocks(sqlite3 *db, char **msg)
{
    sqlite3_stmt *sel = NULL, *ins = NULL;
    struct mtr_stored_reading *r = NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    int n = 0, rcap = 0, rc = SQLITE_OK;
    int64_t key = 0, day = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT meter_key, ts, interval_s, raw_kwh, kwh, voltage_v, current_a,"
                           " power_factor, frequency_hz, active_power_kw, reactive_power_kvar,"
                           " quality_code, flags, score, coalesce(ingested_at, 0) FROM readings"
                           " ORDER BY id",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO reading_blocks(id, meter_key, day, n, n_estimated, data)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = SQLITE_ERROR;
        goto out;
    }
    for (;;) {
        int step = sqlite3_step(sel);
        int64_t k = 0, d = 0;
        if (step == SQLITE_ROW) {
            k = sqlite3_column_int64(sel, 0);
            d = sqlite3_column_int64(sel, 1) - sqlite3_column_int64(sel, 1) % 86400;
        } else if (step != SQLITE_DONE) {
            rc = step;
            goto out;
        }
        if (n && (step == SQLITE_DONE || k != key || d != day)) {
            int est = 0;
            for (int i = 0; i < n; i++)
                est += mtr_quality_code_is_estimate(r[i].quality_code);
            if (mtr_rb_encode(r, n, day, &buf, &cap, &len)) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            sqlite3_bind_int64(ins, 1, mtr_rb_id(key, day / 86400));
            sqlite3_bind_int64(ins, 2, key);
            sqlite3_bind_int64(ins, 3, day);
            sqlite3_bind_int(ins, 4, n);
            sqlite3_bind_int(ins, 5, est);
            sqlite3_bind_blob(ins, 6, buf, (int)len, SQLITE_STATIC);
            if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
                goto out;
            rc = SQLITE_OK;
            sqlite3_reset(ins);
            n = 0;
        }
        if (step == SQLITE_DONE)
            break;
        if (n == rcap) {
            rcap = rcap ? rcap * 2 : 128;
            struct mtr_stored_reading *nr = realloc(r, (size_t)rcap * sizeof *nr);
            if (!nr) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            r = nr;
        }
        struct mtr_stored_reading *x = &r[n++];
        key = k;
        day = d;
        x->meter_key = k;
        x->ts = sqlite3_column_int64(sel, 1);
        x->interval_s = sqlite3_column_int(sel, 2);
        double *v[] = {
            &x->raw_kwh,      &x->kwh,          &x->voltage_v,       &x->current_a,
            &x->power_factor, &x->frequency_hz, &x->active_power_kw, &x->reactive_power_kvar};
        for (int i = 0; i < 8; i++)
            *v[i] = col_dbl(sel, 3 + i);
        x->quality_code = sqlite3_column_int(sel, 11);
        x->flags = (uint64_t)sqlite3_column_int64(sel, 12);
        x->score = col_dbl(sel, 13);
        x->ingested_at = sqlite3_column_int64(sel, 14);
    }
    sqlite3_finalize(sel);
    sel = NULL;
    rc = sqlite3_exec(db, "DROP TABLE readings", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = hours_to_blocks(db);
out:
    if (rc != SQLITE_OK && msg && !*msg)
        *msg = sqlite3_mprintf("converting readings to blocks: %s", sqlite3_errmsg(db));
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    free(r);
    free(buf);
    return rc;
}

static void sql_reading_score(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_double(
        ctx, mtr_reading_score(sqlite3_value_int(argv[0]), (uint64_t)sqlite3_value_int64(argv[1])));
}

/* The first column of the first row of sql; -1 when there is none. */
static int64_t scalar_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t schema_version(sqlite3 *db)
{
    return scalar_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
}

static int count_rows(void *ctx, int ncol, char **val, char **col)
{
    (void)ncol, (void)val, (void)col;
    ++*(int *)ctx;
    return 0;
}

/* Brings the schema to MIGRATION_COUNT, one transaction per migration. Foreign keys must be off
 * (PRAGMA foreign_keys cannot change inside a transaction, and a table rebuild drops a parent);
 * each migration checks them before it commits. */
static int migrate(sqlite3 *db, const char *path, struct mtr_errbuf *eb)
{
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
                     " applied_at INTEGER NOT NULL, description TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return mtr_err(eb, MTR_ESTORE, "%s: schema_migrations: %s", path, sqlite3_errmsg(db));
    for (;;) {
        int64_t v = schema_version(db);
        if (v < 0)
            return mtr_err(eb, MTR_ESTORE, "%s: reading the schema version: %s", path,
                           sqlite3_errmsg(db));
        if (v > MIGRATION_COUNT)
            return mtr_err(eb, MTR_ESTORE,
                           "%s: the database has schema version %lld, newer than this metrify "
                           "knows (%d); use a newer metrify",
                           path, (long long)v, MIGRATION_COUNT);
        if (v == MIGRATION_COUNT)
            return 0;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return mtr_err(eb, MTR_ESTORE, "%s: migration: %s", path, sqlite3_errmsg(db));
        /* another process may have migrated between the check and the lock */
        if (schema_version(db) != v) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            continue;
        }
        const struct migration *m = &migrations[v];
        char ins[256];
        snprintf(ins, sizeof ins,
                 "INSERT INTO schema_migrations(version, applied_at, description)"
                 " VALUES (%lld, %lld, '%s')",
                 (long long)v + 1, (long long)time(NULL), m->description);
        char *msg = NULL;
        int broken = 0;
        int ok =
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) == SQLITE_OK &&
            (!m->convert || m->convert(db, &msg) == SQLITE_OK) &&
            sqlite3_exec(db, ins, NULL, NULL, &msg) == SQLITE_OK &&
            sqlite3_exec(db, "PRAGMA foreign_key_check", count_rows, &broken, &msg) == SQLITE_OK;
        if (ok && broken) {
            msg = sqlite3_mprintf("%d rows break a foreign key", broken);
            ok = 0;
        }
        if (!ok || sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            int rc = mtr_err(eb, MTR_ESTORE, "%s: migration %lld (%s): %s", path, (long long)v + 1,
                             m->description, msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
}

static void sq_close(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    mtr_rb_destroy(s->rb);
    sqlite3_close(s->db);
    free(s->keys.slots);
    free(s->xr);
    ZSTD_freeCCtx(s->zc);
    ZSTD_freeDCtx(s->zd);
    free(s->zbuf);
    free(s);
}

static const struct mtr_store_ops sq_ops;

int mtr_sqlite_open(const char *path, struct mtr_store **out, struct mtr_errbuf *eb)
{
    int rc = 0;
    struct sq_store *s = NULL;
    *out = NULL;
    if (!path || !*path)
        return mtr_err(eb, MTR_EINVAL, "empty database path");
    s = calloc(1, sizeof *s);
    if (!s)
        return mtr_err(eb, MTR_ENOMEM, "out of memory opening %s", path);
    s->base.ops = &sq_ops;
    /* NOMUTEX: a handle is used by one thread at a time (per-thread handles in the API), so the
     * per-call connection mutex of the serialized mode is pure overhead (~10% of a scan) */
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "cannot open the database");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    /* the file is only really opened by the first statement: an error here is an I/O error */
    /* 8 KiB pages for a new file (an existing one keeps its size): bulk ingest writes tens of
     * thousands of ~0.6 KB meter-day blocks per commit, and fewer, larger WAL frames cut its time
     * by ~20 %; but a small unit of work (an HTTP batch) writes whole pages for a few rows each:
     * 16 KiB pages cost it a quarter of its rate, 8 KiB keep both (docs/performance.md) */
    if (sqlite3_exec(s->db, "PRAGMA page_size=8192", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_EIO, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    if (sqlite3_exec(s->db,
                     "PRAGMA synchronous=NORMAL;"
                     " PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_ESTORE, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* memory-mapped reads help long scans (export) but count every page read into the resident
     * set; off unless asked for, so ingest's memory stays bounded by the caches */
    const char *mm = getenv("METRIFY_SQLITE_MMAP_MB");
    if (mm && atoi(mm) > 0) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA mmap_size=%lld", (long long)atoi(mm) << 20);
        sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
    }
    if (sqlite3_create_function_v2(s->db, "mtr_reading_score", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_reading_score,
                                   NULL, NULL, NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_ESTORE, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    rc = migrate(s->db, path, eb);
    if (rc)
        goto fail;
    if (sqlite3_exec(s->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mtr_err(eb, MTR_ESTORE, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* after the migrations: the row view takes the name of the former readings table */
    if (mtr_rb_register_sql(s->db) < 0) {
        rc = mtr_err(eb, MTR_ESTORE, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    const char *mb = getenv("METRIFY_SQLITE_CACHE_MB");
    size_t cache_mb = mb && atoi(mb) > 0 ? (size_t)atoi(mb) : 96;
    if (!(s->rb = mtr_rb_create(s->db, cache_mb << 20, &s->base.err))) {
        rc = mtr_err(eb, MTR_ENOMEM, "out of memory opening %s", path);
        goto fail;
    }
    struct mtr_rb_hooks hooks = {rb_block_write, rb_own_commit, rb_own_end, s};
    mtr_rb_set_hooks(s->rb, &hooks);
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return rc;
}

/* ======================= transactions ======================= */

static void sq_read_release(struct mtr_store *base);

static int sq_begin(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    sq_read_release(base); /* a write needs the newest snapshot, taken with the write lock */
    sqlite3_stmt *st = stmt(s, S_BEGIN);
    int rc = st ? run(s, st, "begin") : MTR_ESTORE;
    if (!rc)
        mtr_rb_begin(s->rb);
    return rc;
}

static int sq_commit(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_COMMIT);
    int rc = mtr_rb_flush(s->rb);
    if (!rc)
        rc = finish_unit(s); /* after the blocks: their writes take the unit's number */
    if (rc)
        return rc;
    if (!st)
        return MTR_ESTORE;
    if ((rc = run(s, st, "commit")) == 0)
        forget_unit(s);
    return rc;
}

/* A deferred BEGIN takes no lock: SQLite's WAL read lock comes with the first read and goes with
 * the COMMIT, so the reads in between cost one fcntl lock round (and one size check) in all. */
static int sq_read_hold(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    if (s->held || !sqlite3_get_autocommit(s->db))
        return 0;
    sqlite3_stmt *st = stmt(s, S_BEGIN_READ);
    int rc = st ? run(s, st, "begin a read snapshot") : MTR_ESTORE;
    if (!rc)
        s->held = 1;
    return rc;
}

static void sq_read_release(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    if (!s->held)
        return;
    s->held = 0;
    sqlite3_stmt *st = stmt(s, S_COMMIT);
    /* a transaction that only read cannot fail to commit; should it anyway, end it */
    if ((!st || run(s, st, "end a read snapshot")) && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_rollback(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    /* meters created in the transaction are gone: their cached keys with them */
    key_cache_clear(&s->keys);
    mtr_rb_discard(s->rb);
    forget_unit(s);
    sqlite3_stmt *st = stmt(s, S_ROLLBACK);
    return st ? run(s, st, "rollback") : MTR_ESTORE;
}

/* ======================= master data ======================= */

static int sq_meter_put(struct mtr_store *base, const struct mtr_meter *m)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_METER_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    bind_dbl(st, 2, m->latitude);
    bind_dbl(st, 3, m->longitude);
    bind_txt(st, 4, m->address);
    bind_txt(st, 5, m->manufacturer);
    bind_txt(st, 6, m->model);
    bind_txt(st, 7, m->firmware);
    sqlite3_bind_text(st, 8, mtr_meter_type_name(m->type), -1, SQLITE_STATIC);
    bind_txt(st, 9, m->tariff);
    sqlite3_bind_text(st, 10, mtr_meter_status_name(m->status), -1, SQLITE_STATIC);
    bind_time(st, 11, m->installed_at);
    bind_txt(st, 12, m->operator_id);
    bind_txt(st, 13, m->station_id);
    bind_dbl(st, 14, m->base_kwh);
    sqlite3_bind_int64(st, 15, (int64_t)time(NULL));
    return run(s, st, "meter_put");
}

static void col_meter(sqlite3_stmt *st, struct mtr_meter *m, int64_t *key)
{
    mtr_meter_init(m);
    if (key)
        *key = sqlite3_column_int64(st, 0);
    col_txt(st, 1, m->id, sizeof m->id);
    m->latitude = col_dbl(st, 2);
    m->longitude = col_dbl(st, 3);
    col_txt(st, 4, m->address, sizeof m->address);
    col_txt(st, 5, m->manufacturer, sizeof m->manufacturer);
    col_txt(st, 6, m->model, sizeof m->model);
    col_txt(st, 7, m->firmware, sizeof m->firmware);
    int t = mtr_meter_type_parse((const char *)sqlite3_column_text(st, 8));
    m->type = t < 0 ? MTR_METER_RESIDENTIAL : (enum mtr_meter_type)t;
    col_txt(st, 9, m->tariff, sizeof m->tariff);
    int status = mtr_meter_status_parse((const char *)sqlite3_column_text(st, 10));
    m->status = status < 0 ? MTR_METER_PENDING : (enum mtr_meter_status)status;
    m->installed_at = sqlite3_column_int64(st, 11);
    col_txt(st, 12, m->operator_id, sizeof m->operator_id);
    col_txt(st, 13, m->station_id, sizeof m->station_id);
    m->base_kwh = col_dbl(st, 14);
}

static int sq_meter_get(struct mtr_store *base, const char *id, struct mtr_meter *out, int64_t *key)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_METER_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_meter(st, out, key);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "meter %s not found", id);
    } else {
        rc = fail(s, "meter_get");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_meter_key(struct mtr_store *base, const char *id, int create, int64_t *key,
                        int *created)
{
    struct sq_store *s = sq(base);
    uint32_t h = key_hash(id);
    if (created)
        *created = 0;
    *key = key_cache_get(&s->keys, id, h);
    if (*key)
        return 0;
    sqlite3_stmt *st = stmt(s, S_METER_KEY);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *key = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        rc = fail(s, "meter_key");
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    if (!*key) {
        if (!create)
            return mtr_err(&s->base.err, MTR_ENOTFOUND, "meter %s not found", id);
        st = stmt(s, S_METER_NEW);
        if (!st)
            return MTR_ESTORE;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
        rc = run(s, st, "meter_key (register)");
        if (rc)
            return rc;
        *key = sqlite3_last_insert_rowid(s->db);
        if (created)
            *created = 1;
    }
    key_cache_put(&s->keys, id, h, *key);
    return 0;
}

/* SQLite takes LIMIT -1 as "no limit". */
static void bind_limit(sqlite3_stmt *st, int i, const struct mtr_query *q)
{
    sqlite3_bind_int64(st, i, q && q->limit > 0 ? q->limit : -1);
    sqlite3_bind_int64(st, i + 1, q && q->offset > 0 ? q->offset : 0);
}
static void bind_from_to(sqlite3_stmt *st, int i, const struct mtr_query *q)
{
    if (q && q->has_from)
        sqlite3_bind_int64(st, i, q->from);
    else
        sqlite3_bind_null(st, i);
    if (q && q->has_to)
        sqlite3_bind_int64(st, i + 1, q->to);
    else
        sqlite3_bind_null(st, i + 1);
}

/* Steps a row query; `row` converts the current row and calls the user callback. */
static int iterate(struct sq_store *s, sqlite3_stmt *st, const char *what,
                   int (*row)(sqlite3_stmt *st, void *cb, void *ctx), void *cb, void *ctx)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int r = row(st, cb, ctx);
        if (r) {
            sqlite3_reset(st);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : fail(s, what);
    sqlite3_reset(st);
    return rc;
}

static int meter_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_meter m;
    col_meter(st, &m, NULL);
    return ((int (*)(void *, const struct mtr_meter *))cb)(ctx, &m);
}

static int sq_meter_list(struct mtr_store *base, const struct mtr_query *q,
                         int (*cb)(void *ctx, const struct mtr_meter *m), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_METER_LIST);
    if (!st)
        return MTR_ESTORE;
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_limit(st, 2, q);
    return iterate(s, st, "meter_list", meter_row, (void *)cb, ctx);
}

static int sq_operator_put(struct mtr_store *base, const struct mtr_operator *o)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_OP_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC);
    bind_txt(st, 2, o->name);
    bind_txt(st, 3, o->type);
    bind_txt(st, 4, o->region);
    bind_dbl(st, 5, o->capacity_mw);
    bind_dbl(st, 6, o->voltage_kv);
    bind_dbl(st, 7, o->latitude);
    bind_dbl(st, 8, o->longitude);
    sqlite3_bind_text(st, 9, mtr_site_status_name(o->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (int64_t)time(NULL));
    return run(s, st, "operator_put");
}

/* Converts a row of OP_COLS. */
static void col_operator(sqlite3_stmt *st, struct mtr_operator *o)
{
    memset(o, 0, sizeof *o);
    col_txt(st, 0, o->id, sizeof o->id);
    col_txt(st, 1, o->name, sizeof o->name);
    col_txt(st, 2, o->type, sizeof o->type);
    col_txt(st, 3, o->region, sizeof o->region);
    o->capacity_mw = col_dbl(st, 4);
    o->voltage_kv = col_dbl(st, 5);
    o->latitude = col_dbl(st, 6);
    o->longitude = col_dbl(st, 7);
    int status = mtr_site_status_parse((const char *)sqlite3_column_text(st, 8));
    o->status = status < 0 ? MTR_SITE_ACTIVE : (enum mtr_site_status)status;
}

/* Converts a row of STATION_COLS. */
static void col_station(sqlite3_stmt *st, struct mtr_station *w)
{
    memset(w, 0, sizeof *w);
    col_txt(st, 0, w->id, sizeof w->id);
    col_txt(st, 1, w->name, sizeof w->name);
    col_txt(st, 2, w->type, sizeof w->type);
    w->latitude = col_dbl(st, 3);
    w->longitude = col_dbl(st, 4);
    w->elevation_m = col_dbl(st, 5);
    int status = mtr_site_status_parse((const char *)sqlite3_column_text(st, 6));
    w->status = status < 0 ? MTR_SITE_ACTIVE : (enum mtr_site_status)status;
}

static int sq_operator_get(struct mtr_store *base, const char *id, struct mtr_operator *o)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_OP_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_operator(st, o);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "grid operator %s not found", id);
    } else {
        rc = fail(s, "operator_get");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_station_put(struct mtr_store *base, const struct mtr_station *w)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_STATION_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
    bind_txt(st, 2, w->name);
    bind_txt(st, 3, w->type);
    bind_dbl(st, 4, w->latitude);
    bind_dbl(st, 5, w->longitude);
    bind_dbl(st, 6, w->elevation_m);
    sqlite3_bind_text(st, 7, mtr_site_status_name(w->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, (int64_t)time(NULL));
    return run(s, st, "station_put");
}

static int sq_station_get(struct mtr_store *base, const char *id, struct mtr_station *w)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_STATION_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_station(st, w);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "weather station %s not found", id);
    } else {
        rc = fail(s, "station_get");
    }
    sqlite3_reset(st);
    return rc;
}

/* ======================= detector state ======================= */

/* A stored state is a zstd frame (written since block format 2) or the raw bytes (before). */
/* a fast level: on 2.6 KB states level 1 took a quarter of each commit and packed them only 4 %
 * smaller than -5 */
#define STATE_ZSTD_LEVEL -5

static int zbuf_room(struct sq_store *s, size_t need)
{
    if (need <= s->zcap)
        return 0;
    uint8_t *nb = realloc(s->zbuf, need);
    if (!nb)
        return mtr_err(&s->base.err, MTR_ENOMEM, "out of memory packing a detector state");
    s->zbuf = nb;
    s->zcap = need;
    return 0;
}

static int sq_state_get(struct mtr_store *base, int64_t meter_key, void *buf, size_t cap,
                        size_t *len)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_STATE_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, meter_key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const uint8_t *b = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        unsigned long long raw = n >= 4 ? ZSTD_getFrameContentSize(b, n) : ZSTD_CONTENTSIZE_ERROR;
        if (raw != ZSTD_CONTENTSIZE_ERROR && raw != ZSTD_CONTENTSIZE_UNKNOWN) {
            size_t got = 0;
            if (raw <= cap && (s->zd || (s->zd = ZSTD_createDCtx())))
                got = ZSTD_decompressDCtx(s->zd, buf, cap, b, n);
            if (raw > cap || !s->zd || ZSTD_isError(got) || got != raw)
                rc = mtr_err(&s->base.err, raw > cap ? MTR_ERANGE : MTR_ESTORE,
                             "state of meter %lld: %s", (long long)meter_key,
                             raw > cap ? "larger than the buffer" : "does not unpack");
            else {
                *len = got;
                rc = 0;
            }
        } else if (n > cap) {
            *len = n;
            rc = mtr_err(&s->base.err, MTR_ERANGE,
                         "state of meter %lld is %zu bytes, the buffer holds %zu",
                         (long long)meter_key, n, cap);
        } else {
            *len = n;
            if (n)
                memcpy(buf, b, n);
            rc = 0;
        }
    } else if (rc == SQLITE_DONE) {
        *len = 0;
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "no state for meter %lld", (long long)meter_key);
    } else {
        rc = fail(s, "state_get");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_state_put(struct mtr_store *base, int64_t meter_key, const void *buf, size_t len)
{
    struct sq_store *s = sq(base);
    size_t packed = ZSTD_compressBound(len);
    int rc = zbuf_room(s, packed);
    if (rc)
        return rc;
    if (!s->zc && !(s->zc = ZSTD_createCCtx()))
        return mtr_err(&s->base.err, MTR_ENOMEM, "out of memory packing a detector state");
    packed = ZSTD_compressCCtx(s->zc, s->zbuf, s->zcap, buf, len, STATE_ZSTD_LEVEL);
    if (ZSTD_isError(packed))
        return mtr_err(&s->base.err, MTR_ESTORE, "packing the state of meter %lld: %s",
                       (long long)meter_key, ZSTD_getErrorName(packed));
    for (int id = S_STATE_PUT; id <= S_STATE_NEW; id++) {
        sqlite3_stmt *st = stmt(s, id);
        if (!st)
            return MTR_ESTORE;
        sqlite3_bind_int64(st, 1, meter_key);
        sqlite3_bind_blob64(st, 2, s->zbuf, packed, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
        rc = run(s, st, "state_put");
        if (rc || sqlite3_changes(s->db) > 0)
            return rc;
    }
    return 0;
}

/* ======================= readings ======================= */

/* Binds the 15 READING_COLS as ?1..?15. */
static void bind_reading(sqlite3_stmt *st, const struct mtr_stored_reading *r)
{
    sqlite3_bind_int64(st, 1, r->meter_key);
    sqlite3_bind_int64(st, 2, r->ts);
    sqlite3_bind_int(st, 3, r->interval_s);
    bind_dbl(st, 4, r->raw_kwh);
    bind_dbl(st, 5, r->kwh);
    bind_dbl(st, 6, r->voltage_v);
    bind_dbl(st, 7, r->current_a);
    bind_dbl(st, 8, r->power_factor);
    bind_dbl(st, 9, r->frequency_hz);
    bind_dbl(st, 10, r->active_power_kw);
    bind_dbl(st, 11, r->reactive_power_kvar);
    sqlite3_bind_int(st, 12, r->quality_code);
    sqlite3_bind_int64(st, 13, (int64_t)r->flags);
    bind_dbl(st, 14, r->score);
    bind_time(st, 15, r->ingested_at);
}

static int bad_key(struct sq_store *s, int64_t meter_key, int64_t ts)
{
    return mtr_err(&s->base.err, MTR_EINVAL,
                   "reading key out of range: meter_key %lld, ts %lld (need 0 < key < 2^32, "
                   "ts >= 0 and minute-aligned)",
                   (long long)meter_key, (long long)ts);
}

static int sq_reading_get(struct mtr_store *base, int64_t meter_key, int64_t ts,
                          struct mtr_stored_reading *out)
{
    struct sq_store *s = sq(base);
    if (!reading_key_ok(meter_key, ts))
        return mtr_err(&s->base.err, MTR_ENOTFOUND, "no reading of meter %lld at %lld",
                       (long long)meter_key, (long long)ts);
    return mtr_rb_get(s->rb, meter_key, ts, out);
}

static int sq_reading_put(struct mtr_store *base, const struct mtr_stored_reading *r)
{
    struct sq_store *s = sq(base);
    if (!reading_key_ok(r->meter_key, r->ts))
        return bad_key(s, r->meter_key, r->ts);
    return mtr_rb_put(s->rb, r);
}

static void sq_reading_prefetch(struct mtr_store *base, int64_t meter_key)
{
    mtr_rb_prefetch(sq(base)->rb, meter_key);
}

static int sq_reading_revise(struct mtr_store *base, const struct mtr_stored_reading *old,
                             int64_t revised_at)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_READ_REVISE);
    if (!st)
        return MTR_ESTORE;
    bind_reading(st, old);
    sqlite3_bind_int64(st, 16, revised_at);
    return run(s, st, "reading_revise");
}

static int sq_readings_flag(struct mtr_store *base, int64_t meter_key, int64_t from, int64_t to,
                            uint64_t flags, int set_code)
{
    struct sq_store *s = sq(base);
    if (meter_key <= 0 || meter_key >= ((int64_t)1 << 32) || to < from || to < 0)
        return 0; /* no reading can be in that range */
    return mtr_rb_flag(s->rb, meter_key, from, to, flags, set_code);
}

static int sq_readings_range(struct mtr_store *base, int64_t meter_key, int64_t from, int64_t to,
                             int (*cb)(void *ctx, const struct mtr_stored_reading *r), void *ctx)
{
    struct sq_store *s = sq(base);
    if (meter_key <= 0 || meter_key >= ((int64_t)1 << 32) || to <= from || to <= 0)
        return 0;
    return mtr_rb_range(s->rb, meter_key, from, to, cb, ctx);
}

/* ======================= rollups ======================= */

static int sq_rollup_hour_merge(struct mtr_store *base, const struct mtr_rollup_hour *h)
{
    struct sq_store *s = sq(base);
    if (!reading_key_ok(h->meter_key, h->hour) || h->hour % 3600 != 0)
        return mtr_err(&s->base.err, MTR_EINVAL, "rollup_hour_merge: bad meter %lld / hour %lld",
                       (long long)h->meter_key, (long long)h->hour);
    return mtr_rb_hour_merge(s->rb, h);
}

static int day_merge(struct sq_store *s, const struct mtr_rollup_day *d)
{
    sqlite3_stmt *st = stmt(s, S_DAY_MERGE);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, d->meter_key);
    sqlite3_bind_int64(st, 2, d->day);
    sqlite3_bind_int(st, 3, d->interval_s);
    bind_sum(st, 4, d->kwh);
    bind_sum(st, 5, d->peak_kwh);
    bind_sum(st, 6, d->offpeak_kwh);
    bind_dbl(st, 7, d->min_kwh);
    bind_dbl(st, 8, d->max_kwh);
    sqlite3_bind_int(st, 9, d->n_valid);
    sqlite3_bind_int(st, 10, d->n_estimated);
    sqlite3_bind_int(st, 11, d->n_flagged);
    sqlite3_bind_int(st, 12, d->n_anomalous);
    bind_time(st, 13, d->first_ts);
    bind_time(st, 14, d->last_ts);
    bind_sum(st, 15, d->timeliness_sum);
    return put_tracked(s, st, 16, "rollup_day_merge", MTR_DS_DAILY, d->day);
}

static int sq_rollup_day_merge(struct mtr_store *base, const struct mtr_rollup_day *d)
{
    return day_merge(sq(base), d);
}

/* Accumulates one day's readings into its day row and 24 hour rows (app/rollup.h). */
struct recompute {
    const struct mtr_params *p;
    struct mtr_rollup_day d;
    struct mtr_rollup_hour h[24];
    uint32_t seen; /* bit i: hour i had a reading */
    int any;
};

static int recompute_row(void *ctx, const struct mtr_stored_reading *r)
{
    struct recompute *rc = ctx;
    int hi = (int)((r->ts - rc->d.day) / 3600);
    int est = mtr_quality_code_is_estimate(r->quality_code);
    rc->any = 1;
    rc->seen |= 1u << hi;
    mtr_rollup_add(&rc->d, &rc->h[hi], r, rc->p,
                   est ? 0 : mtr_timeliness(r->ingested_at - (r->ts + r->interval_s)));
    return 0;
}

static int sq_rollup_recompute(struct mtr_store *base, int64_t meter_key, int64_t day,
                               const struct mtr_params *p)
{
    struct sq_store *s = sq(base);
    int rc = 0;
    struct recompute acc;
    if (day % 86400 != 0 || !reading_key_ok(meter_key, day))
        return mtr_err(&s->base.err, MTR_EINVAL, "rollup_recompute: bad meter %lld / day %lld",
                       (long long)meter_key, (long long)day);
    memset(&acc, 0, sizeof acc);
    acc.p = p;
    mtr_rollup_day_init(&acc.d, acc.h, meter_key, day);
    /* a savepoint makes the rebuild atomic inside or outside a caller's transaction. The cached
     * blocks are written first, outside it: the range below would write them inside, and SQLite
     * keeps the prior image of every page a savepoint changes in memory (temp_store=MEMORY)
     * until it is released - at a unit's commit, every page of the unit: 150 MB at 10,000
     * meters, and a heap that grew with each unit */
    if ((rc = mtr_rb_flush(s->rb)))
        return rc;
    if (sqlite3_exec(s->db, "SAVEPOINT recompute", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "rollup_recompute");
    sqlite3_stmt *st;
    if ((rc = mtr_rb_range(s->rb, meter_key, day, day + 86400, recompute_row, &acc)))
        goto out;
    if (!(st = stmt(s, S_RECOMP_DEL_DAY))) {
        rc = MTR_ESTORE;
        goto out;
    }
    sqlite3_bind_int64(st, 1, meter_key);
    sqlite3_bind_int64(st, 2, day);
    if ((rc = run(s, st, "rollup_recompute")))
        goto out;
    if (acc.any && (rc = day_merge(s, &acc.d)))
        goto out;
    rc = mtr_rb_hours_replace(s->rb, meter_key, day, acc.h, acc.seen);
out:
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK TO recompute", NULL, NULL, NULL);
        sqlite3_exec(s->db, "RELEASE recompute", NULL, NULL, NULL);
        return rc;
    }
    if (sqlite3_exec(s->db, "RELEASE recompute", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "rollup_recompute");
    return settle(s);
}

static int sq_rollup_grid_merge(struct mtr_store *base, const struct mtr_rollup_grid_day *g)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_GRID_MERGE);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, g->operator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, g->day);
    sqlite3_bind_int(st, 3, g->n);
    sqlite3_bind_int(st, 4, g->n_flagged);
    bind_sum(st, 5, g->freq_sum);
    bind_dbl(st, 6, g->freq_min);
    bind_dbl(st, 7, g->freq_max);
    bind_sum(st, 8, g->voltage_sum);
    bind_sum(st, 9, g->load_sum);
    bind_dbl(st, 10, g->load_max);
    bind_sum(st, 11, g->stability_sum);
    bind_dbl(st, 12, g->stability_min);
    return run(s, st, "rollup_grid_merge");
}

static int sq_rollup_grid_recompute(struct mtr_store *base, const char *operator_id, int64_t day)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *del = stmt(s, S_GRID_RECOMPUTE_DEL);
    if (!del)
        return MTR_ESTORE;
    sqlite3_bind_text(del, 1, operator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(del, 2, day);
    int rc = run(s, del, "rollup_grid_recompute");
    if (rc < 0)
        return rc;
    sqlite3_stmt *ins = stmt(s, S_GRID_RECOMPUTE);
    if (!ins)
        return MTR_ESTORE;
    sqlite3_bind_text(ins, 1, operator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, day);
    return run(s, ins, "rollup_grid_recompute");
}

/* ======================= grid status, weather ======================= */

static int sq_grid_put(struct mtr_store *base, const struct mtr_grid_status *g, uint64_t flags,
                       double score)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_GRID_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, g->operator_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, g->ts);
    bind_dbl(st, 3, g->frequency_hz);
    bind_dbl(st, 4, g->voltage_kv);
    bind_dbl(st, 5, g->load_mw);
    bind_dbl(st, 6, g->capacity_mw);
    bind_dbl(st, 7, g->stability);
    sqlite3_bind_int64(st, 8, (int64_t)flags);
    bind_dbl(st, 9, score);
    return put_tracked(s, st, 10, "grid_put", MTR_DS_GRID, day_of(g->ts));
}

static int sq_weather_put(struct mtr_store *base, const struct mtr_weather_obs *w, uint64_t flags,
                          double score)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_WEATHER_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, w->station_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->ts);
    bind_dbl(st, 3, w->temperature_c);
    bind_dbl(st, 4, w->humidity_pct);
    bind_dbl(st, 5, w->pressure_hpa);
    bind_dbl(st, 6, w->wind_speed_ms);
    bind_dbl(st, 7, w->wind_direction_deg);
    bind_dbl(st, 8, w->precipitation_mm);
    bind_dbl(st, 9, w->cloud_cover_pct);
    sqlite3_bind_int64(st, 10, (int64_t)flags);
    bind_dbl(st, 11, score);
    return put_tracked(s, st, 12, "weather_put", MTR_DS_WEATHER, day_of(w->ts));
}

/* ======================= alerts, quarantine ======================= */

static int sq_alert_put(struct mtr_store *base, const struct mtr_alert *a)
{
    struct sq_store *s = sq(base);
    const struct mtr_rule *rule = mtr_rule(a->type);
    if (!rule)
        return mtr_err(&s->base.err, MTR_EINVAL, "alert_put: unknown rule %d", (int)a->type);
    sqlite3_stmt *st = stmt(s, S_ALERT_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, mtr_kind_name(a->source), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->entity_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rule->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, mtr_level_name(a->level), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, (int)a->level);
    bind_dbl(st, 6, a->score);
    sqlite3_bind_int64(st, 7, a->start_ts);
    sqlite3_bind_int64(st, 8, a->end_ts);
    sqlite3_bind_int(st, 9, a->count);
    bind_dbl(st, 10, a->value);
    bind_txt(st, 11, a->detail);
    sqlite3_bind_int64(st, 12, (int64_t)time(NULL));
    return run(s, st, "alert_put");
}

static int sq_quarantine_put(struct mtr_store *base, const struct mtr_quarantine *q)
{
    struct sq_store *s = sq(base);
    const struct mtr_rule *rule = mtr_rule(q->rule);
    if (!rule)
        return mtr_err(&s->base.err, MTR_EINVAL, "quarantine_put: unknown rule %d", (int)q->rule);
    sqlite3_stmt *st = stmt(s, S_QUAR_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, mtr_kind_name(q->kind), -1, SQLITE_STATIC);
    bind_txt(st, 2, q->source);
    sqlite3_bind_int64(st, 3, (int64_t)q->line);
    sqlite3_bind_text(st, 4, rule->name, -1, SQLITE_STATIC);
    bind_txt(st, 5, q->field);
    bind_txt(st, 6, q->message);
    bind_txt(st, 7, q->raw);
    sqlite3_bind_int64(st, 8, q->at);
    return run(s, st, "quarantine_put");
}

/* ======================= queries ======================= */

static void col_day(sqlite3_stmt *st, int c, struct mtr_rollup_day *d)
{
    d->meter_key = sqlite3_column_int64(st, c + 0);
    d->day = sqlite3_column_int64(st, c + 1);
    d->interval_s = sqlite3_column_int(st, c + 2);
    d->kwh = sqlite3_column_double(st, c + 3);
    d->peak_kwh = sqlite3_column_double(st, c + 4);
    d->offpeak_kwh = sqlite3_column_double(st, c + 5);
    d->min_kwh = col_dbl(st, c + 6);
    d->max_kwh = col_dbl(st, c + 7);
    d->n_valid = sqlite3_column_int(st, c + 8);
    d->n_estimated = sqlite3_column_int(st, c + 9);
    d->n_flagged = sqlite3_column_int(st, c + 10);
    d->n_anomalous = sqlite3_column_int(st, c + 11);
    d->first_ts = sqlite3_column_int64(st, c + 12);
    d->last_ts = sqlite3_column_int64(st, c + 13);
    d->timeliness_sum = sqlite3_column_double(st, c + 14);
}

static int day_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_day_row r;
    col_txt(st, 0, r.meter_id, sizeof r.meter_id);
    col_day(st, 1, &r.d);
    return ((int (*)(void *, const struct mtr_day_row *))cb)(ctx, &r);
}

static int sq_day_rows(struct mtr_store *base, const struct mtr_query *q,
                       int (*cb)(void *ctx, const struct mtr_day_row *r), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_DAY_ROWS);
    if (!st)
        return MTR_ESTORE;
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_from_to(st, 2, q);
    bind_limit(st, 4, q);
    return iterate(s, st, "day_rows", day_row, (void *)cb, ctx);
}

static int alert_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_alert a;
    memset(&a, 0, sizeof a);
    int k = -1;
    const char *kn = (const char *)sqlite3_column_text(st, 0);
    for (int i = 0; i < MTR_KIND_COUNT; i++)
        if (kn && strcmp(kn, mtr_kind_name(i)) == 0)
            k = i;
    a.source = k < 0 ? MTR_KIND_READING : (enum mtr_kind)k;
    col_txt(st, 1, a.entity_id, sizeof a.entity_id);
    int rule = mtr_rule_parse((const char *)sqlite3_column_text(st, 2));
    a.type = rule < 0 ? MTR_R_GAP : (enum mtr_rule_id)rule;
    a.level = (enum mtr_level)sqlite3_column_int(st, 3);
    a.score = col_dbl(st, 4);
    a.start_ts = sqlite3_column_int64(st, 5);
    a.end_ts = sqlite3_column_int64(st, 6);
    a.count = sqlite3_column_int(st, 7);
    a.value = col_dbl(st, 8);
    col_txt(st, 9, a.detail, sizeof a.detail);
    return ((int (*)(void *, const struct mtr_alert *))cb)(ctx, &a);
}

static int sq_alert_rows(struct mtr_store *base, const struct mtr_query *q,
                         int (*cb)(void *ctx, const struct mtr_alert *a), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_ALERT_ROWS);
    if (!st)
        return MTR_ESTORE;
    if (q && q->kind >= 0 && q->kind < MTR_KIND_COUNT)
        sqlite3_bind_text(st, 1, mtr_kind_name(q->kind), -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    bind_txt(st, 2, q ? q->entity_id : NULL);
    const struct mtr_rule *rule = q && q->type >= 0 ? mtr_rule(q->type) : NULL;
    if (rule)
        sqlite3_bind_text(st, 3, rule->name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    if (q && q->min_level >= 0)
        sqlite3_bind_int(st, 4, q->min_level);
    else
        sqlite3_bind_null(st, 4);
    bind_from_to(st, 5, q);
    bind_limit(st, 7, q);
    return iterate(s, st, "alert_rows", alert_row, (void *)cb, ctx);
}

static int quarantine_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_quarantine r;
    int k = -1;
    const char *kn = (const char *)sqlite3_column_text(st, 0);
    for (int i = 0; i < MTR_KIND_COUNT; i++)
        if (kn && strcmp(kn, mtr_kind_name(i)) == 0)
            k = i;
    r.kind = k < 0 ? MTR_KIND_READING : (enum mtr_kind)k;
    r.source = (const char *)sqlite3_column_text(st, 1);
    r.line = (uint64_t)sqlite3_column_int64(st, 2);
    int rule = mtr_rule_parse((const char *)sqlite3_column_text(st, 3));
    r.rule = rule < 0 ? MTR_R_PARSE_COLUMNS : (enum mtr_rule_id)rule;
    r.field = (const char *)sqlite3_column_text(st, 4);
    r.message = (const char *)sqlite3_column_text(st, 5);
    r.raw = (const char *)sqlite3_column_text(st, 6);
    r.at = sqlite3_column_int64(st, 7);
    /* NULL columns come back as "" so callers can print them without checks */
    if (!r.source)
        r.source = "";
    if (!r.field)
        r.field = "";
    if (!r.message)
        r.message = "";
    if (!r.raw)
        r.raw = "";
    return ((int (*)(void *, const struct mtr_quarantine *))cb)(ctx, &r);
}

static int sq_quarantine_rows(struct mtr_store *base, const struct mtr_query *q,
                              int (*cb)(void *ctx, const struct mtr_quarantine *r), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_QUAR_ROWS);
    if (!st)
        return MTR_ESTORE;
    if (q && q->kind >= 0 && q->kind < MTR_KIND_COUNT)
        sqlite3_bind_text(st, 1, mtr_kind_name(q->kind), -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    bind_from_to(st, 2, q);
    bind_limit(st, 4, q);
    return iterate(s, st, "quarantine_rows", quarantine_row, (void *)cb, ctx);
}

static int sq_stats(struct mtr_store *base, struct mtr_store_stats *out)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_STATS);
    if (!st)
        return MTR_ESTORE;
    int rc = mtr_rb_flush(s->rb);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t *f[] = {&out->meters,    &out->operators,   &out->stations,    &out->readings,
                        &out->estimated, &out->revisions,   &out->grid_status, &out->weather,
                        &out->alerts,    &out->quarantined, &out->bytes};
        for (int i = 0; i < (int)(sizeof f / sizeof f[0]); i++)
            *f[i] = sqlite3_column_int64(st, i);
        rc = 0;
    } else {
        rc = fail(s, "stats");
    }
    sqlite3_reset(st);
    return rc;
}

/* ======================= maintenance ======================= */

static int sq_vacuum(struct mtr_store *base)
{
    struct sq_store *s = sq(base);
    if (mtr_rb_flush(s->rb))
        return MTR_ESTORE;
    if (sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "vacuum");
    /* a store made with smaller pages gets the 8 KiB of new ones: the page size can only change
     * by a VACUUM outside WAL mode, which needs the file to itself (else it stays as it is) */
    int converted = 0;
    if (scalar_int(s->db, "PRAGMA page_size") < 8192 &&
        sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) == SQLITE_OK) {
        converted =
            sqlite3_exec(s->db, "PRAGMA page_size=8192; VACUUM", NULL, NULL, NULL) == SQLITE_OK;
        if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
            return fail(s, "vacuum (back to WAL)");
    }
    if ((!converted && sqlite3_exec(s->db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK) ||
        sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "vacuum");
    return 0;
}

/* Deletes every row whose interval/bucket starts before `before` (alerts: that ended before;
 * quarantine entries: that were rejected before). */
static int sq_retention(struct mtr_store *base, int64_t before, int64_t *deleted)
{
    static const char *const del[] = {
        "DELETE FROM reading_revisions WHERE ts < ?1",    "DELETE FROM grid_status WHERE ts < ?1",
        "DELETE FROM weather_observations WHERE ts < ?1", "DELETE FROM rollup_daily WHERE day < ?1",
        "DELETE FROM rollup_grid_daily WHERE day < ?1",   "DELETE FROM alerts WHERE end_ts < ?1",
        "DELETE FROM quarantine WHERE at < ?1",
    };
    struct sq_store *s = sq(base);
    int rc = 0;
    int64_t n = 0;
    if ((rc = mtr_rb_flush(s->rb))) /* outside the savepoint: see sq_rollup_recompute */
        return rc;
    if (sqlite3_exec(s->db, "SAVEPOINT retention", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "retention");
    rc = mtr_rb_retention(s->rb, before, &n);
    for (size_t i = 0; i < sizeof del / sizeof del[0] && !rc; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, del[i], -1, &st, NULL) != SQLITE_OK) {
            rc = fail(s, "retention");
            break;
        }
        sqlite3_bind_int64(st, 1, before);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = fail(s, "retention");
        else
            n += sqlite3_changes64(s->db);
        sqlite3_finalize(st);
    }
    if (rc) {
        mtr_rb_discard(s->rb);
        sqlite3_exec(s->db, "ROLLBACK TO retention", NULL, NULL, NULL);
        sqlite3_exec(s->db, "RELEASE retention", NULL, NULL, NULL);
        return rc;
    }
    if (sqlite3_exec(s->db, "RELEASE retention", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "retention");
    if (deleted)
        *deleted = n;
    return 0;
}

/* Runs a query whose rows are problems (first column = the message) and reports each. */
static int check_query(struct sq_store *s, const char *sql, const char *ok, int *problems,
                       int (*cb)(void *ctx, const char *problem), void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, "check");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(st, 0);
        if (!msg || (ok && strcmp(msg, ok) == 0))
            continue;
        ++*problems;
        if (cb && cb(ctx, msg))
            break;
    }
    rc = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : fail(s, "check");
    sqlite3_finalize(st);
    return rc;
}

static int sq_check(struct mtr_store *base, int (*cb)(void *ctx, const char *problem), void *ctx)
{
    static const char *const fixed[] = {
        "PRAGMA integrity_check",
        "SELECT 'foreign key: ' || \"table\" || ' row ' || coalesce(rowid, '?') || ' -> ' ||"
        " parent FROM pragma_foreign_key_check",
        "SELECT 'reading_blocks: block ' || id || ' (meter ' || meter_key || ', day ' || day"
        " || ') ' || coalesce(mtr_block_check(data, meter_key, day),"
        "  'has an id that does not pack (meter_key, day)')"
        " FROM reading_blocks WHERE id != meter_key * 2097152 + day / 86400"
        " OR mtr_block_check(data, meter_key, day) IS NOT NULL",
        "SELECT 'reading_blocks: ' || count(*) || ' blocks of unregistered meters'"
        " FROM reading_blocks WHERE meter_key NOT IN (SELECT meter_key FROM meters)"
        " HAVING count(*) > 0",
        /* recount a sample of meter-days against their readings */
        "SELECT 'rollup_daily: meter ' || meter_key || ' day ' || day"
        " || ' counts valid/estimated/flagged ' || n_valid || '/' || n_estimated || '/'"
        " || n_flagged || ' but the readings have ' || v || '/' || e || '/' || f FROM ("
        " SELECT d.*,"
        "  (SELECT count(*) FROM readings r WHERE r.meter_key = d.meter_key AND r.ts >= d.day"
        "   AND r.ts < d.day + 86400 AND r.quality_code IN (0, 7)) AS v,"
        "  (SELECT count(*) FROM readings r WHERE r.meter_key = d.meter_key AND r.ts >= d.day"
        "   AND r.ts < d.day + 86400 AND r.quality_code IN (8, 9)) AS e,"
        "  (SELECT count(*) FROM readings r WHERE r.meter_key = d.meter_key AND r.ts >= d.day"
        "   AND r.ts < d.day + 86400 AND r.quality_code = 10) AS f"
        " FROM (SELECT * FROM rollup_daily ORDER BY random() LIMIT 50) d)"
        " WHERE n_valid != v OR n_estimated != e OR n_flagged != f",
    };
    struct sq_store *s = sq(base);
    int problems = 0;
    int frc = mtr_rb_flush(s->rb);
    if (frc)
        return frc;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        int rc = check_query(s, fixed[i], i == 0 ? "ok" : NULL, &problems, cb, ctx);
        if (rc)
            return rc;
    }
    if (problems)
        return mtr_err(&s->base.err, MTR_ESTORE, "check found %d problem(s)", problems);
    return 0;
}

static int sq_backup(struct mtr_store *base, const char *path)
{
    struct sq_store *s = sq(base);
    sqlite3 *dst = NULL;
    int rc = mtr_rb_flush(s->rb);
    if (rc)
        return rc;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = mtr_err(&s->base.err, MTR_EIO, "backup to %s: %s", path,
                     dst ? sqlite3_errmsg(dst) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(dst, 5000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
    if (!b) {
        rc = mtr_err(&s->base.err, MTR_ESTORE, "backup to %s: %s", path, sqlite3_errmsg(dst));
        goto out;
    }
    int step = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (step != SQLITE_DONE || fin != SQLITE_OK)
        rc = mtr_err(&s->base.err, MTR_ESTORE, "backup to %s: %s", path, sqlite3_errmsg(dst));
out:
    sqlite3_close(dst);
    return rc;
}

/* ======================= list and series queries ======================= */

/* Binds the common (entity, from, to, limit, offset) parameters ?1..?5. */
static void bind_query(sqlite3_stmt *st, const struct mtr_query *q)
{
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_from_to(st, 2, q);
    bind_limit(st, 4, q);
}

/* A series query: statement id bound with (entity, from, to, limit, offset), rows through row. */
static int series(struct mtr_store *base, enum sid id, const struct mtr_query *q,
                  int (*row)(sqlite3_stmt *st, void *cb, void *ctx), void *cb, void *ctx,
                  const char *what)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, id);
    if (!st)
        return MTR_ESTORE;
    bind_query(st, q);
    return iterate(s, st, what, row, cb, ctx);
}

static int operator_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_operator o;
    col_operator(st, &o);
    return ((int (*)(void *, const struct mtr_operator *))cb)(ctx, &o);
}

static int sq_operator_list(struct mtr_store *base, const struct mtr_query *q,
                            int (*cb)(void *ctx, const struct mtr_operator *o), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_OP_LIST);
    if (!st)
        return MTR_ESTORE;
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_limit(st, 2, q);
    return iterate(s, st, "operator_list", operator_row, (void *)cb, ctx);
}

static int station_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_station w;
    col_station(st, &w);
    return ((int (*)(void *, const struct mtr_station *))cb)(ctx, &w);
}

static int sq_station_list(struct mtr_store *base, const struct mtr_query *q,
                           int (*cb)(void *ctx, const struct mtr_station *w), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_STATION_LIST);
    if (!st)
        return MTR_ESTORE;
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_limit(st, 2, q);
    return iterate(s, st, "station_list", station_row, (void *)cb, ctx);
}

static int grid_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_grid_row r;
    mtr_grid_status_init(&r.g);
    col_txt(st, 0, r.g.operator_id, sizeof r.g.operator_id);
    r.g.ts = sqlite3_column_int64(st, 1);
    r.g.frequency_hz = col_dbl(st, 2);
    r.g.voltage_kv = col_dbl(st, 3);
    r.g.load_mw = col_dbl(st, 4);
    r.g.capacity_mw = col_dbl(st, 5);
    r.g.stability = col_dbl(st, 6);
    r.flags = (uint64_t)sqlite3_column_int64(st, 7);
    r.score = col_dbl(st, 8);
    return ((int (*)(void *, const struct mtr_grid_row *))cb)(ctx, &r);
}

static int sq_grid_rows(struct mtr_store *base, const struct mtr_query *q,
                        int (*cb)(void *ctx, const struct mtr_grid_row *r), void *ctx)
{
    return series(base, S_GRID_ROWS, q, grid_row, (void *)cb, ctx, "grid_rows");
}

static int weather_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_weather_row r;
    mtr_weather_obs_init(&r.w);
    col_txt(st, 0, r.w.station_id, sizeof r.w.station_id);
    r.w.ts = sqlite3_column_int64(st, 1);
    r.w.temperature_c = col_dbl(st, 2);
    r.w.humidity_pct = col_dbl(st, 3);
    r.w.pressure_hpa = col_dbl(st, 4);
    r.w.wind_speed_ms = col_dbl(st, 5);
    r.w.wind_direction_deg = col_dbl(st, 6);
    r.w.precipitation_mm = col_dbl(st, 7);
    r.w.cloud_cover_pct = col_dbl(st, 8);
    r.flags = (uint64_t)sqlite3_column_int64(st, 9);
    r.score = col_dbl(st, 10);
    return ((int (*)(void *, const struct mtr_weather_row *))cb)(ctx, &r);
}

static int sq_weather_rows(struct mtr_store *base, const struct mtr_query *q,
                           int (*cb)(void *ctx, const struct mtr_weather_row *r), void *ctx)
{
    return series(base, S_WEATHER_ROWS, q, weather_row, (void *)cb, ctx, "weather_rows");
}

static int sq_hour_rows(struct mtr_store *base, const struct mtr_query *q,
                        int (*cb)(void *ctx, const struct mtr_hour_row *r), void *ctx)
{
    struct sq_store *s = sq(base);
    int rc = mtr_rb_flush(s->rb);
    sqlite3_stmt *st =
        stmt(s, q && q->entity_id && *q->entity_id ? S_HOUR_ROWS_METER : S_HOUR_ROWS_ALL);
    if (rc)
        return rc;
    if (!st)
        return MTR_ESTORE;
    bind_txt(st, 1, q ? q->entity_id : NULL);
    bind_from_to(st, 2, q);
    int64_t from = q && q->has_from ? q->from : INT64_MIN, to = q && q->has_to ? q->to : INT64_MAX;
    int64_t skip = q && q->offset > 0 ? q->offset : 0, left = q && q->limit > 0 ? q->limit : -1;
    int step = SQLITE_DONE;
    while (!rc && left != 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct mtr_hour_row r;
        struct mtr_rollup_hour h[24];
        uint32_t present;
        col_txt(st, 0, r.meter_id, sizeof r.meter_id);
        if (mtr_bc_hours_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
                                sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), h,
                                &present)) {
            rc = mtr_err(&s->base.err, MTR_ESTORE, "hour_rows: corrupt hour block of meter %s",
                         r.meter_id);
            break;
        }
        for (int i = 0; i < 24 && !rc && left != 0; i++) {
            if (!(present & (1u << i)) || h[i].hour < from || h[i].hour >= to)
                continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            r.h = h[i];
            rc = cb(ctx, &r);
            if (left > 0)
                left--;
        }
    }
    if (!rc && left != 0 && step != SQLITE_DONE)
        rc = fail(s, "hour_rows");
    sqlite3_reset(st);
    return rc;
}

static int grid_day_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_rollup_grid_day g;
    memset(&g, 0, sizeof g);
    col_txt(st, 0, g.operator_id, sizeof g.operator_id);
    g.day = sqlite3_column_int64(st, 1);
    g.n = sqlite3_column_int(st, 2);
    g.n_flagged = sqlite3_column_int(st, 3);
    g.freq_sum = sqlite3_column_double(st, 4);
    g.freq_min = col_dbl(st, 5);
    g.freq_max = col_dbl(st, 6);
    g.voltage_sum = sqlite3_column_double(st, 7);
    g.load_sum = sqlite3_column_double(st, 8);
    g.load_max = col_dbl(st, 9);
    g.stability_sum = sqlite3_column_double(st, 10);
    g.stability_min = col_dbl(st, 11);
    return ((int (*)(void *, const struct mtr_rollup_grid_day *))cb)(ctx, &g);
}

static int sq_grid_day_rows(struct mtr_store *base, const struct mtr_query *q,
                            int (*cb)(void *ctx, const struct mtr_rollup_grid_day *g), void *ctx)
{
    return series(base, S_GRID_DAY_ROWS, q, grid_day_row, (void *)cb, ctx, "grid_day_rows");
}

/* ======================= change tracking: export queries ======================= */

static int sq_change_seq(struct mtr_store *base, int64_t *seq)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_SEQ_GET);
    if (!st)
        return MTR_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = fail(s, "change_seq");
    }
    sqlite3_reset(st);
    return rc;
}

static int changed_day_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    return ((int (*)(void *, int64_t))cb)(ctx, sqlite3_column_int64(st, 0));
}

static int sq_changed_days(struct mtr_store *base, enum mtr_dataset ds, int64_t after,
                           int (*cb)(void *ctx, int64_t day), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_CHG_DAYS);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int(st, 1, (int)ds);
    sqlite3_bind_int64(st, 2, after);
    return iterate(s, st, "changed_days", changed_day_row, (void *)cb, ctx);
}

static void bind_changed(sqlite3_stmt *st, int64_t from, int64_t to, int64_t after, int64_t upto)
{
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int64(st, 4, upto);
}

/* The readings of the day's changed blocks, block by block (meter_id order), each with its
 * block's change number. */
static int sq_readings_changed(struct mtr_store *base, int64_t day, int64_t after, int64_t upto,
                               int (*cb)(void *ctx, const char *meter_id,
                                         const struct mtr_stored_reading *r, int64_t seq),
                               void *ctx)
{
    struct sq_store *s = sq(base);
    if (day < 0 || day % 86400 != 0)
        return mtr_err(&s->base.err, MTR_EINVAL, "readings_changed: %lld is not a UTC day",
                       (long long)day);
    sqlite3_stmt *st = stmt(s, S_READ_CHANGED);
    if (!st)
        return MTR_ESTORE;
    _Static_assert(MTR_RB_DAY_BITS == 21, "S_READ_CHANGED spells out mtr_rb_id()");
    sqlite3_bind_int64(st, 1, mtr_rb_id(0, day / 86400));
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, upto);
    int rc, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int64_t key = sqlite3_column_int64(st, 1), bday = sqlite3_column_int64(st, 2);
        const uint8_t *data = sqlite3_column_blob(st, 3);
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        int64_t seq = sqlite3_column_int64(st, 4);
        int n = 0;
        if ((rc = mtr_rb_decode(data, len, key, bday, &s->xr, &n, &s->xr_cap))) {
            mtr_err(&s->base.err, rc, "readings_changed: the block of meter %lld, day %lld: %s",
                    (long long)key, (long long)bday,
                    rc == MTR_ENOMEM ? "out of memory" : "does not decode");
            sqlite3_reset(st);
            return rc;
        }
        for (int i = 0; i < n; i++)
            if ((rc = cb(ctx, id ? id : "", &s->xr[i], seq))) {
                sqlite3_reset(st);
                return rc;
            }
    }
    rc = step == SQLITE_DONE ? 0 : fail(s, "readings_changed");
    sqlite3_reset(st);
    return rc;
}

static int grid_changed_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_grid_row r;
    mtr_grid_status_init(&r.g);
    col_txt(st, 0, r.g.operator_id, sizeof r.g.operator_id);
    r.g.ts = sqlite3_column_int64(st, 1);
    r.g.frequency_hz = col_dbl(st, 2);
    r.g.voltage_kv = col_dbl(st, 3);
    r.g.load_mw = col_dbl(st, 4);
    r.g.capacity_mw = col_dbl(st, 5);
    r.g.stability = col_dbl(st, 6);
    r.flags = (uint64_t)sqlite3_column_int64(st, 7);
    r.score = col_dbl(st, 8);
    return ((int (*)(void *, const struct mtr_grid_row *, int64_t))cb)(ctx, &r,
                                                                       sqlite3_column_int64(st, 9));
}

static int sq_grid_changed(struct mtr_store *base, int64_t day, int64_t after, int64_t upto,
                           int (*cb)(void *ctx, const struct mtr_grid_row *r, int64_t seq),
                           void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_GRID_CHANGED);
    if (!st)
        return MTR_ESTORE;
    bind_changed(st, day, day + 86400, after, upto);
    return iterate(s, st, "grid_changed", grid_changed_row, (void *)cb, ctx);
}

static int weather_changed_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_weather_row r;
    mtr_weather_obs_init(&r.w);
    col_txt(st, 0, r.w.station_id, sizeof r.w.station_id);
    r.w.ts = sqlite3_column_int64(st, 1);
    r.w.temperature_c = col_dbl(st, 2);
    r.w.humidity_pct = col_dbl(st, 3);
    r.w.pressure_hpa = col_dbl(st, 4);
    r.w.wind_speed_ms = col_dbl(st, 5);
    r.w.wind_direction_deg = col_dbl(st, 6);
    r.w.precipitation_mm = col_dbl(st, 7);
    r.w.cloud_cover_pct = col_dbl(st, 8);
    r.flags = (uint64_t)sqlite3_column_int64(st, 9);
    r.score = col_dbl(st, 10);
    return ((int (*)(void *, const struct mtr_weather_row *, int64_t))cb)(
        ctx, &r, sqlite3_column_int64(st, 11));
}

static int sq_weather_changed(struct mtr_store *base, int64_t day, int64_t after, int64_t upto,
                              int (*cb)(void *ctx, const struct mtr_weather_row *r, int64_t seq),
                              void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_WEATHER_CHANGED);
    if (!st)
        return MTR_ESTORE;
    bind_changed(st, day, day + 86400, after, upto);
    return iterate(s, st, "weather_changed", weather_changed_row, (void *)cb, ctx);
}

static int day_changed_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_day_row r;
    col_txt(st, 0, r.meter_id, sizeof r.meter_id);
    col_day(st, 1, &r.d);
    return ((int (*)(void *, const struct mtr_day_row *, int64_t))cb)(ctx, &r,
                                                                      sqlite3_column_int64(st, 16));
}

static int sq_days_changed(struct mtr_store *base, int64_t day, int64_t after, int64_t upto,
                           int (*cb)(void *ctx, const struct mtr_day_row *r, int64_t seq),
                           void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_DAY_CHANGED);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_int64(st, 1, day);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, upto);
    return iterate(s, st, "days_changed", day_changed_row, (void *)cb, ctx);
}

static int sq_export_watermark_get(struct mtr_store *base, const char *dataset,
                                   const char *destination, int64_t *seq)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_WM_GET);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, destination, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "no export watermark for %s at %s", dataset,
                     destination);
    } else {
        rc = fail(s, "export_watermark_get");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_export_watermark_put(struct mtr_store *base, const char *dataset,
                                   const char *destination, int64_t seq)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_WM_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    return run(s, st, "export_watermark_put");
}

/* ======================= meter search, API keys ======================= */

static const char *const meter_sort_cols[MTR_METER_SORT_COUNT] = {
    "meter_id", "created_at", "updated_at", "installed_at", "status", "manufacturer"};

/* Binds the filter's parameters ?1..?10 of the WHERE clause of meter_find. */
#define METER_FIND_WHERE                                                                           \
    " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2)"                             \
    " AND (?3 IS NULL OR manufacturer = ?3 COLLATE NOCASE)"                                        \
    " AND (?4 IS NULL OR operator_id = ?4 COLLATE NOCASE)"                                         \
    " AND (?5 IS NULL OR station_id = ?5 COLLATE NOCASE)"                                          \
    " AND (?6 IS NULL OR (latitude BETWEEN ?6 AND ?7 AND longitude BETWEEN ?8 AND ?9))"
static void bind_meter_filter(sqlite3_stmt *st, const struct mtr_meter_filter *f)
{
    if (f->status >= 0 && f->status < MTR_METER_STATUS_COUNT)
        sqlite3_bind_text(st, 1, mtr_meter_status_name(f->status), -1, SQLITE_STATIC);
    if (f->type >= 0 && f->type < MTR_METER_TYPE_COUNT)
        sqlite3_bind_text(st, 2, mtr_meter_type_name(f->type), -1, SQLITE_STATIC);
    bind_txt(st, 3, f->manufacturer);
    bind_txt(st, 4, f->operator_id);
    bind_txt(st, 5, f->station_id);
    if (f->has_bbox) {
        sqlite3_bind_double(st, 6, f->min_lat);
        sqlite3_bind_double(st, 7, f->max_lat);
        sqlite3_bind_double(st, 8, f->min_lon);
        sqlite3_bind_double(st, 9, f->max_lon);
    }
}

static int sq_meter_find(struct mtr_store *base, const struct mtr_meter_filter *f, int64_t *total,
                         int (*cb)(void *ctx, const struct mtr_meter *m), void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    char sql[1024];
    int rc = 0;
    int sort = f->sort >= 0 && f->sort < MTR_METER_SORT_COUNT ? f->sort : MTR_METER_SORT_ID;
    if (total) {
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM meters" METER_FIND_WHERE, -1, &st,
                               NULL) != SQLITE_OK)
            return fail(s, "meter_find");
        bind_meter_filter(st, f);
        if (sqlite3_step(st) == SQLITE_ROW)
            *total = sqlite3_column_int64(st, 0);
        else
            rc = fail(s, "meter_find");
        sqlite3_finalize(st);
        st = NULL;
        if (rc)
            return rc;
    }
    /* the sort column comes from a fixed table, never from the caller's text */
    snprintf(sql, sizeof sql,
             "SELECT " METER_COLS " FROM meters" METER_FIND_WHERE
             " ORDER BY %s %s NULLS LAST, meter_id LIMIT ?10 OFFSET ?11",
             meter_sort_cols[sort], f->desc ? "DESC" : "ASC");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, "meter_find");
    bind_meter_filter(st, f);
    sqlite3_bind_int64(st, 10, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int64(st, 11, f->offset > 0 ? f->offset : 0);
    rc = iterate(s, st, "meter_find", meter_row, (void *)cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

static void col_apikey(sqlite3_stmt *st, struct mtr_apikey *k)
{
    memset(k, 0, sizeof *k);
    col_txt(st, 0, k->id, sizeof k->id);
    col_txt(st, 1, k->hash, sizeof k->hash);
    col_txt(st, 2, k->name, sizeof k->name);
    const char *r = (const char *)sqlite3_column_text(st, 3);
    for (int i = MTR_ROLE_VIEWER; i <= MTR_ROLE_ADMIN; i++)
        if (r && strcmp(r, role_names[i]) == 0)
            k->role = (enum mtr_role)i;
    k->created_at = sqlite3_column_int64(st, 4);
    k->revoked_at = sqlite3_column_int64(st, 5);
}

static int sq_apikey_put(struct mtr_store *base, const struct mtr_apikey *k)
{
    struct sq_store *s = sq(base);
    if (k->role < MTR_ROLE_VIEWER || k->role > MTR_ROLE_ADMIN || !k->id[0] || !k->hash[0])
        return mtr_err(&s->base.err, MTR_EINVAL, "apikey_put: id, hash and a role are required");
    sqlite3_stmt *st = stmt(s, S_APIKEY_PUT);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->hash, -1, SQLITE_STATIC);
    bind_txt(st, 3, k->name);
    sqlite3_bind_text(st, 4, role_names[k->role], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, k->created_at ? k->created_at : (int64_t)time(NULL));
    bind_time(st, 6, k->revoked_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return mtr_err(&s->base.err, MTR_EEXIST, "API key %s already exists", k->id);
    return fail(s, "apikey_put");
}

static int sq_apikey_find(struct mtr_store *base, const char *hash, struct mtr_apikey *out)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_APIKEY_FIND);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_apikey(st, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = mtr_err(&s->base.err, MTR_ENOTFOUND, "no such API key");
    } else {
        rc = fail(s, "apikey_find");
    }
    sqlite3_reset(st);
    return rc;
}

static int apikey_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct mtr_apikey k;
    col_apikey(st, &k);
    return ((int (*)(void *, const struct mtr_apikey *))cb)(ctx, &k);
}

static int sq_apikey_list(struct mtr_store *base, int (*cb)(void *ctx, const struct mtr_apikey *k),
                          void *ctx)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_APIKEY_LIST);
    if (!st)
        return MTR_ESTORE;
    return iterate(s, st, "apikey_list", apikey_row, (void *)cb, ctx);
}

static int sq_apikey_revoke(struct mtr_store *base, const char *id, int64_t at)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = stmt(s, S_APIKEY_REVOKE);
    if (!st)
        return MTR_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at ? at : (int64_t)time(NULL));
    int rc = run(s, st, "apikey_revoke");
    if (rc)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return mtr_err(&s->base.err, MTR_ENOTFOUND, "API key %s not found", id);
    return 0;
}

static const struct mtr_store_ops sq_ops = {
    .abi_version = 1,
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .meter_put = sq_meter_put,
    .meter_get = sq_meter_get,
    .meter_key = sq_meter_key,
    .meter_list = sq_meter_list,
    .operator_put = sq_operator_put,
    .operator_get = sq_operator_get,
    .station_put = sq_station_put,
    .station_get = sq_station_get,
    .state_get = sq_state_get,
    .state_put = sq_state_put,
    .reading_get = sq_reading_get,
    .reading_put = sq_reading_put,
    .reading_prefetch = sq_reading_prefetch,
    .reading_revise = sq_reading_revise,
    .readings_flag = sq_readings_flag,
    .readings_range = sq_readings_range,
    .rollup_hour_merge = sq_rollup_hour_merge,
    .rollup_day_merge = sq_rollup_day_merge,
    .rollup_recompute = sq_rollup_recompute,
    .rollup_grid_merge = sq_rollup_grid_merge,
    .grid_put = sq_grid_put,
    .weather_put = sq_weather_put,
    .alert_put = sq_alert_put,
    .quarantine_put = sq_quarantine_put,
    .day_rows = sq_day_rows,
    .alert_rows = sq_alert_rows,
    .quarantine_rows = sq_quarantine_rows,
    .stats = sq_stats,
    .vacuum = sq_vacuum,
    .retention = sq_retention,
    .check = sq_check,
    .backup = sq_backup,
    .rollup_grid_recompute = sq_rollup_grid_recompute,
    .operator_list = sq_operator_list,
    .station_list = sq_station_list,
    .grid_rows = sq_grid_rows,
    .weather_rows = sq_weather_rows,
    .hour_rows = sq_hour_rows,
    .grid_day_rows = sq_grid_day_rows,
    .change_seq = sq_change_seq,
    .changed_days = sq_changed_days,
    .readings_changed = sq_readings_changed,
    .grid_changed = sq_grid_changed,
    .weather_changed = sq_weather_changed,
    .days_changed = sq_days_changed,
    .export_watermark_get = sq_export_watermark_get,
    .export_watermark_put = sq_export_watermark_put,
    .meter_find = sq_meter_find,
    .apikey_put = sq_apikey_put,
    .apikey_find = sq_apikey_find,
    .apikey_list = sq_apikey_list,
    .apikey_revoke = sq_apikey_revoke,
    .read_hold = sq_read_hold,
    .read_release = sq_read_release,
};
