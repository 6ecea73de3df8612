"""What the API opens at start-up and every request uses: the :class:`Platform`.

One process holds the online store, the champion models (followed in the registry,
swapped on promotion), the policy, the partner registry, the decision store, the audit
log and the request metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.decision.decide import OnlineFeatures
from zhongtai.decision.policy import Policy, decision_rules_path, load_policy
from zhongtai.settings import Settings
from zhongtai.stores.audit import AuditLog, audit_log_path
from zhongtai.stores.decisions import DecisionStore, decisions_path
from zhongtai.stores.partners import PartnerStore, RateLimiter, partners_path


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
    limiter: RateLimiter = field(default_factory=RateLimiter)
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
        for resource in (self.partners, self.decisions, self.audit):
            resource.close()


def open_platform(settings: Settings) -> Platform:
    """Open every resource a request needs; the champions must load (else 503s)."""
    from zhongtai.features.repo import open_store
    from zhongtai.ml.track import use_mlflow
    from zhongtai.privacy.keys import resolve_keyring

    keyring = resolve_keyring(settings, announce=lambda _: None)
    champions = ChampionSet(use_mlflow(settings))
    try:
        champions.refresh()
    except ModelsUnavailable as error:
        print(f"zhongtai serve: {error}; decisions answer 503 until champions are promoted")
    return Platform(
        settings=settings,
        pseudonym_key=keyring.pseudonym_key,
        online=OnlineFeatures(open_store(settings)),
        champions=champions,
        policy=load_policy(decision_rules_path(settings)),
        partners=PartnerStore.open(partners_path(settings)),
        decisions=DecisionStore.open(decisions_path(settings)),
        audit=AuditLog.open(audit_log_path(settings)),
    )
