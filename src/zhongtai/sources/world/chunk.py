"""What one simulated chunk holds: people, rings, devices, applications and their outcomes.

Plain columns of numbers (one array per field) that the simulation fills and the table
writers read; the ground truth (rings, defaults to come) sits beside what will be written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from zhongtai.sources.calendar import Calendar
from zhongtai.sources.world.parameters import ChunkSpec


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
    """One row per application, sorted by time; `outcomes.decide` draws what became of it."""

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
    n_inquiries_7d: np.ndarray  # inquiries in the days before applying, counted by the simulation
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
