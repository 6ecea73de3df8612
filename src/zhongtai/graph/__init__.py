"""Shared-identifier graph features, point in time: who shares devices, phones, IP ranges
and addresses with an applicant, as of each application.

- `zhongtai.graph.sql`: the definitions, as SQL that runs on DuckDB and Spark alike.
- `zhongtai.graph.build.build_graph_features`: the default path (DuckDB + igraph), writing
  ``features/graph_features.parquet``; `zhongtai.graph.features.graph_features` is its
  pure core (Arrow in, Arrow out).
"""
