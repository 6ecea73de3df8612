"""What the partner and operations routes answer, beside the decision's own schemas
(``zhongtai.decision.schemas``)."""

from __future__ import annotations

from pydantic import BaseModel


class FeaturesOut(BaseModel):
    feature_service: str
    entity: str
    features: dict[str, float | int | str | bool | None]


class ScoresOut(BaseModel):
    entity: str
    credit_score: float
    probability_of_default: float
    fraud_score: float
    model_versions: dict[str, str]


class Problem(BaseModel):
    """An error as problem details (RFC 9457): what is wrong, in words a partner can act
    on; never an internal."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
