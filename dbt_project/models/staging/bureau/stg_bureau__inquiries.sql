with

source as (
    {{ latest_delivery(source('bureau', 'bureau_inquiries'), 'inquiry_id') }}
),

renamed as (
    select
        inquiry_id,
        applicant_id,
        lender_id,
        inquiry_reason,
        {{ utc('inquired_at') }} as inquired_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
