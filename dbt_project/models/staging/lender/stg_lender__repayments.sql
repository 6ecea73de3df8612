with

source as (
    {{ latest_delivery(source('lender', 'repayments'), 'instalment_id') }}
),

renamed as (
    select
        instalment_id,
        loan_id,
        instalment_number,
        due_date,
        amount_due_minor,
        fee_minor,
        amount_paid_minor,
        {{ utc('paid_at') }} as paid_at,
        cast({{ utc('paid_at') }} as date) as paid_date,
        amount_paid_minor >= amount_due_minor as is_paid_in_full,
        {{ lineage_columns() }}
    from source
)

select * from renamed
