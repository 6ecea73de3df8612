"""Versioned feature services: what a model or a partner scope may read, and nothing more.

A new version is a new service (``credit_scoring_v2``); a published one never changes.
"""

from feast import FeatureService
from feature_views import (
    application_profile,
    credit_history,
    device_risk_index,
    device_velocity,
    ip_range_velocity,
    list_hits,
    multi_lender_index,
    social_relationship_index,
)

credit_scoring_v1 = FeatureService(
    name="credit_scoring_v1",
    features=[application_profile, credit_history, multi_lender_index, list_hits],
    description="Everything the credit (probability of default) models read.",
    owner="credit-risk",
    tags={"purpose": "credit_scoring", "version": "1"},
)

fraud_detection_v1 = FeatureService(
    name="fraud_detection_v1",
    features=[
        application_profile[["requested_amount_minor", "term_months", "channel", "loan_purpose"]],
        multi_lender_index,
        device_risk_index,
        social_relationship_index,
        list_hits,
        device_velocity[["device_applications_1h"]],
        ip_range_velocity[["ip_range_applications_1h"]],
    ],
    description="Everything the fraud models read; rows need applicant_id, device_id, ip_range.",
    owner="fraud-risk",
    tags={"purpose": "fraud_prevention", "version": "1"},
)

partner_credit_v1 = FeatureService(
    name="partner_credit_v1",
    features=[
        multi_lender_index,
        credit_history[
            [
                "prior_loans_count",
                "prior_loans_30_days_past_due_count",
                "prior_loans_90_days_past_due_count",
            ]
        ],
    ],
    description="Partner scope 'credit': multi-lender index and repayment record, no profile.",
    owner="partnerships",
    tags={"purpose": "credit_scoring", "version": "1", "scope": "partner"},
)

partner_fraud_v1 = FeatureService(
    name="partner_fraud_v1",
    features=[
        list_hits,
        social_relationship_index[["component_size", "ring_score", "neighbour_blacklist_share"]],
    ],
    description="Partner scope 'fraud': list hits and ring signals, nothing about the person.",
    owner="partnerships",
    tags={"purpose": "fraud_prevention", "version": "1", "scope": "partner"},
)
