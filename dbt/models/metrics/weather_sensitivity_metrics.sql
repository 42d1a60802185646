{# Temperature sensitivity per meter: the least-squares slope of daily consumption on the day's
   mean temperature at the meter's station, and the coefficient of determination r^2 (Pearson's r
   squared, with its sign), from sums only, so no sqrt is needed. This is the statistical
   correlation the original's weather_correlation_metrics named but did not compute;
   significance follows reference-spec 10 (|r| >= 0.7 significant, >= 0.8 strong). #}

with days as (
    select meter_id, station_id, avg_temperature_c as x, daily_consumption_kwh as y
    from {{ ref('weather_correlation_metrics') }}
    where avg_temperature_c is not null and daily_consumption_kwh is not null
),

sums as (
    select
        meter_id,
        max(station_id) as station_id,
        count(*) as n_days,
        sum(x) as sx,
        sum(y) as sy,
        sum(x * x) as sxx,
        sum(y * y) as syy,
        sum(x * y) as sxy
    from days
    group by meter_id
),

moments as (
    select
        sums.*,
        n_days * sxy - sx * sy as cov_n2,
        n_days * sxx - sx * sx as var_x_n2,
        n_days * syy - sy * sy as var_y_n2
    from sums
),

fitted as (
    select
        meter_id,
        station_id,
        n_days,
        sy / n_days as mean_daily_consumption_kwh,
        sx / n_days as mean_temperature_c,
        case when n_days >= 3 and var_x_n2 > 0 then cov_n2 / var_x_n2 end
            as kwh_per_degree_c,
        case when n_days >= 3 and var_x_n2 > 0 and var_y_n2 > 0
             then cov_n2 * cov_n2 / (var_x_n2 * var_y_n2) end as r_squared,
        case when cov_n2 < 0 then -1 when cov_n2 > 0 then 1 else 0 end as correlation_sign
    from moments
),

final as (
    select
        fitted.*,
        case
            when r_squared is null then 'insufficient_data'
            when r_squared >= 0.64 then 'strong'
            when r_squared >= 0.49 then 'significant'
            when r_squared >= 0.09 then 'weak'
            else 'none'
        end as correlation_strength,
        case
            when r_squared is null or r_squared < 0.49 then 'not_weather_driven'
            when correlation_sign < 0 then 'heating_driven'
            else 'cooling_driven'
        end as weather_dependency
    from fitted
)

select * from final
