"""Simulate one chunk of applicants: people, rings, devices, applications, inquiries.

Each chunk is simulated from its own random stream, so chunks are independent, memory
stays bounded and any chunk can be rebuilt on its own (the tests do exactly that to
compare the files with the truth). The lender's decisions and each loan's fate are drawn
in `outcomes`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from zhongtai.sources import identifiers as ids
from zhongtai.sources.calendar import Calendar, calendar, sample_times
from zhongtai.sources.encoding import (
    SECONDS_PER_DAY,
    digit_matrix,
    fixed_width,
    iso_utc,
    pick,
    sequential_ids,
)
from zhongtai.sources.world.chunk import Applications, Chunk, Devices, People, Rings
from zhongtai.sources.world.outcomes import decide
from zhongtai.sources.world.parameters import (
    ANDROID_P,
    ANDROID_VERSIONS,
    APPS_PER_PERSON_P,
    CHANNEL_P,
    EMPLOYMENT_P,
    INCOME_MEDIAN_CNY,
    INCOME_SIGMA,
    INQUIRY_REASONS,
    IOS_P,
    IOS_VERSIONS,
    LENDER_P,
    PARTNER_P,
    PRE_APPLICATION_INQUIRIES,
    PURPOSE_P,
    RING_APPLICANT_SHARE,
    SHOPPER_P,
    TERM_P,
    TERMS,
    ChunkSpec,
    id_space,
)


def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with probabilities `p` (faster than Generator.choice for small tables)."""
    index = np.searchsorted(np.cumsum(p) / p.sum(), rng.random(n), side="right")
    return np.minimum(index, p.size - 1)  # guards against the cumulative sum's rounding


# --- people and rings ----------------------------------------------------------------------


def _people(rng: np.random.Generator, spec: ChunkSpec, cal: Calendar) -> People:
    """Who the applicants are: identity, work, income, debts, habits."""
    n = spec.applicants
    people_ids = ids.national_ids(spec.global_index, id_space(spec))
    age = (cal.cutoff_day - people_ids.birth_day) / 365.25
    employment = _choice(rng, EMPLOYMENT_P, n)
    employment = np.where((age < 24) & (rng.random(n) < 0.35), 4, employment)
    employment = np.where((employment == 4) & (age >= 27), 0, employment)
    employment = np.where((age >= 60) & (rng.random(n) < 0.7), 5, employment)
    employment = np.where((employment == 5) & (age < 50), 0, employment)
    local_wages = np.array([a.income_factor for a in ids.AREAS])[people_ids.area_index]
    income = (
        INCOME_MEDIAN_CNY[employment]
        * local_wages
        * np.exp(INCOME_SIGMA[employment] * rng.standard_normal(n))
    )
    dti = np.where(rng.random(n) < 0.25, 0.0, rng.beta(2.0, 5.0, n) * 1.1)
    return People(
        national_id=people_ids.text,
        area_index=people_ids.area_index,
        birth_day=people_ids.birth_day,
        name=ids.names(rng, people_ids.is_male),
        address=ids.addresses(rng, people_ids.area_index),
        phone=pa.nulls(n, pa.string()),  # set once rings have chosen their shared numbers
        employment=employment,
        income_cny=income,
        dti=dti,
        shopper=_choice(rng, SHOPPER_P, n),
        latent_risk=0.6 * rng.standard_normal(n),
        consents_marketing=rng.random(n) < 0.4,
        n_applications=1 + _choice(rng, APPS_PER_PERSON_P, n),
        ring=np.full(n, -1, dtype=np.int64),
    )


