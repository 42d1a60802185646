"""fastapi_app.py - the baseline of bench/api_bench.sh: a small FastAPI app served by uvicorn
(Debian python3-fastapi, python3-uvicorn) that answers the benchmarked request,
GET /api/v1/smart-meters/{meter_id}/readings?from=&to=, from the same SQLite file as
`metrify serve`, doing the same work per request: API key check (SHA-256 looked up in
api_keys), meter lookup, the readings range, a JSON body with the same fields. metrify keeps
readings in per-meter-day blocks that only its own connections decode, so api_bench.sh first
copies them (with `metrify transform`) into a plain table readings_rows of the same file,
indexed on (meter_key, ts): the baseline gets the easiest row layout for this query.

Run: METRIFY_DB=path/to.db python3 -m uvicorn --app-dir bench fastapi_app:app --port N
"""
import hashlib
import os
import sqlite3
import threading
from datetime import datetime, timezone

from fastapi import FastAPI, Header, HTTPException, Query

DB = os.environ.get("METRIFY_DB", "metrify.db")
QUALITY = {0: "valid", 7: "edited", 8: "estimated_reference_day",
           9: "estimated_interpolation", 10: "questionable"}
MEASURES = ("voltage_v", "current_a", "power_factor", "frequency_hz", "active_power_kw",
            "reactive_power_kvar")
app = FastAPI(title="Metrify baseline")
local = threading.local()


def db():
    c = getattr(local, "db", None)
    if c is None:
        c = local.db = sqlite3.connect(DB, check_same_thread=False)
    return c


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


@app.get("/api/v1/smart-meters/{meter_id}/readings")
def readings(meter_id: str, from_: str = Query(alias="from"), to: str = Query(),
             authorization: str = Header(None)):
    c = db()
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "an API key is required")
    h = hashlib.sha256(authorization[7:].encode()).hexdigest()
    if not c.execute("SELECT 1 FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
                     (h,)).fetchone():
        raise HTTPException(401, "unknown API key")
    row = c.execute("SELECT meter_key FROM meters WHERE meter_id = ?", (meter_id,)).fetchone()
    if not row:
        raise HTTPException(404, "meter not found")
    lo, hi = parse(from_), parse(to)
    out = []
    for r in c.execute(
            "SELECT ts, interval_s, kwh, raw_kwh, quality_code, score, voltage_v, current_a,"
            " power_factor, frequency_hz, active_power_kw, reactive_power_kvar FROM readings_rows"
            " WHERE meter_key = ? AND ts >= ? AND ts < ? ORDER BY ts", (row[0], lo, hi)):
        d = {"timestamp": iso(r[0]), "interval_s": r[1], "kwh": r[2], "raw_kwh": r[3],
             "quality_code": r[4], "quality": QUALITY.get(r[4], "unknown"), "score": r[5]}
        for k, v in zip(MEASURES, r[6:]):
            if v is not None:
                d[k] = v
        out.append(d)
    return {"meter_id": meter_id, "from": iso(lo), "to": iso(hi), "resolution": "raw",
            "readings": out, "count": len(out)}
