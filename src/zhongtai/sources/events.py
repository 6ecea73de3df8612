"""Consented SDK telemetry: a few events around each application, plus everyday app use.

Only what the contract allows is generated (OS, version, emulator / root flags, IP, time);
never contacts, SMS, photos, audio or location. Ring devices show up as a handful of
devices registering many people within days, often emulated or rooted.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from zhongtai.sources import identifiers as ids
from zhongtai.sources.encoding import iso_utc, pick, sequential_ids, with_nulls
from zhongtai.sources.world.chunk import Chunk

EVENT_TYPES = (
    "app_open", "register", "login", "otp_request", "application_submit", "contract_sign",
)  # fmt: skip
APP_OPEN, REGISTER, LOGIN, OTP_REQUEST, SUBMIT, CONTRACT_SIGN = range(len(EVENT_TYPES))


def device_events_table(
    rng: np.random.Generator, chunk: Chunk, application_id: pa.Array
) -> pa.Table:
    """The device_events source, sorted by time."""
    apps, out, cal, people = chunk.apps, chunk.outcomes, chunk.cal, chunk.people
    m = apps.count
    every = np.arange(m)
    opened = np.flatnonzero(rng.random(m) < 0.6)
    signed = np.flatnonzero(out.has_loan)
    sign_s = apps.applied_s[signed] + (
        rng.uniform(0.2, 0.9, signed.size) * (out.disbursed_s[signed] - apps.applied_s[signed])
    ).astype(np.int64)
    applied = apps.applied_s
    # (application, event type, time, carries the application id)
    parts: list[tuple[np.ndarray, np.ndarray | int, np.ndarray, bool]] = [
        (opened, APP_OPEN, applied[opened] - rng.integers(180, 2400, opened.size), False),
        (
            every,
            np.where(apps.rank == 0, REGISTER, LOGIN),
            applied - rng.integers(60, 900, m),
            False,
        ),
        (every, OTP_REQUEST, applied - rng.integers(20, 180, m), True),
        (every, SUBMIT, applied, True),
        (signed, CONTRACT_SIGN, sign_s, True),
    ]
    app_of = np.concatenate([p[0] for p in parts])
    event_type = np.concatenate([np.broadcast_to(p[1], p[0].shape) for p in parts])
    at = np.concatenate([p[2] for p in parts])
    linked = np.concatenate([np.full(p[0].size, p[3]) for p in parts])
    device = apps.device[app_of]
    subnet, host = apps.subnet[app_of], apps.host[app_of]

    # Everyday use of the app on the person's own phone, after their first application.
    first_applied = np.full(people.ring.size, cal.cutoff_s)
    np.minimum.at(first_applied, apps.person, apps.applied_s)
    users = np.flatnonzero(people.ring < 0)
    per_user = rng.poisson(0.8, users.size)
    user = np.repeat(users, per_user)
    span = cal.cutoff_s - first_applied[user]
    background_s = first_applied[user] + (rng.random(user.size) * span).astype(np.int64)

    app_of = np.concatenate([app_of, np.full(user.size, -1)])
    event_type = np.concatenate([event_type, np.full(user.size, APP_OPEN)])
    at = np.concatenate([at, background_s])
    linked = np.concatenate([linked, np.zeros(user.size, dtype=bool)])
    device = np.concatenate([device, user])
    subnet = np.concatenate([subnet, ids.random_subnets(rng, user.size)])
    host = np.concatenate([host, rng.integers(2, 255, user.size)])

    order = np.argsort(at, kind="stable")
    app_of, event_type, at, linked = app_of[order], event_type[order], at[order], linked[order]
    device, subnet, host = device[order], subnet[order], host[order]
    devices = chunk.devices
    device_index = pa.array(device)
    n = at.size
    return pa.table(
        {
            "event_id": sequential_ids("EV", chunk.spec.chunk_index, np.arange(n)),
            "device_id": devices.device_id.take(device_index),
            "application_id": with_nulls(
                application_id.take(pa.array(np.maximum(app_of, 0))), linked
            ),
            "event_type": pick(EVENT_TYPES, event_type),
            "os": pick(("android", "ios"), devices.is_ios[device].astype(np.int64)),
            "os_version": devices.os_version.take(device_index),
            "is_emulator": devices.is_emulator[device],
            "is_rooted": devices.is_rooted[device],
            "ip_address": ids.ip_text(subnet, host),
            "occurred_at": iso_utc(at),
        }
    )