def _form_rings(rng: np.random.Generator, people: People) -> np.ndarray:
    """Recruit fraud rings of 5-30 single-application people; returns the ring sizes."""
    target = round(RING_APPLICANT_SHARE * people.n_applications.size)
    sizes = rng.integers(5, 31, size=target // 5 + 1)
    sizes = sizes[np.cumsum(sizes) <= target]
    eligible = np.flatnonzero(people.n_applications == 1)
    if sizes.sum() > eligible.size:
        sizes = sizes[:0]
    members = rng.choice(eligible, size=int(sizes.sum()), replace=False)
    people.ring[members] = np.repeat(np.arange(sizes.size), sizes)
    return sizes


def _rings(rng: np.random.Generator, sizes: np.ndarray, cal: Calendar) -> Rings:
    """What each ring shares: a burst window, devices, a /24 network, a channel."""
    count = sizes.size
    start = np.minimum(sample_times(rng, cal, count), cal.cutoff_s - 6 * SECONDS_PER_DAY)
    n_devices = 1 + sizes // 8
    channel = np.searchsorted([0.5, 0.8], rng.random(count), side="right")
    return Rings(
        start_s=start,
        burst_s=rng.integers(SECONDS_PER_DAY, 5 * SECONDS_PER_DAY, count),
        subnet=ids.random_subnets(rng, count),
        channel=np.array([3, 2, 0])[channel],  # partner_api, h5_web or app
        partner=_choice(rng, PARTNER_P, count),
        n_devices=n_devices,
        first_device=np.cumsum(n_devices) - n_devices,
    )


def _share_identifiers(
    rng: np.random.Generator, people: People, spec: ChunkSpec, phone_perm: ids.Permutation
) -> None:
    """Ring members list one of a few shared phones and often one of two shared addresses."""
    n = spec.applicants
    members = np.flatnonzero(people.ring >= 0)
    members = members[np.argsort(people.ring[members], kind="stable")]
    ring = people.ring[members]
    offsets = np.searchsorted(ring, np.arange(ring.max() + 1 if ring.size else 0))
    sizes = np.diff(np.append(offsets, ring.size))
    phone_owner = np.arange(n, dtype=np.int64)
    n_phones = np.minimum(sizes, rng.integers(1, 4, sizes.size))
    pool_pick = (rng.random(ring.size) * n_phones[ring]).astype(np.int64)
    phone_owner[members] = members[offsets[ring] + pool_pick]
    people.phone = ids.phones(spec.first_applicant + phone_owner, phone_perm)
    address_owner = np.arange(n, dtype=np.int64)
    shared = rng.random(ring.size) < 0.6
    address_pick = offsets[ring] + (rng.random(ring.size) < 0.5).astype(np.int64)
    address_owner[members[shared]] = members[address_pick[shared]]
    people.address = people.address.take(pa.array(address_owner))


# --- devices -------------------------------------------------------------------------------


def _devices(rng: np.random.Generator, n_normal: int, n_ring: int) -> Devices:
    """Device attributes; ring devices are mostly Android, often emulated or rooted."""
    n = n_normal + n_ring
    is_ring = np.arange(n) >= n_normal
    is_ios = rng.random(n) < np.where(is_ring, 0.1, 0.3)
    version = np.where(
        is_ios,
        len(ANDROID_VERSIONS) + _choice(rng, IOS_P, n),
        _choice(rng, ANDROID_P, n),
    )
    emulator = rng.random(n) < np.where(is_ring, 0.35, 0.003)
    rooted = rng.random(n) < np.where(is_ring, 0.45, np.where(is_ios, 0.005, 0.02))
    return Devices(
        device_id=ids.device_ids(rng, n),
        is_ios=is_ios,
        os_version=pick(ANDROID_VERSIONS + IOS_VERSIONS, version),
        is_emulator=emulator & ~is_ios,
        is_rooted=rooted,
    )


# --- applications --------------------------------------------------------------------------


def _applications(
    rng: np.random.Generator, people: People, rings: Rings, cal: Calendar, n_people: int
) -> tuple[Applications, int]:
    """What each application asks for; returns them and the number of extra devices used."""
    person = np.repeat(np.arange(n_people), people.n_applications)
    m = person.size
    ring = people.ring[person]
    in_ring = ring >= 0
    rr = np.where(in_ring, ring, 0)
    applied = np.where(
        in_ring,
        rings.start_s[rr] + (rng.random(m) * rings.burst_s[rr]).astype(np.int64)
        if rings.count
        else 0,
        sample_times(rng, cal, m),
    )
    applied = np.minimum(applied, cal.cutoff_s - 1)
    order = np.argsort(applied, kind="stable")
    person, ring, in_ring = person[order], ring[order], in_ring[order]
    rr, applied = rr[order], applied[order]
    by_person = np.lexsort((applied, person))
    group_start = np.searchsorted(person[by_person], person[by_person])
    rank = np.empty(m, dtype=np.int64)
    rank[by_person] = np.arange(m) - group_start

    new_device = (rank > 0) & (rng.random(m) < 0.15)
    n_extra = int(new_device.sum())
    device = person.copy()
    device[new_device] = n_people + np.arange(n_extra)
    if rings.count:
        pick_device = (rng.random(m) * rings.n_devices[rr]).astype(np.int64)
        ring_device = n_people + n_extra + rings.first_device[rr] + pick_device
        device = np.where(in_ring, ring_device, device)
    subnet = ids.random_subnets(rng, m)
    if rings.count:
        subnet = np.where(in_ring, rings.subnet[rr], subnet)
    host = rng.integers(2, 255, m)

    income_cny = people.income_cny[person] * np.exp(0.05 * rng.standard_normal(m))
    income_cny = np.where(in_ring, income_cny * 1.6 + 3000, income_cny)
    income_cny = np.maximum(500.0, np.round(income_cny, -2))
    dti = people.dti[person] * np.exp(0.15 * rng.standard_normal(m))
    dti = np.where(in_ring, rng.uniform(0.0, 0.12, m), dti).clip(0.0, 1.5)
    debt_cny = np.round(income_cny * dti, -1)
    requested = np.clip(income_cny * 1.8, 2000, None) * np.exp(0.6 * rng.standard_normal(m))
    requested = np.where(in_ring, 30_000 * np.exp(0.3 * rng.standard_normal(m)), requested)
    requested = np.round(np.clip(requested, 1000, 200_000) / 500) * 500
    term = np.where(in_ring, np.where(rng.random(m) < 0.5, 6, 12), TERMS[_choice(rng, TERM_P, m)])
    channel = _choice(rng, CHANNEL_P, m)
    partner = _choice(rng, PARTNER_P, m)
    if rings.count:
        channel = np.where(in_ring, rings.channel[rr], channel)
        partner = np.where(in_ring, rings.partner[rr], partner)
    apps = Applications(
        person=person,
        rank=rank,
        applied_s=applied,
        device=device,
        subnet=subnet,
        host=host,
        income_minor=(income_cny * 100).astype(np.int64),
        debt_minor=(debt_cny * 100).astype(np.int64),
        requested_minor=(requested * 100).astype(np.int64),
        term=term.astype(np.int64),
        purpose=_choice(rng, PURPOSE_P, m),
        channel=channel,
        partner=np.where(channel == 3, partner, -1),
        consents_credit=rng.random(m) < 0.997,
        consents_fraud=rng.random(m) < 0.995,
        ring=ring,
        n_inquiries_7d=np.zeros(m, dtype=np.int64),
        n_inquiries_30d=np.zeros(m, dtype=np.int64),
        n_inquiries_90d=np.zeros(m, dtype=np.int64),
    )
    return apps, n_extra


# --- bureau inquiries ----------------------------------------------------------------------


def _inquiries(
    rng: np.random.Generator, spec: ChunkSpec, people: People, apps: Applications, cal: Calendar
) -> pa.Table:
    """Credit-bureau inquiries; shoppers and rings cluster theirs just before applying.

    Also counts, per application, the inquiries in the 7/30/90 days before it: the
    multi-lender signal that drives default.
    """
    shopper = people.shopper[apps.person]
    rate = np.where(apps.is_ring, 6.0, PRE_APPLICATION_INQUIRIES[shopper])
    per_app = rng.poisson(rate)
    app_of = np.repeat(np.arange(apps.count), per_app)
    k = app_of.size
    burst = (shopper[app_of] == 2) | apps.is_ring[app_of] | (rng.random(k) < 0.3)
    lag_days = np.where(burst, rng.exponential(6.0, k), rng.uniform(0.0, 90.0, k)).clip(0.0, 89.9)
    lag_s = (lag_days * SECONDS_PER_DAY).astype(np.int64) + rng.integers(60, 3600, k)
    pre_at = apps.applied_s[app_of] - lag_s
    for window, field in ((7, "n_inquiries_7d"), (30, "n_inquiries_30d"), (90, "n_inquiries_90d")):
        inside = lag_s < window * SECONDS_PER_DAY
        setattr(apps, field, np.bincount(app_of[inside], minlength=apps.count))
    pre_reason = np.where(rng.random(k) < 0.85, 0, 1)

    normal = np.flatnonzero(people.ring < 0)
    per_person = rng.poisson(1.2, normal.size)
    person_of = np.repeat(normal, per_person)
    b = person_of.size
    background_at = sample_times(rng, cal, b)
    background_reason = _choice(rng, np.array([0.15, 0.3, 0.5, 0.05]), b)

    national_id = people.national_id.take(
        pa.array(np.concatenate([apps.person[app_of], person_of]))
    )
    at = np.concatenate([pre_at, background_at])
    lender = 1 + _choice(rng, LENDER_P, k + b)
    reason = np.concatenate([pre_reason, background_reason])
    order = np.argsort(at, kind="stable")
    return pa.table(
        {
            "inquiry_id": sequential_ids("IQ", spec.chunk_index, np.arange(k + b)),
            "national_id": national_id.take(pa.array(order)),
            "lender_id": fixed_width(["L", digit_matrix(lender[order], 4)], k + b),
            "inquiry_reason": pick(INQUIRY_REASONS, reason[order]),
            "inquired_at": iso_utc(at[order]),
        }
    )


# --- the chunk -----------------------------------------------------------------------------


def simulate(spec: ChunkSpec, rng: np.random.Generator) -> Chunk:
    """Simulate one chunk of applicants: people, rings, applications, decisions, inquiries."""
    cal = calendar(spec.delivery_date)
    people = _people(rng, spec, cal)
    sizes = _form_rings(rng, people)
    _share_identifiers(rng, people, spec, ids.phone_permutation(spec.seed))
    rings = _rings(rng, sizes, cal)
    apps, n_extra = _applications(rng, people, rings, cal, spec.applicants)
    devices = _devices(rng, spec.applicants + n_extra, int(rings.n_devices.sum()))
    inquiries = _inquiries(rng, spec, people, apps, cal)
    outcomes = decide(rng, apps, people, cal)
    return Chunk(spec, cal, people, rings, devices, apps, outcomes, inquiries)
