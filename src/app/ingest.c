/*
 * ingest.c - the ingest use case (see ingest.h).
 *
 * Hot path per reading: one hash lookup (meter cache), mtr_detect_step, one reading_put, and a
 * rollup accumulation in memory; no allocation. Rare paths (gaps, late data, revisions, retro
 * flags) mark meter-days dirty; dirty days are rebuilt from the stored readings at commit, so the
 * rollups are exact whatever the order of events.
 */
#include "app/ingest.h"

#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/rollup.h"
#include "base/grow.h"
#include "base/timeparse.h"
#include "core/detect.h"
#include "core/estimate.h"
#include "core/grid.h"
#include "core/quality.h"

#define CHUNK_ENTRIES 1024

struct meter_entry {
    char id[MTR_ID_MAX];
    int64_t key;
    enum mtr_meter_type type;
    enum mtr_meter_status status;
    int touched;
    struct meter_entry *next;    /* the meter whose reading followed this one's last time */
    struct mtr_rollup_hour hour; /* open bucket; hour.n + hour.n_estimated == 0: empty */
    struct mtr_rollup_day day;
    struct mtr_meter_state st;
};

struct day_key {
    int64_t key, day;
};

struct grid_key {
    char id[MTR_ID_MAX];
    int64_t day;
};

/* A grid operator seen in this session: its master data and the alert state machine. Alerts
 * that are open when the session ends stay open in the store (detail "open ...") and are picked
 * up again by the next session, so a condition spanning two files is one alert. */
struct grid_entry {
    char id[MTR_ID_MAX];
    double nominal_kv, capacity_mw; /* NAN when the operator is not registered */
    int64_t last_ts;                /* last record fed to the alerter (older ones are not) */
    struct mtr_grid_alerter al;
};

