"""The ``zhongtai`` command: generate a lender's world, land it, run the platform."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhongtai.settings import Settings

app = typer.Typer(
    help="zhongtai: a data middle-platform for consumer credit risk.", no_args_is_help=True
)
keys_app = typer.Typer(help="Pseudonym and vault keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
warehouse_app = typer.Typer(help="The dbt warehouse over the raw zone.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
features_app = typer.Typer(
    help="The feature platform (Feast): offline, online, push.", no_args_is_help=True
)
app.add_typer(features_app, name="features")
models_app = typer.Typer(
    help="Credit and fraud models: training, the MLflow registry and its UI.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")
partners_app = typer.Typer(
    help="Partner institutions of the API: API keys, scopes, rate limits.",
    no_args_is_help=True,
)
app.add_typer(partners_app, name="partners")
audit_app = typer.Typer(help="The API's hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
console = Console()
if not console.is_terminal:  # a log or CI: lines as long as a report's, not 80 columns
    console.width = 120
MODEL_FAMILIES = ("credit_pd", "fraud")  # the registered model families of ml/
# Enough applicants for the promotion gates to measure the champions out of time on any day.
DEMO_APPLICANTS = 30_000

DateOption = Annotated[
    datetime | None,
    typer.Option(
        "--date",
        formats=["%Y-%m-%d"],
        help="Delivery / ingest date (default: the as-of date, see --as-of).",
    ),
]


# Commands whose tool talks to the person at the terminal (the API server, Airflow).
CONSOLE_COMMANDS = frozenset({"serve", "airflow"})


@app.callback()
def main_options(
    context: typer.Context,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The platform's one clock: the day this run treats as today (default: "
            "ZHONGTAI_AS_OF, else the real date, UTC). Same seed, same as-of: same world, "
            "marts, metrics and models.",
        ),
    ] = None,
) -> None:
    """zhongtai: a data middle-platform for consumer credit risk."""
    from zhongtai.logs import log_to_file

    if as_of is not None:
        # Through the environment, so that every Settings() of this run and every process
        # it starts (Airflow, dbt, the API) reads the same day.
        os.environ["ZHONGTAI_AS_OF"] = as_of.date().isoformat()
    try:
        settings = Settings()
    except ValueError as error:  # pydantic names the setting and what it expected
        console.print(f"[red]bad setting: {error}")
        raise typer.Exit(2) from error
    command = context.invoked_subcommand
    if command not in CONSOLE_COMMANDS:
        log_to_file(settings.logs_dir / f"{command}.log")


def _day(value: datetime | None) -> date:
    return value.date() if value else Settings().today()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def generate(
    applicants: Annotated[
        int, typer.Option(min=1, help="Number of applicants to generate.")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 42,
    when: DateOption = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Applicants per file (bounds memory).")
    ] = 100_000,
    partner_portfolio: Annotated[
        bool,
        typer.Option(help="Also deliver the real German Credit book as a partner's portfolio."),
    ] = True,
) -> None:
    """Generate a realistic lender's world as source files in the inbox."""
    from zhongtai.sources.generator import generate as generate_world
    from zhongtai.sources.german_credit import land_german_credit_file

    settings = Settings()
    delivery_date = _day(when)
    with _progress() as progress:
        task = progress.add_task(f"generating {applicants:,} applicants", total=applicants)
        report = generate_world(
            settings.inbox_dir,
            applicants=applicants,
            seed=seed,
            delivery_date=delivery_date,
            chunk_size=chunk_size,
            progress=lambda done: progress.advance(task, done),
        )
    if partner_portfolio:
        land_german_credit_file(settings.inbox_dir, delivery_date)
    table = Table("source", "rows", "files", title=f"inbox/{delivery_date.isoformat()}")
    for source, rows in report.rows.items():
        table.add_row(source, f"{rows:,}", str(len(report.files[source])))
    if partner_portfolio:
        table.add_row("partner_portfolio", "1,000", "1")
    console.print(table)


