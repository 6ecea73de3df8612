"""The synthetic lender's world, one chunk of applicants at a time.

The generator knows the ground truth (who belongs to a fraud ring, who will default and
why); the platform only ever sees what lands in the inbox. Each chunk is simulated from its
own random stream, so chunks are independent, memory stays bounded and any chunk can be
rebuilt on its own (the tests do exactly that to compare the files with the truth).

What drives default, in order of strength: prior defaults at this lender, debt-to-income,
shopping at many lenders just before applying, low income, precarious employment, youth,
borrowing in a festive period, and an unobserved personal factor (the noise a model cannot
explain). Fraud rings default on their first instalment whatever their declared profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from zhongtai.sources import identifiers as ids
from zhongtai.sources.calendar import (
    HISTORY_MONTHS,
    Calendar,
    add_months,
    add_months_days,
    calendar,
    festive_at,
    sample_times,
)
from zhongtai.sources.encoding import (
    SECONDS_PER_DAY,
    dates,
    digit_matrix,
    fixed_width,
    id_width,
    iso_utc,
    pick,
    sequential_ids,
    with_nulls,
)

EMPLOYMENT_TYPES = (
    "salaried", "self_employed", "civil_servant", "gig_worker", "student", "retired",
    "unemployed",
)  # fmt: skip
_EMPLOYMENT_P = np.array([0.55, 0.16, 0.06, 0.13, 0.04, 0.03, 0.03])
_INCOME_MEDIAN_CNY = np.array([7000.0, 9000.0, 8500.0, 5500.0, 1500.0, 4000.0, 1200.0])
_INCOME_SIGMA = np.array([0.45, 0.7, 0.3, 0.4, 0.5, 0.35, 0.8])
_EMPLOYMENT_RISK = np.array([0.0, 0.15, -0.6, 0.35, 0.5, -0.1, 0.8])

LOAN_PURPOSES = (
    "consumer_goods", "electronics", "travel", "education", "home_improvement", "medical",
    "wedding", "car_purchase", "small_business", "debt_consolidation",
)  # fmt: skip
_PURPOSE_P = np.array([0.24, 0.16, 0.1, 0.08, 0.1, 0.06, 0.05, 0.06, 0.07, 0.08])
CHANNELS = ("app", "mini_program", "h5_web", "partner_api")
_CHANNEL_P = np.array([0.45, 0.18, 0.12, 0.25])
PARTNERS = ("P001", "P002", "P003", "P004", "P005")
_PARTNER_P = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
TERMS = np.array([3, 6, 9, 12, 18, 24, 36])
_TERM_P = np.array([0.08, 0.18, 0.08, 0.34, 0.1, 0.14, 0.08])
INQUIRY_REASONS = (
    "loan_approval", "credit_card_approval", "post_loan_management", "guarantee_qualification",
)  # fmt: skip
N_LENDERS = 400
_LENDER_P = 1.0 / np.arange(1, N_LENDERS + 1) ** 0.9
ANDROID_VERSIONS = ("10", "11", "12", "13", "14", "15")
_ANDROID_P = np.array([0.08, 0.12, 0.18, 0.25, 0.25, 0.12])
IOS_VERSIONS = ("15.8", "16.7", "17.5", "17.6", "18.0", "18.1", "18.2")
_IOS_P = np.array([0.05, 0.12, 0.15, 0.18, 0.15, 0.15, 0.2])

RING_APPLICANT_SHARE = 0.018  # ring members per applicant: 1.5% of applications
_APPS_PER_PERSON_P = np.array([0.84, 0.12, 0.03, 0.01])  # 1..4 applications, mean 1.21
_SHOPPER_P = np.array([0.7, 0.22, 0.08])  # light, moderate, heavy multi-lender shoppers
_PRE_APPLICATION_INQUIRIES = np.array([0.7, 2.5, 8.0])  # mean per application, by shopper
_APPROVAL_OFFSET = 1.2  # calibrated so the historical policy approves about 60%
_DEFAULT_OFFSET = -2.45  # calibrated so about 10% of loans to non-fraudsters default
MAX_APR_BPS = 2400  # the 24% cap of Chinese courts on consumer credit
MIN_APR_BPS = 720


def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with probabilities `p` (faster than Generator.choice for small tables)."""
    index = np.searchsorted(np.cumsum(p) / p.sum(), rng.random(n), side="right")
    return np.minimum(index, p.size - 1)  # guards against the cumulative sum's rounding


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class ChunkSpec:
    """Which applicants a chunk holds and the run they belong to."""

    seed: int
    delivery_date: date
    chunk_index: int
    first_applicant: int  # global index of the chunk's first applicant
    applicants: int

    @property
    def global_index(self) -> np.ndarray:
        return self.first_applicant + np.arange(self.applicants, dtype=np.int64)


