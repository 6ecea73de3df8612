-- A third partner's microloan book, for a model trained from files alone.

with

loans as (
    select * from {{ ref('stg_microfinance__loans') }}
),

final as (
    select
        record_id,
        partner_id,
        borrower_segment,
        loan_amount_cny,
        tenure_days,
        monthly_turnover_cny,
        prior_loans,
        cast(group_guarantee as integer) as group_guarantee,
        is_default
    from loans
)

select * from final
