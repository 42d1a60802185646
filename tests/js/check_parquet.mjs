// check_parquet.mjs - verifies Parquet files written by Metrify with an independent reader.
//
// For every <name>.json in the directory given as argv[2], opens <name>.parquet with DuckDB
// (@duckdb/node-api) and compares: row and row-group counts, schema types and repetition, codec
// and encodings per column chunk, per-row-group statistics (null count, min, max, exactness),
// values of every (or a sample of) rows, and integer column sums. Prints one line per file and
// exits 1 on any mismatch.
import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
try { await con.run("SET TimeZone = 'UTC'"); } catch { /* build without ICU: already UTC */ }

let failures = 0;
const fail = (file, msg) => { failures++; console.log(`FAIL ${file}: ${msg}`); };
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;

// Turns a DuckDB value (from getRowObjects) into the JSON representation the C side wrote.
function fromDuck(kind, v) {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'i64': return v.toString();
    case 'ts': return v.micros.toString();
    case 'date': return v.days;
    case 'f64': return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
    default: return v;
  }
}

// Turns a statistics string of parquet_metadata() into the same representation.
function fromStat(kind, s) {
  if (s === null || s === undefined) return null;
  switch (kind) {
    case 'i32': return Number(s);
    case 'i64': return BigInt(s).toString();
    case 'f64': return Number(s);
    case 'bool': return s === 'true';
    case 'str': return s;
    case 'date': {
      const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s);
      return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000 : `unparsed:${s}`;
    }
    case 'ts': {
      const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\+00$/.exec(s);
      if (!m) return `unparsed:${s}`;
      const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
      return (BigInt(ms) * 1000n + BigInt((m[7] || '0').padEnd(6, '0'))).toString();
    }
  }
  return s;
}

const same = (a, b) => (typeof a === 'number' && typeof b === 'number') ? Object.is(a, b) : a === b;
const show = (v) => Object.is(v, -0) ? '-0' : JSON.stringify(v);
const bytes = (s) => Buffer.from(s, 'utf8');

