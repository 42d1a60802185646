/* estimate.c - reference-day candidates for VEE estimation (see estimate.h). */
#include "core/estimate.h"

static int is_weekend(int64_t ts)
{
    int64_t days = ts >= 0 ? ts / 86400 : (ts - 86399) / 86400;
    int dow = (int)(((days + 3) % 7 + 7) % 7); /* Monday = 0 */
    return dow >= 5;
}

void mtr_estimate_reference_candidates(int64_t ts, int64_t out[MTR_REF_CANDIDATES])
{
    out[0] = ts - 7 * 86400;
    out[1] = ts - 14 * 86400;
    out[2] = is_weekend(ts - 86400) == is_weekend(ts) ? ts - 86400 : 0;
}
