{#
  The raw zone is read in place, through a view `raw.<source>` per source (schema: raw),
  registered by on-run-start on both targets:
  - over the source's batches, `<raw dir>/<source>/ingest_date=*/batch_id=*/*.parquet`
    (DuckDB: read_parquet with Hive partitions; Spark: a Parquet folder);
  - or, for a declared source that has not delivered yet, over its empty stand-in with the
    contract's columns as landed (`<empty sources dir>/<source>/...`, written by zhongtai
    before dbt runs: zhongtai.warehouse.empty_sources), so its staging model builds empty
    instead of failing on "no files found".
  Which sources have batches is asked of the engine each run (DuckDB's glob(), Spark's
  binaryFile listing): nothing about the raw zone is fixed when the project is parsed.
#}

{% macro raw_zone_dir() -%}
  {{ env_var('ZHONGTAI_RAW_DIR') }}
{%- endmacro %}

{% macro empty_sources_dir() -%}
  {{ env_var('ZHONGTAI_EMPTY_SOURCES_DIR') }}
{%- endmacro %}

{% macro register_raw_zone() %}
  {% if execute %}
    {% set raw_sources = [] %}
    {% for node in graph.sources.values() if node.schema == 'raw' %}
      {% do raw_sources.append(node) %}
    {% endfor %}
    {% if raw_sources %}
      {% set delivered = sources_with_batches(raw_zone_dir()) %}
      {% set stand_ins = sources_with_batches(empty_sources_dir()) %}
      {% do adapter.create_schema(raw_relation(raw_sources[0]).without_identifier()) %}
      {% for node in raw_sources %}
        {% if node.name in delivered %}
          {% set folder = raw_zone_dir() %}
        {% elif node.name in stand_ins %}
          {% set folder = empty_sources_dir() %}
        {% else %}
          {% do exceptions.raise_compiler_error(
            "dbt source " ~ node.source_name ~ "." ~ node.name ~ " (schema raw) has no batch in "
            ~ raw_zone_dir() ~ "/" ~ node.name ~ " and no empty stand-in in " ~ empty_sources_dir()
            ~ ": a raw source is declared by its contract, contracts/" ~ node.name ~ ".yml, and"
            ~ " zhongtai writes the stand-in before dbt runs (zhongtai warehouse build, or the"
            ~ " build_warehouse DAG's prepare_zones). Is the contract missing, or its name different?"
          ) %}
        {% endif %}
        {% do run_query(raw_view_sql(raw_relation(node), folder ~ "/" ~ node.name)) %}
      {% endfor %}
    {% endif %}
  {% endif %}
{% endmacro %}

{% macro raw_relation(node) -%}
  {{ return(api.Relation.create(
    database=node.database if target.type == 'duckdb' else none,
    schema=node.schema,
    identifier=node.identifier
  )) }}
{%- endmacro %}

{% macro sql_string(text) -%}
  '{{ text | replace("'", "''") }}'
{%- endmacro %}

{# The sources (folder names) that hold at least one batch under `root`. #}
{% macro sources_with_batches(root) -%}
  {{ return(adapter.dispatch('sources_with_batches')(root)) }}
{%- endmacro %}

{% macro duckdb__sources_with_batches(root) -%}
  {% set listing %}
    select distinct regexp_extract(file, '([^/]+)/ingest_date=[^/]+/batch_id=[^/]+/[^/]+[.]parquet$', 1)
    from glob({{ sql_string(root ~ '/*/ingest_date=*/batch_id=*/*.parquet') }})
  {% endset %}
  {{ return(run_query(listing).columns[0].values() | list) }}
{%- endmacro %}

{% macro spark__sources_with_batches(root) -%}
  {# Spark's file listing skips names starting with "_" or "." (a batch being written). #}
  {% do run_query(
    "create or replace temporary view zhongtai_listed_files using binaryFile options (path "
    ~ sql_string(root) ~ ", recursiveFileLookup 'true', pathGlobFilter '*.parquet')"
  ) %}
  {% set listing %}
    select distinct regexp_extract(path, '([^/]+)/ingest_date=[^/]+/batch_id=[^/]+/[^/]+[.]parquet$', 1)
    from zhongtai_listed_files
  {% endset %}
  {{ return(run_query(listing).columns[0].values() | list) }}
{%- endmacro %}

{% macro raw_view_sql(relation, folder) -%}
  {{ return(adapter.dispatch('raw_view_sql')(relation, folder)) }}
{%- endmacro %}

{% macro duckdb__raw_view_sql(relation, folder) -%}
  create or replace view {{ relation }} as
  select *
  from read_parquet(
      {{ sql_string(folder ~ '/ingest_date=*/batch_id=*/*.parquet') }},
      hive_partitioning = true,
      hive_types = {'ingest_date': date, 'batch_id': varchar},
      union_by_name = true
  )
{%- endmacro %}

{% macro spark__raw_view_sql(relation, folder) -%}
  create or replace view {{ relation }} as
  select * except (ingest_date), cast(ingest_date as date) as ingest_date
  from parquet.`{{ folder }}`
{%- endmacro %}
