/*
 * quality.h - data-quality scoring: per reading (0..1 from its quality code and flags) and per
 * meter-day (completeness, validity, consistency, timeliness), with tiers from core/vocab.h.
 * Pure functions; weights and factors are defined here once and quoted in docs/domain.md.
 */
#ifndef MTR_QUALITY_H
#define MTR_QUALITY_H

#include <stdint.h>

/* Day score = weighted sum of the four components (weights add up to 1). */
#define MTR_W_COMPLETENESS 0.3
#define MTR_W_VALIDITY     0.3
#define MTR_W_CONSISTENCY  0.3
#define MTR_W_TIMELINESS   0.1

/* Timeliness factor of one reading from the delay between its interval end and its ingestion:
 * <= 1 h: 1.0, <= 24 h: 0.8, <= 7 days: 0.6, later: 0.2 (negative delays count as on time). */
double mtr_timeliness(int64_t delay_s);

/* Score of one reading: 1.0 valid, 0.8 interpolated, 0.6 reference-day estimate, 0.2
 * questionable; minus 0.1 when an anomaly alert covers it (never below 0). */
double mtr_reading_score(int quality_code, uint64_t flags);

/* The components of one meter-day and its score. */
struct mtr_day_quality {
    int64_t expected, received, missing, estimated, valid, flagged, anomalous;
    double completeness, validity, consistency, timeliness, score;
};

/*
 * Computes the day's quality from its counts. expected = intervals the day should have had
 * (within the meter's observed span); received = measured intervals (valid + flagged);
 * timeliness_sum = sum of mtr_timeliness() over received readings.
 * completeness = (received + 0.5 x estimated) / expected, capped at 1; validity = valid /
 * received; consistency = 1 - anomalous / received; timeliness = timeliness_sum / received.
 * A day with nothing received has score 0 (tier poor), not unknown.
 */
void mtr_day_quality_compute(struct mtr_day_quality *q, int64_t expected, int64_t valid,
                             int64_t flagged, int64_t estimated, int64_t anomalous,
                             double timeliness_sum);

/* Mask of flag bits of rules whose action is ALERT (anomalies), and of FLAG (invalid values). */
uint64_t mtr_alert_mask(void);
uint64_t mtr_invalid_mask(void);

#endif
