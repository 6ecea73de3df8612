with

source as (
    {{ latest_delivery(source('lists', 'lists'), 'list_entry_id') }}
),

renamed as (
    select
        list_entry_id,
        list_type,
        applicant_id,
        phone_pseudonym,
        device_id,
        list_source,
        reason,
        {{ utc('added_at') }} as added_at,
        {{ utc('expires_at') }} as expires_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
