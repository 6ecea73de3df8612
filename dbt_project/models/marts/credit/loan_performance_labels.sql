-- Loan performance labels per application, from what happened after it only. A label is
-- null until its window has been fully observed (or the event has already happened).

with

loans as (
    select * from {{ ref('int_loans_joined') }}
),

windows as (
    select
        *,
        {{ add_months('applied_date', var('ever_30_dpd_window_months')) }} as ever_30_window_end_date,
        {{ add_months('applied_date', var('ever_90_dpd_window_months')) }} as ever_90_window_end_date,
        {{ add_days('first_due_date', var('first_payment_default_days')) }} as first_payment_default_date
    from loans
),

final as (
    select
        application_id,
        applicant_id,
        loan_id,
        applied_at,
        disbursed_at,
        observed_date,
        case
            when first_instalment_max_days_past_due >= {{ var('first_payment_default_days') }}
                then true
            when first_payment_default_date <= observed_date then false
        end as is_first_payment_default,
        first_payment_default_date,
        case
            when reached_30_days_past_due_date <= ever_30_window_end_date then true
            when observed_date >= ever_30_window_end_date then false
        end as is_ever_30_days_past_due_6m,
        case
            when reached_90_days_past_due_date <= ever_90_window_end_date then true
            when observed_date >= ever_90_window_end_date then false
        end as is_ever_90_days_past_due_12m,
        instalments_due_count,
        amount_due_minor,
        fee_minor,
        amount_paid_minor,
        max_days_past_due
    from windows
)

select * from final
