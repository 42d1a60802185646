{# One row per grid operator: master data and status statistics with stability, risk and
   status classifications. Utilisation is load over capacity (the original divided consumption by
   generation, columns the store does not have). #}

with operators as (
    select operator_id, name, type, region, capacity_mw, voltage_kv, latitude, longitude, status
    from {{ source('metrify', 'grid_operators') }}
),

status as (
    select * from {{ ref('stg_grid_status') }}
),

newest as (
    select max(status_ts) as newest_ts from status
),

stats as (
    select
        operator_id,
        min(status_ts) as first_status_ts,
        max(status_ts) as last_status_ts,
        count(*) as total_status_updates,
        avg(frequency_hz) as avg_frequency_hz,
        min(frequency_hz) as min_frequency_hz,
        max(frequency_hz) as max_frequency_hz,
        avg(voltage_kv) as avg_voltage_kv,
        avg(load_mw) as avg_load_mw,
        max(load_mw) as max_load_mw,
        avg(grid_utilization_percent) as avg_utilization_percent,
        avg(stability) as avg_stability_score,
        sum(is_stable) as stable_status_count,
        sum(case when alert_level = 'warning' then 1 else 0 end) as warning_count,
        sum(case when alert_level = 'critical' then 1 else 0 end) as critical_count,
        sum(is_anomaly) as anomaly_count
    from status
    group by operator_id
),

joined as (
    select
        o.operator_id,
        o.name as operator_name,
        o.type as operator_type,
        o.region,
        o.capacity_mw,
        o.voltage_kv as nominal_voltage_kv,
        o.latitude,
        o.longitude,
        o.status,
        s.first_status_ts,
        s.last_status_ts,
        coalesce(s.total_status_updates, 0) as total_status_updates,
        s.avg_frequency_hz,
        s.min_frequency_hz,
        s.max_frequency_hz,
        s.avg_voltage_kv,
        s.avg_load_mw,
        s.max_load_mw,
        s.avg_utilization_percent,
        s.avg_stability_score,
        coalesce(s.stable_status_count, 0) as stable_status_count,
        coalesce(s.warning_count, 0) as warning_count,
        coalesce(s.critical_count, 0) as critical_count,
        coalesce(s.anomaly_count, 0) as anomaly_count,
        case when s.total_status_updates > 0
             then 100.0 * s.stable_status_count / s.total_status_updates else 0 end
            as stability_percent,
        case when s.total_status_updates > 0
             then 100.0 * s.warning_count / s.total_status_updates else 0 end as warning_percent,
        case when s.total_status_updates > 0
             then 100.0 * s.critical_count / s.total_status_updates else 0 end as critical_percent,
        case when s.total_status_updates > 0
             then 100.0 * s.anomaly_count / s.total_status_updates else 0 end as anomaly_percent,
        case when s.total_status_updates > 0
             then (s.last_status_ts - s.last_status_ts % 86400
                   - (s.first_status_ts - s.first_status_ts % 86400)) / 86400 + 1
        end as days_in_service,
        n.newest_ts
    from operators as o
    left join stats as s on s.operator_id = o.operator_id
    cross join newest as n
),

final as (
    select
        operator_id,
        operator_name,
        operator_type,
        region,
        capacity_mw,
        nominal_voltage_kv,
        latitude,
        longitude,
        status,
        first_status_ts,
        last_status_ts,
        total_status_updates,
        avg_frequency_hz,
        min_frequency_hz,
        max_frequency_hz,
        avg_voltage_kv,
        avg_load_mw,
        max_load_mw,
        avg_utilization_percent,
        avg_stability_score,
        stable_status_count,
        warning_count,
        critical_count,
        anomaly_count,
        stability_percent,
        warning_percent,
        critical_percent,
        anomaly_percent,
        days_in_service,
        case when days_in_service > 0 then 1.0 * total_status_updates / days_in_service end
            as updates_per_day,
        case
            when total_status_updates = 0 then 'unknown'
            when stability_percent >= 95 then 'very_stable'
            when stability_percent >= 90 then 'stable'
            when stability_percent >= 80 then 'moderately_stable'
            when stability_percent >= 70 then 'unstable'
            else 'very_unstable'
        end as stability_classification,
        case
            when critical_percent >= 5 then 'high_risk'
            when critical_percent >= 1 or warning_percent >= 10 then 'medium_risk'
            else 'low_risk'
        end as risk_classification,
        case
            when anomaly_percent >= 20 then 'high_anomaly'
            when anomaly_percent >= 10 then 'medium_anomaly'
            when anomaly_percent > 0 then 'low_anomaly'
            else 'no_anomaly'
        end as anomaly_classification,
        case
            when total_status_updates = 0 then 'no_data'
            when last_status_ts < newest_ts - {{ var('operator_inactive_after_days', 1) }} * 86400
                then 'inactive'
            when critical_percent >= 10 then 'critical'
            when warning_percent >= 20 then 'warning'
            when stability_percent < 70 then 'unstable'
            else 'active'
        end as operator_status,
        case
            when region is not null and operator_name is not null then 'complete'
            when region is not null or operator_name is not null then 'partial'
            else 'incomplete'
        end as data_completeness
    from joined
)

select * from final
