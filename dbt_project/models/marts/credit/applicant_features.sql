-- Applicant-level history, one snapshot per application: what the lender knew about the
-- applicant at applied_at (earlier applications and loans, delinquency seen before then).

with

applications as (
    select * from {{ ref('int_applications_enriched') }}
),

loans as (
    select * from {{ ref('int_loans_joined') }}
),

prior_applications as (
    select
        applications.application_id,
        count(earlier.application_id) as prior_applications_count,
        min(earlier.applied_at) as first_applied_at
    from applications
    left join applications as earlier
        on earlier.applicant_id = applications.applicant_id
        and earlier.applied_at < applications.applied_at
    group by applications.application_id
),

prior_loans as (
    select
        applications.application_id,
        count(loans.loan_id) as prior_loans_count,
        cast(sum(
            case when loans.reached_30_days_past_due_date < applications.applied_date then 1 else 0 end
        ) as bigint) as prior_loans_30_days_past_due_count,
        cast(sum(
            case when loans.reached_90_days_past_due_date < applications.applied_date then 1 else 0 end
        ) as bigint) as prior_loans_90_days_past_due_count
    from applications
    inner join loans
        on loans.applicant_id = applications.applicant_id
        and loans.disbursed_at < applications.applied_at
    group by applications.application_id
),

final as (
    select
        applications.applicant_id,
        applications.applied_at,
        applications.application_id,
        prior_applications.prior_applications_count,
        coalesce(
            {{ days_between('cast(prior_applications.first_applied_at as date)', 'applications.applied_date') }},
            0
        ) as days_since_first_application,
        coalesce(prior_loans.prior_loans_count, 0) as prior_loans_count,
        coalesce(prior_loans.prior_loans_30_days_past_due_count, 0)
            as prior_loans_30_days_past_due_count,
        coalesce(prior_loans.prior_loans_90_days_past_due_count, 0)
            as prior_loans_90_days_past_due_count
    from applications
    inner join prior_applications
        on applications.application_id = prior_applications.application_id
    left join prior_loans
        on applications.application_id = prior_loans.application_id
)

select * from final