struct mtr_ingest {
    struct mtr_store *store;
    struct mtr_ingest_opts o;
    struct mtr_ingest_stats stats;
    int64_t now;
    int in_tx;
    int64_t since_commit, since_progress;
    /* meter cache: open addressing over entry pointers; entries live in chunks */
    struct meter_entry **slots;
    size_t cap, n;
    struct meter_entry **chunks;
    size_t n_chunks, chunk_used;
    struct meter_entry *last; /* the meter of the previous reading (see predict()) */
    int adaptive_unit;        /* commit_every was not given: units grow with the meters touched */
    struct meter_entry **touched;
    size_t n_touched, cap_touched;
    struct day_key *dirty;
    size_t n_dirty, cap_dirty;
    struct grid_key *grid_dirty;
    size_t n_grid_dirty, cap_grid_dirty;
    struct grid_entry *grids; /* operators are few: linear search */
    size_t n_grids, cap_grids;
    struct mtr_grid_limits limits;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return mtr_grow(arr, cap, need, elem, 256);
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct meter_entry **slot_of(struct mtr_ingest *ing, const char *id)
{
    size_t mask = ing->cap - 1, i = hash_id(id) & mask;
    while (ing->slots[i] && strcmp(ing->slots[i]->id, id) != 0)
        i = (i + 1) & mask;
    return &ing->slots[i];
}

static int cache_rehash(struct mtr_ingest *ing, size_t cap)
{
    struct meter_entry **old = ing->slots;
    size_t old_cap = ing->cap;
    ing->slots = calloc(cap, sizeof *ing->slots);
    if (!ing->slots) {
        ing->slots = old;
        return MTR_ENOMEM;
    }
    ing->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            *slot_of(ing, old[i]->id) = old[i];
    free(old);
    return 0;
}

static struct meter_entry *entry_alloc(struct mtr_ingest *ing)
{
    if (ing->n_chunks == 0 || ing->chunk_used == CHUNK_ENTRIES) {
        struct meter_entry **c = realloc(ing->chunks, (ing->n_chunks + 1) * sizeof *c);
        if (!c)
            return NULL;
        ing->chunks = c;
        c[ing->n_chunks] = malloc(CHUNK_ENTRIES * sizeof(struct meter_entry));
        if (!c[ing->n_chunks])
            return NULL;
        ing->n_chunks++;
        ing->chunk_used = 0;
    }
    return &ing->chunks[ing->n_chunks - 1][ing->chunk_used++];
}

static void cache_clear(struct mtr_ingest *ing)
{
    for (size_t i = 0; i < ing->n_chunks; i++)
        free(ing->chunks[i]);
    free(ing->chunks);
    ing->chunks = NULL;
    ing->n_chunks = ing->chunk_used = 0;
    memset(ing->slots, 0, ing->cap * sizeof *ing->slots);
    ing->n = 0;
    ing->last = NULL;
}

int mtr_ingest_create(struct mtr_store *store, const struct mtr_ingest_opts *o,
                      struct mtr_ingest **out, struct mtr_errbuf *eb)
{
    struct mtr_ingest *ing = calloc(1, sizeof *ing);
    if (!ing)
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    ing->store = store;
    ing->o = *o;
    ing->adaptive_unit = ing->o.commit_every <= 0;
    if (ing->o.commit_every <= 0)
        ing->o.commit_every = MTR_INGEST_UNIT_MIN;
    if (ing->o.max_meters <= 0)
        ing->o.max_meters = 200000;
    ing->now = o->params.now ? o->params.now : (int64_t)time(NULL);
    mtr_grid_limits_default(&ing->limits);
    if (cache_rehash(ing, 1024) < 0) {
        free(ing);
        return mtr_err(eb, MTR_ENOMEM, "out of memory");
    }
    *out = ing;
    return 0;
}

const struct mtr_ingest_stats *mtr_ingest_get_stats(const struct mtr_ingest *ing)
{
    return &ing->stats;
}

static int begin(struct mtr_ingest *ing)
{
    if (ing->in_tx)
        return 0;
    int rc = ing->store->ops->begin(ing->store);
    if (rc == 0)
        ing->in_tx = 1;
    return rc;
}

static int reject(struct mtr_ingest *ing, enum mtr_kind kind, const char *source, uint64_t line,
                  enum mtr_rule_id rule, const char *field, const char *message, const char *raw)
{
    int rc = begin(ing);
    if (rc < 0)
        return rc;
    struct mtr_quarantine q = {.kind = kind,
                               .source = source ? source : "",
                               .line = line,
                               .rule = rule,
                               .field = field ? field : "",
                               .message = message,
                               .raw = raw ? raw : "",
                               .at = ing->now};
    rc = ing->store->ops->quarantine_put(ing->store, &q);
    if (rc < 0)
        return rc;
    ing->stats.rejected++;
    ing->stats.by_rule[rule]++;
    if (ing->o.on_reject)
        ing->o.on_reject(ing->o.reject_ctx, line, rule, field ? field : "", message);
    return 1;
}

int mtr_ingest_reject(struct mtr_ingest *ing, enum mtr_kind kind, const char *source,
                      const struct mtr_record_error *err)
{
    ing->stats.read++;
    ing->since_commit++;
    return reject(ing, kind, source, err->line, err->rule, err->field, err->message, err->raw);
}

static int mark_dirty(struct mtr_ingest *ing, int64_t key, int64_t from, int64_t to)
{
    for (int64_t d = mtr_day_start(from); d <= to; d += 86400) {
        if (ing->n_dirty && ing->dirty[ing->n_dirty - 1].key == key &&
            ing->dirty[ing->n_dirty - 1].day == d)
            continue;
        if (grow((void **)&ing->dirty, &ing->cap_dirty, ing->n_dirty + 1, sizeof *ing->dirty))
            return MTR_ENOMEM;
        ing->dirty[ing->n_dirty++] = (struct day_key){key, d};
    }
    return 0;
}

static void touch(struct mtr_ingest *ing, struct meter_entry *e)
{
    if (e->touched)
        return;
    if (grow((void **)&ing->touched, &ing->cap_touched, ing->n_touched + 1, sizeof *ing->touched) ==
        0) {
        ing->touched[ing->n_touched++] = e;
        e->touched = 1;
    }
}

/*
 * Meters report in a repeating order (a head-end's export is time-major: every meter's interval
 * t, then every meter's t+1; a single meter's file repeats one meter), so the meter of the next
 * reading is almost always the one that followed this meter last time. A fleet's states do not
 * fit the CPU caches (10,000 x ~2.7 KB), and each reading would otherwise wait on memory for the
 * hash slot, the id, the state header, the spike window and the hour-of-week profile: predict()
 * links the entries in arrival order and prefetches what the next two readings will touch.
 */
static void prefetch_lines(const void *p, size_t len)
{
    for (size_t off = 0; off < len; off += 64)
        __builtin_prefetch((const char *)p + off);
}

static void predict(struct mtr_ingest *ing, struct meter_entry *e)
{
    if (ing->last && ing->last->next != e)
        ing->last->next = e;
    ing->last = e;
    struct meter_entry *n1 = e->next;
    if (!n1)
        return;
    /* n1's header was prefetched one reading ago: its profile slot and window are known now */
    int slot = mtr_how_slot(n1->st.last_ts + n1->st.interval_s);
    __builtin_prefetch(&n1->st.how_mean[slot]);
    __builtin_prefetch(&n1->st.how_dev[slot]);
    __builtin_prefetch(&n1->st.how_n[slot]);
    prefetch_lines(n1->st.window, sizeof n1->st.window);
    if (ing->store->ops->reading_prefetch)
        ing->store->ops->reading_prefetch(ing->store, n1->key);
    if (n1->next)
        prefetch_lines(n1->next, offsetof(struct meter_entry, st) + 192);
}

/* Finds or loads the cache entry of a meter; *rule >= 0 when the reading must be rejected. */
static int entry_get(struct mtr_ingest *ing, const char *id, int32_t interval_s,
                     struct meter_entry **out, int *rule)
{
    struct mtr_store *s = ing->store;
    *rule = -1;
    struct meter_entry *guess = ing->last ? ing->last->next : NULL;
    if (guess && strcmp(guess->id, id) == 0) {
        *out = guess;
        predict(ing, guess);
        return 0;
    }
    struct meter_entry **slot = slot_of(ing, id);
    if (*slot) {
        *out = *slot;
        predict(ing, *slot);
        return 0;
    }
    struct mtr_meter m;
    int64_t key = 0;
    int rc = s->ops->meter_get(s, id, &m, &key);
    if (rc == MTR_ENOTFOUND) {
        if (ing->o.params.strict_meters) {
            *rule = MTR_R_METER_UNKNOWN;
            return 0;
        }
        int created = 0;
        rc = s->ops->meter_key(s, id, 1, &key, &created);
        if (rc < 0)
            return rc;
        mtr_meter_init(&m);
        m.status = MTR_METER_PENDING;
        ing->stats.new_meters += created;
    } else if (rc < 0) {
        return rc;
    }
    struct meter_entry *e = entry_alloc(ing);
    if (!e)
        return MTR_ENOMEM;
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->key = key;
    e->type = m.type;
    e->status = m.status;
    size_t len = 0;
    rc = s->ops->state_get(s, key, &e->st, sizeof e->st, &len);
    if (rc == MTR_ENOTFOUND ||
        (rc == 0 && (len != sizeof e->st || e->st.version != MTR_STATE_VERSION))) {
        mtr_detect_init(&e->st, interval_s);
    } else if (rc < 0) {
        return rc;
    }
    if (ing->n + 1 > ing->cap / 2) {
        if ((rc = cache_rehash(ing, ing->cap * 2)) < 0)
            return rc;
        slot = slot_of(ing, id);
    }
    *slot = e;
    ing->n++;
    *out = e;
    predict(ing, e);
    return 0;
}

/* reading_put plus the on_stored observer. */
static int put_reading(struct mtr_ingest *ing, const struct meter_entry *e,
                       const struct mtr_stored_reading *r)
{
    int rc = ing->store->ops->reading_put(ing->store, r);
    if (rc == 0 && ing->o.on_stored)
        ing->o.on_stored(ing->o.observer_ctx, e->id, r);
    return rc;
}

static int flush_hour(struct mtr_ingest *ing, struct meter_entry *e)
{
    if (e->hour.n + e->hour.n_estimated == 0)
        return 0;
    int rc = ing->store->ops->rollup_hour_merge(ing->store, &e->hour);
    e->hour.n = e->hour.n_estimated = 0;
    e->hour.kwh = 0;
    return rc;
}

static int flush_day(struct mtr_ingest *ing, struct meter_entry *e)
{
    struct mtr_rollup_day *d = &e->day;
    if (d->n_valid + d->n_estimated + d->n_flagged == 0)
        return 0;
    int rc = ing->store->ops->rollup_day_merge(ing->store, d);
    int64_t day = d->day;
    memset(d, 0, sizeof *d);
    d->day = day;
    d->meter_key = e->key;
    d->min_kwh = d->max_kwh = NAN;
    return rc;
}

/* Adds a stored reading to the meter's open hour and day buckets, flushing closed ones. */
static int accumulate(struct mtr_ingest *ing, struct meter_entry *e,
                      const struct mtr_stored_reading *r, double timeliness)
{
    int rc;
    int64_t hour = r->ts - ((r->ts % 3600) + 3600) % 3600, day = mtr_day_start(r->ts);
    if (e->hour.hour != hour || e->hour.meter_key != e->key) {
        if ((rc = flush_hour(ing, e)) < 0)
            return rc;
        e->hour.meter_key = e->key;
        e->hour.hour = hour;
        e->hour.min_kwh = e->hour.max_kwh = NAN;
    }
    if (e->day.day != day || e->day.meter_key != e->key) {
        if ((rc = flush_day(ing, e)) < 0)
            return rc;
        mtr_rollup_day_init(&e->day, NULL, e->key, day);
    }
    mtr_rollup_add(&e->day, &e->hour, r, &ing->o.params, timeliness);
    return 0;
}

static int put_alert(struct mtr_ingest *ing, enum mtr_kind kind, const char *entity,
                     const struct mtr_det_event *ev)
{
    struct mtr_alert a = {.source = kind,
                          .type = ev->rule,
                          .level = ev->level,
                          .score = ev->score,
                          .start_ts = ev->from,
                          .end_ts = ev->to,
                          .count = (int32_t)ev->count,
                          .value = ev->value};
    snprintf(a.entity_id, sizeof a.entity_id, "%s", entity);
    snprintf(a.detail, sizeof a.detail, "%s", mtr_rule(ev->rule)->what);
    int rc = ing->store->ops->alert_put(ing->store, &a);
    if (rc == 0 && ing->o.on_alert)
        ing->o.on_alert(ing->o.observer_ctx, &a);
    return rc;
}

/* Estimated value for a missing interval by the reference-day method, or NAN. */
static double reference_value(struct mtr_ingest *ing, struct meter_entry *e, int64_t ts)
{
    int64_t cand[MTR_REF_CANDIDATES];
    mtr_estimate_reference_candidates(ts, cand);
    for (int i = 0; i < MTR_REF_CANDIDATES; i++) {
        struct mtr_stored_reading ref;
        if (cand[i] && ing->store->ops->reading_get(ing->store, e->key, cand[i], &ref) == 0 &&
            ref.quality_code != MTR_Q_QUESTIONABLE && mtr_has(ref.kwh))
            return ref.kwh;
    }
    return NAN;
}

static int estimate_gap(struct mtr_ingest *ing, struct meter_entry *e, int64_t from, int64_t to,
                        int64_t count, double before, int64_t before_ts, double after, int after_ok)
{
    const struct mtr_params *p = &ing->o.params;
    int32_t iv = e->st.interval_s;
    int64_t span = count * iv;
    int linear = span <= p->max_interpolate_s && after_ok && before_ts == from - iv;
    if (!linear && span > p->max_estimate_s)
        return 0;
    int64_t made = 0;
    for (int64_t i = 0; i < count; i++) {
        int64_t ts = from + i * iv;
        struct mtr_stored_reading r = {.meter_key = e->key, .ts = ts, .interval_s = iv};
        r.raw_kwh = r.voltage_v = r.current_a = r.power_factor = r.frequency_hz = NAN;
        r.active_power_kw = r.reactive_power_kvar = NAN;
        if (linear) {
            r.kwh = mtr_estimate_linear(before, after, count, i);
            r.quality_code = MTR_Q_EST_INTERPOLATION;
        } else {
            r.kwh = reference_value(ing, e, ts);
            r.quality_code = MTR_Q_EST_REFERENCE_DAY;
            if (isnan(r.kwh))
                continue;
        }
        r.score = mtr_reading_score(r.quality_code, 0);
        r.ingested_at = ing->now;
        int rc = put_reading(ing, e, &r);
        if (rc < 0)
            return rc;
        made++;
    }
    ing->stats.estimated += made;
    return made ? mark_dirty(ing, e->key, from, to) : 0;
}

static int same_values(const struct mtr_stored_reading *a, const struct mtr_reading *b)
{
#define SAME(x, y) ((isnan(x) && isnan(y)) || (x) == (y))
    return SAME(a->raw_kwh, b->kwh) && SAME(a->voltage_v, b->voltage_v) &&
           SAME(a->current_a, b->current_a) && SAME(a->power_factor, b->power_factor) &&
           SAME(a->frequency_hz, b->frequency_hz) && SAME(a->active_power_kw, b->active_power_kw) &&
           SAME(a->reactive_power_kvar, b->reactive_power_kvar) && a->interval_s == b->interval_s;
#undef SAME
}

static void to_stored(struct mtr_stored_reading *s, const struct meter_entry *e,
                      const struct mtr_reading *r, int code, uint64_t flags, int64_t now)
{
    s->meter_key = e->key;
    s->ts = r->ts;
    s->interval_s = r->interval_s;
    s->raw_kwh = s->kwh = r->kwh;
    s->voltage_v = r->voltage_v;
    s->current_a = r->current_a;
    s->power_factor = r->power_factor;
    s->frequency_hz = r->frequency_hz;
    s->active_power_kw = r->active_power_kw;
    s->reactive_power_kvar = r->reactive_power_kvar;
    s->quality_code = code;
    s->flags = flags;
    s->score = mtr_reading_score(code, flags);
    s->ingested_at = now;
}

static void count_flags(struct mtr_ingest *ing, uint64_t flags)
{
    for (int i = 0; flags && i < MTR_RULE_COUNT; i++)
        if (flags & mtr_rule_bit(i))
            ing->stats.by_rule[i]++;
}

/* A reading at or before the meter's last interval: duplicate, revision, or late fill. */
static int late_reading(struct mtr_ingest *ing, struct meter_entry *e, const struct mtr_reading *r)
{
    struct mtr_store *s = ing->store;
    struct mtr_stored_reading old, nr;
    int rc = s->ops->reading_get(s, e->key, r->ts, &old);
    if (rc < 0 && rc != MTR_ENOTFOUND)
        return rc;
    if (rc == 0 && !isnan(old.raw_kwh) && same_values(&old, r)) {
        ing->stats.duplicates++;
        ing->stats.by_rule[MTR_R_DUPLICATE]++;
        if (ing->o.on_stored) /* re-delivery: report the stored verdict again (at-least-once) */
            ing->o.on_stored(ing->o.observer_ctx, e->id, &old);
        return 0;
    }
    uint64_t flags = mtr_plausibility_flags(r, &ing->o.params, e->type, e->st.typical_kwh);
    int code = flags & mtr_invalid_mask() ? MTR_Q_QUESTIONABLE : MTR_Q_VALID;
    to_stored(&nr, e, r, code, flags, ing->now);
    if (rc == 0 && !isnan(old.raw_kwh)) {
        if ((rc = s->ops->reading_revise(s, &old, ing->now)) < 0)
            return rc;
        ing->stats.revisions++;
        ing->stats.by_rule[MTR_R_REVISION]++;
    } else if (rc == 0) {
        ing->stats.replaced_estimates++;
    } else {
        ing->stats.late++;
    }
    if (code == MTR_Q_QUESTIONABLE)
        ing->stats.flagged++;
    count_flags(ing, flags);
    if ((rc = put_reading(ing, e, &nr)) < 0)
        return rc;
    return mark_dirty(ing, e->key, r->ts, r->ts);
}

static void render_reading(char *buf, size_t n, const struct mtr_reading *r)
{
    snprintf(buf, n, "%s,%lld,%.6g,%.6g,%.6g,%.6g,%.6g", r->meter_id, (long long)r->ts, r->kwh,
             r->voltage_v, r->current_a, r->power_factor, r->frequency_hz);
}

static int ingest_reading(struct mtr_ingest *ing, const struct mtr_reading *in, const char *source)
{
    const struct mtr_params *p = &ing->o.params;
    struct mtr_reading r = *in;
    char msg[200], raw[256];
    struct meter_entry *e = NULL;
    int rule, rc;

    if ((rc = entry_get(ing, r.meter_id, r.interval_s ? r.interval_s : p->default_interval_s, &e,
                        &rule)) < 0)
        return rc;
    if (rule >= 0) {
        render_reading(raw, sizeof raw, &r);
        snprintf(msg, sizeof msg, "meter %s is not registered (--strict-meters)", r.meter_id);
        return reject(ing, MTR_KIND_READING, source, r.line, rule, "meter_id", msg, raw);
    }
    if (!mtr_meter_status_accepts_readings(e->status)) {
        render_reading(raw, sizeof raw, &r);
        snprintf(msg, sizeof msg, "meter %s is decommissioned", r.meter_id);
        return reject(ing, MTR_KIND_READING, source, r.line, MTR_R_METER_DECOMMISSIONED, "meter_id",
                      msg, raw);
    }
    if (!r.interval_s)
        r.interval_s = e->st.interval_s ? e->st.interval_s : p->default_interval_s;
    if ((rule = mtr_validate_reading(&r, p, ing->now, msg, sizeof msg)) >= 0) {
        render_reading(raw, sizeof raw, &r);
        return reject(ing, MTR_KIND_READING, source, r.line, rule, "timestamp", msg, raw);
    }
    touch(ing, e);
    ing->stats.accepted++;
    if (e->st.last_ts && r.ts <= e->st.last_ts)
        return late_reading(ing, e, &r);

    double before = e->st.last_good_kwh;
    int64_t before_ts = e->st.last_good_ts;
    struct mtr_det_result res;
    mtr_detect_step(&e->st, p, e->type, &r, &res);
    for (int i = 0; i < res.n_events; i++) {
        const struct mtr_det_event *ev = &res.events[i];
        switch (ev->kind) {
        case MTR_EV_GAP:
            rc = estimate_gap(ing, e, ev->from, ev->to, ev->count, before, before_ts, r.kwh,
                              res.quality_code == MTR_Q_VALID);
            break;
        case MTR_EV_FLAG:
            rc = ing->store->ops->readings_flag(ing->store, e->key, ev->from, ev->to, ev->flags,
                                                ev->set_code);
            if (rc == 0)
                rc = mark_dirty(ing, e->key, ev->from, ev->to);
            break;
        case MTR_EV_ALERT:
            rc = put_alert(ing, MTR_KIND_READING, e->id, ev);
            ing->stats.alerts++;
            break;
        }
        if (rc < 0)
            return rc;
    }
    struct mtr_stored_reading sr;
    to_stored(&sr, e, &r, res.quality_code, res.flags, ing->now);
    if ((rc = put_reading(ing, e, &sr)) < 0)
        return rc;
    if (res.quality_code == MTR_Q_QUESTIONABLE)
        ing->stats.flagged++;
    count_flags(ing, res.flags);
    return accumulate(ing, e, &sr, mtr_timeliness(ing->now - (r.ts + r.interval_s)));
}

static int validate_time(struct mtr_ingest *ing, int64_t ts, char *msg, size_t n)
{
    if (ts < MTR_TIME_ANCIENT_BEFORE) {
        snprintf(msg, n, "timestamp before 2000-01-01: clock not set");
        return MTR_R_TIME_ANCIENT;
    }
    if (ts > ing->now + ing->o.params.future_tolerance_s) {
        snprintf(msg, n, "timestamp is %lld s in the future", (long long)(ts - ing->now));
        return MTR_R_TIME_FUTURE;
    }
    return -1;
}

static int mark_grid_dirty(struct mtr_ingest *ing, const char *id, int64_t day)
{
    for (size_t i = ing->n_grid_dirty; i > 0 && i + 8 > ing->n_grid_dirty; i--)
        if (ing->grid_dirty[i - 1].day == day && strcmp(ing->grid_dirty[i - 1].id, id) == 0)
            return 0;
    if (grow((void **)&ing->grid_dirty, &ing->cap_grid_dirty, ing->n_grid_dirty + 1,
             sizeof *ing->grid_dirty))
        return MTR_ENOMEM;
    struct grid_key *k = &ing->grid_dirty[ing->n_grid_dirty++];
    snprintf(k->id, sizeof k->id, "%s", id);
    k->day = day;
    return 0;
}

/* ---- grid operators: master data, alert state ---- */

static int grid_cond_of(enum mtr_rule_id rule)
{
    for (int c = 0; c < MTR_GC_COUNT; c++)
        if (mtr_grid_cond_rule(c) == rule)
            return c;
    return -1;
}

static int restore_open_alert(void *ctx, const struct mtr_alert *a)
{
    struct grid_entry *g = ctx;
    int c = grid_cond_of(a->type);
    if (c < 0 || strncmp(a->detail, "open", 4) != 0)
        return 0;
    struct mtr_grid_alert *al = &g->al.cur[c];
    if (g->al.open[c] && al->start > a->start_ts)
        return 0;
    memset(al, 0, sizeof *al);
    memcpy(al->operator_id, g->id, MTR_ID_MAX);
    al->rule = a->type;
    al->level = a->level;
    al->start = a->start_ts;
    al->last_seen = a->end_ts;
    al->records = a->count;
    al->worst = a->value;
    g->al.open[c] = 1;
    if (a->end_ts > g->last_ts)
        g->last_ts = a->end_ts;
    return 0;
}

/* Finds or loads an operator: master data (voltage level, capacity) and its open alerts. */
static int grid_entry_get(struct mtr_ingest *ing, const char *id, struct grid_entry **out)
{
    for (size_t i = 0; i < ing->n_grids; i++)
        if (strcmp(ing->grids[i].id, id) == 0) {
            *out = &ing->grids[i];
            return 0;
        }
    if (grow((void **)&ing->grids, &ing->cap_grids, ing->n_grids + 1, sizeof *ing->grids))
        return MTR_ENOMEM;
    struct grid_entry *g = &ing->grids[ing->n_grids];
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "%s", id);
    g->nominal_kv = g->capacity_mw = NAN;
    struct mtr_operator op;
    int rc = ing->store->ops->operator_get(ing->store, id, &op);
    if (rc == 0) {
        g->nominal_kv = op.voltage_kv;
        g->capacity_mw = op.capacity_mw;
    } else if (rc != MTR_ENOTFOUND) {
        return rc;
    }
    mtr_grid_alerter_init(&g->al, id);
    struct mtr_query q = {.entity_id = g->id, .kind = MTR_KIND_GRID, .type = -1, .min_level = -1};
    if ((rc = ing->store->ops->alert_rows(ing->store, &q, restore_open_alert, g)) < 0)
        return rc;
    ing->n_grids++;
    *out = g;
    return 0;
}

