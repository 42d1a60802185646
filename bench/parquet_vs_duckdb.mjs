// parquet_vs_duckdb.mjs - DuckDB side of bench/parquet_vs_duckdb.sh.
// usage: node parquet_vs_duckdb.mjs ROWS OURS.parquet DUCK.parquet THREADS
// Materialises the same readings-like rows as bench/parquet_bench.c in memory, times
// COPY ... TO (FORMAT parquet, COMPRESSION zstd) with the given thread count, then checks that
// our file holds exactly the same rows (EXCEPT ALL both ways). Prints "duckdb_s S ok|MISMATCH".
import { DuckDBInstance } from '@duckdb/node-api';
const [rows, ours, duck, threads] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
try { await con.run("SET TimeZone = 'UTC'"); } catch { /* no ICU: UTC anyway */ }
await con.run(`SET threads = ${Number(threads)}`);
await con.run(`CREATE TABLE r AS SELECT
  'DE' || lpad((i % 10000)::VARCHAR, 11, '0') AS meter_id,
  make_timestamp(1704067200000000 + (i // 10000) * 900000000)::TIMESTAMPTZ AS ts,
  ((i * 2654435761) % 100000)::DOUBLE / 1000 AS energy_kwh,
  ((i * 40503) % 50000)::DOUBLE / 10000 AS power_kw,
  220::DOUBLE + ((i * 69069) % 2000)::DOUBLE / 100 AS voltage_v,
  ((i * 1103515245) % 32000)::DOUBLE / 1000 AS current_a,
  ((i * 22695477) % 1000)::DOUBLE / 1000 AS power_factor,
  49.9::DOUBLE + ((i * 134775813) % 20)::DOUBLE / 100 AS frequency_hz,
  (CASE WHEN i % 97 = 0 THEN 2 ELSE 0 END)::INTEGER AS quality
  FROM range(${Number(rows)}) t(i)`);
const t0 = performance.now();
await con.run(`COPY r TO '${duck}' (FORMAT parquet, COMPRESSION zstd)`);
const secs = (performance.now() - t0) / 1000;
const diff = async (a, b) => Number((await con.runAndReadAll(`SELECT count(*) n FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`)).getRowObjects()[0].n);
const src = `read_parquet('${ours}')`;
const d1 = await diff(src, 'r'), d2 = await diff('r', src);
console.log(`duckdb_s ${secs.toFixed(3)} ${d1 === 0 && d2 === 0 ? 'ok' : `MISMATCH ${d1} ${d2}`}`);
