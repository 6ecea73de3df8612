"""Random small worlds with many collisions, and the graph features computed naively.

The naive computation follows the definitions word by word (a fresh graph per
application), so it checks the SQL and igraph paths on cases nobody thought to write.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from zhongtai.graph.sql import IDENTIFIER_TYPES, SHARER_TYPES, WINDOW_DAYS

START = datetime(2026, 1, 1)


def random_world(
    seed: int, applicants: int = 40, applications: int = 90, values: int = 20
) -> list[pa.Table]:
    """Edges, applications, labels and lists; each identifier type has `values` values."""
    rng = np.random.default_rng(seed)
    applicant = rng.integers(0, applicants, applications)
    # Whole hours over 60 days: ties between applications happen, and so do edges on
    # exactly the first instant of a 7- or 30-day window.
    applied_at = [START + timedelta(hours=int(h)) for h in rng.integers(0, 60 * 24, applications)]
    edge_rows = []
    for index in range(applications):
        for kind in IDENTIFIER_TYPES:
            for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
                value = f"{kind}-{int(rng.integers(0, values))}"
                edge_rows.append(
                    (f"app{index}", f"p{applicant[index]}", kind, value, applied_at[index])
                )
    edges = pa.table(
        dict(
            zip(
                (
                    "application_id",
                    "applicant_id",
                    "identifier_type",
                    "identifier_value",
                    "linked_at",
                ),
                [list(column) for column in zip(*edge_rows, strict=True)],
                strict=True,
            )
        )
    ).cast(_EDGES_SCHEMA)
    application_table = pa.table(
        {
            "application_id": [f"app{index}" for index in range(applications)],
            "applicant_id": [f"p{a}" for a in applicant],
            "applied_at": pa.array(applied_at, pa.timestamp("us")),
        }
    )
    labelled = rng.random(applications) < 0.7
    defaulted = rng.random(applications) < 0.4
    known = [START.date() + timedelta(days=int(d)) for d in rng.integers(0, 70, applications)]
    labels = pa.table(
        {
            "application_id": [f"app{i}" for i in range(applications) if labelled[i]],
            "applicant_id": [f"p{applicant[i]}" for i in range(applications) if labelled[i]],
            "is_first_payment_default": pa.array(
                [bool(defaulted[i]) if i % 5 else None for i in range(applications) if labelled[i]],
                pa.bool_(),
            ),
            "first_payment_default_date": pa.array(
                [known[i] for i in range(applications) if labelled[i]], pa.date32()
            ),
        }
    )
    entries = applicants // 2
    added = [START + timedelta(hours=int(h)) for h in rng.integers(0, 60 * 24, entries)]
    lasts = rng.integers(-1, 40 * 24, entries)  # -1: never expires
    lists = pa.table(
        {
            "list_type": [str(t) for t in rng.choice(["black", "black", "grey", "white"], entries)],
            "applicant_id": [
                f"p{int(a)}" if a >= 0 else None for a in rng.integers(-3, applicants, entries)
            ],
            "added_at": pa.array(added, pa.timestamp("us")),
            "expires_at": pa.array(
                [
                    None if h < 0 else t + timedelta(hours=int(h))
                    for t, h in zip(added, lasts, strict=True)
                ],
                pa.timestamp("us"),
            ),
        }
    )
    return [edges, application_table, labels, lists]


_EDGES_SCHEMA = pa.schema(
    [
        ("application_id", pa.string()),
        ("applicant_id", pa.string()),
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("linked_at", pa.timestamp("us")),
    ]
)


def naive_features(
    edges: pa.Table, applications: pa.Table, labels: pa.Table, lists: pa.Table
) -> dict[str, dict[str, Any]]:
    """The features of each application, straight from the definitions."""
    links = edges.to_pylist()
    defaults: dict[str, list[date]] = defaultdict(list)
    for label in labels.to_pylist():
        if label["is_first_payment_default"]:
            defaults[label["applicant_id"]].append(label["first_payment_default_date"])
    black = [e for e in lists.to_pylist() if e["list_type"] == "black"]
    result = {}
    for application in applications.to_pylist():
        at, applicant = application["applied_at"], application["applicant_id"]
        known = [e for e in links if e["linked_at"] <= at]
        own = {
            (e["identifier_type"], e["identifier_value"])
            for e in known
            if e["applicant_id"] == applicant
        }
        neighbours = {
            e["applicant_id"]
            for e in known
            if (e["identifier_type"], e["identifier_value"]) in own
            and e["applicant_id"] != applicant
        }
        this = {
            (e["identifier_type"], e["identifier_value"])
            for e in links
            if e["application_id"] == application["application_id"]
        }
        others = [
            e
            for e in known
            if (e["identifier_type"], e["identifier_value"]) in this
            and e["applicant_id"] != applicant
        ]
        row: dict[str, Any] = {
            "component_size": _component_size(known, applicant),
            "neighbour_count": len(neighbours),
        }
        for kind in SHARER_TYPES:
            for days in WINDOW_DAYS:
                row[f"{kind}_sharers_{days}d"] = len(
                    {
                        e["applicant_id"]
                        for e in others
                        if e["identifier_type"] == kind
                        and e["linked_at"] >= at - timedelta(days=days)
                    }
                )
        defaulted = {b for b in neighbours if any(d < at.date() for d in defaults[b])}
        listed = {
            e["applicant_id"]
            for e in black
            if e["applicant_id"] in neighbours
            and e["added_at"] <= at
            and (e["expires_at"] is None or e["expires_at"] > at)
        }
        row["neighbour_default_share"] = len(defaulted) / len(neighbours) if neighbours else 0.0
        row["neighbour_blacklist_share"] = len(listed) / len(neighbours) if neighbours else 0.0
        shared_types = {e["identifier_type"] for e in others}
        row["ring_score"] = len(shared_types) / 4 * (1 - 1 / row["component_size"])
        result[application["application_id"]] = row
    return result


def _component_size(links: list[dict[str, Any]], applicant: str) -> int:
    """Breadth-first search from the applicant over applicant–identifier links."""
    neighbours: dict[Any, set[Any]] = defaultdict(set)
    for e in links:
        identifier = (e["identifier_type"], e["identifier_value"])
        neighbours[("applicant", e["applicant_id"])].add(identifier)
        neighbours[identifier].add(("applicant", e["applicant_id"]))
    seen, frontier = {("applicant", applicant)}, [("applicant", applicant)]
    while frontier:
        frontier = [n for node in frontier for n in neighbours[node] if n not in seen]
        seen.update(frontier)
    return sum(1 for node in seen if node[0] == "applicant")