@dataclass
class People:
    """One row per applicant (person) of the chunk."""

    national_id: pa.Array
    area_index: np.ndarray
    birth_day: np.ndarray
    name: pa.Array
    address: pa.Array
    phone: pa.Array
    employment: np.ndarray
    income_cny: np.ndarray
    dti: np.ndarray  # usual debt-to-income; each application varies around it
    shopper: np.ndarray  # 0 light, 1 moderate, 2 heavy multi-lender shopper
    latent_risk: np.ndarray  # what no model can see
    consents_marketing: np.ndarray
    n_applications: np.ndarray
    ring: np.ndarray  # local ring id, -1 outside rings


@dataclass
class Rings:
    """Fraud rings: a burst of applications sharing devices, phones, addresses and a /24."""

    start_s: np.ndarray
    burst_s: np.ndarray
    subnet: np.ndarray
    channel: np.ndarray
    partner: np.ndarray
    n_devices: np.ndarray
    first_device: np.ndarray  # the ring's first device, counted among ring devices only

    @property
    def count(self) -> int:
        return self.start_s.size


@dataclass
class Devices:
    """SDK installs; primary devices of people first, then extra ones, then ring devices."""

    device_id: pa.Array
    is_ios: np.ndarray
    os_version: pa.Array
    is_emulator: np.ndarray
    is_rooted: np.ndarray


@dataclass
class Applications:
    """One row per application, sorted by time; outcome fields are filled by `_decide`."""

    person: np.ndarray
    rank: np.ndarray  # 0 for a person's first application, 1 for the second, ...
    applied_s: np.ndarray
    device: np.ndarray
    subnet: np.ndarray
    host: np.ndarray
    income_minor: np.ndarray
    debt_minor: np.ndarray
    requested_minor: np.ndarray
    term: np.ndarray
    purpose: np.ndarray
    channel: np.ndarray
    partner: np.ndarray  # -1 for own channels
    consents_credit: np.ndarray
    consents_fraud: np.ndarray
    ring: np.ndarray
    n_inquiries_7d: np.ndarray  # inquiries in the days before applying, set by `_inquiries`
    n_inquiries_30d: np.ndarray
    n_inquiries_90d: np.ndarray

    @property
    def count(self) -> int:
        return self.person.size

    @property
    def is_ring(self) -> np.ndarray:
        return self.ring >= 0

    @property
    def dti(self) -> np.ndarray:
        return self.debt_minor / self.income_minor


@dataclass
class Outcomes:
    """The lender's decisions and the truth about each application's future."""

    prior_default: np.ndarray
    approved: np.ndarray
    has_loan: np.ndarray
    disbursed_s: np.ndarray
    principal_minor: np.ndarray
    apr_bps: np.ndarray
    instalment_minor: np.ndarray
    default_probability: np.ndarray
    will_default: np.ndarray
    default_instalment: np.ndarray  # first instalment never paid in full; term + 1 if none


@dataclass
class Chunk:
    """Everything simulated for one chunk, before it is written as source tables."""

    spec: ChunkSpec
    cal: Calendar
    people: People
    rings: Rings
    devices: Devices
    apps: Applications
    outcomes: Outcomes
    inquiries: pa.Table


# --- people and rings ----------------------------------------------------------------------