/* Writes one grid alert; `cleared` is the time of the first record without the condition, 0
 * while it persists. end_ts is the last record where the condition held (as for readings). */
static int put_grid_alert(struct mtr_ingest *ing, const struct mtr_grid_alert *al, int64_t cleared)
{
    struct mtr_alert a = {.source = MTR_KIND_GRID,
                          .type = al->rule,
                          .level = al->level,
                          .score = al->level == MTR_LEVEL_CRITICAL ? MTR_LEVEL_CRITICAL_MIN
                                                                   : MTR_LEVEL_HIGH_MIN,
                          .start_ts = al->start,
                          .end_ts = al->last_seen,
                          .count = (int32_t)al->records,
                          .value = al->worst};
    snprintf(a.entity_id, sizeof a.entity_id, "%s", al->operator_id);
    if (cleared) {
        char t[24];
        mtr_time_format(cleared, t);
        snprintf(a.detail, sizeof a.detail, "closed: cleared at %s; %s", t,
                 mtr_rule(al->rule)->what);
    } else {
        snprintf(a.detail, sizeof a.detail, "open: %s", mtr_rule(al->rule)->what);
    }
    return ing->store->ops->alert_put(ing->store, &a);
}

/* Alerts still open are written with their running end and count at every commit. */
static int flush_grid_alerts(struct mtr_ingest *ing)
{
    for (size_t i = 0; i < ing->n_grids; i++)
        for (int c = 0; c < MTR_GC_COUNT; c++)
            if (ing->grids[i].al.open[c]) {
                int rc = put_grid_alert(ing, &ing->grids[i].al.cur[c], 0);
                if (rc < 0)
                    return rc;
            }
    return 0;
}

