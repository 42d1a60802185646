// check_openapi.mjs - validates the OpenAPI document a running `metrify serve` publishes with an
// independent validator (@seriousme/openapi-schema-validator, OpenAPI 3.1 JSON schema), then
// checks the document against the server in both directions:
//   every documented operation answers with one of its documented statuses, never
//   route_not_found / method_not_allowed;
//   every other method on a documented path is 405 with an Allow header equal to the documented
//   methods, and undocumented paths are 404 route_not_found - so nothing is served undocumented.
// usage: node check_openapi.mjs BASE_URL ADMIN_KEY SUBSTITUTIONS.json
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const [base, key, subsFile] = process.argv.slice(2);
const subs = JSON.parse(readFileSync(subsFile, "utf8"));
let failures = 0;
const fail = (msg) => {
  failures++;
  console.log("FAIL " + msg);
};

const spec = await (await fetch(base + "/openapi.json")).json();
const v = new Validator();
const res = await v.validate(spec);
if (!res.valid) {
  fail("the document is not valid OpenAPI: " + JSON.stringify(res.errors, null, 1).slice(0, 3000));
} else {
  console.log(`valid OpenAPI ${v.version}: ${Object.keys(spec.paths).length} paths`);
}
// every $ref must resolve inside the document
const refs = JSON.stringify(spec).match(/"\$ref":"#\/[^"]+"/g) || [];
for (const r of new Set(refs)) {
  const path = r.slice(10, -1).split("/");
  let node = spec;
  for (const p of path) node = node && node[p];
  if (node === undefined) fail("dangling " + r);
}

const METHODS = ["get", "post", "put", "delete", "patch"];
let ops = 0;
for (const [pattern, item] of Object.entries(spec.paths)) {
  const documented = METHODS.filter((m) => item[m]);
  for (const m of documented) {
    const op = item[m];
    const url =
      base +
      pattern.replace(/\{(\w+)\}/g, (_, n) => encodeURIComponent(subs[`${m}:${n}`] ?? subs[n] ?? "x"));
    const init = { method: m.toUpperCase(), headers: { Authorization: "Bearer " + key } };
    if (op.requestBody) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(subs[`body:${m}:${pattern}`] ?? {});
    }
    const r = await fetch(url, init);
    const text = await r.text();
    ops++;
    const codes = Object.keys(op.responses);
    if (!codes.includes(String(r.status)))
      fail(`${m.toUpperCase()} ${pattern}: status ${r.status} is not documented (${codes}): ${text.slice(0, 200)}`);
    let code = "";
    try {
      code = JSON.parse(text)?.error?.code ?? "";
    } catch {}
    if (code === "route_not_found" || code === "method_not_allowed")
      fail(`${m.toUpperCase()} ${pattern}: the server does not serve it: ${text.slice(0, 200)}`);
    if (r.status < 300 && op.responses[String(r.status)].content) {
      const ct = r.headers.get("content-type") || "";
      const want = Object.keys(op.responses[String(r.status)].content)[0];
      if (!ct.startsWith(want)) fail(`${m.toUpperCase()} ${pattern}: content-type ${ct}, documented ${want}`);
    }
  }
  for (const m of METHODS.filter((x) => !item[x])) {
    const url = base + pattern.replace(/\{(\w+)\}/g, (_, n) => encodeURIComponent(subs[n] ?? "x"));
    const r = await fetch(url, { method: m.toUpperCase(), headers: { Authorization: "Bearer " + key } });
    const body = await r.text();
    if (r.status !== 405) fail(`${m.toUpperCase()} ${pattern}: undocumented method answered ${r.status}: ${body.slice(0, 120)}`);
    const allow = (r.headers.get("allow") || "").split(",").map((s) => s.trim().toLowerCase()).sort();
    if (JSON.stringify(allow) !== JSON.stringify([...documented].sort()))
      fail(`${pattern}: Allow '${r.headers.get("allow")}' but documented ${documented}`);
  }
}
for (const p of ["/api/v1/nope", "/api/v2/smart-meters", "/api/v1/smart-meters/a/b/c", "/healthz"]) {
  const r = await fetch(base + p, { headers: { Authorization: "Bearer " + key } });
  const body = await r.text();
  if (r.status !== 404 || !body.includes("route_not_found")) fail(`${p}: undocumented path answered ${r.status}`);
}
console.log(`${ops} documented operations checked against the server`);
if (failures) {
  console.log(`${failures} failure(s)`);
  process.exit(1);
}
