"""A hand-built world of eleven applications whose graph features are worked out by hand.

- A ring: R1, R2, R3 apply within two hours on 10 January sharing a device, a phone and a
  /24 range (R1 and R2 also an address); R1 applies again on 12 January.
- A family: F1 and F2 share only an address. On 5 February F1 applies again from the
  ring's device, which joins the family to the ring from that moment on, not before.
- X and Y apply at the same second from one /24; Z follows exactly seven days later.
- N applies with no identifier at all.

R1's first-payment default becomes known on 1 February, R2's on 5 February (the day of
F1's second application, so not before it). R2 is blacklisted from 5 to 31 January, R3
from 10 January 13:00 (after its application) without end; R1 is only greylisted.
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa

APPLICATIONS: dict[str, tuple[str, datetime]] = {
    "f1a": ("F1", datetime(2026, 1, 1, 12)),
    "r1": ("R1", datetime(2026, 1, 10, 10)),
    "r2": ("R2", datetime(2026, 1, 10, 11)),
    "r3": ("R3", datetime(2026, 1, 10, 12)),
    "r1b": ("R1", datetime(2026, 1, 12, 9)),
    "f2a": ("F2", datetime(2026, 1, 20, 12)),
    "f1b": ("F1", datetime(2026, 2, 5, 12)),
    "x": ("X", datetime(2026, 3, 1, 12)),
    "y": ("Y", datetime(2026, 3, 1, 12)),
    "z": ("Z", datetime(2026, 3, 8, 12)),
    "n": ("N", datetime(2026, 3, 20, 12)),
}

IDENTIFIERS: dict[str, list[tuple[str, str]]] = {
    "f1a": [("device", "dev-f1"), ("phone", "ph-f1"), ("ip_range", "ip-f1"), ("address", "fam")],
    "r1": [
        ("device", "dev-ring"),
        ("phone", "ph-ring"),
        ("ip_range", "ip-ring"),
        ("address", "ring"),
    ],
    "r2": [
        ("device", "dev-ring"),
        ("device", "dev-r2"),  # a second device seen on the same application
        ("phone", "ph-ring"),
        ("ip_range", "ip-ring"),
        ("address", "ring"),
    ],
    "r3": [
        ("device", "dev-ring"),
        ("phone", "ph-ring"),
        ("ip_range", "ip-ring"),
        ("address", "r3"),
    ],
    "r1b": [("device", "dev-ring"), ("phone", "ph-r1"), ("ip_range", "ip-r1"), ("address", "ring")],
    "f2a": [("device", "dev-f2"), ("phone", "ph-f2"), ("ip_range", "ip-f2"), ("address", "fam")],
    "f1b": [("device", "dev-ring"), ("phone", "ph-f1"), ("ip_range", "ip-f1b"), ("address", "fam")],
    "x": [("device", "dev-x"), ("ip_range", "ip-tie")],
    "y": [("device", "dev-y"), ("ip_range", "ip-tie")],
    "z": [("device", "dev-z"), ("ip_range", "ip-tie")],
    "n": [],
}

COLUMNS = (
    "component_size",
    "neighbour_count",
    "device_sharers_7d",
    "device_sharers_30d",
    "phone_sharers_7d",
    "phone_sharers_30d",
    "ip_range_sharers_7d",
    "ip_range_sharers_30d",
    "neighbour_default_share",
    "neighbour_blacklist_share",
    "ring_score",
)

# application: (component, neighbours, device 7d/30d, phone 7d/30d, ip 7d/30d,
#               default share, blacklist share, ring score)
EXPECTED: dict[str, tuple[float, ...]] = {
    "f1a": (1, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0),
    "r1": (1, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0),  # the first of the ring is alone
    "r2": (2, 1, 1, 1, 1, 1, 1, 1, 0.0, 0.0, 4 / 4 * (1 - 1 / 2)),  # R1 only greylisted
    "r3": (3, 2, 2, 2, 2, 2, 2, 2, 0.0, 1 / 2, 3 / 4 * (1 - 1 / 3)),  # R2 blacklisted
    "r1b": (3, 2, 2, 2, 0, 0, 0, 0, 0.0, 2 / 2, 2 / 4 * (1 - 1 / 3)),  # R2's default later
    "f2a": (2, 1, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 1 / 4 * (1 - 1 / 2)),  # a family: address only
    "f1b": (5, 4, 0, 3, 0, 0, 0, 0, 1 / 4, 1 / 4, 2 / 4 * (1 - 1 / 5)),  # joins the ring
    "x": (2, 1, 0, 0, 0, 0, 1, 1, 0.0, 0.0, 1 / 4 * (1 - 1 / 2)),  # same second as Y
    "y": (2, 1, 0, 0, 0, 0, 1, 1, 0.0, 0.0, 1 / 4 * (1 - 1 / 2)),
    "z": (3, 2, 0, 0, 0, 0, 2, 2, 0.0, 0.0, 1 / 4 * (1 - 1 / 3)),  # X, Y exactly 7 days back
    "n": (1, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0),
}


def edges(applications: tuple[str, ...] = tuple(APPLICATIONS)) -> pa.Table:
    rows = [
        (application, APPLICATIONS[application][0], kind, value, APPLICATIONS[application][1])
        for application in applications
        for kind, value in IDENTIFIERS[application]
    ]
    names = ("application_id", "applicant_id", "identifier_type", "identifier_value", "linked_at")
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {name: pa.array(column) for name, column in zip(names, columns, strict=True)},
        schema=pa.schema(
            [*(pa.field(n, pa.string()) for n in names[:4]), ("linked_at", pa.timestamp("us"))]
        ),
    )


def applications() -> pa.Table:
    return pa.table(
        {
            "application_id": list(APPLICATIONS),
            "applicant_id": [applicant for applicant, _ in APPLICATIONS.values()],
            "applied_at": pa.array([at for _, at in APPLICATIONS.values()], pa.timestamp("us")),
            "requested_amount_minor": pa.array([500_000] * len(APPLICATIONS), pa.int64()),
        }
    )


def labels() -> pa.Table:
    return pa.table(
        {
            "application_id": ["r1", "r2", "r3", "f2a"],
            "applicant_id": ["R1", "R2", "R3", "F2"],
            "is_first_payment_default": pa.array([True, True, False, None], pa.bool_()),
            "first_payment_default_date": pa.array(
                [date(2026, 2, 1), date(2026, 2, 5), date(2026, 2, 10), None], pa.date32()
            ),
        }
    )


def lists() -> pa.Table:
    return pa.table(
        {
            "list_type": ["black", "black", "grey", "black"],
            "applicant_id": ["R2", "R3", "R1", None],
            "phone_pseudonym": [None, None, None, "ph-ring"],
            "device_id": pa.array([None] * 4, pa.string()),
            "added_at": pa.array(
                [
                    datetime(2026, 1, 5),
                    datetime(2026, 1, 10, 13),
                    datetime(2026, 1, 1),
                    datetime(2026, 1, 1),
                ],
                pa.timestamp("us"),
            ),
            "expires_at": pa.array([datetime(2026, 1, 31), None, None, None], pa.timestamp("us")),
        }
    )
