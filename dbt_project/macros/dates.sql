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
