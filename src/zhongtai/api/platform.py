"""What the API opens at start-up and every request uses: the :class:`Platform`.

One process holds the online store, the champion models (followed in the registry,
swapped on promotion), the policy, the partner registry, the ledger (decisions and the
audit log, one file, one transaction each), the rate-limit buckets every worker shares,
the vault's record of erased subjects and the request metrics.

Every store write waits at most :data:`STORE_BUSY_SECONDS` for another writer's lock, then
fails (the API answers 503 with ``Retry-After``) instead of holding a request for long.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram

from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.decision.decide import OnlineFeatures
from zhongtai.decision.policy import Policy, decision_rules_path, load_policy
from zhongtai.privacy.keys import KeyRing
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings
from zhongtai.stores.audit import AuditLog, audit_log_path
from zhongtai.stores.decisions import DecisionStore
from zhongtai.stores.limits import RateLimiter, limits_path
from zhongtai.stores.partners import PartnerStore, partners_path

STORE_BUSY_SECONDS = 2.0
LEGACY_DECISIONS = "decisions.db"  # schema 1 kept decisions apart from the audit log


class Erasures:
    """Which subjects the vault erased. The vault's connection lives on one thread of its
    own (SQLite connections stay on their thread); requests ask it and wait."""

    def __init__(self, path: Path, keyring: KeyRing) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault")
        self._vault = self._thread.submit(Vault.open, path, keyring).result()
        self._closed = False

    def erased(self, applicant_id: str) -> bool:
        """Whether the vault erased ``applicant_id`` (a pseudonym)."""
        found = self._thread.submit(self._vault.erased, [applicant_id])
        return applicant_id in found.result(timeout=STORE_BUSY_SECONDS * 5)

    def close(self) -> None:
        """Close the vault on its thread; twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._thread.submit(self._vault.close).result()
        self._thread.shutdown()


@dataclass
class Platform:
    """What the API opened at start-up."""

    settings: Settings
    pseudonym_key: bytes
    online: OnlineFeatures
    champions: ChampionSet
    policy: Policy
    partners: PartnerStore
    decisions: DecisionStore
    audit: AuditLog
    limiter: RateLimiter
    erasures: Erasures
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.latency = Histogram(
            "zhongtai_request_seconds",
            "Request latency by route.",
            ["route"],
            registry=self.metrics,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
        )
        self.outcomes = Counter(
            "zhongtai_decisions_total", "Decisions by outcome.", ["outcome"], registry=self.metrics
        )
        self.responses = Counter(
            "zhongtai_responses_total", "Responses by status.", ["status"], registry=self.metrics
        )

    def close(self) -> None:
        for resource in (self.partners, self.audit, self.limiter, self.erasures):
            resource.close()


def open_platform(settings: Settings) -> Platform:
    """Open every resource a request needs; the champions must load (else 503s)."""
    from zhongtai.features.repo import open_store
    from zhongtai.ml.track import use_mlflow
    from zhongtai.privacy.keys import promotion_signing_key, resolve_keyring

    keyring = resolve_keyring(settings, announce=lambda _: None)
    champions = ChampionSet(use_mlflow(settings), key=promotion_signing_key(keyring))
    try:
        champions.refresh()
    except ModelsUnavailable as error:
        print(f"zhongtai serve: {error}; decisions answer 503 until champions are promoted")
    ledger = audit_log_path(settings)
    legacy = ledger.with_name(LEGACY_DECISIONS)
    if legacy.exists():
        raise RuntimeError(
            f"{legacy} was written by an older zhongtai (decisions apart from the audit "
            "log): run `zhongtai audit migrate` to carry it into the ledger"
        )
    audit = AuditLog.open(ledger, busy_timeout=STORE_BUSY_SECONDS)
    return Platform(
        settings=settings,
        pseudonym_key=keyring.pseudonym_key,
        online=OnlineFeatures(open_store(settings)),
        champions=champions,
        policy=load_policy(decision_rules_path(settings)),
        partners=PartnerStore.open(partners_path(settings), busy_timeout=STORE_BUSY_SECONDS),
        decisions=DecisionStore.beside(audit),
        audit=audit,
        limiter=RateLimiter(limits_path(settings), busy_timeout=STORE_BUSY_SECONDS),
        erasures=Erasures(settings.vault_path, keyring),
    )
