"""Black, grey and white lists, as a lender's risk team would have kept them.

Black: detected fraud rings (members' IDs, their shared phones and devices), people already
flagged by an industry consortium, borrowers 90+ days in default, the court list of
dishonest judgment debtors, and identities of people who never applied here. Grey: late
payers, heavy multi-lender shoppers, emulated devices. White: good repeat customers.
Every entry names exactly one identifier; entries are only added once their cause is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from zhongtai.sources import identifiers as ids
from zhongtai.sources.calendar import add_months_days, utc_second_of_day
from zhongtai.sources.encoding import (
    SECONDS_PER_DAY,
    iso_utc,
    iso_utc_or_null,
    pick,
    sequential_ids,
    with_nulls,
)
from zhongtai.sources.repayments import Instalments
from zhongtai.sources.world.chunk import Chunk
from zhongtai.sources.world.parameters import id_space

LIST_TYPES = ("black", "grey", "white")
BLACK, GREY, WHITE = range(3)
LIST_SOURCES = (
    "internal_risk", "internal_collections", "internal_crm", "industry_consortium",
    "court_dishonest_debtors",
)  # fmt: skip
RISK, COLLECTIONS, CRM, CONSORTIUM, COURT = range(len(LIST_SOURCES))
REASONS = (
    "fraud_ring", "identity_fraud", "default_elsewhere", "default_m3_plus",
    "dishonest_judgment_debtor", "late_payment", "multi_lender_shopping", "emulator_detected",
    "good_repeat_customer",
)  # fmt: skip
(
    FRAUD_RING, IDENTITY_FRAUD, DEFAULT_ELSEWHERE, DEFAULT_M3, DISHONEST, LATE_PAYMENT,
    SHOPPING, EMULATOR, GOOD_CUSTOMER,
) = range(len(REASONS))  # fmt: skip
NATIONAL_ID, PHONE, DEVICE = range(3)
NO_EXPIRY = -1
DAY = SECONDS_PER_DAY


@dataclass(frozen=True)
class Entries:
    """A batch of list entries sharing type, source, reason and identifier kind."""

    list_type: int
    source: int
    reason: int
    kind: int
    identifier: pa.Array
    added_s: np.ndarray
    expires_s: np.ndarray  # NO_EXPIRY for entries that never expire


def _maybe_expiring(
    rng: np.random.Generator, added_s: np.ndarray, share: float, days: int
) -> np.ndarray:
    """Expiry `days` after being added for a `share` of entries, none for the rest."""
    return np.where(rng.random(added_s.size) < share, added_s + days * DAY, NO_EXPIRY)


def _first_per_person(person: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The earliest time per person (people and times as parallel arrays)."""
    order = np.lexsort((at, person))
    people, first = np.unique(person[order], return_index=True)
    return people, at[order][first]