@app.command()
def land(
    when: DateOption = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Land only this source (repeatable).")
    ] = None,
) -> None:
    """Land the inbox of one delivery date into the raw zone (outside Airflow)."""
    from zhongtai.landing.contracts import SOURCES
    from zhongtai.landing.land import LandingRefused, delivered_files, land_delivery

    settings = Settings()
    ingest_date = _day(when)
    sources = source or list(SOURCES)
    total = sum(len(delivered_files(settings.inbox_dir, ingest_date, name)) for name in sources)
    try:
        with _progress() as progress:
            task = progress.add_task(f"landing {ingest_date.isoformat()}", total=total)
            outcomes = land_delivery(
                ingest_date, settings, sources=sources, on_file=lambda _: progress.advance(task)
            )
    except LandingRefused as refused:
        console.print(f"[red]{refused}")
        raise typer.Exit(1) from refused
    table = Table("source", "batches landed", "already landed", "rows landed", title="raw zone")
    for outcome in outcomes:
        table.add_row(
            outcome.source,
            str(len(outcome.landed)),
            str(len(outcome.already_landed)),
            f"{outcome.rows_landed:,}",
        )
    console.print(table)
    _print_zones(settings)


@app.command()
def demo(
    applicants: Annotated[
        int, typer.Option(min=1, help="Applicants in the demo world.")
    ] = DEMO_APPLICANTS,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
) -> None:
    """Run the platform on the embedded default: generate, land, build the warehouse,
    materialise features, train and promote the models, and ask the API for decisions."""
    from zhongtai.privacy.keys import resolve_keyring

    # The clock is read once: a demo that runs past midnight stays on the day it started.
    delivery_date = Settings().today()
    os.environ["ZHONGTAI_AS_OF"] = delivery_date.isoformat()
    settings = Settings()
    console.print(
        f"zhongtai demo: as of {delivery_date.isoformat()}, seed {seed}; "
        f"data dir {settings.data_dir.resolve()}; tool logs under {settings.logs_dir.resolve()}"
    )
    console.rule("1. keys")
    resolve_keyring(settings, announce=lambda message: console.print(f"[yellow]{message}"))
    console.rule(f"2. sources: a lender's world of {applicants:,} applicants")
    generate(
        applicants=applicants, seed=seed, when=datetime.combine(delivery_date, datetime.min.time())
    )
    _demo_dag("3. Airflow: land_raw", "land_raw", settings)
    _print_raw_zone(settings)
    _print_zones(settings)
    _demo_dag(
        "4. Airflow: build_warehouse (dbt models between quality gates)",
        "build_warehouse",
        settings,
    )
    _print_warehouse(settings)
    _demo_dag(
        "5. Airflow: materialize_features (graph, risk indices, Feast online store)",
        "materialize_features",
        settings,
    )
    _print_online_vector(settings, "credit_scoring_v1")
    _demo_dag(
        "6. Airflow: train_models (MLflow runs, registry, promotion gate)", "train_models", settings
    )
    without_champion = _print_promotions(settings)
    _print_champions(settings)
    console.rule("7. the decision API: a partner asks for decisions (zhongtai serve)")
    if without_champion:
        console.print(
            f"[red]No decisions: {' and '.join(without_champion)} "
            f"{'has' if len(without_champion) == 1 else 'have'} no champion.[/] The API "
            "decides only with a champion of every family, and a model becomes champion only "
            "through its promotion gate; the checks it failed are listed above (each with "
            "its sample and confidence interval; the rule is in ml/README.md). A larger "
            "world gives the gate more evidence: make demo DEMO_APPLICANTS=100000."
        )
        raise typer.Exit(3)
    _print_decisions(settings)


def _demo_dag(title: str, dag_id: str, settings: Settings) -> None:
    """One of the demo's DAG runs (``airflow dags test``): its story on the console, its
    logs in a file; a failed run stops the demo with what failed and where to read more."""
    from zhongtai.airflow_env import DagRunFailed, run_dag_test

    console.rule(title)
    try:
        with console.status(f"running {dag_id} ..."):
            log = run_dag_test(dag_id, settings)
    except DagRunFailed as failed:
        console.print(f"[red]{failed}")
        raise typer.Exit(1) from failed
    console.print(f"{dag_id}: success (log: {log})")


