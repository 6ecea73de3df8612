{#
  The raw zone is read in place, on both targets:
  - DuckDB: each source table renders as read_parquet() over its Hive-partitioned folder
    (dbt-duckdb's `external_location`, set for every source in dbt_project.yml);
  - Spark: on-run-start registers a view `raw.<table>` over the same folder.
#}

{% macro raw_zone_dir() -%}
  {{ env_var('ZHONGTAI_RAW_DIR') }}
{%- endmacro %}

{% macro register_raw_zone() %}
  {% if execute and target.type == 'spark' %}
    {% do run_query('create database if not exists raw') %}
    {% for source in graph.sources.values() if source.schema == 'raw' %}
      {% do run_query(
        "create or replace view raw." ~ source.name
        ~ " as select * except (ingest_date), cast(ingest_date as date) as ingest_date"
        ~ " from parquet.`" ~ raw_zone_dir() ~ "/" ~ source.name ~ "`"
      ) %}
    {% endfor %}
  {% endif %}
{% endmacro %}
