"""``zhongtai generate`` and ``zhongtai land``: a lender's deliveries in the inbox, landed
into the raw zone (outside Airflow; the DAG is land_raw)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhongtai.cli.common import console
from zhongtai.settings import Settings

app = typer.Typer()

DateOption = Annotated[
    datetime | None,
    typer.Option(
        "--date",
        formats=["%Y-%m-%d"],
        help="Delivery / ingest date (default: the as-of date, see --as-of).",
    ),
]


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


# What `zhongtai land` exits with: usage (2) as for every command; refused (1) and
# unclaimed (4) are bits, so 5 says both happened.
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNCLAIMED = 4


@app.command()
def land(
    when: DateOption = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Land only this source (repeatable).")
    ] = None,
) -> None:
    """Land the inbox of one delivery date into the raw zone (outside Airflow).

    Every entry of the inbox is landed, quarantined with a reason, or reported as not
    for landing; one bad file never stops another. Exit codes:

    0  every delivered file landed (now or before) and nothing else is in the inbox;
    1  a file was quarantined: it broke its contract (a field, a type, a size limit,
       personal data in a field not declared for it, an invalid national ID, a minor,
       a prohibited category), could not be decoded, or failed to land unexpectedly;
    4  an entry of the inbox is not for landing: a folder without
       contracts/<folder>.yml, a file that is not <source>/*.csv (.CSV, .txt,
       .csv.gz), a folder inside a source folder, a symbolic link (never followed),
       a special file, or a file whose name holds personal data;
    5  both 1 and 4;
    2  a usage or configuration error: an unknown --source, a contract that
       does not load.
    """
    from zhongtai.contracts import (
        ContractError,
        UnknownSource,
        declared_sources,
        load_contract,
    )
    from zhongtai.landing.land import (
        LandingRefused,
        SourceLanding,
        delivered_files,
        land_delivery,
        unclaimed_inbox_content,
    )

    settings = Settings()
    ingest_date = _day(when)
    sources = list(dict.fromkeys(source or declared_sources(settings)))
    broken = []
    for name in sources:
        try:
            load_contract(name, settings)
        except UnknownSource as unknown:
            console.print(f"[red]{unknown}", soft_wrap=True)
            raise typer.Exit(EXIT_USAGE) from None
        except ContractError as problem:
            broken.append((name, problem))
    landable = [name for name in sources if name not in dict(broken)]
    total = sum(len(delivered_files(settings.inbox_dir, ingest_date, name)) for name in landable)
    outcomes: list[SourceLanding] = []
    refused: LandingRefused | None = None
    try:
        with _progress() as progress:
            task = progress.add_task(f"landing {ingest_date.isoformat()}", total=total)
            outcomes = land_delivery(
                ingest_date, settings, sources=landable, on_file=lambda _: progress.advance(task)
            )
    except LandingRefused as refusal:
        refused = refusal
    if outcomes:
        table = Table("source", "batches landed", "already landed", "rows landed", title="raw zone")
        for outcome in outcomes:
            table.add_row(
                outcome.source,
                str(len(outcome.landed)),
                str(len(outcome.already_landed)),
                f"{outcome.rows_landed:,}",
            )
        console.print(table)
    for outcome in outcomes:
        if outcome.erased_rows:
            console.print(
                f"{outcome.source}: {outcome.erased_rows:,} row(s) of erased subjects "
                "not landed (zhongtai erase)"
            )
    if refused is None:
        print_zones(settings)
    else:
        console.print(f"[red]{refused}", soft_wrap=True)
    unclaimed = unclaimed_inbox_content(ingest_date, settings, sources=source or None)
    if unclaimed:
        console.print(
            f"[yellow]{len(unclaimed)} inbox item(s) claimed by no contract, not landed:",
            soft_wrap=True,
        )
        for item in unclaimed:
            console.print(f"  [yellow]{item.describe()}", soft_wrap=True)
    for name, contract_error in broken:
        console.print(
            f"[red]source {name} not landed: its contract does not load: {contract_error}"
        )
    if broken:
        raise typer.Exit(EXIT_USAGE)
    code = (EXIT_REFUSED if refused else 0) | (EXIT_UNCLAIMED if unclaimed else 0)
    if code:
        raise typer.Exit(code)


def print_raw_zone(settings: Settings) -> None:
    """The raw zone's batches and rows per source, from its manifests."""
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


def print_zones(settings: Settings) -> None:
    """Where the raw zone and the quarantine are, and every file refused."""
    from zhongtai.landing.quarantine import read_quarantine

    refused = read_quarantine(settings.quarantine_dir)
    console.print(f"raw zone:   {settings.raw_dir.resolve()}")
    console.print(
        f"quarantine: {settings.quarantine_dir.resolve()} ({len(refused)} file(s) refused)"
    )
    for record in refused:
        console.print(f"  [red]{record.summary}")
