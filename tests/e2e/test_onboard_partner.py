"""Onboarding a third partner source with files only: a contract, dbt models, expectations
and a model spec, added to a copy of the project. No Python file is touched. The book
has columns unlike the lender's and German Credit's, and no record key.

It lands, builds, passes every quality gate and trains, registers and gates from the CLI,
beside a small generated world.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from zhongtai.settings import PROJECT_ROOMS, Settings

ONBOARDING = Path(__file__).with_name("onboarding")
AS_OF = date(2026, 6, 15)
SOURCE = "microloans"
FAMILY = "microloans_pd"
LAYERS = ("raw", "staging", "marts", "reconciliation")

# Where each file of the new source goes in the project: nothing but YAML and SQL.
STAGING = "dbt_project/models/staging/microfinance"
MARTS = "dbt_project/models/marts/microfinance"
FILES = {
    "microloans.yml": "contracts/microloans.yml",
    "_microfinance__sources.yml": f"{STAGING}/_microfinance__sources.yml",
    "_microfinance__models.yml": f"{STAGING}/_microfinance__models.yml",
    "stg_microfinance__loans.sql": f"{STAGING}/stg_microfinance__loans.sql",
    "microloan_records.sql": f"{MARTS}/microloan_records.sql",
    "microloan_records.yml": f"{MARTS}/microloan_records.yml",
    "microloans_pd.yml": "ml/microloans_pd.yml",
}
GENERATED = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", "*.log")


def onboarded_project(root: Path) -> Path:
    """A copy of the project's tool rooms with the new source's files added."""
    project = root / "project"
    repo = Settings().project_dir
    for room in (*PROJECT_ROOMS, "dags"):
        shutil.copytree(repo / room, project / room, ignore=GENERATED)
    for name, place in FILES.items():
        (project / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ONBOARDING / name, project / place)
    additions = yaml.safe_load((ONBOARDING / "expectations.yml").read_text())
    for layer in LAYERS:
        suite_file = project / "expectations" / f"{layer}.yml"
        suite = yaml.safe_load(suite_file.read_text())
        suite["tables"].update(additions[layer])
        suite_file.write_text(yaml.safe_dump(suite, sort_keys=False))
    return project


def microloan_book(rows: int, seed: int) -> pa.Table:
    """A partner's book with a real signal: thin turnover, no guarantee and short
    histories default more. Columns as the contract delivers them (no record key)."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(
        ["farmer", "trader", "student", "salaried"], rows, p=[0.3, 0.3, 0.15, 0.25]
    )
    amount = rng.integers(500, 20_000, rows)
    tenure = rng.choice([30, 60, 90, 180, 365], rows)
    turnover = np.round(rng.lognormal(8.5, 0.6, rows), 2)
    prior = rng.poisson(1.5, rows)
    guarantee = rng.random(rows) < 0.4
    logit = (
        -1.3
        + 0.8 * (segment == "student")
        + 0.3 * (segment == "trader")
        + 1.4 * amount / (turnover * 4)
        - 0.45 * prior
        - 0.8 * guarantee
        + 0.002 * tenure
    )
    defaulted = rng.random(rows) < 1 / (1 + np.exp(-logit))
    days_back = rng.integers(30, 700, rows)
    return pa.table(
        {
            "partner_id": ["P777"] * rows,
            "loan_ref_date": [(AS_OF - timedelta(days=int(d))).isoformat() for d in days_back],
            "borrower_segment": segment.tolist(),
            "loan_amount_cny": amount.tolist(),
            "tenure_days": tenure.tolist(),
            "monthly_turnover_cny": turnover.tolist(),
            "prior_loans": prior.tolist(),
            "group_guarantee": ["true" if g else "false" for g in guarantee],
            "defaulted": ["true" if d else "false" for d in defaulted],
        }
    )


def zhongtai(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("zhongtai")), *args]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


def test_a_third_partner_is_onboarded_with_files_only(tmp_path: Path) -> None:
    from zhongtai.ml.track import use_mlflow
    from zhongtai.quality.gates import run_gate
    from zhongtai.sources.generator import write_csv
    from zhongtai.warehouse.marts import mart_path

    project = onboarded_project(tmp_path)
    repo = Settings().project_dir
    for code in project.rglob("*.py"):  # the Python of the rooms is the repo's, untouched
        assert code.read_bytes() == (repo / code.relative_to(project)).read_bytes(), code

    data_dir = tmp_path / "var"
    env = {
        **os.environ,
        "ZHONGTAI_PROJECT_DIR": str(project),
        "ZHONGTAI_DATA_DIR": str(data_dir),
        "ZHONGTAI_ENV": "test",
        "ZHONGTAI_AS_OF": AS_OF.isoformat(),
    }
    settings = Settings(project_dir=project, data_dir=data_dir, env="test", as_of=AS_OF)

    zhongtai("generate", "--applicants", "400", "--seed", "3", env=env, cwd=project)
    book = microloan_book(1200, seed=5)
    book = pa.concat_tables([book, book.slice(0, 1)])  # a row delivered twice keeps both
    write_csv(book, settings.inbox_dir / AS_OF.isoformat() / SOURCE / "microloans.csv")

    landed = zhongtai("land", env=env, cwd=project)
    assert SOURCE in landed.stdout
    zhongtai("warehouse", "build", env=env, cwd=project)

    import pyarrow.parquet as pq

    mart = pq.read_table(mart_path(settings, "microloan_records"))
    assert mart.num_rows == book.num_rows  # the repeated row is its own record
    assert len(set(mart.column("record_id").to_pylist())) == book.num_rows

    checked = {
        "raw": SOURCE,
        "staging": "stg_microfinance__loans",
        "marts": "microloan_records",
        "reconciliation": "microloans_raw_to_staging",
    }
    for layer, table in checked.items():
        result = run_gate(layer, settings)  # raises GateFailed naming what failed
        assert table in result.summary()["tables"], (layer, result.summary())

    cv = zhongtai("models", "cv", FAMILY, env=env, cwd=project)
    assert "auc" in cv.stdout.lower()
    zhongtai("models", "train", FAMILY, env=env, cwd=project)

    client = use_mlflow(settings)
    version = client.get_model_version(FAMILY, "1")
    assert version.tags["promotion"] == "promoted", version.tags
    assert str(client.get_model_version_by_alias(FAMILY, "champion").version) == "1"
