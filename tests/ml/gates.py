"""Promotion gates for the small test worlds.

The test world (1,500 applicants) leaves an out-of-time sample of about 130 applications
with a handful of defaulters: too few to measure an AUC against the spec's minimum of
events, and whether an age band holds enough of them depends on the calendar the world
was generated for. The committed specs give the test environment the burden ``harm``:
such a challenger is promoted, each check it cannot measure saying so. ``strict`` shows
the other side on the same world: production's burden (the model must show it meets
every limit) with an AUC no model reaches.
"""

from __future__ import annotations

from typing import get_args

from zhongtai.ml.spec import Burden, ModelSpec, load_spec
from zhongtai.settings import Environment


def with_gates(family: str, burden: Burden | None = None, **limits: float) -> ModelSpec:
    """The family's spec as committed; with ``burden``, that burden of proof in every
    environment, and ``limits`` (``min_auc=0.99``) in place of the spec's."""
    spec = load_spec(family)
    assert spec.promotion is not None
    update: dict[str, object] = dict(limits)
    if burden is not None:
        update["burden_of_proof"] = {env: burden for env in get_args(Environment)}
    return spec.model_copy(update={"promotion": spec.promotion.model_copy(update=update)})


def as_committed(family: str) -> ModelSpec:
    """The family's spec, gates and burden as committed (``harm`` in test)."""
    return with_gates(family)


def strict(family: str) -> ModelSpec:
    """Production's burden and an AUC no model reaches: a refusal whatever the sample."""
    return with_gates(family, "model", min_auc=0.99)