@warehouse_app.command("build")
def build_warehouse(
    target: Annotated[
        str, typer.Option(help="duckdb (embedded default) or spark (local Spark session).")
    ] = "duckdb",
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models.")] = False,
) -> None:
    """Build and test every dbt model (outside Airflow; the DAG is build_warehouse)."""
    from zhongtai.warehouse.dbt import run_dbt

    if target not in ("duckdb", "spark"):
        raise typer.BadParameter(f"unknown target {target!r}: use duckdb or spark")
    settings = Settings()
    run_dbt(["build", *(["--full-refresh"] if full_refresh else [])], settings, target)  # type: ignore[arg-type]
    console.print(f"marts: {settings.marts_dir.resolve()}")


@warehouse_app.command("docs")
def warehouse_docs(
    serve: Annotated[bool, typer.Option(help="Serve the docs site on localhost:PORT.")] = False,
    # not 8080: that is the Airflow UI's
    port: Annotated[int, typer.Option(help="The port --serve listens on.")] = 8081,
) -> None:
    """Generate dbt's docs site (lineage, columns, tests); --serve to browse it."""
    from zhongtai.warehouse.dbt import dbt_run_dir, run_dbt

    settings = Settings()
    run_dbt(["docs", "generate"], settings)
    console.print(f"dbt docs: {dbt_run_dir(settings) / 'target' / 'index.html'}")
    if serve:
        console.print(f"serving them on http://localhost:{port} (Ctrl+C to stop)")
        run_dbt(["docs", "serve", "--port", str(port), "--no-browser"], settings)


def _print_raw_zone(settings: Settings) -> None:
    from zhongtai.landing.rawzone import read_manifests

    rows: dict[str, list[int]] = {}
    for manifest in read_manifests(settings.raw_dir):
        batches_rows = rows.setdefault(manifest.source, [0, 0])
        batches_rows[0] += 1
        batches_rows[1] += manifest.rows
    table = Table("source", "batches", "rows", title=str(settings.raw_dir.resolve()))
    for source, (batches, count) in sorted(rows.items()):
        table.add_row(source, str(batches), f"{count:,}")
    console.print(table)


def _print_warehouse(settings: Settings) -> None:
    import pyarrow.parquet as pq

    from zhongtai.warehouse.marts import MARTS, mart_path

    table = Table("mart", "rows", title=str(settings.marts_dir.resolve()))
    for mart in MARTS:
        table.add_row(mart, f"{pq.read_metadata(mart_path(settings, mart)).num_rows:,}")
    console.print(table)
    console.print(f"warehouse:  {settings.warehouse_path.resolve()} (DuckDB)")
    console.print(f"Data Docs:  {(settings.quality_dir / 'data_docs' / 'index.html').resolve()}")
    console.print("dbt docs:   zhongtai warehouse docs --serve")


def _print_zones(settings: Settings) -> None:
    from zhongtai.landing.quarantine import read_quarantine

    refused = read_quarantine(settings.quarantine_dir)
    console.print(f"raw zone:   {settings.raw_dir.resolve()}")
    console.print(
        f"quarantine: {settings.quarantine_dir.resolve()} ({len(refused)} file(s) refused)"
    )
    for record in refused:
        console.print(f"  [red]{record.summary}")


@features_app.command("build")
def build_features(
    materialize: Annotated[
        bool, typer.Option(help="Load the online store (offline retrieval does not need it).")
    ] = True,
) -> None:
    """Graph features, risk indices, feast apply, materialise (outside Airflow; the DAG is
    materialize_features)."""
    from zhongtai.features.build import build_features as build

    settings = Settings()
    build(settings, progress=console.print, materialize=materialize)
    if materialize:
        _print_online_vector(settings, "credit_scoring_v1")


@features_app.command("online")
def online_features(
    applicant_id: Annotated[str, typer.Argument(help="The applicant's pseudonym.")],
    service: Annotated[str, typer.Option(help="Feature service.")] = "credit_scoring_v1",
    device_id: Annotated[str | None, typer.Option(help="For services with device views.")] = None,
    ip_range: Annotated[str | None, typer.Option(help="For services with IP range views.")] = None,
) -> None:
    """Print one applicant's online feature vector."""
    from zhongtai.features.online import online_vector
    from zhongtai.features.repo import open_store

    entity = {"applicant_id": applicant_id, "device_id": device_id, "ip_range": ip_range}
    vector = online_vector(
        open_store(Settings()), service, {k: v for k, v in entity.items() if v is not None}
    )
    _print_vector(service, vector)