async function checkFile(jsonName) {
  const exp = JSON.parse(readFileSync(join(dir, jsonName), 'utf8'));
  const file = exp.file;
  const path = lit(join(dir, file));
  const before = failures;

  const [fm] = await q(`SELECT * FROM parquet_file_metadata(${path})`);
  if (Number(fm.num_rows) !== exp.rows) fail(file, `num_rows ${fm.num_rows} != ${exp.rows}`);
  if (Number(fm.num_row_groups) !== exp.row_groups) fail(file, `row groups ${fm.num_row_groups} != ${exp.row_groups}`);
  if (!String(fm.created_by).startsWith('metrify')) fail(file, `created_by ${fm.created_by}`);
  const kv = await q(`SELECT key::VARCHAR k, value::VARCHAR v FROM parquet_kv_metadata(${path})`);
  if (!kv.some((r) => r.k === 'created_by' && r.v.startsWith('metrify'))) fail(file, 'no created_by key_value_metadata');

  const [cnt] = await q(`SELECT count(*) n FROM read_parquet(${path})`);
  if (Number(cnt.n) !== exp.rows) fail(file, `count(*) ${cnt.n} != ${exp.rows}`);

  const schema = await q(`SELECT name, duckdb_type, repetition_type FROM parquet_schema(${path}) WHERE num_children IS NULL`);
  exp.columns.forEach((c, i) => {
    const s = schema[i];
    if (!s || s.name !== c.name) return fail(file, `schema column ${i}: ${s && s.name} != ${c.name}`);
    if (s.duckdb_type !== c.duckdb_type) fail(file, `${c.name}: type ${s.duckdb_type} != ${c.duckdb_type}`);
    const rep = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (s.repetition_type !== rep) fail(file, `${c.name}: repetition ${s.repetition_type} != ${rep}`);
  });

  const meta = await q(`SELECT * FROM parquet_metadata(${path}) ORDER BY row_group_id, column_id`);
  if (meta.length !== exp.row_groups * exp.columns.length) fail(file, `${meta.length} column chunks`);
  for (const m of meta) {
    const rg = Number(m.row_group_id), c = exp.columns[Number(m.column_id)];
    const where = `${c.name}@rg${rg}`;
    if (m.path_in_schema !== c.name) fail(file, `${where}: path ${m.path_in_schema}`);
    if (m.compression !== exp.codec) fail(file, `${where}: codec ${m.compression} != ${exp.codec}`);
    const encs = String(m.encodings).split(', ');
    for (const e of c.encodings_has) if (!encs.includes(e)) fail(file, `${where}: encodings ${m.encodings} lack ${e}`);
    for (const e of c.encodings_not) if (encs.includes(e)) fail(file, `${where}: encodings ${m.encodings} have ${e}`);
    const st = c.rg_stats[rg];
    if (Number(m.stats_null_count) !== st.nulls) fail(file, `${where}: null_count ${m.stats_null_count} != ${st.nulls}`);
    for (const [which, val, exact] of [['min', m.stats_min_value, m.min_is_exact], ['max', m.stats_max_value, m.max_is_exact]]) {
      let want = st[which];
      // DuckDB shows infinite double bounds as NULL (it does so for its own files too).
      if (c.kind === 'f64' && (want === 'Infinity' || want === '-Infinity')) want = null;
      const got = fromStat(c.kind, val);
      if (c.kind === 'str' && want !== null && bytes(want).length > exp.stats_max_bytes) {
        // truncated bound: must be inexact and still bound the true value
        const cmp = got === null ? null : Buffer.compare(bytes(got), bytes(want));
        const ok = exact === false && got !== null &&
          (which === 'min' ? cmp <= 0 && want.startsWith(got) : cmp >= 0) && bytes(got).length <= exp.stats_max_bytes;
        if (!ok) fail(file, `${where}: ${which} ${show(got)} (exact ${exact}) does not bound ${show(want)}`);
        continue;
      }
      if (!same(got, want)) fail(file, `${where}: ${which} ${show(got)} != ${show(want)}`);
      if (want !== null && exact !== true) fail(file, `${where}: ${which} not marked exact`);
    }
  }

  // values
  const rows = exp.rows_sample;
  if (rows.length) {
    const ids = rows.map((r) => r[0]);
    const got = await q(`SELECT * FROM read_parquet(${path}, file_row_number = true) WHERE file_row_number IN (${ids.join(',')}) ORDER BY file_row_number`);
    if (got.length !== rows.length) fail(file, `${got.length} sampled rows != ${rows.length}`);
    let shown = 0;
    for (let i = 0; i < Math.min(got.length, rows.length); i++) {
      if (Number(got[i].file_row_number) !== rows[i][0]) { fail(file, `row ids differ at ${i}`); break; }
      exp.columns.forEach((c, k) => {
        const g = fromDuck(c.kind, got[i][c.name]), w = rows[i][k + 1];
        if (!same(g, w) && shown++ < 10) fail(file, `row ${rows[i][0]} ${c.name}: ${show(g)} != ${show(w)}`);
      });
    }
  }
  for (const c of exp.columns) {
    if (!('sum' in c)) continue;
    const [s] = await q(`SELECT sum(CAST("${c.name}" AS HUGEINT))::VARCHAR s FROM read_parquet(${path})`);
    if (s.s !== c.sum) fail(file, `sum(${c.name}) ${s.s} != ${c.sum}`);
  }
  console.log(`${failures === before ? 'ok  ' : 'FAIL'} ${file}: ${exp.rows} rows, ${exp.row_groups} row groups, ${meta.length} chunks`);
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (!files.length) { console.log(`no expected-value files in ${dir}`); process.exit(1); }
for (const f of files) {
  try { await checkFile(f); } catch (e) { fail(f, `DuckDB error: ${e.message}`); }
}
console.log(failures ? `${failures} mismatches` : `all ${files.length} files match`);
process.exit(failures ? 1 : 0);
