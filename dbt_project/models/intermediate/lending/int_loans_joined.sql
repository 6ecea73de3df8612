{{ config(unique_key='loan_id') }}

-- Application ↔ loan ↔ repayments: one row per loan with its repayment record so far.
-- A loan is recomputed when a delivery brings news of it (the loan or its instalments).

with

applications as (
    select * from {{ ref('stg_lender__applications') }}
),

loans as (
    select * from {{ ref('stg_lender__loans') }}
),

instalments as (
    select * from {{ ref('int_instalments_aged') }}
),

loans_to_build as (
    select loan_id from loans
    {% if is_incremental() %}
    where {{ only_new_partitions() }}
    union
    select loan_id from instalments where {{ only_new_partitions() }}
    {% endif %}
),

instalments_summarised as (
    select
        instalments.loan_id,
        max(instalments.observed_date) as observed_date,
        max(instalments.ingest_date) as ingest_date,
        count(*) as instalments_due_count,
        cast(sum(case when instalments.is_paid_in_full then 1 else 0 end) as bigint) as instalments_paid_count,
        cast(sum(instalments.amount_due_minor) as bigint) as amount_due_minor,
        cast(sum(instalments.fee_minor) as bigint) as fee_minor,
        cast(sum(instalments.amount_paid_minor) as bigint) as amount_paid_minor,
        max(instalments.days_past_due) as days_past_due,
        max(instalments.max_days_past_due) as max_days_past_due,
        max(case when instalments.instalment_number = 1 then instalments.due_date end)
            as first_due_date,
        max(case when instalments.instalment_number = 1 then instalments.max_days_past_due end)
            as first_instalment_max_days_past_due,
        min(instalments.reached_30_days_past_due_date) as reached_30_days_past_due_date,
        min(instalments.reached_90_days_past_due_date) as reached_90_days_past_due_date
    from instalments
    inner join loans_to_build
        on instalments.loan_id = loans_to_build.loan_id
    group by instalments.loan_id
),

final as (
    select
        loans.loan_id,
        loans.application_id,
        applications.applicant_id,
        applications.applied_at,
        applications.applied_date,
        loans.disbursed_at,
        loans.disbursed_date,
        loans.principal_minor,
        loans.term_months,
        loans.apr_bps,
        loans.instalment_amount_minor,
        -- a loan with no instalment due yet is observed as of its own delivery
        coalesce(instalments_summarised.observed_date, loans.ingest_date) as observed_date,
        coalesce(instalments_summarised.instalments_due_count, 0) as instalments_due_count,
        coalesce(instalments_summarised.instalments_paid_count, 0) as instalments_paid_count,
        coalesce(instalments_summarised.amount_due_minor, 0) as amount_due_minor,
        coalesce(instalments_summarised.fee_minor, 0) as fee_minor,
        coalesce(instalments_summarised.amount_paid_minor, 0) as amount_paid_minor,
        coalesce(instalments_summarised.days_past_due, 0) as days_past_due,
        coalesce(instalments_summarised.max_days_past_due, 0) as max_days_past_due,
        instalments_summarised.first_due_date,
        instalments_summarised.first_instalment_max_days_past_due,
        instalments_summarised.reached_30_days_past_due_date,
        instalments_summarised.reached_90_days_past_due_date,
        coalesce(instalments_summarised.observed_date, loans.ingest_date)
            >= {{ add_months('applications.applied_date', var('ever_90_dpd_window_months')) }}
            as is_observation_complete,
        greatest(loans.ingest_date, coalesce(instalments_summarised.ingest_date, loans.ingest_date))
            as ingest_date
    from loans
    inner join loans_to_build
        on loans.loan_id = loans_to_build.loan_id
    inner join applications
        on loans.application_id = applications.application_id
    left join instalments_summarised
        on loans.loan_id = instalments_summarised.loan_id
)

select * from final
