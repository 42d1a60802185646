{# One row per registered meter: master data, its meter type's reference data (seed), lifetime
   reading statistics and the derived operational status. Staleness is measured against the
   newest reading in the store, so the table does not change when rebuilt later. #}

with meter_master as (
    select
        meter_id, type, status, tariff, manufacturer, model, firmware, latitude, longitude,
        address, operator_id, station_id, installed_at, base_kwh
    from {{ source('metrify', 'meters') }}
),

types as (
    select meter_type, description, min_current_a, max_current_a, nominal_voltage_v
    from {{ ref('meter_types') }}
),

meter_readings as (
    select * from {{ ref('stg_smart_meter_readings') }}
),

newest as (
    select max(reading_ts) as newest_ts from meter_readings
),

stats as (
    select
        meter_id,
        min(reading_ts) as first_reading_ts,
        max(reading_ts) as last_reading_ts,
        count(*) as total_readings,
        sum(case when is_flagged = 0 then consumption_kwh end) as total_consumption_kwh,
        avg(case when is_flagged = 0 then consumption_kwh end) as avg_consumption_kwh,
        avg(quality_score) as avg_quality_score,
        sum(is_anomaly) as anomaly_count,
        sum(is_flagged) as flagged_count,
        sum(is_estimated) as estimated_count,
        sum(case when quality_tier = 'excellent' then 1 else 0 end) as excellent_quality_count,
        sum(case when quality_tier = 'good' then 1 else 0 end) as good_quality_count,
        sum(case when quality_tier = 'fair' then 1 else 0 end) as fair_quality_count,
        sum(case when quality_tier = 'poor' then 1 else 0 end) as poor_quality_count
    from meter_readings
    group by meter_id
),

joined as (
    select
        m.meter_id,
        m.type as meter_type,
        t.description as meter_type_description,
        t.min_current_a as type_min_current_a,
        t.max_current_a as type_max_current_a,
        t.nominal_voltage_v,
        m.status,
        m.tariff as tariff_type,
        m.manufacturer,
        m.model,
        m.firmware,
        m.latitude,
        m.longitude,
        m.address,
        nullif(m.operator_id, '') as operator_id,
        nullif(m.station_id, '') as station_id,
        m.installed_at,
        m.base_kwh,
        s.first_reading_ts,
        s.last_reading_ts,
        coalesce(s.total_readings, 0) as total_readings,
        s.total_consumption_kwh,
        s.avg_consumption_kwh,
        s.avg_quality_score,
        coalesce(s.anomaly_count, 0) as anomaly_count,
        coalesce(s.flagged_count, 0) as flagged_count,
        coalesce(s.estimated_count, 0) as estimated_count,
        case when s.total_readings > 0
             then 100.0 * s.excellent_quality_count / s.total_readings else 0 end
            as excellent_quality_percent,
        case when s.total_readings > 0
             then 100.0 * s.good_quality_count / s.total_readings else 0 end
            as good_quality_percent,
        case when s.total_readings > 0
             then 100.0 * s.fair_quality_count / s.total_readings else 0 end
            as fair_quality_percent,
        case when s.total_readings > 0
             then 100.0 * s.poor_quality_count / s.total_readings else 0 end
            as poor_quality_percent,
        case when s.total_readings > 0
             then 100.0 * s.anomaly_count / s.total_readings else 0 end as anomaly_percent,
        case when s.total_readings > 0
             then (s.last_reading_ts - s.last_reading_ts % 86400
                   - (s.first_reading_ts - s.first_reading_ts % 86400)) / 86400 + 1
        end as days_in_service,
        n.newest_ts
    from meter_master as m
    left join types as t on t.meter_type = m.type
    left join stats as s on s.meter_id = m.meter_id
    cross join newest as n
),

final as (
    select
        meter_id,
        meter_type,
        meter_type_description,
        type_min_current_a,
        type_max_current_a,
        nominal_voltage_v,
        status,
        tariff_type,
        manufacturer,
        model,
        firmware,
        latitude,
        longitude,
        address,
        operator_id,
        station_id,
        installed_at,
        base_kwh,
        first_reading_ts,
        last_reading_ts,
        total_readings,
        total_consumption_kwh,
        avg_consumption_kwh,
        avg_quality_score,
        anomaly_count,
        flagged_count,
        estimated_count,
        excellent_quality_percent,
        good_quality_percent,
        fair_quality_percent,
        poor_quality_percent,
        anomaly_percent,
        days_in_service,
        case when days_in_service > 0 then 1.0 * total_readings / days_in_service end
            as readings_per_day,
        case
            when total_readings = 0 then 'unknown'
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
            when avg_consumption_kwh is null then 'unknown'
            when avg_consumption_kwh = 0 then 'zero_consumption'
            when avg_consumption_kwh < 0.1 then 'very_low'
            when avg_consumption_kwh < 1.0 then 'low'
            when avg_consumption_kwh < 10.0 then 'medium'
            when avg_consumption_kwh < 50.0 then 'high'
            else 'very_high'
        end as consumption_tier,
        case
            when total_readings = 0 then 'no_data'
            when last_reading_ts < newest_ts - {{ var('meter_inactive_after_days', 7) }} * 86400
                then 'inactive'
            when anomaly_percent >= 50 then 'faulty'
            when excellent_quality_percent < 80 and good_quality_percent < 70
                 and fair_quality_percent < 50 then 'needs_maintenance'
            else 'active'
        end as operational_status,
        case
            when latitude is null or longitude is null then 'unknown'
            when latitude > {{ var('region_split_latitude', 51) }}
                 and longitude > {{ var('region_split_longitude', 10.5) }} then 'north_east'
            when latitude > {{ var('region_split_latitude', 51) }} then 'north_west'
            when longitude > {{ var('region_split_longitude', 10.5) }} then 'south_east'
            else 'south_west'
        end as geographic_region,
        case
            when latitude is not null and longitude is not null and address is not null
                 and address <> '' then 'complete'
            when latitude is not null and longitude is not null then 'partial'
            else 'incomplete'
        end as data_completeness
    from joined
)

select * from final
