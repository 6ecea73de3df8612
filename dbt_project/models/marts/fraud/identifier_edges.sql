-- The shared-identifier graph's edges: applicant ↔ device / phone / IP range / address,
-- dated by the application that made each link.

with

links as (
    select * from {{ ref('int_identifier_links_unioned') }}
),

final as (
    select
        application_id,
        applicant_id,
        identifier_type,
        identifier_value,
        linked_at
    from links
)

select * from final
