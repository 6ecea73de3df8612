{#
  Incremental models take only raw partitions newer than what they already hold:
  `where {{ only_new_partitions() }}` on a staging relation that carries ingest_date.
#}
{% macro only_new_partitions(column='ingest_date') -%}
  {% if is_incremental() -%}
    {{ column }} > (select coalesce(max(ingest_date), cast('1970-01-01' as date)) from {{ this }})
  {%- else -%}
    true
  {%- endif %}
{%- endmacro %}
