"""The entities features are keyed on: pseudonymous join keys only, never a clear identifier."""

from feast import Entity
from feast.value_type import ValueType

applicant = Entity(
    name="applicant",
    join_keys=["applicant_id"],
    value_type=ValueType.STRING,
    description="A person applying for credit: HMAC pseudonym of the national ID.",
    owner="risk-data",
    tags={"pii": "pseudonym"},
)

device = Entity(
    name="device",
    join_keys=["device_id"],
    value_type=ValueType.STRING,
    description="A device as identified by the device SDK.",
    owner="risk-data",
    tags={"pii": "pseudonym"},
)

ip_range = Entity(
    name="ip_range",
    join_keys=["ip_range"],
    value_type=ValueType.STRING,
    description="A /24 IPv4 network an application came from.",
    owner="risk-data",
    tags={"pii": "network"},
)