@features_app.command(
    "feast",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def feast(context: typer.Context) -> None:
    """Run the Feast CLI on our repo and environment: `feast serve` (feature server, :6566),
    `feast ui` (web UI, :8888), `feast feature-views list`, ..."""
    import subprocess

    from zhongtai.features.repo import feast_command, feast_environment

    settings = Settings()
    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **feast_environment(settings)}
    command = feast_command(context.args, settings)
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)


def _print_online_vector(settings: Settings, service: str) -> None:
    from zhongtai.features.online import latest_application, online_vector
    from zhongtai.features.repo import open_store

    entity = {"applicant_id": latest_application(settings)["applicant_id"]}
    _print_vector(service, online_vector(open_store(settings), service, entity))
    console.print(f"online store:   {settings.feast_dir.resolve()} ({settings.feature_env})")
    console.print("feature server: zhongtai features feast serve")
    console.print("web UI:         zhongtai features feast ui")


def _print_vector(service: str, vector: dict[str, object], columns: int = 2) -> None:
    """The vector as a table of ``columns`` feature/value pairs side by side."""
    table = Table(*(["feature", "value"] * columns), title=f"online vector, {service}")
    cells = [(name, "[dim]null" if value is None else str(value)) for name, value in vector.items()]
    for start in range(0, len(cells), columns):
        row = [text for cell in cells[start : start + columns] for text in cell]
        table.add_row(*row, *[""] * (2 * columns - len(row)))
    console.print(table)


@models_app.command("train")
def train_models(
    families: Annotated[
        list[str] | None, typer.Argument(help="Model families of ml/ (default: credit_pd fraud).")
    ] = None,
) -> None:
    """Train, track, register and gate model families (outside Airflow; the DAG is
    train_models)."""
    from zhongtai.ml.retrain import retrain

    settings = Settings()
    for family in families or list(MODEL_FAMILIES):
        retrain(family, settings, progress=console.print)
    _print_champions(settings)


@models_app.command("list")
def list_models() -> None:
    """Registered versions of each model family, their aliases and promotion outcome."""
    _print_champions(Settings(), every_version=True)


