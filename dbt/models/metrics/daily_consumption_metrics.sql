{# Daily metrics per meter from the hourly facts. The daily total equals Metrify's own
   rollup_daily.kwh (both count analytics-grade readings only); completeness is measured against
   the intervals a day should have (86400 / interval_s), not against 24 rows. #}

with facts as (
    select * from {{ ref('fct_smart_meter_analytics') }}
),

daily as (
    select
        meter_id,
        day_start,
        year_number,
        month_of_year,
        day_of_month,
        quarter_of_year,
        day_of_week,
        day_name,
        day_type,
        season,
        is_peak_season,
        max(interval_s) as interval_s,
        count(*) as hours_with_readings,
        sum(total_consumption_kwh) as daily_consumption_kwh,
        avg(total_consumption_kwh) as avg_hourly_consumption_kwh,
        min(total_consumption_kwh) as min_hourly_consumption_kwh,
        max(total_consumption_kwh) as max_hourly_consumption_kwh,
        sum(case when is_peak_hour = 1 then total_consumption_kwh else 0 end) as peak_consumption_kwh,
        sum(case when is_off_peak_hour = 1 then total_consumption_kwh else 0 end)
            as off_peak_consumption_kwh,
        sum(reading_count) as total_readings,
        avg(reading_count) as avg_readings_per_hour,
        min(reading_count) as min_readings_per_hour,
        max(reading_count) as max_readings_per_hour,
        sum(avg_quality_score * reading_count) / sum(reading_count) as avg_quality_score,
        sum(excellent_quality_count) as total_excellent_readings,
        sum(good_quality_count) as total_good_readings,
        sum(fair_quality_count) as total_fair_readings,
        sum(poor_quality_count) as total_poor_readings,
        sum(anomaly_count) as total_anomalies,
        sum(flagged_count) as total_flagged,
        sum(estimated_count) as total_estimated,
        avg(avg_voltage_v) as avg_voltage_v,
        avg(avg_current_a) as avg_current_a,
        avg(avg_power_factor) as avg_power_factor,
        avg(avg_frequency_hz) as avg_frequency_hz,
        max(tariff_type) as tariff_type,
        max(is_peak_hour) as had_peak_hours,
        max(is_off_peak_hour) as had_off_peak_hours,
        max(is_weekend) as is_weekend
    from facts
    group by
        meter_id, day_start, year_number, month_of_year, day_of_month, quarter_of_year,
        day_of_week, day_name, day_type, season, is_peak_season
),

enriched as (
    select
        daily.*,
        meter_id || '@' || cast(day_start as text) as metric_id,
        100.0 * total_excellent_readings / total_readings as excellent_quality_percent,
        100.0 * total_good_readings / total_readings as good_quality_percent,
        100.0 * total_fair_readings / total_readings as fair_quality_percent,
        100.0 * total_poor_readings / total_readings as poor_quality_percent,
        100.0 * total_anomalies / total_readings as anomaly_percent,
        100.0 * total_readings * interval_s / 86400 as coverage_percent
    from daily
),

final as (
    select
        enriched.*,
        case
            when daily_consumption_kwh is null then 'unknown'
            when daily_consumption_kwh = 0 then 'zero_consumption'
            when daily_consumption_kwh < 1 then 'very_low'
            when daily_consumption_kwh < 10 then 'low'
            when daily_consumption_kwh < 50 then 'medium'
            when daily_consumption_kwh < 100 then 'high'
            else 'very_high'
        end as consumption_category,
        case
            when excellent_quality_percent >= 80 then 'excellent'
            when good_quality_percent >= 70 then 'good'
            when fair_quality_percent >= 50 then 'fair'
            else 'poor'
        end as overall_quality_tier,
        case
            when anomaly_percent >= 20 then 'high_anomaly'
            when anomaly_percent >= 10 then 'medium_anomaly'
            when anomaly_percent > 0 then 'low_anomaly'
            else 'no_anomaly'
        end as anomaly_classification,
        case when avg_power_factor > 0 then daily_consumption_kwh / avg_power_factor
             else daily_consumption_kwh end as efficiency_adjusted_consumption_kwh,
        case
            when had_peak_hours = 1 and had_off_peak_hours = 1 then 'mixed'
            when had_peak_hours = 1 then 'peak_only'
            when had_off_peak_hours = 1 then 'off_peak_only'
            else 'unknown'
        end as consumption_pattern,
        case when day_type = 'weekday' then 'business_day' else 'non_business_day' end
            as business_day_type,
        case
            when coverage_percent >= 100 then 'complete'
            when coverage_percent >= 50 then 'partial'
            else 'incomplete'
        end as data_completeness
    from enriched
)

select * from final
