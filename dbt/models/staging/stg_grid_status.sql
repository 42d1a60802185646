{# One row per grid status sample of a transmission operator, with validity checks, the
   condition flags the classification needs (derived here from the measured values) and
   calendar features. #}

with status as (
    select operator_id, ts, frequency_hz, voltage_kv, load_mw, capacity_mw, stability, flags, score
    from {{ source('metrify', 'grid_status') }}
),

operators as (
    select operator_id, name, region, capacity_mw
    from {{ source('metrify', 'grid_operators') }}
),

joined as (
    select
        s.operator_id,
        s.operator_id || '@' || cast(s.ts as text) as status_id,
        s.ts as status_ts,
        s.ts - s.ts % 86400 as status_day,
        s.frequency_hz,
        s.voltage_kv,
        s.load_mw,
        coalesce(s.capacity_mw, o.capacity_mw) as capacity_mw,
        s.stability,
        s.flags,
        s.score as quality_score,
        o.name as operator_name,
        o.region,
        (s.ts % 86400) / 3600 as status_hour,
        (s.ts / 86400 + 4) % 7 as day_of_week
    from status as s
    left join operators as o on o.operator_id = s.operator_id
),

validated as (
    select
        joined.*,
        case when frequency_hz is null or (frequency_hz >= 45 and frequency_hz <= 65)
             then 1 else 0 end as is_valid_frequency,
        case when voltage_kv is null or (voltage_kv >= 100 and voltage_kv <= 500)
             then 1 else 0 end as is_valid_voltage,
        case when load_mw is null or load_mw >= 0 then 1 else 0 end as is_valid_load,
        case when capacity_mw is null or capacity_mw >= 0 then 1 else 0 end as is_valid_capacity,
        case when stability is null or (stability >= 0 and stability <= 1)
             then 1 else 0 end as is_valid_stability,
        case when capacity_mw > 0 then 100.0 * load_mw / capacity_mw end as grid_utilization_percent
    from joined
),

conditions as (
    select
        validated.*,
        case when frequency_hz < 49.8 then 1 else 0 end as is_under_frequency,
        case when frequency_hz > 50.2 then 1 else 0 end as is_over_frequency,
        case when voltage_kv < {{ var('grid_voltage_min_kv', 380) }} then 1 else 0 end as is_under_voltage,
        case when voltage_kv > {{ var('grid_voltage_max_kv', 420) }} then 1 else 0 end as is_over_voltage,
        case when grid_utilization_percent > 90 then 1 else 0 end as is_overload,
        case when frequency_hz < 49.5 or frequency_hz > 50.5 or stability < 0.5
             then 1 else 0 end as is_emergency,
        case when stability >= 0.7 then 1 else 0 end as is_stable,
        case when flags <> 0 then 1 else 0 end as is_anomaly
    from validated
),

enriched as (
    select
        conditions.*,
        case
            when is_valid_frequency = 1 and is_valid_voltage = 1 and is_valid_load = 1
                 and is_valid_capacity = 1 and is_valid_stability = 1 then 'excellent'
            when is_valid_frequency = 1 and is_valid_voltage = 1 and is_valid_load = 1 then 'good'
            when is_valid_frequency = 1 and is_valid_voltage = 1 then 'fair'
            else 'poor'
        end as calculated_quality_tier,
        case
            when is_emergency = 1 then 'critical'
            when is_overload = 1 or is_under_frequency = 1 or is_over_frequency = 1
                 or is_under_voltage = 1 or is_over_voltage = 1 or stability < 0.7 then 'warning'
            else 'normal'
        end as alert_level,
        case
            when is_emergency = 1 then 'emergency'
            when is_overload = 1 then 'overload'
            when is_under_frequency = 1 or is_over_frequency = 1 then 'frequency_issue'
            when is_under_voltage = 1 or is_over_voltage = 1 then 'voltage_issue'
            when is_stable = 1 then 'stable'
            else 'unknown'
        end as grid_status_classification,
        case
            when load_mw is null or capacity_mw is null or capacity_mw <= 0 then 'unknown'
            when load_mw = 0 then 'no_load'
            when load_mw < capacity_mw * 0.3 then 'low_load'
            when load_mw < capacity_mw * 0.7 then 'medium_load'
            when load_mw < capacity_mw * 0.9 then 'high_load'
            else 'critical_load'
        end as load_category,
        case when status_hour >= {{ var('peak_hour_start', 17) }}
                  and status_hour <= {{ var('peak_hour_end', 21) }}
             then 1 else 0 end as is_peak_hour,
        case when day_of_week in (0, 6) then 1 else 0 end as is_weekend,
        case
            when is_valid_frequency = 0 then 'invalid_frequency'
            when is_valid_voltage = 0 then 'invalid_voltage'
            when is_valid_load = 0 then 'invalid_load'
            when is_valid_capacity = 0 then 'invalid_capacity'
            when is_valid_stability = 0 then 'invalid_stability'
            else 'valid'
        end as quality_flag
    from conditions
)

select * from enriched