/* Plausibility flags of a grid record against the physical bounds and the operator's master
 * data: a voltage outside 50..150 % of the operator's level is not in kV or not this operator's
 * (grid.range.voltage), a load above the capacity (the record's, else the operator's) cannot be
 * (grid.range.load). */
static uint64_t grid_flags(const struct mtr_grid_status *g, const struct grid_entry *e)
{
    uint64_t f = 0;
    double cap = mtr_has(g->capacity_mw) ? g->capacity_mw : e->capacity_mw;
    if (mtr_outside(g->frequency_hz, MTR_GRID_FREQ_MIN_HZ, MTR_GRID_FREQ_MAX_HZ))
        f |= mtr_rule_bit(MTR_R_GRID_FREQUENCY_RANGE);
    if (mtr_outside(g->voltage_kv, MTR_GRID_VOLTAGE_MIN_KV, MTR_GRID_VOLTAGE_MAX_KV) ||
        (mtr_has(e->nominal_kv) && e->nominal_kv > 0 &&
         mtr_outside(g->voltage_kv, 0.5 * e->nominal_kv, 1.5 * e->nominal_kv)))
        f |= mtr_rule_bit(MTR_R_GRID_VOLTAGE_RANGE);
    if ((mtr_has(g->load_mw) && g->load_mw < 0) ||
        (mtr_has(g->load_mw) && mtr_has(cap) && g->load_mw > cap))
        f |= mtr_rule_bit(MTR_R_GRID_LOAD_RANGE);
    if (mtr_outside(g->stability, 0.0, 1.0))
        f |= mtr_rule_bit(MTR_R_GRID_STABILITY_RANGE);
    return f;
}

