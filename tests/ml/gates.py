"""Promotion gates for the small test worlds.

Their out-of-time samples (about 130 applications, a handful of defaulters) are too thin
for the production gates and age bands, and whether an age band holds a defaulter
depends on the calendar the world was generated for (the run's date): these gates let
the mechanics be tested on any day, and a strict copy shows a refusal.
"""

from __future__ import annotations

from zhongtai.ml.spec import FairnessSpec, ModelSpec, PromotionSpec, load_spec

LENIENT = PromotionSpec(
    min_auc=0.5,
    min_auc_gain=0.005,
    max_psi=10,
    max_fairness_gap=1,
    fairness_evidence="when_measured",
)
STRICT = LENIENT.model_copy(update={"min_auc": 0.99})
TWO_AGE_BANDS = FairnessSpec(attribute="age_years", bands=[18, 40, 120], min_rows=10)


def with_gates(family: str, gates: PromotionSpec = LENIENT) -> ModelSpec:
    """The family's spec with ``gates`` and two age bands."""
    spec = load_spec(family)
    return spec.model_copy(update={"promotion": gates, "fairness": TWO_AGE_BANDS})
