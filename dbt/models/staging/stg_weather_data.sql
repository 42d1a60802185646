{# One row per weather observation with validity checks, categories and calendar features.
   Metrify stores no visibility or UV index, so the original's checks on them are gone. #}

with observations as (
    select
        station_id, ts, temperature_c, humidity_pct, pressure_hpa, wind_speed_ms,
        wind_direction_deg, precipitation_mm, cloud_cover_pct, flags, score
    from {{ source('metrify', 'weather_observations') }}
),

stations as (
    select station_id, name, latitude, longitude, elevation_m
    from {{ source('metrify', 'weather_stations') }}
),

joined as (
    select
        w.station_id,
        w.station_id || '@' || cast(w.ts as text) as observation_id,
        w.ts as observation_ts,
        w.ts - w.ts % 86400 as observation_day,
        w.temperature_c,
        w.humidity_pct,
        w.pressure_hpa,
        w.wind_speed_ms,
        w.wind_direction_deg,
        w.precipitation_mm,
        w.cloud_cover_pct,
        w.flags,
        w.score as quality_score,
        s.name as station_name,
        s.latitude as station_latitude,
        s.longitude as station_longitude,
        s.elevation_m as station_elevation_m,
        (w.ts % 86400) / 3600 as observation_hour,
        (w.ts / 86400 + 4) % 7 as day_of_week
    from observations as w
    left join stations as s on s.station_id = w.station_id
),

validated as (
    select
        joined.*,
        case when temperature_c is null
                  or (temperature_c >= {{ var('min_temperature_c', -50) }}
                      and temperature_c <= {{ var('max_temperature_c', 60) }})
             then 1 else 0 end as is_valid_temperature,
        case when humidity_pct is null
                  or (humidity_pct >= {{ var('min_humidity_pct', 0) }}
                      and humidity_pct <= {{ var('max_humidity_pct', 100) }})
             then 1 else 0 end as is_valid_humidity,
        case when pressure_hpa is null or (pressure_hpa >= 800 and pressure_hpa <= 1100)
             then 1 else 0 end as is_valid_pressure,
        case when wind_speed_ms is null or wind_speed_ms >= 0 then 1 else 0 end as is_valid_wind_speed,
        case when wind_direction_deg is null or (wind_direction_deg >= 0 and wind_direction_deg <= 360)
             then 1 else 0 end as is_valid_wind_direction,
        case when precipitation_mm is null or precipitation_mm >= 0
             then 1 else 0 end as is_valid_precipitation,
        case when cloud_cover_pct is null or (cloud_cover_pct >= 0 and cloud_cover_pct <= 100)
             then 1 else 0 end as is_valid_cloud_cover,
        case when flags <> 0 then 1 else 0 end as is_anomaly
    from joined
),

enriched as (
    select
        validated.*,
        case
            when is_valid_temperature = 1 and is_valid_humidity = 1 and is_valid_pressure = 1
                 and is_valid_wind_speed = 1 and is_valid_wind_direction = 1 then 'excellent'
            when is_valid_temperature = 1 and is_valid_humidity = 1 and is_valid_pressure = 1
                 then 'good'
            when is_valid_temperature = 1 and is_valid_humidity = 1 then 'fair'
            else 'poor'
        end as calculated_quality_tier,
        case
            when temperature_c is null then 'unknown'
            when temperature_c < -10 then 'very_cold'
            when temperature_c < 0 then 'cold'
            when temperature_c < 10 then 'cool'
            when temperature_c < 20 then 'mild'
            when temperature_c < 30 then 'warm'
            when temperature_c < 40 then 'hot'
            else 'very_hot'
        end as temperature_category,
        case
            when humidity_pct is null then 'unknown'
            when humidity_pct < 30 then 'dry'
            when humidity_pct < 50 then 'comfortable'
            when humidity_pct < 70 then 'moderate'
            else 'humid'
        end as humidity_category,
        case
            when wind_speed_ms is null then 'unknown'
            when wind_speed_ms < 1 then 'calm'
            when wind_speed_ms < 5 then 'light'
            when wind_speed_ms < 10 then 'moderate'
            when wind_speed_ms < 20 then 'strong'
            else 'very_strong'
        end as wind_category,
        case
            when precipitation_mm > 0 and wind_speed_ms > 10 then 'stormy'
            when precipitation_mm > 5 then 'heavy_rain'
            when precipitation_mm > 0 then 'rainy'
            when cloud_cover_pct > 80 then 'cloudy'
            when cloud_cover_pct > 50 then 'partly_cloudy'
            when cloud_cover_pct > 20 then 'mostly_clear'
            else 'clear'
        end as weather_condition,
        case
            when is_valid_temperature = 0 then 'invalid_temperature'
            when is_valid_humidity = 0 then 'invalid_humidity'
            when is_valid_pressure = 0 then 'invalid_pressure'
            when is_valid_wind_speed = 0 then 'invalid_wind_speed'
            when is_valid_wind_direction = 0 then 'invalid_wind_direction'
            when is_valid_precipitation = 0 then 'invalid_precipitation'
            when is_valid_cloud_cover = 0 then 'invalid_cloud_cover'
            else 'valid'
        end as quality_flag
    from validated
)

select * from enriched
