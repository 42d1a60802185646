/* types.c - initialisers of the domain records (absent measurements are NAN). */
#include "core/types.h"

#include <string.h>

void mtr_reading_init(struct mtr_reading *r)
{
    memset(r, 0, sizeof *r);
    r->kwh = r->voltage_v = r->current_a = r->power_factor = r->frequency_hz = NAN;
    r->active_power_kw = r->reactive_power_kvar = NAN;
}

void mtr_grid_status_init(struct mtr_grid_status *g)
{
    memset(g, 0, sizeof *g);
    g->frequency_hz = g->voltage_kv = g->load_mw = g->capacity_mw = g->stability = NAN;
}

void mtr_weather_obs_init(struct mtr_weather_obs *w)
{
    memset(w, 0, sizeof *w);
    w->temperature_c = w->humidity_pct = w->pressure_hpa = w->wind_speed_ms = NAN;
    w->wind_direction_deg = w->precipitation_mm = w->cloud_cover_pct = NAN;
}

void mtr_meter_init(struct mtr_meter *m)
{
    memset(m, 0, sizeof *m);
    m->latitude = m->longitude = m->base_kwh = NAN;
    m->status = MTR_METER_ACTIVE;
    m->type = MTR_METER_RESIDENTIAL;
}
