// s3_fetch.mjs - lists a bucket prefix on a local S3-compatible server (ListObjectsV2, anonymous,
// as s3rver allows) and downloads every object to OUT_DIR/<key without the prefix>, so the lake
// can be checked like a local one. usage: node s3_fetch.mjs ENDPOINT BUCKET PREFIX OUT_DIR
// Prints one line per key ("key size").
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [endpoint, bucket, prefix, out] = process.argv.slice(2);
const keys = [];
let token = '';
for (;;) {
  const q = new URLSearchParams({ 'list-type': '2', prefix: prefix + '/' });
  if (token) q.set('continuation-token', token);
  const r = await fetch(`${endpoint}/${bucket}?${q}`);
  const xml = await r.text();
  if (!r.ok) { console.error(`list: HTTP ${r.status} ${xml}`); process.exit(1); }
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = /<Key>([^<]*)<\/Key>/.exec(m[1])[1].replaceAll('&amp;', '&');
    keys.push([key, Number(/<Size>(\d+)<\/Size>/.exec(m[1])[1])]);
  }
  const t = /<NextContinuationToken>([^<]*)</.exec(xml);
  if (!/<IsTruncated>true/.test(xml) || !t) break;
  token = t[1];
}
for (const [key, size] of keys) {
  const r = await fetch(`${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
  const body = Buffer.from(await r.arrayBuffer());
  if (!r.ok || body.length !== size) { console.error(`get ${key}: HTTP ${r.status}, ${body.length} != ${size} bytes`); process.exit(1); }
  const path = join(out, key.slice(prefix.length + 1));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  console.log(`${key} ${size}`);
}
