-- Reconciliation loans_staging_to_labels (expectations/reconciliation.yml): staging loans
-- against loan_performance_labels (one row per loan), and the sums of their instalments in
-- staging against the labels' amounts, one row per ingest date of the loan.
with

loans as (
    select loan_id, cast(ingest_date as varchar) as ingest_date
    from stg_lender__loans
),

staged as (
    select ingest_date, count(*) as staging_rows
    from loans
    group by ingest_date
),

instalments as (
    select
        loans.ingest_date,
        sum(repayments.amount_due_minor) as staging_amount_due_minor,
        sum(repayments.fee_minor) as staging_fee_minor,
        sum(repayments.amount_paid_minor) as staging_amount_paid_minor
    from stg_lender__repayments as repayments
    inner join loans on repayments.loan_id = loans.loan_id
    group by all
),

labels as (
    select
        coalesce(loans.ingest_date, '(not in staging)') as ingest_date,
        count(*) as labels_rows,
        sum(labels.amount_due_minor) as labels_amount_due_minor,
        sum(labels.fee_minor) as labels_fee_minor,
        sum(labels.amount_paid_minor) as labels_amount_paid_minor
    from {{ mart('loan_performance_labels') }} as labels
    left join loans on labels.loan_id = loans.loan_id
    group by all
),

ingest_dates as (
    select ingest_date from staged
    union select ingest_date from instalments
    union select ingest_date from labels
)

select
    ingest_dates.ingest_date,
    coalesce(staged.staging_rows, 0)::bigint as staging_rows,
    coalesce(labels.labels_rows, 0)::bigint as labels_rows,
    coalesce(instalments.staging_amount_due_minor, 0)::bigint as staging_amount_due_minor,
    coalesce(labels.labels_amount_due_minor, 0)::bigint as labels_amount_due_minor,
    coalesce(instalments.staging_fee_minor, 0)::bigint as staging_fee_minor,
    coalesce(labels.labels_fee_minor, 0)::bigint as labels_fee_minor,
    coalesce(instalments.staging_amount_paid_minor, 0)::bigint as staging_amount_paid_minor,
    coalesce(labels.labels_amount_paid_minor, 0)::bigint as labels_amount_paid_minor
from ingest_dates
left join staged on ingest_dates.ingest_date = staged.ingest_date
left join instalments on ingest_dates.ingest_date = instalments.ingest_date
left join labels on ingest_dates.ingest_date = labels.ingest_date
order by ingest_dates.ingest_date
