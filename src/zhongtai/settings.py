"""One typed settings object, read from ``ZHONGTAI_*`` environment variables or ``.env``.

Nothing here touches the disk: paths are computed, never created, so importing the
package has no side effects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "prod"]
FeatureEnvironment = Literal["default", "scale"]

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "dev"})


PROJECT_ROOMS = ("contracts", "dbt_project", "expectations", "feature_repo", "ml", "policy")


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest folder, from ``start`` (the working directory) up, that holds the tool
    rooms; else the checkout this package sits in (an editable install)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / room).is_dir() for room in PROJECT_ROOMS):
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if all((checkout / room).is_dir() for room in PROJECT_ROOMS):
        return checkout
    raise FileNotFoundError(
        f"no zhongtai project found from {here} up (a folder holding "
        f"{', '.join(PROJECT_ROOMS)}): run from the project, or set ZHONGTAI_PROJECT_DIR"
    )


class Settings(BaseSettings):
    """Where zhongtai keeps its data and which keys protect it."""

    model_config = SettingsConfigDict(
        env_prefix="ZHONGTAI_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    env: Environment = "dev"
    as_of: date | None = Field(
        default=None,
        description="The platform's one clock: the day a run treats as today (generator "
        "calendar, deliveries, label windows, out-of-time cut, materialisation windows). "
        "Default: the real date (UTC), read each time it is asked.",
    )
    data_dir: Path = Field(default=Path("var"), description="Root of every zone on disk.")
    project_dir: Path = Field(
        default_factory=lambda: find_project_dir(),
        description="The project: the tool rooms (contracts, dbt_project, expectations, "
        "feature_repo, ml, policy, dags) that zhongtai reads. Default: the nearest folder "
        "holding them, from the working directory up, else the checkout this package was "
        "installed from.",
    )
    dags_dir_override: Path | None = Field(
        default=None,
        alias="ZHONGTAI_DAGS_DIR",
        description="The Airflow DAGs folder (default: project_dir/dags).",
    )
    feature_env: FeatureEnvironment = Field(
        default="default",
        description="Feast environment: default (DuckDB offline, SQLite online) or scale "
        "(Spark offline, Redis online); same definitions, one feature_store yaml each.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking and registry store (e.g. postgresql://...); "
        "default: SQLite under data_dir/mlflow.",
    )
    redis_connection: str = Field(
        default="localhost:6379",
        description="Redis online store (scale environment), as Feast takes it: host:port[,db=N].",
    )

    # Keys. In dev / test a local development keyring is created under data_dir/keys
    # when these are unset; in prod they must be supplied (env, secret manager).
    pseudonym_key: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for pseudonyms (base64, 32+ bytes)."
    )
    master_keys: dict[int, SecretStr] = Field(
        default_factory=dict,
        description='Versioned vault master keys as JSON, e.g. {"1": "<base64 32 bytes>"}.',
    )
    active_master_key_version: int | None = Field(
        default=None, description="Master key version that wraps new data keys (default: highest)."
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env == "dev":
            return self
        secrets = [self.pseudonym_key, *self.master_keys.values()]
        for secret in secrets:
            if (
                secret is not None
                and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
            ):
                raise ValueError(
                    f"ZHONGTAI_ENV={self.env} refuses a placeholder secret in "
                    "ZHONGTAI_PSEUDONYM_KEY / ZHONGTAI_MASTER_KEYS: supply a real key"
                )
        return self

    def today(self) -> date:
        """The run's "today": ``as_of`` when set, else the real date (UTC) at this call."""
        return self.as_of or datetime.now(UTC).date()

    def now(self) -> datetime:
        """The moment a run stamps its records with (landing, gates, materialisation):
        the real time of day on ``today()``, so a run pinned to another day lives on it."""
        real = datetime.now(UTC)
        if self.as_of is None:
            return real
        return datetime.combine(self.as_of, real.timetz())

    def cutoff(self) -> datetime:
        """00:00Z on ``today()``: everything a run sees happened strictly before it."""
        return datetime.combine(self.today(), datetime.min.time(), tzinfo=UTC)

    @property
    def dags_dir(self) -> Path:
        """The Airflow DAG files (wiring only)."""
        return self.dags_dir_override or self.project_dir / "dags"

    @property
    def contracts_dir(self) -> Path:
        """The data contracts, one ``<source>.yml`` per source: the sources are these files."""
        return self.project_dir / "contracts"

    @property
    def dbt_project_dir(self) -> Path:
        """dbt's project: sources, staging, intermediate, marts, macros, tests."""
        return self.project_dir / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        """Great Expectations suites and checkpoints, one YAML spec per layer."""
        return self.project_dir / "expectations"

    @property
    def feature_repo_dir(self) -> Path:
        """Feast's declarative repo: entities, sources, views, services, store yamls."""
        return self.project_dir / "feature_repo"

    @property
    def ml_dir(self) -> Path:
        """The model specs a modeller edits, one ``<family>.yml`` each."""
        return self.project_dir / "ml"

    @property
    def policy_dir(self) -> Path:
        """The decision rules partners are served under."""
        return self.project_dir / "policy"

    @cached_property
    def inbox_dir(self) -> Path:
        """Files as delivered by sources, one folder per delivery date and source."""
        return self.data_dir / "inbox"

    @cached_property
    def raw_dir(self) -> Path:
        """The immutable, pseudonymised raw zone (Parquet + manifests)."""
        return self.data_dir / "raw"

    @cached_property
    def quarantine_dir(self) -> Path:
        """Refused files with a reason record, kept encrypted."""
        return self.data_dir / "quarantine"

    @cached_property
    def keys_dir(self) -> Path:
        """Local development keyring (dev / test only)."""
        return self.data_dir / "keys"

    @cached_property
    def vault_path(self) -> Path:
        """The encrypted vault of clear identifiers (SQLite)."""
        return self.data_dir / "vault" / "vault.db"

    @cached_property
    def warehouse_path(self) -> Path:
        """The embedded DuckDB warehouse that dbt builds (staging views, intermediate tables)."""
        return self.data_dir / "warehouse" / "zhongtai.duckdb"

    @cached_property
    def marts_dir(self) -> Path:
        """The marts as Parquet files, one per mart: what Feast and the models read."""
        return self.data_dir / "marts"

    @cached_property
    def spark_dir(self) -> Path:
        """Local Spark's warehouse and metastore when dbt runs on the ``spark`` target."""
        return self.data_dir / "spark"

    @cached_property
    def quality_dir(self) -> Path:
        """Great Expectations' results and the Data Docs site."""
        return self.data_dir / "quality"

    @cached_property
    def features_dir(self) -> Path:
        """Features computed beyond the marts (graph, list hits, velocity), as Parquet."""
        return self.data_dir / "features"

    @cached_property
    def feast_dir(self) -> Path:
        """Feast's file registry and its SQLite online store (default environment)."""
        return self.data_dir / "feast"

    @cached_property
    def logs_dir(self) -> Path:
        """The tools' own logs (Airflow, dbt, Feast, MLflow, servers): the console tells
        the platform's story, these files the details."""
        return self.data_dir / "logs"

    @cached_property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"

    @cached_property
    def mlflow_dir(self) -> Path:
        """MLflow's SQLite store (when no tracking URI is set) and its run artifacts."""
        return self.data_dir / "mlflow"

    @cached_property
    def tracking_uri(self) -> str:
        """Where MLflow tracks runs and registers models."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.mlflow_dir / 'mlflow.db').resolve()}"