/* Runs one record (already stored) through the operator's alert state machine. Flagged values
 * are not evaluated; records at or before the last one fed (late or re-delivered) are skipped:
 * the state machine needs time order, and `analytics grid` recomputes from the history. */
static int grid_alerts(struct mtr_ingest *ing, struct grid_entry *e,
                       const struct mtr_grid_status *g, uint64_t f)
{
    if (e->last_ts && g->ts <= e->last_ts)
        return 0;
    e->last_ts = g->ts;
    struct mtr_grid_status v = *g;
    if (f & mtr_rule_bit(MTR_R_GRID_VOLTAGE_RANGE))
        v.voltage_kv = NAN;
    if (f & mtr_rule_bit(MTR_R_GRID_LOAD_RANGE))
        v.load_mw = NAN;
    if (f & mtr_rule_bit(MTR_R_GRID_STABILITY_RANGE))
        v.stability = NAN;
    struct mtr_grid_eval ev;
    struct mtr_grid_event out[MTR_GC_COUNT];
    mtr_grid_evaluate(&v, e->nominal_kv, e->capacity_mw, &ing->limits, &ev);
    int n = mtr_grid_alerter_feed(&e->al, g->ts, &ev, out);
    for (int i = 0; i < n; i++) {
        int rc =
            put_grid_alert(ing, &out[i].alert, out[i].kind == MTR_GA_CLOSED ? out[i].alert.end : 0);
        if (rc < 0)
            return rc;
        ing->stats.alerts += out[i].kind == MTR_GA_OPENED;
    }
    return 0;
}

