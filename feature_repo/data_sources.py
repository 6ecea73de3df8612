"""Where each feature view reads: the validated marts and the feature tables built on them.

Paths follow ``ZHONGTAI_DATA_DIR``; the engine (DuckDB or Spark) follows
``ZHONGTAI_FEATURE_ENV``. Both are set by ``zhongtai features`` and the Airflow DAG.
"""

from feast import PushSource

from zhongtai.feature_tables import feature_table_path
from zhongtai.features.sources import parquet_source
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

settings = Settings()

application_features_source = parquet_source(
    settings,
    "application_features",
    mart_path(settings, "application_features"),
    timestamp_field="applied_at",
    description="Mart: one row per application, as known when it was made.",
)

applicant_features_source = parquet_source(
    settings,
    "applicant_features",
    mart_path(settings, "applicant_features"),
    timestamp_field="applied_at",
    description="Mart: the applicant's history before each of their applications.",
)

risk_indices_source = parquet_source(
    settings,
    "risk_indices",
    feature_table_path(settings, "risk_indices"),
    timestamp_field="applied_at",
    description="Device risk, social relationship (graph) and list hits, as of each application.",
)

device_velocity_source = parquet_source(
    settings,
    "device_velocity",
    feature_table_path(settings, "device_velocity"),
    timestamp_field="applied_at",
    description="Applications per device in the hour up to each application.",
)

ip_range_velocity_source = parquet_source(
    settings,
    "ip_range_velocity",
    feature_table_path(settings, "ip_range_velocity"),
    timestamp_field="applied_at",
    description="Applications per /24 IP range in the hour up to each application.",
)

device_velocity_push = PushSource(
    name="device_velocity_push",
    batch_source=device_velocity_source,
    description="Application events as they arrive: updates device velocity online.",
    owner="risk-data",
)

ip_range_velocity_push = PushSource(
    name="ip_range_velocity_push",
    batch_source=ip_range_velocity_source,
    description="Application events as they arrive: updates IP range velocity online.",
    owner="risk-data",
)
