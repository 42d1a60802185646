// check_lake.mjs - verifies a Metrify Parquet data lake with an independent reader, DuckDB.
// usage: node check_lake.mjs LAKE_DIR EXPECTED_DIR SCHEMA.json
//   EXPECTED_DIR: one CSV per dataset from tests/tools/lake_expected.py (the store's rows)
//   SCHEMA.json:  `metrify export schema --json` (the columns the exporter declares)
// For every part file: schema names, types and repetition as declared, ZSTD codec, and every row
// group's statistics (min, max, null count) equal to what DuckDB computes over that row group's
// values; every row in the partition of its own date. Per dataset: after taking the latest
// version of each key (highest change_seq, the documented dedup rule), the rows equal the
// store's rows exactly (EXCEPT ALL both ways), derived columns agree with the raw ones.
// Prints one line per dataset and exits 1 on any mismatch.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [lake, expDir, schemaFile] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
try { await con.run("SET TimeZone = 'UTC'"); } catch { /* no ICU: UTC anyway */ }
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
let failures = 0;
const fail = (what, msg) => { failures++; if (failures < 40) console.log(`FAIL ${what}: ${msg}`); };

const duckType = {
  STRING: 'VARCHAR', INT32: 'INTEGER', INT64: 'BIGINT', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN',
  DATE: 'DATE', TIMESTAMP_MICROS_UTC: 'TIMESTAMP WITH TIME ZONE',
};
// How each dataset is compared with the store: key columns, the date column, the projection of
// the Parquet columns onto the store's CSV columns, and the CSV's types.
const spec = {
  readings: {
    key: 'meter_id, ts', date: 'ts',
    proj: `meter_id, epoch(ts)::BIGINT ts, interval_s, kwh, raw_kwh, voltage_v, current_a,
           power_factor, frequency_hz, active_power_kw, reactive_power_kvar, quality_code, flags,
           score, epoch(ingested_at)::BIGINT ingested_at, change_seq seq`,
    csv: { meter_id: 'VARCHAR', ts: 'BIGINT', interval_s: 'INTEGER', kwh: 'DOUBLE', raw_kwh: 'DOUBLE',
      voltage_v: 'DOUBLE', current_a: 'DOUBLE', power_factor: 'DOUBLE', frequency_hz: 'DOUBLE',
      active_power_kw: 'DOUBLE', reactive_power_kvar: 'DOUBLE', quality_code: 'INTEGER',
      flags: 'BIGINT', score: 'DOUBLE', ingested_at: 'BIGINT', seq: 'BIGINT' },
    derived: [
      ["quality_code = 0 AND quality <> 'valid'", 'quality name of code 0'],
      ["quality_code = 10 AND quality <> 'questionable'", 'quality name of code 10'],
      ['(flags = 0) <> (flag_names IS NULL)', 'flag_names null exactly when flags = 0'],
      ['anomaly AND flags = 0', 'anomaly without a flag'],
      ['raw_kwh IS NOT NULL AND quality_code = 0 AND raw_kwh <> kwh', 'valid reading: kwh = raw_kwh'],
    ],
  },
  grid: {
    key: 'operator_id, ts', date: 'ts',
    proj: `operator_id, epoch(ts)::BIGINT ts, frequency_hz, voltage_kv, load_mw, capacity_mw,
           stability, flags, score, change_seq seq`,
    csv: { operator_id: 'VARCHAR', ts: 'BIGINT', frequency_hz: 'DOUBLE', voltage_kv: 'DOUBLE',
      load_mw: 'DOUBLE', capacity_mw: 'DOUBLE', stability: 'DOUBLE', flags: 'BIGINT',
      score: 'DOUBLE', seq: 'BIGINT' },
    derived: [['(flags = 0) <> (flag_names IS NULL)', 'flag_names null exactly when flags = 0']],
  },
  weather: {
    key: 'station_id, ts', date: 'ts',
    proj: `station_id, epoch(ts)::BIGINT ts, temperature_c, humidity_pct, pressure_hpa,
           wind_speed_ms, wind_direction_deg, precipitation_mm, cloud_cover_pct, flags, score,
           change_seq seq`,
    csv: { station_id: 'VARCHAR', ts: 'BIGINT', temperature_c: 'DOUBLE', humidity_pct: 'DOUBLE',
      pressure_hpa: 'DOUBLE', wind_speed_ms: 'DOUBLE', wind_direction_deg: 'DOUBLE',
      precipitation_mm: 'DOUBLE', cloud_cover_pct: 'DOUBLE', flags: 'BIGINT', score: 'DOUBLE',
      seq: 'BIGINT' },
    derived: [['(flags = 0) <> (flag_names IS NULL)', 'flag_names null exactly when flags = 0']],
  },
  daily: {
    key: 'meter_id, "day"', date: '"day"',
    proj: `meter_id, epoch(day)::BIGINT "day", interval_s, kwh, peak_kwh, offpeak_kwh, min_kwh,
           max_kwh, n_valid, n_estimated, n_flagged, n_anomalous, epoch(first_ts)::BIGINT first_ts,
           epoch(last_ts)::BIGINT last_ts, timeliness_sum, change_seq seq`,
    csv: { meter_id: 'VARCHAR', day: 'BIGINT', interval_s: 'INTEGER', kwh: 'DOUBLE',
      peak_kwh: 'DOUBLE', offpeak_kwh: 'DOUBLE', min_kwh: 'DOUBLE', max_kwh: 'DOUBLE',
      n_valid: 'INTEGER', n_estimated: 'INTEGER', n_flagged: 'INTEGER', n_anomalous: 'INTEGER',
      first_ts: 'BIGINT', last_ts: 'BIGINT', timeliness_sum: 'DOUBLE', seq: 'BIGINT' },
    derived: [],
  },
};

