{#
  dbt-duckdb writes a mart (materialized external) with `copy <relation> to '<file>'`. For
  a model with no rows it first pads the relation with one all-null row (older DuckDB could
  not write an empty file) and hides that row only in its own view over the file: Feast,
  the models and the gates read the file itself, where the row would be a record whose
  key is null. A mart of a source that has not delivered yet is empty: its file holds no
  row, with every column typed (this override of dbt-duckdb's write_to_file).
#}
{% macro write_to_file(relation, location, options) -%}
  {%- set padded = false -%}
  {%- if run_query("select count(*) from " ~ relation).columns[0].values()[0] == 1 -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {%- set all_null -%}
      select count(*) from {{ relation }}
      where {% for column in columns %}{{ adapter.quote(column.column) }} is null{% if not loop.last %} and {% endif %}{% endfor %}
    {%- endset -%}
    {%- set padded = run_query(all_null).columns[0].values()[0] == 1 -%}
  {%- endif -%}
  {% call statement('write_to_file') -%}
    copy (select * from {{ relation }}{% if padded %} where false{% endif %})
    to '{{ location }}' ({{ options }})
  {%- endcall %}
{%- endmacro %}