static int ingest_grid(struct mtr_ingest *ing, const struct mtr_grid_status *g, const char *source)
{
    char msg[200], raw[256];
    int rule = validate_time(ing, g->ts, msg, sizeof msg);
    if (rule >= 0) {
        snprintf(raw, sizeof raw, "%s,%lld", g->operator_id, (long long)g->ts);
        return reject(ing, MTR_KIND_GRID, source, g->line, rule, "timestamp", msg, raw);
    }
    struct grid_entry *e = NULL;
    int rc = grid_entry_get(ing, g->operator_id, &e);
    if (rc < 0)
        return rc;
    uint64_t f = grid_flags(g, e);
    if ((rc = ing->store->ops->grid_put(ing->store, g, f, f ? 0.2 : 1.0)) < 0)
        return rc;
    ing->stats.accepted++;
    if (f)
        ing->stats.flagged++;
    count_flags(ing, f);
    if ((rc = grid_alerts(ing, e, g, f)) < 0)
        return rc;
    return mark_grid_dirty(ing, g->operator_id, mtr_day_start(g->ts));
}

static int ingest_weather(struct mtr_ingest *ing, const struct mtr_weather_obs *w,
                          const char *source)
{
    char msg[200], raw[256];
    int rule = validate_time(ing, w->ts, msg, sizeof msg);
    if (rule >= 0) {
        snprintf(raw, sizeof raw, "%s,%lld", w->station_id, (long long)w->ts);
        return reject(ing, MTR_KIND_WEATHER, source, w->line, rule, "timestamp", msg, raw);
    }
    int bad = mtr_outside(w->temperature_c, MTR_WEATHER_T_MIN_C, MTR_WEATHER_T_MAX_C) ||
              mtr_outside(w->humidity_pct, 0, 100) ||
              mtr_outside(w->pressure_hpa, MTR_WEATHER_P_MIN_HPA, MTR_WEATHER_P_MAX_HPA) ||
              mtr_outside(w->wind_speed_ms, 0, MTR_WEATHER_WIND_MAX_MS) ||
              mtr_outside(w->wind_direction_deg, 0, 360) ||
              mtr_outside(w->cloud_cover_pct, 0, 100) ||
              (mtr_has(w->precipitation_mm) && w->precipitation_mm < 0);
    uint64_t f = bad ? mtr_rule_bit(MTR_R_WEATHER_RANGE) : 0;
    int rc = ing->store->ops->weather_put(ing->store, w, f, f ? 0.2 : 1.0);
    if (rc < 0)
        return rc;
    ing->stats.accepted++;
    if (f)
        ing->stats.flagged++;
    count_flags(ing, f);
    return 0;
}

