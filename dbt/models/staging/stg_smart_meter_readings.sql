{# One row per stored interval reading with its meter's id, validity checks, quality tiers and
   calendar features. Flags are 0/1 integers (portable: SQLite has no boolean type).
   A table, not a view like the other staging models (the original made all three tables): the
   marts and the tests read it many times, and on SQLite every read of `readings` decodes the
   store's reading blocks. #}
{{ config(materialized='table') }}

with source_readings as (
    select
        r.meter_key,
        r.ts,
        r.interval_s,
        r.raw_kwh,
        r.kwh,
        r.voltage_v,
        r.current_a,
        r.power_factor,
        r.frequency_hz,
        r.quality_code,
        r.flags,
        r.score
    from {{ source('metrify', 'readings') }} as r
),

source_meters as (
    select meter_key, meter_id, tariff
    from {{ source('metrify', 'meters') }}
),

joined as (
    select
        m.meter_id,
        m.meter_id || '@' || cast(r.ts as text) as reading_id,
        r.ts as reading_ts,
        r.ts - r.ts % 3600 as reading_hour_start,
        r.ts - r.ts % 86400 as reading_day,
        r.interval_s,
        r.kwh as consumption_kwh,
        r.raw_kwh,
        r.voltage_v,
        r.current_a,
        r.power_factor,
        r.frequency_hz,
        r.quality_code,
        r.flags,
        r.score as quality_score,
        m.tariff as tariff_type
    from source_readings as r
    inner join source_meters as m on m.meter_key = r.meter_key
    where r.kwh is not null
),

validated as (
    select
        joined.*,
        case when consumption_kwh >= {{ var('min_consumption_kwh', 0) }}
                  and consumption_kwh <= {{ var('max_consumption_kwh', 1000) }}
             then 1 else 0 end as is_valid_consumption,
        case when voltage_v is null or (voltage_v >= 200 and voltage_v <= 250)
             then 1 else 0 end as is_valid_voltage,
        case when current_a is null or current_a >= 0 then 1 else 0 end as is_valid_current,
        case when power_factor is null or (power_factor >= 0 and power_factor <= 1)
             then 1 else 0 end as is_valid_power_factor,
        case when frequency_hz is null or (frequency_hz >= 45 and frequency_hz <= 65)
             then 1 else 0 end as is_valid_frequency,
        (reading_ts % 86400) / 3600 as reading_hour,
        (reading_ts / 86400 + 4) % 7 as day_of_week
    from joined
),

enriched as (
    select
        validated.*,
        case
            when is_valid_consumption = 1 and is_valid_voltage = 1 and is_valid_current = 1
                 and is_valid_power_factor = 1 and is_valid_frequency = 1 then 'excellent'
            when is_valid_consumption = 1 and is_valid_voltage = 1 and is_valid_current = 1
                 then 'good'
            when is_valid_consumption = 1 then 'fair'
            else 'poor'
        end as calculated_quality_tier,
        case
            when quality_score is null then 'unknown'
            when quality_score >= 0.9 then 'excellent'
            when quality_score >= 0.8 then 'good'
            when quality_score >= 0.7 then 'fair'
            else 'poor'
        end as quality_tier,
        case when quality_code = 10 then 1 else 0 end as is_flagged,
        case when quality_code in (8, 9) then 1 else 0 end as is_estimated,
        case when (flags & {{ var('anomaly_flag_mask', 1065353216) }}) <> 0
             then 1 else 0 end as is_anomaly,
        case when reading_hour >= {{ var('peak_hour_start', 17) }}
                  and reading_hour <= {{ var('peak_hour_end', 21) }}
             then 1 else 0 end as is_peak_hour,
        case when reading_hour >= {{ var('off_peak_hour_start', 22) }}
                  or reading_hour <= {{ var('off_peak_hour_end', 6) }}
             then 1 else 0 end as is_off_peak_hour,
        case when day_of_week in (0, 6) then 1 else 0 end as is_weekend,
        case
            when consumption_kwh = 0 then 'zero_consumption'
            when consumption_kwh < 0.1 then 'very_low'
            when consumption_kwh < 1.0 then 'low'
            when consumption_kwh < 10.0 then 'medium'
            when consumption_kwh < 50.0 then 'high'
            else 'very_high'
        end as consumption_category,
        case
            when is_valid_consumption = 0 then 'invalid_consumption'
            when is_valid_voltage = 0 then 'invalid_voltage'
            when is_valid_current = 0 then 'invalid_current'
            when is_valid_power_factor = 0 then 'invalid_power_factor'
            when is_valid_frequency = 0 then 'invalid_frequency'
            else 'valid'
        end as quality_flag
    from validated
)

select * from enriched
