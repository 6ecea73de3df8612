{# Date arithmetic that gives a DATE on every target (dbt.dateadd returns a timestamp on some). #}
{% macro add_days(date_expression, days) -%}
  cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro add_months(date_expression, months) -%}
  cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}

{% macro days_between(start_date, end_date) -%}
  cast({{ dbt.datediff(start_date, end_date, 'day') }} as bigint)
{%- endmacro %}

{# Whole years between two dates, e.g. an applicant's age on the day they applied. #}
{% macro full_years_between(start_date, end_date) -%}
  cast(
    extract(year from {{ end_date }}) - extract(year from {{ start_date }})
    - case
        when extract(month from {{ end_date }}) * 100 + extract(day from {{ end_date }})
           < extract(month from {{ start_date }}) * 100 + extract(day from {{ start_date }})
        then 1 else 0
      end
    as bigint)
{%- endmacro %}
