with

source as (
    {{ latest_delivery(source('device_sdk', 'device_events'), 'event_id') }}
),

renamed as (
    select
        event_id,
        device_id,
        application_id,
        event_type,
        os,
        os_version,
        is_emulator,
        is_rooted,
        ip_address,
        {{ ip_range('ip_address') }} as ip_range,
        {{ utc('occurred_at') }} as occurred_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