@models_app.command("ui")
def models_ui(
    port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """The MLflow UI over the platform's tracking store and registry."""
    import sys

    settings = Settings()
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow = str(Path(sys.executable).parent / "mlflow")
    command = [mlflow, "ui", "--backend-store-uri", settings.tracking_uri]
    command += ["--host", host, "--port", str(port)]
    # The UI needs no job consumers (MLflow starts several, gigabytes, unless told not to).
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.execv(mlflow, command)  # the UI takes this process's place (and its signals)


def _print_promotions(settings: Settings) -> list[str]:
    """Each family's latest promotion decision, one line per check; the families left
    without a champion."""
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    without_champion = []
    for family in MODEL_FAMILIES:
        versions = client.search_model_versions(f"name = '{family}'")
        if not versions:
            console.print(f"[red]{family}: no version registered")
            without_champion.append(family)
            continue
        latest = max(versions, key=lambda v: int(v.version))
        record = _promotion_record(str(latest.run_id))
        promoted = bool(record and record.get("promote"))
        verdict = "[green]promoted to champion" if promoted else "[red]refused by its gate"
        console.print(f"[bold]{family} v{latest.version}[/]: {verdict}")
        for check in (record or {}).get("checks", []):
            mark = "[green]pass[/]" if check["passed"] else "[red]FAIL[/]"
            console.print(f"  {mark} {check['reason']}")
        champion = _champion_version(client, family)
        if champion is None:
            without_champion.append(family)
        elif not promoted:
            console.print(f"  {family} v{champion}, the champion, keeps serving")
    return without_champion


def _champion_version(client: Any, family: str) -> str | None:
    """The version that holds the champion alias (none if no version does)."""
    from mlflow.exceptions import MlflowException

    from zhongtai.ml.register import CHAMPION

    try:
        return str(client.get_model_version_by_alias(family, CHAMPION).version)
    except MlflowException:
        return None


def _promotion_record(run_id: str) -> dict[str, Any] | None:
    """The promotion decision a training run logged (none if it logged none)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return dict(mlflow.artifacts.load_dict(f"runs:/{run_id}/promotion/decision.json"))
    except (MlflowException, OSError):
        return None


def _print_champions(settings: Settings, *, every_version: bool = False) -> None:
    """The champion of each family (its latest version when it has none), or every
    version, with its out-of-time evidence."""
    from zhongtai.ml.track import use_mlflow

    client = use_mlflow(settings)
    shown = {
        "auc": "AUC",
        "gini": "Gini",
        "ks": "KS",
        "brier": "Brier",
        "score_psi": "score PSI",
        "fairness.auc_gap": "age-band AUC gap",
        "auprc": "AUPRC",
        "review.recall": "recall at review budget",
    }
    columns: dict[str, list[str]] = {}
    for family in MODEL_FAMILIES:
        found = client.search_model_versions(f"name = '{family}'")
        numbers = sorted((int(v.version) for v in found), reverse=True)
        shown_version = _champion_version(client, family) or str(numbers[0] if numbers else "")
        for number in numbers:
            if not every_version and str(number) != shown_version:
                continue
            version = client.get_model_version(family, str(number))
            aliases = list(version.aliases or [])
            algorithm = version.tags.get("algorithm", "")
            metrics = client.get_run(str(version.run_id)).data.metrics
            values = [metrics.get(f"{algorithm}.out_of_time.{name}") for name in shown]
            columns[f"{family} v{number}"] = [
                ", ".join(aliases) or "-",
                algorithm,
                version.tags.get("promotion", ""),
                *("-" if value is None else f"{value:.4f}" for value in values),
            ]
    if not columns:
        console.print("no model registered yet: zhongtai models train")
        return
    table = Table("", *columns, title="registered models, out of time")
    for i, name in enumerate(["aliases", "algorithm", "promotion gate", *shown.values()]):
        table.add_row(name, *(values[i] for values in columns.values()))
    console.print(table)
    console.print(f"tracking store: {settings.tracking_uri}")
    console.print("MLflow UI:      zhongtai models ui  (http://127.0.0.1:5000)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain): serve HTTPS.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
) -> None:
    """The decision and partner API (OpenAPI docs on /docs); HTTPS with a certificate."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("give both --tls-cert and --tls-key, or neither")
    for option, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"{option}: no such file {path}")
    scheme = "http" if tls_cert is None else "https"
    console.print(f"zhongtai API on {scheme}://{host}:{port} (docs: /docs)")
    uvicorn.run(
        "zhongtai.api.main:app",
        host=host,
        port=port,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


def _print_decisions(settings: Settings) -> None:
    from zhongtai.cli.demo_api import demo_decisions

    for answer in demo_decisions(settings):
        limit = answer["credit_limit_minor"] / 100
        console.print(
            f"[bold]{answer['outcome']}[/]  score {answer['credit_score']:.0f}  "
            f"PD {answer['probability_of_default']:.2%}  fraud {answer['fraud_score']:.3f}  "
            f"limit {limit:,.0f} CNY  APR {answer['apr']:.1%}  "
            f"models {' '.join(f'{k}/{v}' for k, v in answer['model_versions'].items())}  "
            f"rules {answer['rules_version']}"
        )
        for rank, reason in enumerate(answer["reasons"], start=1):
            lost = reason.get("points_lost")
            detail = reason.get("message") or f"{lost:.1f} points lost"
            console.print(f"    {rank}. {reason['code']} ({reason['source']}): {detail}")
    console.print("API: zhongtai serve  (docs on http://127.0.0.1:8000/docs)")
    console.print("audit: zhongtai audit verify")


@partners_app.command("add")
def add_partner(
    partner_id: Annotated[str, typer.Argument(help="A short slug, e.g. bank_a.")],
    name: Annotated[str, typer.Option(help="The institution's name.")],
    scope: Annotated[
        list[str], typer.Option(help="A feature service it may read (repeat the option).")
    ],
    purpose: Annotated[
        list[str], typer.Option(help="A purpose it may act for (repeat the option).")
    ],
    rate_limit: Annotated[int, typer.Option(min=1, help="Requests per minute.")] = 600,
) -> None:
    """Register a partner and print its API key (shown this once; only a hash is kept)."""
    from zhongtai.stores.partners import partners_add

    try:
        partner, key = partners_add(
            Settings(),
            partner_id,
            name,
            scopes=scope,
            purposes=purpose,
            rate_limit_per_minute=rate_limit,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"partner {partner.partner_id} registered; its API key (shown once):")
    print(key)


@partners_app.command("list")
def list_partners() -> None:
    """Partners, their scopes, purposes, rate limits and key prefixes (never a key)."""
    from zhongtai.stores.partners import partners_list

    table = Table("partner", "name", "scopes", "purposes", "per minute", "keys")
    for partner, keys in partners_list(Settings()):
        table.add_row(
            partner.partner_id,
            partner.name,
            ", ".join(sorted(partner.scopes)),
            ", ".join(sorted(partner.purposes)),
            str(partner.rate_limit_per_minute),
            ", ".join(k.key_prefix + (" (revoked)" if k.revoked_at else "") for k in keys),
        )
    console.print(table)


@partners_app.command("revoke")
def revoke_key(
    key_prefix: Annotated[str, typer.Argument(help="The key prefix `partners list` shows.")],
) -> None:
    """Revoke one API key."""
    from zhongtai.stores.partners import partners_revoke

    try:
        info = partners_revoke(Settings(), key_prefix)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0])) from error
    console.print(f"revoked {info.key_prefix} of {info.partner_id} at {info.revoked_at}")


