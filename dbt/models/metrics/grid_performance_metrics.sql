{# Performance scores per grid operator. The voltage bands of the original (220-240 ...) were
   volt bands applied to kV averages; here they are the same relative bands (+-4.35 %, 8.7 %,
   13 %, 17.4 % of nominal) around the operator's nominal voltage. #}

with operators as (
    select * from {{ ref('dim_grid_operators') }}
),

deviation as (
    select
        operators.*,
        case when nominal_voltage_kv > 0 and avg_voltage_kv is not null
             then 100.0 * (avg_voltage_kv - nominal_voltage_kv) / nominal_voltage_kv end
            as voltage_deviation_percent
    from operators
),

scores as (
    select
        deviation.*,
        case
            when avg_frequency_hz is null then 0
            when avg_frequency_hz >= 49.8 and avg_frequency_hz <= 50.2 then 100
            when avg_frequency_hz >= 49.5 and avg_frequency_hz <= 50.5 then 80
            when avg_frequency_hz >= 49.0 and avg_frequency_hz <= 51.0 then 60
            when avg_frequency_hz >= 48.5 and avg_frequency_hz <= 51.5 then 40
            else 20
        end as frequency_stability_score,
        case
            when voltage_deviation_percent is null then 0
            when voltage_deviation_percent >= -4.35 and voltage_deviation_percent <= 4.35 then 100
            when voltage_deviation_percent >= -8.7 and voltage_deviation_percent <= 8.7 then 80
            when voltage_deviation_percent >= -13.0 and voltage_deviation_percent <= 13.0 then 60
            when voltage_deviation_percent >= -17.4 and voltage_deviation_percent <= 17.4 then 40
            else 20
        end as voltage_stability_score,
        case
            when avg_utilization_percent is null then 'unknown'
            when avg_utilization_percent >= 70 and avg_utilization_percent <= 90 then 'optimal'
            when avg_utilization_percent >= 60 and avg_utilization_percent <= 95 then 'good'
            when avg_utilization_percent >= 50 and avg_utilization_percent <= 100 then 'acceptable'
            when avg_utilization_percent < 50 then 'underutilized'
            else 'overutilized'
        end as utilization_tier,
        case
            when stability_percent >= 95 and critical_percent = 0 then 'excellent'
            when stability_percent >= 90 and critical_percent <= 1 then 'good'
            when stability_percent >= 80 and critical_percent <= 5 then 'fair'
            when stability_percent >= 70 and critical_percent <= 10 then 'poor'
            else 'critical'
        end as reliability_tier,
        case
            when critical_percent > 5 or warning_percent > 20 or avg_utilization_percent > 95
                 or anomaly_percent > 25 then 1 else 0
        end as is_grid_stressed
    from deviation
),

performance as (
    select
        scores.*,
        0.3 * frequency_stability_score + 0.3 * voltage_stability_score
            + 0.4 * stability_percent as overall_performance_score
    from scores
),

final as (
    select
        performance.*,
        case
            when overall_performance_score >= 90 then 'excellent'
            when overall_performance_score >= 80 then 'good'
            when overall_performance_score >= 70 then 'fair'
            when overall_performance_score >= 60 then 'poor'
            else 'critical'
        end as performance_classification,
        case
            when critical_percent >= 10 then 'urgent'
            when critical_percent >= 5 or stability_percent < 70 then 'high'
            when warning_percent >= 20 or stability_percent < 80 then 'medium'
            when warning_percent >= 10 then 'low'
            else 'none'
        end as maintenance_urgency,
        case
            when total_status_updates = 0 then 'unknown'
            when critical_percent >= 10 then 'emergency'
            when critical_percent >= 5 then 'critical'
            when is_grid_stressed = 1 then 'warning'
            when overall_performance_score >= 80 then 'healthy'
            else 'good'
        end as grid_health_status
    from performance
)

select * from final