def _ring_entries(rng: np.random.Generator, chunk: Chunk) -> list[Entries]:
    """Rings caught a month or two after their first instalments went unpaid."""
    apps, out, people, rings = chunk.apps, chunk.outcomes, chunk.people, chunk.rings
    if not rings.count:
        return []
    loans = np.flatnonzero(out.has_loan & apps.is_ring)
    first_due = add_months_days(out.disbursed_s[loans] // DAY, np.ones(loans.size, np.int64))
    caught_day = np.full(rings.count, np.iinfo(np.int64).max // 2)
    np.minimum.at(caught_day, apps.ring[loans], first_due)
    caught_s = (caught_day + rng.integers(31, 61, rings.count)) * DAY + utc_second_of_day(
        rng, rings.count
    )
    caught = (caught_s < chunk.cal.cutoff_s) & (rng.random(rings.count) < 0.85)
    members = np.flatnonzero((people.ring >= 0) & caught[np.maximum(people.ring, 0)])
    member_at = caught_s[people.ring[members]]
    phones = pa.array(people.phone.take(pa.array(members)))
    phone_text, first = np.unique(
        np.asarray(phones.to_numpy(zero_copy_only=False)), return_index=True
    )
    n_ring_devices = int(rings.n_devices.sum())
    first_ring_device = chunk.devices.is_ios.size - n_ring_devices
    ring_of_device = np.repeat(np.arange(rings.count), rings.n_devices)
    devices = np.flatnonzero(caught[ring_of_device])
    device_at = caught_s[ring_of_device[devices]]
    none = np.full
    return [
        Entries(BLACK, RISK, FRAUD_RING, NATIONAL_ID, people.national_id.take(pa.array(members)),
                 member_at, none(members.size, NO_EXPIRY)),
        Entries(BLACK, RISK, FRAUD_RING, PHONE, pa.array(phone_text, pa.string()),
                 member_at[first], none(first.size, NO_EXPIRY)),
        Entries(BLACK, RISK, FRAUD_RING, DEVICE,
                 chunk.devices.device_id.take(pa.array(first_ring_device + devices)),
                 device_at, none(devices.size, NO_EXPIRY)),
    ]  # fmt: skip


def _consortium_entries(rng: np.random.Generator, chunk: Chunk) -> list[Entries]:
    """Shared industry blacklists: some fraudsters and risky people are known before they apply."""
    apps, people = chunk.apps, chunk.people
    first_person, first_applied = _first_per_person(apps.person, apps.applied_s)
    ring = people.ring[first_person] >= 0
    known = np.where(ring, 0.25, 0.4 * (people.latent_risk[first_person] > 1.3))
    flagged = rng.random(first_person.size) < known
    person = first_person[flagged]
    added = first_applied[flagged] - rng.integers(DAY, 200 * DAY, person.size)
    reason = np.where(ring[flagged], IDENTITY_FRAUD, DEFAULT_ELSEWHERE)
    expires = _maybe_expiring(rng, added, 0.3, 730)
    national_id = people.national_id.take(pa.array(person))
    return [
        Entries(BLACK, CONSORTIUM, r, NATIONAL_ID, national_id.filter(pa.array(reason == r)),
                 added[reason == r], expires[reason == r])
        for r in (IDENTITY_FRAUD, DEFAULT_ELSEWHERE)
    ]  # fmt: skip


def _outsider_entries(rng: np.random.Generator, chunk: Chunk) -> list[Entries]:
    """Blacklisted identities of people who never applied here (noise for list matching).

    They are drawn from the far end of the identifier permutations, which applicants (the
    low end) never reach, so an outsider can never collide with an applicant.
    """
    spec, cal = chunk.spec, chunk.cal
    n_ids, n_phones = round(0.01 * spec.applicants), round(0.005 * spec.applicants)
    space = id_space(spec)
    outsider_ids = ids.national_ids(space.size - 1 - spec.global_index[:n_ids], space).text
    phone_perm = ids.phone_permutation(spec.seed)
    outsider_phones = ids.phones(phone_perm.size - 1 - spec.global_index[:n_phones], phone_perm)
    span = cal.cutoff_s - cal.first_day * DAY
    out = []
    for kind, text in ((NATIONAL_ID, outsider_ids), (PHONE, outsider_phones)):
        added = cal.first_day * DAY + (rng.random(len(text)) * span).astype(np.int64)
        reason = np.where(rng.random(len(text)) < 0.5, IDENTITY_FRAUD, DEFAULT_ELSEWHERE)
        expires = _maybe_expiring(rng, added, 0.3, 730)
        for r in (IDENTITY_FRAUD, DEFAULT_ELSEWHERE):
            keep = reason == r
            out.append(Entries(BLACK, CONSORTIUM, r, kind, text.filter(pa.array(keep)),
                                added[keep], expires[keep]))  # fmt: skip
    return out


def _court_entries(rng: np.random.Generator, chunk: Chunk) -> list[Entries]:
    """The public list of dishonest judgment debtors (失信被执行人), mostly risky people."""
    people, cal = chunk.people, chunk.cal
    share = np.where(people.latent_risk > 1.0, 0.03, 0.002)
    person = np.flatnonzero((rng.random(share.size) < share) & (people.ring < 0))
    span = cal.cutoff_s - cal.first_day * DAY
    added = cal.first_day * DAY + (rng.random(person.size) * span).astype(np.int64)
    return [
        Entries(BLACK, COURT, DISHONEST, NATIONAL_ID, people.national_id.take(pa.array(person)),
                 added, np.full(person.size, NO_EXPIRY))
    ]  # fmt: skip


def _performance_entries(
    rng: np.random.Generator, chunk: Chunk, inst: Instalments
) -> list[Entries]:
    """Entries that follow from repayments: defaulters, late payers, good repeat customers."""
    apps, out, people, cal = chunk.apps, chunk.outcomes, chunk.people, chunk.cal
    loan_app = np.flatnonzero(out.has_loan)
    row_person = apps.person[loan_app[inst.loan]]
    row_app = loan_app[inst.loan]
    entries = []

    m3 = (inst.number == out.default_instalment[row_app]) & ~apps.is_ring[row_app]
    m3 &= ~inst.is_paid | (inst.amount_paid < inst.amount_due)
    m3_at = (inst.due_day + 90) * DAY + utc_second_of_day(rng, inst.loan.size)
    person, added = _first_per_person(row_person[m3], m3_at[m3])
    listed = (added < cal.cutoff_s) & (rng.random(person.size) < 0.7)
    entries.append(Entries(BLACK, COLLECTIONS, DEFAULT_M3, NATIONAL_ID,
                            people.national_id.take(pa.array(person[listed])), added[listed],
                            np.full(int(listed.sum()), NO_EXPIRY)))  # fmt: skip

    late = inst.days_late >= 15
    person, paid = _first_per_person(row_person[late], inst.paid_s[late])
    added = paid + DAY
    listed = (added < cal.cutoff_s) & (rng.random(person.size) < 0.6)
    entries.append(Entries(GREY, COLLECTIONS, LATE_PAYMENT, NATIONAL_ID,
                            people.national_id.take(pa.array(person[listed])), added[listed],
                            added[listed] + 180 * DAY))  # fmt: skip

    # White: people with 2+ applications whose 6th on-time instalment is paid, never 4+ days
    # late and never in default.
    bad_row = (inst.days_late > 3) | (inst.number >= out.default_instalment[row_app])
    bad_person = np.zeros(people.ring.size, dtype=bool)
    bad_person[row_person[bad_row]] = True
    on_time = inst.is_paid & (inst.days_late == 0) & ~bad_person[row_person]
    order = np.lexsort((inst.due_day[on_time], row_person[on_time]))
    person_sorted = row_person[on_time][order]
    due_sorted = inst.due_day[on_time][order]
    position = np.arange(person_sorted.size) - np.searchsorted(person_sorted, person_sorted)
    sixth = position == 5
    person, sixth_due = person_sorted[sixth], due_sorted[sixth]
    repeat = people.n_applications[person] >= 2
    added = (sixth_due + 1) * DAY + utc_second_of_day(rng, person.size)
    listed = repeat & (added < cal.cutoff_s) & (rng.random(person.size) < 0.8)
    person, added = person[listed], added[listed]
    by_phone = rng.random(person.size) < 0.3
    expires = _maybe_expiring(rng, added, 0.5, 365)
    entries.append(Entries(WHITE, CRM, GOOD_CUSTOMER, NATIONAL_ID,
                            people.national_id.take(pa.array(person[~by_phone])),
                            added[~by_phone], expires[~by_phone]))  # fmt: skip
    entries.append(Entries(WHITE, CRM, GOOD_CUSTOMER, PHONE,
                            people.phone.take(pa.array(person[by_phone])),
                            added[by_phone], expires[by_phone]))  # fmt: skip
    return entries


def _risk_entries(rng: np.random.Generator, chunk: Chunk) -> list[Entries]:
    """Grey entries from application-time signals: heavy shopping and emulated devices."""
    apps, people, devices, cal = chunk.apps, chunk.people, chunk.devices, chunk.cal
    heavy = apps.n_inquiries_30d >= 8
    person, applied = _first_per_person(apps.person[heavy], apps.applied_s[heavy])
    added = applied + rng.integers(3600, DAY, person.size)
    listed = (added < cal.cutoff_s) & (rng.random(person.size) < 0.5)
    shopping = Entries(GREY, RISK, SHOPPING, NATIONAL_ID,
                        people.national_id.take(pa.array(person[listed])), added[listed],
                        added[listed] + 90 * DAY)  # fmt: skip
    emulated = devices.is_emulator[apps.device]
    device, applied = _first_per_person(apps.device[emulated], apps.applied_s[emulated])
    added = applied + 3600
    listed = (added < cal.cutoff_s) & (rng.random(device.size) < 0.7)
    emulator = Entries(GREY, RISK, EMULATOR, DEVICE,
                        devices.device_id.take(pa.array(device[listed])), added[listed],
                        added[listed] + 30 * DAY)  # fmt: skip
    return [shopping, emulator]


def lists_table(rng: np.random.Generator, chunk: Chunk, inst: Instalments) -> pa.Table:
    """The lists source, sorted by the time entries were added."""
    batches = [
        *_ring_entries(rng, chunk),
        *_consortium_entries(rng, chunk),
        *_outsider_entries(rng, chunk),
        *_court_entries(rng, chunk),
        *_performance_entries(rng, chunk, inst),
        *_risk_entries(rng, chunk),
    ]
    sizes = [len(b.identifier) for b in batches]
    per_row = {
        name: np.repeat(np.array([getattr(b, name) for b in batches], dtype=np.int64), sizes)
        for name in ("list_type", "source", "reason", "kind")
    }
    added = np.concatenate([b.added_s for b in batches])
    expires = np.concatenate([b.expires_s for b in batches])
    identifier = pa.concat_arrays([b.identifier.cast(pa.string()) for b in batches])
    order = np.argsort(added, kind="stable")
    identifier = identifier.take(pa.array(order))
    kind = per_row["kind"][order]
    n = order.size
    return pa.table(
        {
            "list_entry_id": sequential_ids("LE", chunk.spec.chunk_index, np.arange(n)),
            "list_type": pick(LIST_TYPES, per_row["list_type"][order]),
            "national_id": with_nulls(identifier, kind == NATIONAL_ID),
            "phone": with_nulls(identifier, kind == PHONE),
            "device_id": with_nulls(identifier, kind == DEVICE),
            "list_source": pick(LIST_SOURCES, per_row["source"][order]),
            "reason": pick(REASONS, per_row["reason"][order]),
            "added_at": iso_utc(added[order]),
            "expires_at": iso_utc_or_null(expires[order], expires[order] != NO_EXPIRY),
        }
    )
