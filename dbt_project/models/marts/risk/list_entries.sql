-- Black, grey and white list entries, keyed by whichever identifier each names.

with

entries as (
    select * from {{ ref('stg_lists__entries') }}
),

final as (
    select
        list_entry_id,
        list_type,
        applicant_id,
        phone_pseudonym,
        device_id,
        list_source,
        reason,
        added_at,
        expires_at
    from entries
)

select * from final
