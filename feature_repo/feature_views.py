"""Feature views: the risk outputs of the design, grouped as modellers and partners use them.

Every applicant view is dated by the application (``applied_at``): a training row gets the
values as of its own application and never a later one; online, an applicant's latest.
"""

from datetime import timedelta

from data_sources import (
    applicant_features_source,
    application_features_source,
    device_velocity_push,
    ip_range_velocity_push,
    risk_indices_source,
)
from entities import applicant, device, ip_range
from feast import FeatureView, Field
from feast.types import Array, Bool, Float64, Int64, String

APPLICANT_TTL = timedelta(days=365)  # a profile older than a year is not served
VELOCITY_TTL = timedelta(hours=1)  # velocity counts the last hour only

application_profile = FeatureView(
    name="application_profile",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=application_features_source,
    schema=[
        Field(name="age_years", dtype=Int64),
        Field(name="city_code", dtype=String),
        Field(name="employment_type", dtype=String),
        Field(name="monthly_income_minor", dtype=Int64),
        Field(name="monthly_debt_payment_minor", dtype=Int64),
        Field(name="debt_to_income_ratio", dtype=Float64),
        Field(name="requested_amount_minor", dtype=Int64),
        Field(name="term_months", dtype=Int64),
        Field(name="loan_purpose", dtype=String),
        Field(name="channel", dtype=String),
        Field(name="partner_id", dtype=String),
        Field(name="has_consented_credit_scoring", dtype=Bool),
        Field(name="has_consented_fraud_prevention", dtype=Bool),
    ],
    description="What the applicant declared on their latest application, and their consents.",
    owner="credit-risk",
    tags={"index": "profile", "purpose": "credit_scoring"},
)

credit_history = FeatureView(
    name="credit_history",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=applicant_features_source,
    schema=[
        Field(name="prior_applications_count", dtype=Int64),
        Field(name="days_since_first_application", dtype=Int64),
        Field(name="prior_loans_count", dtype=Int64),
        Field(name="prior_loans_30_days_past_due_count", dtype=Int64),
        Field(name="prior_loans_90_days_past_due_count", dtype=Int64),
    ],
    description="The applicant's applications and loans with us before each application.",
    owner="credit-risk",
    tags={"index": "history", "purpose": "credit_scoring"},
)

multi_lender_index = FeatureView(
    name="multi_lender_index",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=application_features_source,
    schema=[
        Field(name="inquiries_7d_count", dtype=Int64),
        Field(name="inquiries_30d_count", dtype=Int64),
        Field(name="inquiries_90d_count", dtype=Int64),
        Field(name="inquiry_lenders_7d_count", dtype=Int64),
        Field(name="inquiry_lenders_30d_count", dtype=Int64),
        Field(name="inquiry_lenders_90d_count", dtype=Int64),
    ],
    description="Multi-lender index: bureau inquiries and distinct lenders in 7 / 30 / 90 days.",
    owner="credit-risk",
    tags={"index": "multi_lender", "purpose": "credit_scoring"},
)

device_risk_index = FeatureView(
    name="device_risk_index",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=risk_indices_source,
    schema=[
        Field(name="is_emulator", dtype=Bool),
        Field(name="is_rooted", dtype=Bool),
        Field(name="device_event_count", dtype=Int64),
        Field(name="device_sharers_7d", dtype=Int64),
        Field(name="device_sharers_30d", dtype=Int64),
        Field(name="ip_range_sharers_7d", dtype=Int64),
        Field(name="ip_range_sharers_30d", dtype=Int64),
    ],
    description="Device risk index: emulator / root flags, SDK events, applicants per device "
    "and per /24 IP range in 7 / 30 days.",
    owner="fraud-risk",
    tags={"index": "device_risk", "purpose": "fraud_prevention"},
)

social_relationship_index = FeatureView(
    name="social_relationship_index",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=risk_indices_source,
    schema=[
        Field(name="component_size", dtype=Int64),
        Field(name="neighbour_count", dtype=Int64),
        Field(name="phone_sharers_7d", dtype=Int64),
        Field(name="phone_sharers_30d", dtype=Int64),
        Field(name="neighbour_default_share", dtype=Float64),
        Field(name="neighbour_blacklist_share", dtype=Float64),
        Field(name="ring_score", dtype=Float64),
    ],
    description="Social relationship index from the shared-identifier graph as of each "
    "application: component size, neighbours, share in default or blacklisted, ring score.",
    owner="fraud-risk",
    tags={"index": "social_relationship", "purpose": "fraud_prevention"},
)

list_hits = FeatureView(
    name="list_hits",
    entities=[applicant],
    ttl=APPLICANT_TTL,
    source=risk_indices_source,
    schema=[
        Field(name="is_blacklisted", dtype=Bool),
        Field(name="is_greylisted", dtype=Bool),
        Field(name="is_whitelisted", dtype=Bool),
    ],
    description="Black / grey / white list entries active at the application, matched on "
    "the applicant, their phone or their device.",
    owner="fraud-risk",
    tags={"index": "list_hits", "purpose": "fraud_prevention"},
)

device_velocity = FeatureView(
    name="device_velocity",
    entities=[device],
    ttl=VELOCITY_TTL,
    source=device_velocity_push,
    schema=[
        Field(name="device_applications_1h", dtype=Int64),
        Field(name="device_application_times_1h", dtype=Array(Int64)),
    ],
    description="Applications from the device in the last hour (pushed as they arrive).",
    owner="fraud-risk",
    tags={"index": "device_risk", "purpose": "fraud_prevention", "freshness": "push"},
)

ip_range_velocity = FeatureView(
    name="ip_range_velocity",
    entities=[ip_range],
    ttl=VELOCITY_TTL,
    source=ip_range_velocity_push,
    schema=[
        Field(name="ip_range_applications_1h", dtype=Int64),
        Field(name="ip_range_application_times_1h", dtype=Array(Int64)),
    ],
    description="Applications from the /24 IP range in the last hour (pushed as they arrive).",
    owner="fraud-risk",
    tags={"index": "device_risk", "purpose": "fraud_prevention", "freshness": "push"},
)