function partFiles(ds) {
  const root = join(lake, `dataset=${ds}`);
  if (!existsSync(root)) return [];
  const out = [];
  for (const d of readdirSync(root).sort()) {
    if (!d.startsWith('date=')) { fail(ds, `unexpected entry ${d}`); continue; }
    for (const f of readdirSync(join(root, d)).sort()) {
      if (/^part-\d{4,}\.parquet$/.test(f)) out.push({ path: join(root, d, f), date: d.slice(5) });
      else fail(ds, `unexpected file ${d}/${f}`);
    }
  }
  return out;
}

async function checkFile(ds, f, cols) {
  const p = lit(f.path);
  const where = `${ds}/${f.date}/${f.path.split('/').pop()}`;
  const sch = await q(`SELECT name, duckdb_type, repetition_type FROM parquet_schema(${p}) WHERE num_children IS NULL`);
  if (sch.length !== cols.length) fail(where, `${sch.length} columns, declared ${cols.length}`);
  cols.forEach((c, i) => {
    const s = sch[i];
    if (!s || s.name !== c.name) return fail(where, `column ${i}: ${s && s.name} != ${c.name}`);
    if (s.duckdb_type !== duckType[c.type]) fail(where, `${c.name}: ${s.duckdb_type} != ${duckType[c.type]}`);
    if (s.repetition_type !== (c.nullable ? 'OPTIONAL' : 'REQUIRED')) fail(where, `${c.name}: ${s.repetition_type}`);
  });
  const meta = await q(`SELECT row_group_id, row_group_num_rows n, column_id, path_in_schema, compression,
    stats_min_value mn, stats_max_value mx, stats_null_count nullc FROM parquet_metadata(${p}) ORDER BY row_group_id, column_id`);
  // row offsets of the row groups, for per-row-group aggregates
  const groups = new Map();
  for (const m of meta) groups.set(Number(m.row_group_id), Number(m.n));
  let off = 0;
  const offsets = new Map();
  for (const [g, n] of [...groups.entries()].sort((a, b) => a[0] - b[0])) { offsets.set(g, [off, off + n]); off += n; }
  const aggs = [];
  for (const [g, [lo, hi]] of offsets) {
    const sel = cols.map((c, i) => `min("${c.name}")::VARCHAR mn${i}, max("${c.name}")::VARCHAR mx${i}, count(*) - count("${c.name}") nl${i}`).join(', ');
    const [a] = await q(`SELECT ${sel} FROM read_parquet(${p}, file_row_number = true) WHERE file_row_number >= ${lo} AND file_row_number < ${hi}`);
    aggs[g] = a;
  }
  for (const m of meta) {
    const g = Number(m.row_group_id), i = Number(m.column_id), c = cols[i], a = aggs[g];
    const w = `${where} ${c.name}@rg${g}`;
    if (m.compression !== 'ZSTD') fail(w, `codec ${m.compression}`);
    if (Number(m.nullc) !== Number(a[`nl${i}`])) fail(w, `null_count ${m.nullc} != ${a[`nl${i}`]}`);
    if (c.type === 'BOOLEAN' && m.mn === null) continue; // writers may omit boolean bounds
    // doubles compare as numbers: the spec has writers store a zero min as -0.0, a zero max as +0.0
    const eq = (x, y) => (c.type === 'DOUBLE' && x !== null && y !== null) ? Number(x) === Number(y) : x === y;
    if (!eq(m.mn ?? null, a[`mn${i}`] ?? null)) fail(w, `min ${m.mn} != ${a[`mn${i}`]}`);
    if (!eq(m.mx ?? null, a[`mx${i}`] ?? null)) fail(w, `max ${m.mx} != ${a[`mx${i}`]}`);
  }
  const dcol = spec[ds].date;
  const [bad] = await q(`SELECT count(*) n FROM read_parquet(${p}) WHERE strftime(${dcol}, '%Y-%m-%d') <> ${lit(f.date)}`);
  if (Number(bad.n)) fail(where, `${bad.n} rows outside partition date=${f.date}`);
  return off;
}

