{# Hourly facts per meter: consumption (analytics-grade readings only, as Metrify's rollups),
   electrical averages, quality-tier and anomaly counts, classifications and a calendar derived
   from the unix hour with integer arithmetic (civil-from-days), so it is identical on SQLite and
   PostgreSQL. Keeps fact_lookback_days before the newest reading (not before "now": reruns of
   old data give the same table). #}

with meter_readings as (
    select * from {{ ref('stg_smart_meter_readings') }}
),

newest as (
    select max(reading_day) as newest_day from meter_readings
),

hourly as (
    select
        r.meter_id,
        r.reading_hour_start as hour_start,
        max(r.interval_s) as interval_s,
        count(*) as reading_count,
        sum(case when r.is_flagged = 0 then r.consumption_kwh end) as total_consumption_kwh,
        avg(case when r.is_flagged = 0 then r.consumption_kwh end) as avg_consumption_kwh,
        min(case when r.is_flagged = 0 then r.consumption_kwh end) as min_consumption_kwh,
        max(case when r.is_flagged = 0 then r.consumption_kwh end) as max_consumption_kwh,
        avg(case when r.is_flagged = 0 then r.consumption_kwh * r.consumption_kwh end)
            as avg_squared_consumption_kwh,
        avg(r.voltage_v) as avg_voltage_v,
        avg(r.current_a) as avg_current_a,
        avg(r.power_factor) as avg_power_factor,
        avg(r.frequency_hz) as avg_frequency_hz,
        avg(r.quality_score) as avg_quality_score,
        sum(case when r.quality_tier = 'excellent' then 1 else 0 end) as excellent_quality_count,
        sum(case when r.quality_tier = 'good' then 1 else 0 end) as good_quality_count,
        sum(case when r.quality_tier = 'fair' then 1 else 0 end) as fair_quality_count,
        sum(case when r.quality_tier = 'poor' then 1 else 0 end) as poor_quality_count,
        sum(r.is_anomaly) as anomaly_count,
        sum(r.is_flagged) as flagged_count,
        sum(r.is_estimated) as estimated_count,
        max(r.is_peak_hour) as is_peak_hour,
        max(r.is_off_peak_hour) as is_off_peak_hour,
        max(r.is_weekend) as is_weekend,
        max(r.tariff_type) as tariff_type
    from meter_readings as r
    cross join newest as n
    where r.reading_day >= n.newest_day - {{ var('fact_lookback_days', 365) }} * 86400
    group by r.meter_id, r.reading_hour_start
),

measured as (
    select
        hourly.*,
        meter_id || '@' || cast(hour_start as text) as fact_id,
        avg_squared_consumption_kwh - avg_consumption_kwh * avg_consumption_kwh
            as variance_consumption_kwh2,
        100.0 * excellent_quality_count / reading_count as excellent_quality_percent,
        100.0 * good_quality_count / reading_count as good_quality_percent,
        100.0 * fair_quality_count / reading_count as fair_quality_percent,
        100.0 * poor_quality_count / reading_count as poor_quality_percent,
        100.0 * anomaly_count / reading_count as anomaly_percent,
        hour_start - hour_start % 86400 as day_start,
        (hour_start % 86400) / 3600 as hour_of_day,
        (hour_start / 86400 + 4) % 7 as day_of_week,
        hour_start / 86400 + 719468 as civil_z
    from hourly
),

civil_era as (
    select measured.*, civil_z - (civil_z / 146097) * 146097 as civil_doe, civil_z / 146097 as civil_era
    from measured
),

civil_year as (
    select civil_era.*,
        (civil_doe - civil_doe / 1460 + civil_doe / 36524 - civil_doe / 146096) / 365 as civil_yoe
    from civil_era
),

civil_doy as (
    select civil_year.*,
        civil_doe - (365 * civil_yoe + civil_yoe / 4 - civil_yoe / 100) as civil_doy_mar
    from civil_year
),

civil_month as (
    select civil_doy.*, (5 * civil_doy_mar + 2) / 153 as civil_mp
    from civil_doy
),

calendar as (
    select
        civil_month.*,
        civil_doy_mar - (153 * civil_mp + 2) / 5 + 1 as day_of_month,
        case when civil_mp < 10 then civil_mp + 3 else civil_mp - 9 end as month_of_year,
        civil_yoe + civil_era * 400 + case when civil_mp >= 10 then 1 else 0 end as year_number
    from civil_month
),

final as (
    select
        fact_id,
        meter_id,
        hour_start,
        day_start,
        interval_s,
        reading_count,
        total_consumption_kwh,
        avg_consumption_kwh,
        min_consumption_kwh,
        max_consumption_kwh,
        variance_consumption_kwh2,
        avg_voltage_v,
        avg_current_a,
        avg_power_factor,
        avg_frequency_hz,
        avg_quality_score,
        excellent_quality_count,
        good_quality_count,
        fair_quality_count,
        poor_quality_count,
        anomaly_count,
        flagged_count,
        estimated_count,
        is_peak_hour,
        is_off_peak_hour,
        is_weekend,
        tariff_type,
        excellent_quality_percent,
        good_quality_percent,
        fair_quality_percent,
        poor_quality_percent,
        anomaly_percent,
        case
            when total_consumption_kwh is null then 'unknown'
            when total_consumption_kwh = 0 then 'zero_consumption'
            when total_consumption_kwh < 0.1 then 'very_low'
            when total_consumption_kwh < 1.0 then 'low'
            when total_consumption_kwh < 10.0 then 'medium'
            when total_consumption_kwh < 50.0 then 'high'
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
        case
            when is_peak_hour = 1 and is_weekend = 0 then 'peak_weekday'
            when is_peak_hour = 1 and is_weekend = 1 then 'peak_weekend'
            when is_off_peak_hour = 1 and is_weekend = 0 then 'off_peak_weekday'
            when is_off_peak_hour = 1 and is_weekend = 1 then 'off_peak_weekend'
            else 'other'
        end as time_period_classification,
        hour_of_day,
        day_of_week,
        case day_of_week
            when 0 then 'sunday' when 1 then 'monday' when 2 then 'tuesday'
            when 3 then 'wednesday' when 4 then 'thursday' when 5 then 'friday'
            else 'saturday'
        end as day_name,
        day_of_month,
        month_of_year,
        (month_of_year - 1) / 3 + 1 as quarter_of_year,
        year_number,
        case when day_of_week between 1 and 5 then 'weekday' else 'weekend' end as day_type,
        case
            when month_of_year in (12, 1, 2) then 'winter'
            when month_of_year in (3, 4, 5) then 'spring'
            when month_of_year in (6, 7, 8) then 'summer'
            else 'fall'
        end as season,
        case when month_of_year in (6, 7, 8, 12, 1) then 1 else 0 end as is_peak_season
    from calendar
)

select * from final
