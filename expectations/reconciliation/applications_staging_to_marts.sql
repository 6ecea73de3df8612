-- Reconciliation applications_staging_to_marts (expectations/reconciliation.yml): staging
-- applications against the three marts built from them, one row per ingest date. Mart rows
-- count on the ingest date of their application in staging, else on '(not in staging)'.
-- A mart is read through the mart() placeholder (its Parquet file), staging views by name.
with

staging as (
    select
        application_id,
        cast(ingest_date as varchar) as ingest_date,
        requested_amount_minor,
        monthly_income_minor
    from stg_lender__applications
),

staged as (
    select
        ingest_date,
        count(*) as staging_rows,
        sum(requested_amount_minor) as staging_requested_amount_minor,
        sum(monthly_income_minor) as staging_monthly_income_minor
    from staging
    group by ingest_date
),

application_features as (
    select
        coalesce(staging.ingest_date, '(not in staging)') as ingest_date,
        count(*) as application_features_rows,
        sum(mart.requested_amount_minor) as application_features_requested_amount_minor,
        sum(mart.monthly_income_minor) as application_features_monthly_income_minor
    from {{ mart('application_features') }} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

applicant_features as (
    select
        coalesce(staging.ingest_date, '(not in staging)') as ingest_date,
        count(*) as applicant_features_rows
    from {{ mart('applicant_features') }} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

identifier_edges as (
    select
        coalesce(staging.ingest_date, '(not in staging)') as ingest_date,
        count(distinct mart.application_id) as identifier_edges_applications
    from {{ mart('identifier_edges') }} as mart
    left join staging on mart.application_id = staging.application_id
    group by all
),

ingest_dates as (
    select ingest_date from staged
    union select ingest_date from application_features
    union select ingest_date from applicant_features
    union select ingest_date from identifier_edges
)

select
    ingest_dates.ingest_date,
    coalesce(staged.staging_rows, 0)::bigint as staging_rows,
    coalesce(application_features.application_features_rows, 0)::bigint
        as application_features_rows,
    coalesce(applicant_features.applicant_features_rows, 0)::bigint as applicant_features_rows,
    coalesce(identifier_edges.identifier_edges_applications, 0)::bigint
        as identifier_edges_applications,
    coalesce(staged.staging_requested_amount_minor, 0)::bigint
        as staging_requested_amount_minor,
    coalesce(application_features.application_features_requested_amount_minor, 0)::bigint
        as application_features_requested_amount_minor,
    coalesce(staged.staging_monthly_income_minor, 0)::bigint as staging_monthly_income_minor,
    coalesce(application_features.application_features_monthly_income_minor, 0)::bigint
        as application_features_monthly_income_minor
from ingest_dates
left join staged on ingest_dates.ingest_date = staged.ingest_date
left join application_features on ingest_dates.ingest_date = application_features.ingest_date
left join applicant_features on ingest_dates.ingest_date = applicant_features.ingest_date
left join identifier_edges on ingest_dates.ingest_date = identifier_edges.ingest_date
order by ingest_dates.ingest_date
