{# One row per weather station: master data, observation statistics and classifications. #}

with stations as (
    select station_id, name, type, latitude, longitude, elevation_m, status
    from {{ source('metrify', 'weather_stations') }}
),

observations as (
    select * from {{ ref('stg_weather_data') }}
),

newest as (
    select max(observation_ts) as newest_ts from observations
),

stats as (
    select
        station_id,
        min(observation_ts) as first_observation_ts,
        max(observation_ts) as last_observation_ts,
        count(*) as total_observations,
        avg(temperature_c) as avg_temperature_c,
        min(temperature_c) as min_temperature_c,
        max(temperature_c) as max_temperature_c,
        avg(humidity_pct) as avg_humidity_pct,
        avg(pressure_hpa) as avg_pressure_hpa,
        avg(wind_speed_ms) as avg_wind_speed_ms,
        max(wind_speed_ms) as max_wind_speed_ms,
        avg(cloud_cover_pct) as avg_cloud_cover_pct,
        sum(precipitation_mm) as total_precipitation_mm,
        avg(quality_score) as avg_quality_score,
        sum(is_anomaly) as anomaly_count
    from observations
    group by station_id
),

joined as (
    select
        s.station_id,
        s.name as station_name,
        s.type as station_type,
        s.latitude,
        s.longitude,
        s.elevation_m,
        s.status,
        o.first_observation_ts,
        o.last_observation_ts,
        coalesce(o.total_observations, 0) as total_observations,
        o.avg_temperature_c,
        o.min_temperature_c,
        o.max_temperature_c,
        o.max_temperature_c - o.min_temperature_c as temperature_range_c,
        o.avg_humidity_pct,
        o.avg_pressure_hpa,
        o.avg_wind_speed_ms,
        o.max_wind_speed_ms,
        o.avg_cloud_cover_pct,
        o.total_precipitation_mm,
        o.avg_quality_score,
        coalesce(o.anomaly_count, 0) as anomaly_count,
        case when o.total_observations > 0
             then 100.0 * o.anomaly_count / o.total_observations else 0 end as anomaly_percent,
        case when o.total_observations > 0
             then (o.last_observation_ts - o.last_observation_ts % 86400
                   - (o.first_observation_ts - o.first_observation_ts % 86400)) / 86400 + 1
        end as days_in_service,
        n.newest_ts
    from stations as s
    left join stats as o on o.station_id = s.station_id
    cross join newest as n
),

final as (
    select
        station_id,
        station_name,
        station_type,
        latitude,
        longitude,
        elevation_m,
        status,
        first_observation_ts,
        last_observation_ts,
        total_observations,
        avg_temperature_c,
        min_temperature_c,
        max_temperature_c,
        temperature_range_c,
        avg_humidity_pct,
        avg_pressure_hpa,
        avg_wind_speed_ms,
        max_wind_speed_ms,
        avg_cloud_cover_pct,
        total_precipitation_mm,
        avg_quality_score,
        anomaly_count,
        anomaly_percent,
        days_in_service,
        case when days_in_service > 0 then 1.0 * total_observations / days_in_service end
            as observations_per_day,
        case
            when avg_temperature_c is null then 'unknown'
            when avg_temperature_c < -10 then 'very_cold'
            when avg_temperature_c < 0 then 'cold'
            when avg_temperature_c < 10 then 'cool'
            when avg_temperature_c < 20 then 'mild'
            when avg_temperature_c < 30 then 'warm'
            when avg_temperature_c < 40 then 'hot'
            else 'very_hot'
        end as temperature_classification,
        case
            when avg_humidity_pct is null then 'unknown'
            when avg_humidity_pct < 30 then 'dry'
            when avg_humidity_pct < 50 then 'comfortable'
            when avg_humidity_pct < 70 then 'moderate'
            else 'humid'
        end as humidity_classification,
        case
            when avg_wind_speed_ms is null then 'unknown'
            when avg_wind_speed_ms < 1 then 'calm'
            when avg_wind_speed_ms < 5 then 'light'
            when avg_wind_speed_ms < 10 then 'moderate'
            when avg_wind_speed_ms < 20 then 'strong'
            else 'very_strong'
        end as wind_classification,
        case
            when total_precipitation_mm is null then 'unknown'
            when total_precipitation_mm = 0 then 'no_precipitation'
            when total_precipitation_mm < 10 then 'light_precipitation'
            when total_precipitation_mm < 50 then 'moderate_precipitation'
            when total_precipitation_mm < 100 then 'heavy_precipitation'
            else 'very_heavy_precipitation'
        end as precipitation_classification,
        case
            when total_observations = 0 then 'no_data'
            when last_observation_ts < newest_ts - {{ var('station_inactive_after_days', 7) }} * 86400
                then 'inactive'
            when anomaly_percent >= 50 then 'faulty'
            when 1.0 * total_observations / days_in_service < 1 then 'low_activity'
            else 'active'
        end as station_status,
        case
            when elevation_m is null then 'unknown'
            when elevation_m < 100 then 'low'
            when elevation_m < 500 then 'medium'
            when elevation_m < 1000 then 'high'
            else 'very_high_elevation'
        end as elevation_classification,
        case
            when latitude is null or longitude is null then 'unknown'
            when latitude > {{ var('region_split_latitude', 51) }}
                 and longitude > {{ var('region_split_longitude', 10.5) }} then 'north_east'
            when latitude > {{ var('region_split_latitude', 51) }} then 'north_west'
            when longitude > {{ var('region_split_longitude', 10.5) }} then 'south_east'
            else 'south_west'
        end as geographic_region,
        case
            when latitude is not null and longitude is not null and elevation_m is not null
                then 'complete'
            when latitude is not null and longitude is not null then 'partial'
            else 'incomplete'
        end as data_completeness
    from joined
)

select * from final
