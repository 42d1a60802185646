{# Hourly energy-efficiency scores per meter: power factor, voltage, frequency and data quality
   tiers, each worth up to 25 points, and the opportunity to act on first. #}

with facts as (
    select * from {{ ref('fct_smart_meter_analytics') }}
),

tiers as (
    select
        fact_id,
        meter_id,
        hour_start,
        day_start,
        total_consumption_kwh,
        avg_consumption_kwh,
        max_consumption_kwh,
        avg_power_factor,
        avg_voltage_v,
        avg_frequency_hz,
        avg_quality_score,
        anomaly_percent,
        case when max_consumption_kwh > 0 then avg_consumption_kwh / max_consumption_kwh end
            as load_factor,
        case
            when avg_power_factor is null then 'unknown'
            when avg_power_factor >= 0.95 then 'excellent'
            when avg_power_factor >= 0.90 then 'good'
            when avg_power_factor >= 0.85 then 'fair'
            when avg_power_factor >= 0.80 then 'poor'
            else 'very_poor'
        end as power_factor_tier,
        case
            when avg_voltage_v is null then 'unknown'
            when avg_voltage_v >= 220 and avg_voltage_v <= 240 then 'optimal'
            when avg_voltage_v >= 210 and avg_voltage_v <= 250 then 'acceptable'
            when avg_voltage_v >= 200 and avg_voltage_v <= 260 then 'marginal'
            else 'poor'
        end as voltage_tier,
        case
            when avg_frequency_hz is null then 'unknown'
            when avg_frequency_hz >= 49.8 and avg_frequency_hz <= 50.2 then 'stable'
            when avg_frequency_hz >= 49.5 and avg_frequency_hz <= 50.5 then 'acceptable'
            when avg_frequency_hz >= 49.0 and avg_frequency_hz <= 51.0 then 'unstable'
            else 'critical'
        end as frequency_tier,
        case
            when avg_quality_score is null then 'unknown'
            when avg_quality_score >= 0.95 then 'excellent'
            when avg_quality_score >= 0.90 then 'good'
            when avg_quality_score >= 0.80 then 'fair'
            when avg_quality_score >= 0.70 then 'poor'
            else 'very_poor'
        end as quality_tier
    from facts
),

scored as (
    select
        tiers.*,
        case power_factor_tier when 'excellent' then 25 when 'good' then 20 when 'fair' then 15
             when 'poor' then 10 when 'very_poor' then 5 else 0 end
        + case voltage_tier when 'optimal' then 25 when 'acceptable' then 20
               when 'marginal' then 15 when 'poor' then 5 else 0 end
        + case frequency_tier when 'stable' then 25 when 'acceptable' then 20
               when 'unstable' then 15 when 'critical' then 5 else 0 end
        + case quality_tier when 'excellent' then 25 when 'good' then 20 when 'fair' then 15
               when 'poor' then 10 when 'very_poor' then 5 else 0 end
            as overall_efficiency_score
    from tiers
),

final as (
    select
        scored.*,
        case
            when overall_efficiency_score >= 90 then 'excellent'
            when overall_efficiency_score >= 75 then 'good'
            when overall_efficiency_score >= 60 then 'fair'
            else 'poor'
        end as efficiency_classification,
        case
            when avg_power_factor < 0.85 or avg_voltage_v < 210 or avg_voltage_v > 250
                 or avg_frequency_hz < 49.5 or avg_frequency_hz > 50.5 or anomaly_percent > 10
                then 1 else 0
        end as has_energy_waste,
        case
            when avg_power_factor >= 0.85 and avg_power_factor < 0.90 then 'power_factor_correction'
            when avg_voltage_v < 220 or avg_voltage_v > 240 then 'voltage_regulation'
            when avg_frequency_hz < 49.8 or avg_frequency_hz > 50.2 then 'frequency_stabilization'
            when anomaly_percent > 5 then 'data_quality_improvement'
            when load_factor < 0.5 then 'load_balancing'
            else 'no_optimization_needed'
        end as optimization_opportunity
    from scored
)

select * from final