def id_space(spec: ChunkSpec) -> ids.NationalIdSpace:
    """National IDs of people aged 18 at the start of the history to 70 at its end."""
    oldest = add_months(spec.delivery_date, -70 * 12)
    youngest = add_months(spec.delivery_date, -HISTORY_MONTHS - 18 * 12)
    return ids.national_id_space(oldest, youngest, spec.seed)


def _people(rng: np.random.Generator, spec: ChunkSpec, cal: Calendar) -> People:
    """Who the applicants are: identity, work, income, debts, habits."""
    n = spec.applicants
    people_ids = ids.national_ids(spec.global_index, id_space(spec))
    age = (cal.cutoff_day - people_ids.birth_day) / 365.25
    employment = _choice(rng, _EMPLOYMENT_P, n)
    employment = np.where((age < 24) & (rng.random(n) < 0.35), 4, employment)
    employment = np.where((employment == 4) & (age >= 27), 0, employment)
    employment = np.where((age >= 60) & (rng.random(n) < 0.7), 5, employment)
    employment = np.where((employment == 5) & (age < 50), 0, employment)
    local_wages = np.array([a.income_factor for a in ids.AREAS])[people_ids.area_index]
    income = (
        _INCOME_MEDIAN_CNY[employment]
        * local_wages
        * np.exp(_INCOME_SIGMA[employment] * rng.standard_normal(n))
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
        shopper=_choice(rng, _SHOPPER_P, n),
        latent_risk=0.6 * rng.standard_normal(n),
        consents_marketing=rng.random(n) < 0.4,
        n_applications=1 + _choice(rng, _APPS_PER_PERSON_P, n),
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
        partner=_choice(rng, _PARTNER_P, count),
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
        len(ANDROID_VERSIONS) + _choice(rng, _IOS_P, n),
        _choice(rng, _ANDROID_P, n),
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
    term = np.where(in_ring, np.where(rng.random(m) < 0.5, 6, 12), TERMS[_choice(rng, _TERM_P, m)])
    channel = _choice(rng, _CHANNEL_P, m)
    partner = _choice(rng, _PARTNER_P, m)
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
        purpose=_choice(rng, _PURPOSE_P, m),
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
    rate = np.where(apps.is_ring, 6.0, _PRE_APPLICATION_INQUIRIES[shopper])
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
    lender = 1 + _choice(rng, _LENDER_P, k + b)
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


# --- decisions and outcomes ----------------------------------------------------------------


def default_logit(
    apps: Applications,
    people: People,
    prior_default: np.ndarray,
    festive: np.ndarray,
    age_years: np.ndarray,
) -> np.ndarray:
    """Log-odds that a non-fraudulent borrower defaults: the signal models should learn."""
    income_cny = apps.income_minor / 100
    return (
        _DEFAULT_OFFSET
        + 3.0 * (apps.dti - 0.25)
        - 0.55 * np.log(income_cny / 6000)
        + 0.5 * np.log1p(apps.n_inquiries_30d)
        + 0.35 * np.log1p(apps.n_inquiries_7d)
        + 1.3 * prior_default
        + _EMPLOYMENT_RISK[people.employment[apps.person]]
        + 0.35 * (age_years < 23)
        + 0.4 * festive
        + 0.15 * np.log(apps.requested_minor / (apps.income_minor * 3))
        + people.latent_risk[apps.person]
    )


def _policy_score(apps: Applications, prior_default: np.ndarray) -> np.ndarray:
    """The lender's historical scorecard: sensible, but blind to rings and latent risk."""
    income_cny = apps.income_minor / 100
    return (
        _APPROVAL_OFFSET
        - 2.8 * apps.dti
        + 0.7 * np.log(income_cny / 6000)
        - 0.45 * np.log1p(apps.n_inquiries_30d)
        - 0.3 * np.log1p(apps.n_inquiries_7d)
        - 2.0 * prior_default
    )


def _annuity(principal: np.ndarray, apr_bps: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Equal monthly instalment (CNY fen, rounded up) of an amortising loan."""
    rate = apr_bps / 10_000 / 12
    return np.ceil(principal * rate / (1 - (1 + rate) ** (-term.astype(float)))).astype(np.int64)


def _decide(
    rng: np.random.Generator, apps: Applications, people: People, cal: Calendar
) -> Outcomes:
    """Approve, disburse, price, and decide (in truth) who will default and when.

    Applications are processed in the order of each person's history, so a default on an
    earlier loan is known (to the lender and to the truth) when the person applies again.
    """
    m = apps.count
    prior_default = np.zeros(m, dtype=bool)
    out = Outcomes(
        prior_default=prior_default,
        approved=np.zeros(m, dtype=bool),
        has_loan=np.zeros(m, dtype=bool),
        disbursed_s=np.zeros(m, dtype=np.int64),
        principal_minor=np.zeros(m, dtype=np.int64),
        apr_bps=np.zeros(m, dtype=np.int64),
        instalment_minor=np.zeros(m, dtype=np.int64),
        default_probability=np.zeros(m),
        will_default=np.zeros(m, dtype=bool),
        default_instalment=apps.term + 1,
    )
    first_default_day = np.full(people.ring.size, np.iinfo(np.int64).max)
    applied_day = apps.applied_s // SECONDS_PER_DAY
    festive = festive_at(cal, apps.applied_s)
    age = (applied_day - people.birth_day[apps.person]) / 365.25
    noise = rng.standard_normal(m)
    policy_noise = rng.standard_normal(m)
    delay = np.where(
        rng.random(m) < 0.6,
        rng.integers(300, 6 * 3600, m),
        rng.integers(SECONDS_PER_DAY, 3 * SECONDS_PER_DAY, m),
    )
    cut = rng.random(m) < 0.15
    cut_share = rng.uniform(0.5, 0.9, m)
    draw_default = rng.random(m)
    default_at = np.minimum(rng.geometric(0.25, m), apps.term)
    for rank in range(int(apps.rank.max()) + 1 if m else 0):
        sel = np.flatnonzero(apps.rank == rank)
        prior_default[sel] = first_default_day[apps.person[sel]] < applied_day[sel]
        score = _policy_score(_subset(apps, sel), prior_default[sel])
        approve = np.where(
            apps.is_ring[sel],
            rng.random(sel.size) < 0.8,
            score + 0.9 * policy_noise[sel] > 0,
        )
        out.approved[sel] = approve
        disbursed = apps.applied_s[sel] + delay[sel]
        out.has_loan[sel] = approve & (disbursed < cal.cutoff_s)
        out.disbursed_s[sel] = disbursed
        logit = default_logit(
            _subset(apps, sel), people, prior_default[sel], festive[sel], age[sel]
        )
        probability = np.where(apps.is_ring[sel], 1.0, _sigmoid(logit))
        out.default_probability[sel] = probability
        will_default = draw_default[sel] < probability
        out.will_default[sel] = will_default
        out.default_instalment[sel] = np.where(
            apps.is_ring[sel], 1, np.where(will_default, default_at[sel], apps.term[sel] + 1)
        )
        defaulted = sel[out.has_loan[sel] & will_default]
        missed_day = add_months_days(
            out.disbursed_s[defaulted] // SECONDS_PER_DAY, out.default_instalment[defaulted]
        )
        np.minimum.at(first_default_day, apps.person[defaulted], missed_day)
        apr = 1500 - 350 * (score - _APPROVAL_OFFSET) + 100 * noise[sel]
        out.apr_bps[sel] = np.clip(np.round(apr, -1), MIN_APR_BPS, MAX_APR_BPS).astype(np.int64)
    requested = apps.requested_minor
    principal = np.where(cut, np.round(requested * cut_share, -4), requested).astype(np.int64)
    out.principal_minor[:] = np.where(out.has_loan, principal, 0)
    out.instalment_minor[:] = np.where(
        out.has_loan, _annuity(out.principal_minor, out.apr_bps, apps.term), 0
    )
    return out


def _subset(apps: Applications, sel: np.ndarray) -> Applications:
    """The applications at positions `sel` (array fields only)."""
    fields = {}
    for name, value in vars(apps).items():
        fields[name] = value[sel] if isinstance(value, np.ndarray) else value
    return Applications(**fields)


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
    outcomes = _decide(rng, apps, people, cal)
    return Chunk(spec, cal, people, rings, devices, apps, outcomes, inquiries)


def application_ids(chunk: Chunk) -> pa.Array:
    """Application ids: chunk index and the application's position in time."""
    return sequential_ids("APP", chunk.spec.chunk_index, np.arange(chunk.apps.count))


def applications_table(chunk: Chunk, application_id: pa.Array) -> pa.Table:
    """The applications source, in contract order."""
    apps, people = chunk.apps, chunk.people
    person = pa.array(apps.person)
    area_code = np.array([a.code for a in ids.AREAS], dtype=np.int64)
    city_code = area_code[people.area_index[apps.person]] // 100 * 100
    return pa.table(
        {
            "application_id": application_id,
            "applied_at": iso_utc(apps.applied_s),
            "national_id": people.national_id.take(person),
            "name": people.name.take(person),
            "phone": people.phone.take(person),
            "residential_address": people.address.take(person),
            "birth_date": dates(people.birth_day[apps.person]),
            "city_code": fixed_width([digit_matrix(city_code, 6)], apps.count),
            "employment_type": pick(EMPLOYMENT_TYPES, people.employment[apps.person]),
            "monthly_income_minor": apps.income_minor,
            "monthly_debt_payment_minor": apps.debt_minor,
            "requested_amount_minor": apps.requested_minor,
            "term_months": apps.term,
            "loan_purpose": pick(LOAN_PURPOSES, apps.purpose),
            "channel": pick(CHANNELS, apps.channel),
            "partner_id": with_nulls(
                pick(PARTNERS, np.maximum(apps.partner, 0)), apps.partner >= 0
            ),
            "device_id": chunk.devices.device_id.take(pa.array(apps.device)),
            "ip_address": ids.ip_text(apps.subnet, apps.host),
            "has_consented_credit_scoring": apps.consents_credit,
            "has_consented_fraud_prevention": apps.consents_fraud,
            "has_consented_marketing": people.consents_marketing[apps.person],
        }
    )


def loans_table(chunk: Chunk, application_id: pa.Array, loan_id: pa.Array) -> pa.Table:
    """The loans source: one row per disbursed loan, id derived from its application."""
    out, apps = chunk.outcomes, chunk.apps
    loan = np.flatnonzero(out.has_loan)
    return pa.table(
        {
            "loan_id": loan_id,
            "application_id": application_id.take(pa.array(loan)),
            "disbursed_at": iso_utc(out.disbursed_s[loan]),
            "principal_minor": out.principal_minor[loan],
            "term_months": apps.term[loan],
            "apr_bps": out.apr_bps[loan],
            "instalment_amount_minor": out.instalment_minor[loan],
        }
    )


def loan_ids(chunk: Chunk) -> pa.Array:
    """Loan ids share the application's number: LN00003-0001234 funds APP00003-0001234."""
    width = id_width(chunk.apps.count)
    loans = np.flatnonzero(chunk.outcomes.has_loan)
    return sequential_ids("LN", chunk.spec.chunk_index, loans, width)


def truth_table(chunk: Chunk, application_id: pa.Array) -> pa.Table:
    """Ground truth per application, for tests and benchmarks; never written to the inbox."""
    apps, out, people = chunk.apps, chunk.outcomes, chunk.people
    return pa.table(
        {
            "application_id": application_id,
            "national_id": people.national_id.take(pa.array(apps.person)),
            "applicant_index": chunk.spec.first_applicant + apps.person,
            "application_rank": apps.rank,
            "is_fraud_ring": apps.is_ring,
            "ring_id": apps.ring,
            "debt_to_income": apps.dti,
            "n_inquiries_7d": apps.n_inquiries_7d,
            "n_inquiries_30d": apps.n_inquiries_30d,
            "n_inquiries_90d": apps.n_inquiries_90d,
            "prior_default": out.prior_default,
            "approved": out.approved,
            "has_loan": out.has_loan,
            "default_probability": out.default_probability,
            "will_default": out.will_default,
            "default_instalment": out.default_instalment,
            "latent_risk": people.latent_risk[apps.person],
        }
    )
