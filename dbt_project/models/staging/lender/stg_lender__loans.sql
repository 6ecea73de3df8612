with

source as (
    {{ latest_delivery(source('lender', 'loans'), 'loan_id') }}
),

renamed as (
    select
        loan_id,
        application_id,
        {{ utc('disbursed_at') }} as disbursed_at,
        cast({{ utc('disbursed_at') }} as date) as disbursed_date,
        principal_minor,
        term_months,
        apr_bps,
        instalment_amount_minor,
        {{ lineage_columns() }}
    from source
)

select * from renamed
