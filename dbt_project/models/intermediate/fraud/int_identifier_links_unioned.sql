{{ config(unique_key='application_id') }}

-- The shared-identifier edge list of the fraud graph, as applicant ↔ identifier links:
-- two applicants are neighbours when they link to the same device, phone, /24 IP range or
-- address. Each link is dated by the application that made it, so a graph built "as of" a
-- time uses no link from the future.

with

applications as (
    select * from {{ ref('stg_lender__applications') }}
    where {{ only_new_partitions() }}
),

device_events as (
    select * from {{ ref('stg_device_sdk__events') }}
),

application_links as (
    {% for identifier_type, column in [
        ('device', 'device_id'),
        ('phone', 'phone_pseudonym'),
        ('ip_range', 'ip_range'),
        ('address', 'residential_address_pseudonym'),
    ] %}
    select
        application_id,
        applicant_id,
        '{{ identifier_type }}' as identifier_type,
        {{ column }} as identifier_value,
        applied_at as linked_at,
        ingest_date
    from applications
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

event_links as (
    -- devices and networks seen by the SDK during the application, beyond the declared ones
    {% for identifier_type, column in [('device', 'device_id'), ('ip_range', 'ip_range')] %}
    select
        applications.application_id,
        applications.applicant_id,
        '{{ identifier_type }}' as identifier_type,
        device_events.{{ column }} as identifier_value,
        applications.applied_at as linked_at,
        applications.ingest_date
    from device_events
    inner join applications
        on device_events.application_id = applications.application_id
    where device_events.{{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

unioned as (
    select * from application_links
    union
    select * from event_links
),

final as (
    select
        application_id,
        applicant_id,
        identifier_type,
        identifier_value,
        linked_at,
        ingest_date
    from unioned
)

select * from final
