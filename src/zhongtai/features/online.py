"""Reading the online store: one entity's feature vector from a versioned service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zhongtai.duck import connect, read_parquet_sql
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

if TYPE_CHECKING:
    from feast import FeatureStore


def online_vector(store: FeatureStore, service: str, entity: dict[str, str]) -> dict[str, Any]:
    """The service's features for one entity row, e.g. ``{"applicant_id": ...}``.

    Raises KeyError naming the service when it is not registered.
    """
    from feast.errors import FeatureServiceNotFoundException

    try:
        feature_service = store.get_feature_service(service)
    except FeatureServiceNotFoundException as error:
        known = ", ".join(sorted(s.name for s in store.list_feature_services()))
        raise KeyError(f"no feature service {service!r}; registered: {known}") from error
    response = store.get_online_features(features=feature_service, entity_rows=[entity])
    return {name: values[0] for name, values in response.to_dict().items()}


def latest_application(settings: Settings) -> dict[str, str]:
    """The keys of the most recent application (applicant, device, IP range): a demo entity."""
    path = mart_path(settings, "application_features").resolve()
    with connect(settings) as connection:
        row = connection.execute(
            f"select applicant_id, device_id, ip_range from {read_parquet_sql(path)} "
            "order by applied_at desc, application_id limit 1"
        ).fetchall()
    if not row:
        raise ValueError(f"no applications in {path}: build the warehouse first")
    applicant_id, device_id, ip_range = row[0]
    return {"applicant_id": applicant_id, "device_id": device_id, "ip_range": ip_range}