@audit_app.command("verify")
def verify_audit(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH, a head printed earlier and kept elsewhere: it must still be there."
        ),
    ] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first record that fails."""
    from zhongtai.stores.audit import audit_verify

    try:
        result = audit_verify(Settings(), anchor)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except FileNotFoundError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    if not result.ok:
        console.print(f"[red]audit log broken at record {result.first_bad_seq}: {result.reason}")
        raise typer.Exit(1)
    console.print(f"[green]{result.reason}")
    if result.head:
        console.print("head (keep it where the log's writers cannot reach; check with --anchor):")
        typer.echo(f"{result.head[0]}:{result.head[1]}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def airflow(context: typer.Context) -> None:
    """Run any ``airflow`` command against this project, e.g. ``zhongtai airflow standalone``."""
    from zhongtai.airflow_env import ensure_airflow_db, run_airflow

    settings = Settings()
    ensure_airflow_db(settings)
    raise typer.Exit(run_airflow(list(context.args), settings, check=False))


@keys_app.command("rotate")
def rotate_keys() -> None:
    """Add a new master key version (dev keyring) and re-wrap every vault data key with it."""
    from zhongtai.privacy.keys import rotate_dev_keyring
    from zhongtai.privacy.vault import Vault

    settings = Settings()
    keyring = rotate_dev_keyring(settings)
    with Vault.open(settings.vault_path, keyring) as vault:
        count = vault.rewrap()
        versions = vault.key_versions()
    console.print(f"master key v{keyring.active_version} active; {count:,} data keys re-wrapped")
    console.print(f"data keys per master key version: {versions}")


@app.command()
def erase(
    subject_id: Annotated[str, typer.Argument(help="The applicant's pseudonym (applicant_id).")],
    reason: Annotated[str, typer.Option(help="Why: e.g. 'erasure request 2026-11-23'.")],
) -> None:
    """Crypto-shred a subject: delete their data key and encrypted values, and record it."""
    from zhongtai.privacy.keys import resolve_keyring
    from zhongtai.privacy.vault import Vault

    settings = Settings()
    with Vault.open(settings.vault_path, resolve_keyring(settings)) as vault:
        vault.erase(subject_id, reason)
    console.print(f"erased {subject_id}: its clear values can no longer be decrypted")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
