{#
  A source redelivers a record when it changes (an instalment once paid, an application
  corrected): staging keeps the latest delivery of each key.
#}
{% macro latest_delivery(relation, key) -%}
  select *
  from (
      select
          *,
          row_number() over (
              partition by {{ key }}
              order by _loaded_at desc, _batch_id desc
          ) as _delivery_rank
      from {{ relation }}
  ) as deliveries
  where _delivery_rank = 1
{%- endmacro %}

{# Timestamps land as UTC instants; the warehouse keeps them as naive UTC on every target. #}
{% macro utc(column) -%}
  cast({{ column }} as timestamp)
{%- endmacro %}

{# The /24 network of an IPv4 address, the "IP range" that fraud rings share. #}
{% macro ip_range(column) -%}
  regexp_extract({{ column }}, '^([0-9]+[.][0-9]+[.][0-9]+)[.]', 1) || '.0/24'
{%- endmacro %}

{% macro lineage_columns() -%}
  _batch_id as batch_id,
  ingest_date,
  {{ utc('_loaded_at') }} as loaded_at
{%- endmacro %}
