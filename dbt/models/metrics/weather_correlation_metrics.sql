{# Daily consumption of each meter next to the weather at its station. The original cross-joined
   every fact row with every station and measured "distance" in degrees; here each meter gets its
   assigned station, else the nearest one (equirectangular distance, longitude scaled by
   cos 51 deg ~ 0.63), and the day's weather of that station only. "expected" consumption is the
   meter's mean daily consumption scaled by the temperature factor of the original. #}

with daily as (
    select meter_id, day_start, daily_consumption_kwh, data_completeness
    from {{ ref('daily_consumption_metrics') }}
),

meter_dim as (
    select meter_id, latitude, longitude, station_id
    from {{ ref('dim_meters') }}
),

station_dim as (
    select station_id, latitude, longitude
    from {{ ref('dim_weather_stations') }}
),

distances as (
    select
        m.meter_id,
        s.station_id,
        (m.latitude - s.latitude) * (m.latitude - s.latitude)
        + (m.longitude - s.longitude) * (m.longitude - s.longitude) * 0.63 * 0.63 as distance2
    from meter_dim as m
    cross join station_dim as s
    where m.latitude is not null and m.longitude is not null
      and s.latitude is not null and s.longitude is not null
),

nearest as (
    select d.meter_id, min(d.station_id) as station_id, min(d.distance2) as distance2
    from distances as d
    inner join (
        select meter_id, min(distance2) as best from distances group by meter_id
    ) as b on b.meter_id = d.meter_id and d.distance2 = b.best
    group by d.meter_id
),

meter_station as (
    select
        m.meter_id,
        coalesce(m.station_id, n.station_id) as station_id,
        case when m.station_id is not null then 'assigned' else 'nearest' end as station_match
    from meter_dim as m
    left join nearest as n on n.meter_id = m.meter_id
),

station_days as (
    select
        station_id,
        observation_day as day_start,
        avg(temperature_c) as avg_temperature_c,
        min(temperature_c) as min_temperature_c,
        max(temperature_c) as max_temperature_c,
        avg(humidity_pct) as avg_humidity_pct,
        avg(wind_speed_ms) as avg_wind_speed_ms,
        sum(precipitation_mm) as total_precipitation_mm,
        count(*) as observations
    from {{ ref('stg_weather_data') }}
    group by station_id, observation_day
),

meter_means as (
    select meter_id, avg(daily_consumption_kwh) as mean_daily_consumption_kwh
    from daily
    group by meter_id
),

joined as (
    select
        d.meter_id || '@' || cast(d.day_start as text) as metric_id,
        d.meter_id,
        d.day_start,
        ms.station_id,
        ms.station_match,
        d.daily_consumption_kwh,
        d.data_completeness,
        mm.mean_daily_consumption_kwh,
        w.avg_temperature_c,
        w.min_temperature_c,
        w.max_temperature_c,
        w.avg_humidity_pct,
        w.avg_wind_speed_ms,
        w.total_precipitation_mm,
        w.observations as weather_observations,
        case
            when w.avg_temperature_c is null then null
            when w.avg_temperature_c < 0 then 1.5
            when w.avg_temperature_c < 15 then 1.2
            when w.avg_temperature_c <= 25 then 1.0
            when w.avg_temperature_c <= 30 then 1.1
            else 1.3
        end as temperature_factor
    from daily as d
    inner join meter_station as ms on ms.meter_id = d.meter_id
    inner join meter_means as mm on mm.meter_id = d.meter_id
    left join station_days as w on w.station_id = ms.station_id and w.day_start = d.day_start
),

expected as (
    select
        joined.*,
        mean_daily_consumption_kwh * temperature_factor as expected_consumption_kwh
    from joined
),

measured as (
    select
        expected.*,
        daily_consumption_kwh - expected_consumption_kwh as consumption_deviation_kwh,
        case when expected_consumption_kwh > 0
             then 100.0 * daily_consumption_kwh / expected_consumption_kwh end
            as consumption_efficiency_percent,
        case when expected_consumption_kwh > 0
             then (daily_consumption_kwh - expected_consumption_kwh) / expected_consumption_kwh
        end as relative_deviation
    from expected
),

final as (
    select
        measured.*,
        case
            when avg_temperature_c is null then 'unknown'
            when avg_temperature_c < 0 then 'heating_demand'
            when avg_temperature_c < 15 then 'mild_heating'
            when avg_temperature_c <= 25 then 'comfortable'
            when avg_temperature_c <= 30 then 'mild_cooling'
            else 'cooling_demand'
        end as temperature_impact,
        case
            when avg_temperature_c is null then 0
            when avg_temperature_c < -10 or avg_temperature_c > 35 then 100
            when avg_temperature_c < -5 or avg_temperature_c > 30 then 80
            when avg_temperature_c < 0 or avg_temperature_c > 28 then 60
            when avg_temperature_c < 5 or avg_temperature_c > 25 then 40
            when avg_temperature_c < 10 or avg_temperature_c > 22 then 20
            else 0
        end as weather_severity_score,
        case
            when relative_deviation is null then 'unknown'
            when relative_deviation > 0.3 or relative_deviation < -0.3 then 'high'
            when relative_deviation > 0.15 or relative_deviation < -0.15 then 'medium'
            when relative_deviation > 0.05 or relative_deviation < -0.05 then 'low'
            else 'minimal'
        end as weather_impact_classification,
        case
            when relative_deviation is null then 'unknown'
            when relative_deviation > 0.5 or relative_deviation < -0.5 then 'strong'
            when relative_deviation > 0.3 or relative_deviation < -0.3 then 'moderate'
            when relative_deviation > 0.1 or relative_deviation < -0.1 then 'weak'
            else 'none'
        end as deviation_strength,
        case
            when avg_temperature_c < -5 or avg_temperature_c > 35 or total_precipitation_mm > 50
                 or avg_wind_speed_ms > 15 then 1 else 0
        end as is_weather_anomaly
    from measured
)

select * from final