for (const ds of Object.keys(spec)) {
  const cols = schema[ds];
  const files = partFiles(ds);
  const before = failures;
  let rows = 0;
  for (const f of files) rows += await checkFile(ds, f, cols);
  const csvPath = join(expDir, `${ds}.csv`);
  const types = Object.entries(spec[ds].csv).map(([k, v]) => `'${k}': '${v}'`).join(', ');
  await con.run(`CREATE OR REPLACE TABLE exp AS SELECT * FROM read_csv(${lit(csvPath)}, header = true, nullstr = '', columns = {${types}})`);
  const [e] = await q('SELECT count(*) n FROM exp');
  let latest = 0;
  if (files.length) {
    const list = files.map((f) => lit(f.path)).join(', ');
    await con.run(`CREATE OR REPLACE TABLE lake AS SELECT * FROM read_parquet([${list}])`);
    await con.run(`CREATE OR REPLACE TABLE got AS SELECT ${spec[ds].proj} FROM lake
      QUALIFY row_number() OVER (PARTITION BY ${spec[ds].key} ORDER BY change_seq DESC) = 1`);
    const [l] = await q('SELECT count(*) n FROM got');
    latest = Number(l.n);
    const [d1] = await q('SELECT count(*) n FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM exp)');
    const [d2] = await q('SELECT count(*) n FROM (SELECT * FROM exp EXCEPT ALL SELECT * FROM got)');
    if (Number(d1.n) || Number(d2.n)) {
      fail(ds, `lake (latest versions) and store differ: ${d1.n} rows only in the lake, ${d2.n} only in the store`);
      for (const r of await q('SELECT * FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM exp) LIMIT 3')) console.log('  lake :', JSON.stringify(r, (k, v) => typeof v === 'bigint' ? v.toString() : v));
      for (const r of await q('SELECT * FROM (SELECT * FROM exp EXCEPT ALL SELECT * FROM got) LIMIT 3')) console.log('  store:', JSON.stringify(r, (k, v) => typeof v === 'bigint' ? v.toString() : v));
    }
    for (const [cond, what] of spec[ds].derived) {
      const [x] = await q(`SELECT count(*) n FROM lake WHERE ${cond}`);
      if (Number(x.n)) fail(ds, `${x.n} rows break: ${what}`);
    }
  }
  if (latest !== Number(e.n)) fail(ds, `${latest} distinct keys in the lake, ${e.n} rows in the store`);
  console.log(`${failures === before ? 'ok  ' : 'FAIL'} ${ds}: ${files.length} files, ${rows} rows (${latest} latest versions), store ${e.n}`);
}
console.log(failures ? `${failures} mismatches` : 'lake matches the store');
process.exit(failures ? 1 : 0);
