"""Near-real-time velocity: an application event slides the one-hour windows forward online.

Each velocity view keeps the event times of its key's last hour beside the count, so a push
reads the current window, drops what fell out of the hour, adds the event and writes back.
Two pushes for one key at the same instant can race (last write wins); the next event
corrects the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from zhongtai.features.indices import VELOCITY_WINDOW_SECONDS

if TYPE_CHECKING:
    from feast import FeatureStore


@dataclass(frozen=True)
class Velocity:
    """One velocity view: its entity key, push source and features."""

    key: str
    view: str
    push_source: str

    @property
    def prefix(self) -> str:
        return self.key.removesuffix("_id")

    @property
    def count_feature(self) -> str:
        return f"{self.prefix}_applications_1h"

    @property
    def times_feature(self) -> str:
        return f"{self.prefix}_application_times_1h"


VELOCITIES = (
    Velocity("device_id", "device_velocity", "device_velocity_push"),
    Velocity("ip_range", "ip_range_velocity", "ip_range_velocity_push"),
)


def push_application_event(
    store: FeatureStore, *, device_id: str | None, ip_range: str | None, applied_at: datetime
) -> dict[str, int]:
    """Count an arriving application in its device's and IP range's last hour, online.

    Returns the new counts, e.g. ``{"device_applications_1h": 3, ...}``.
    """
    import pandas as pd
    from feast.data_source import PushMode

    if applied_at.tzinfo is None:
        raise ValueError("applied_at must be timezone-aware (UTC)")
    event_epoch = int(applied_at.timestamp())
    counts = {}
    for velocity, value in zip(VELOCITIES, (device_id, ip_range), strict=True):
        if value is None:
            continue
        current = store.get_online_features(
            features=[f"{velocity.view}:{velocity.times_feature}"],
            entity_rows=[{velocity.key: value}],
        ).to_dict()[velocity.times_feature][0]
        recent = [t for t in current or [] if event_epoch - t < VELOCITY_WINDOW_SECONDS]
        times = sorted([*recent, event_epoch])
        frame = pd.DataFrame(
            {
                velocity.key: [value],
                "applied_at": [applied_at.astimezone(UTC)],
                velocity.count_feature: [len(times)],
                velocity.times_feature: [times],
            }
        )
        store.push(velocity.push_source, frame, to=PushMode.ONLINE)
        counts[velocity.count_feature] = len(times)
    return counts