int mtr_ingest_record(struct mtr_ingest *ing, const struct mtr_record *rec, const char *source)
{
    int rc = begin(ing);
    if (rc < 0)
        return rc;
    ing->stats.read++;
    ing->since_commit++;
    switch (rec->kind) {
    case MTR_KIND_READING:
        rc = ingest_reading(ing, &rec->u.reading, source);
        break;
    case MTR_KIND_GRID:
        rc = ingest_grid(ing, &rec->u.grid, source);
        break;
    case MTR_KIND_WEATHER:
        rc = ingest_weather(ing, &rec->u.weather, source);
        break;
    default:
        rc = MTR_EINVAL;
    }
    return rc;
}

static int cmp_day_key(const void *a, const void *b)
{
    const struct day_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

int mtr_ingest_commit(struct mtr_ingest *ing)
{
    struct mtr_store *s = ing->store;
    int rc = begin(ing);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < ing->n_touched; i++) {
        struct meter_entry *e = ing->touched[i];
        struct mtr_det_result res;
        if ((rc = flush_hour(ing, e)) < 0 || (rc = flush_day(ing, e)) < 0)
            return rc;
        if ((rc = s->ops->state_put(s, e->key, &e->st, sizeof e->st)) < 0)
            return rc;
        mtr_detect_snapshot(&e->st, &res);
        for (int k = 0; k < res.n_events; k++)
            if ((rc = put_alert(ing, MTR_KIND_READING, e->id, &res.events[k])) < 0)
                return rc;
        e->touched = 0;
    }
    ing->n_touched = 0;
    if (ing->n_dirty) {
        qsort(ing->dirty, ing->n_dirty, sizeof *ing->dirty, cmp_day_key);
        for (size_t i = 0; i < ing->n_dirty; i++) {
            if (i && cmp_day_key(&ing->dirty[i], &ing->dirty[i - 1]) == 0)
                continue;
            if ((rc = s->ops->rollup_recompute(s, ing->dirty[i].key, ing->dirty[i].day,
                                               &ing->o.params)) < 0)
                return rc;
        }
        ing->n_dirty = 0;
    }
    for (size_t i = 0; i < ing->n_grid_dirty; i++)
        if ((rc = s->ops->rollup_grid_recompute(s, ing->grid_dirty[i].id, ing->grid_dirty[i].day)) <
            0)
            return rc;
    ing->n_grid_dirty = 0;
    if ((rc = flush_grid_alerts(ing)) < 0)
        return rc;
    if ((rc = s->ops->commit(s)) < 0)
        return rc;
    ing->in_tx = 0;
    ing->since_commit = 0;
    if ((int64_t)ing->n > ing->o.max_meters)
        cache_clear(ing);
    return 0;
}

