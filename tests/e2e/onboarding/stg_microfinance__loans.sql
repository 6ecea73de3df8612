with

source as (
    {{ latest_delivery(source('microfinance', 'microloans'), 'record_id') }}
),

renamed as (
    select
        record_id,
        partner_id,
        loan_ref_date,
        borrower_segment,
        loan_amount_cny,
        tenure_days,
        monthly_turnover_cny,
        prior_loans,
        group_guarantee,
        defaulted as is_default,
        {{ lineage_columns() }}
    from source
)

select * from renamed
