"""Risk indices per application, as of the moment it was made, and the velocity tables.

- device risk index: emulator / root flags and SDK events (the mart) with applicants per
  device and IP range (the graph);
- social relationship index: the graph features (``zhongtai.graph``);
- list hits: black / grey / white entries active at the application, on the applicant,
  the phone or the device;
- velocity: applications per device and per /24 IP range in the hour up to each one, with
  their times, so that a pushed event can slide the window forward (``velocity.py``).
"""

from __future__ import annotations

from zhongtai.duck import connect, read_parquet_sql, write_query_parquet
from zhongtai.feature_tables import feature_table_path
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

VELOCITY_WINDOW_SECONDS = 3600

LIST_TYPES = ("black", "grey", "white")


def risk_indices_sql(settings: Settings) -> str:
    applications = read_parquet_sql(mart_path(settings, "application_features").resolve())
    edges = read_parquet_sql(mart_path(settings, "identifier_edges").resolve())
    lists = read_parquet_sql(mart_path(settings, "list_entries").resolve())
    graph = read_parquet_sql(feature_table_path(settings, "graph_features").resolve())
    active = "entries.added_at <= apps.applied_at and " + (
        "(entries.expires_at is null or entries.expires_at > apps.applied_at)"
    )
    hits_by = " union all ".join(
        f"""
        select apps.application_id, entries.list_type
        from apps inner join entries on entries.{column} = apps.{column} and {active}"""
        for column in ("applicant_id", "phone_pseudonym", "device_id")
    )
    flags = ",\n".join(
        f"coalesce(bool_or(hits.list_type = '{kind}'), false) as is_{kind}listed"
        for kind in LIST_TYPES
    )
    return f"""
    with
    phones as (
        select application_id, min(identifier_value) as phone_pseudonym
        from {edges} where identifier_type = 'phone' group by application_id
    ),
    apps as (
        select a.application_id, a.applicant_id, a.applied_at, a.device_id, phones.phone_pseudonym
        from {applications} as a left join phones using (application_id)
    ),
    entries as (select * from {lists}),
    hits as ({hits_by}),
    list_flags as (
        select apps.application_id, {flags}
        from apps left join hits using (application_id)
        group by apps.application_id
    )
    select
        a.application_id, a.applicant_id, a.applied_at,
        a.is_emulator, a.is_rooted, a.device_event_count,
        g.device_sharers_7d, g.device_sharers_30d,
        g.ip_range_sharers_7d, g.ip_range_sharers_30d,
        g.component_size, g.neighbour_count,
        g.phone_sharers_7d, g.phone_sharers_30d,
        g.neighbour_default_share, g.neighbour_blacklist_share, g.ring_score,
        list_flags.is_blacklisted, list_flags.is_greylisted, list_flags.is_whitelisted
    from {applications} as a
    inner join {graph} as g using (application_id)
    inner join list_flags using (application_id)
    order by a.applied_at, a.application_id
    """


def velocity_sql(settings: Settings, key: str) -> str:
    """Per (key, application time): applications on the same key in the hour up to then."""
    applications = read_parquet_sql(mart_path(settings, "application_features").resolve())
    return f"""
    with events as (
        select {key}, applied_at, epoch(applied_at)::bigint as applied_epoch
        from {applications} where {key} is not null
    ),
    windowed as (
        select
            {key}, applied_at,
            count(*) over recent as {key.removesuffix("_id")}_applications_1h,
            list(applied_epoch) over recent as {key.removesuffix("_id")}_application_times_1h
        from events
        window recent as (
            partition by {key} order by applied_epoch
            range between {VELOCITY_WINDOW_SECONDS - 1} preceding and current row
        )
    )
    -- several applications at the same second: keep the row that counts them all
    select * from windowed
    qualify row_number() over (
        partition by {key}, applied_at order by {key.removesuffix("_id")}_applications_1h desc
    ) = 1
    order by applied_at
    """


def build_risk_indices(settings: Settings) -> dict[str, int]:
    """Write risk_indices and the two velocity tables; return the rows of each."""
    tables = {
        "risk_indices": risk_indices_sql(settings),
        "device_velocity": velocity_sql(settings, "device_id"),
        "ip_range_velocity": velocity_sql(settings, "ip_range"),
    }
    with connect(settings) as connection:
        return {
            table: write_query_parquet(connection, query, feature_table_path(settings, table))
            for table, query in tables.items()
        }
