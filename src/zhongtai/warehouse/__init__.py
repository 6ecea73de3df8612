"""The warehouse: dbt over the raw zone, on DuckDB by default or Spark for scale."""
