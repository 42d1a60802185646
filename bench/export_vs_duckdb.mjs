// export_vs_duckdb.mjs - DuckDB side of bench/export_vs_duckdb.sh.
// usage: node export_vs_duckdb.mjs LAKE_DIR OUT.parquet THREADS
// Loads every readings row metrify exported (LAKE_DIR/dataset=readings/*/*.parquet) into an
// in-memory DuckDB table (untimed), then times only COPY table TO OUT (FORMAT parquet,
// COMPRESSION zstd) with THREADS threads, and checks that the two files hold the same rows.
// Prints "rows N duckdb_s S cpu_s C ok|MISMATCH" (C: user+system CPU seconds of the COPY).
import { DuckDBInstance } from '@duckdb/node-api';
const [lake, out, threads] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
try { await con.run("SET TimeZone = 'UTC'"); } catch { /* no ICU */ }
await con.run(`SET threads = ${Number(threads)}`);
const src = `read_parquet('${lake}/dataset=readings/*/*.parquet')`;
await con.run(`CREATE TABLE r AS SELECT * FROM ${src}`);
const c0 = process.cpuUsage();
const t0 = performance.now();
await con.run(`COPY r TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const secs = (performance.now() - t0) / 1000;
const c1 = process.cpuUsage(c0); // every thread of the process: DuckDB's workers included
const cpu = (c1.user + c1.system) / 1e6;
const one = async (sql) => Number((await con.runAndReadAll(sql)).getRowObjects()[0].n);
const n = await one('SELECT count(*) n FROM r');
const d1 = await one(`SELECT count(*) n FROM (SELECT * FROM read_parquet('${out}') EXCEPT ALL SELECT * FROM r)`);
console.log(`rows ${n} duckdb_s ${secs.toFixed(3)} cpu_s ${cpu.toFixed(3)} ${d1 === 0 ? 'ok' : 'MISMATCH'}`);