/* Whether the unit of work is complete (the default unit: see MTR_INGEST_UNIT_PER_METER). */
static int unit_done(const struct mtr_ingest *ing)
{
    if (ing->since_commit < ing->o.commit_every)
        return 0;
    return !ing->adaptive_unit || ing->since_commit >= MTR_INGEST_UNIT_MAX ||
           ing->since_commit >= MTR_INGEST_UNIT_PER_METER * (int64_t)ing->n_touched;
}

int mtr_ingest_source(struct mtr_ingest *ing, struct mtr_source *src, struct mtr_errbuf *eb)
{
    struct mtr_record rec;
    struct mtr_record_error err;
    int rc;
    for (;;) {
        mtr_record_error_clear(&err);
        rc = src->ops->next(src, &rec, &err);
        if (rc == 0)
            break;
        if (rc == MTR_EPARSE) {
            rc = mtr_ingest_reject(ing, rec.kind, src->name, &err);
        } else if (rc < 0) {
            int crc = mtr_ingest_commit(ing);
            mtr_err(eb, rc, "%s:%llu: %s", src->name, (unsigned long long)err.line,
                    err.message[0] ? err.message : mtr_strerror(rc));
            return crc < 0 ? crc : rc;
        } else {
            rc = mtr_ingest_record(ing, &rec, src->name);
        }
        if (rc < 0)
            return mtr_err(eb, rc, "store: %s", ing->store->err.msg);
        if (unit_done(ing) && (rc = mtr_ingest_commit(ing)) < 0)
            return mtr_err(eb, rc, "store: %s", ing->store->err.msg);
        if (ing->o.progress && ++ing->since_progress >= 100000) {
            ing->since_progress = 0;
            ing->o.progress(ing->o.progress_ctx, &ing->stats);
        }
    }
    return 0;
}

void mtr_ingest_destroy(struct mtr_ingest *ing)
{
    if (!ing)
        return;
    if (ing->in_tx)
        ing->store->ops->rollback(ing->store);
    cache_clear(ing);
    free(ing->slots);
    free(ing->touched);
    free(ing->dirty);
    free(ing->grid_dirty);
    free(ing->grids);
    free(ing);
}
