{{ config(unique_key='application_id') }}

-- One row per application with what was known when it was made: the applicant's age and
-- affordability, the device it came from, and their credit-bureau inquiries before it.

with

applications as (
    select * from {{ ref('stg_lender__applications') }}
    where {{ only_new_partitions() }}
),

device_events as (
    select * from {{ ref('stg_device_sdk__events') }}
),

inquiries as (
    select * from {{ ref('stg_bureau__inquiries') }}
),

devices_summarised as (
    select
        device_events.application_id,
        max(case when device_events.is_emulator then 1 else 0 end) = 1 as is_emulator,
        max(case when device_events.is_rooted then 1 else 0 end) = 1 as is_rooted,
        max(device_events.os) as os,
        count(*) as device_event_count
    from device_events
    inner join applications
        on device_events.application_id = applications.application_id
    group by device_events.application_id
),

inquiries_counted as (
    select
        applications.application_id,
        {% for days in [7, 30, 90] %}
        cast(sum(
            case when inquiries.inquired_at >= {{ dbt.dateadd('day', -days, 'applications.applied_at') }}
            then 1 else 0 end
        ) as bigint) as inquiries_{{ days }}d_count,
        count(distinct
            case when inquiries.inquired_at >= {{ dbt.dateadd('day', -days, 'applications.applied_at') }}
            then inquiries.lender_id end
        ) as inquiry_lenders_{{ days }}d_count{{ "," if not loop.last }}
        {% endfor %}
    from applications
    inner join inquiries
        on inquiries.applicant_id = applications.applicant_id
        and inquiries.inquired_at < applications.applied_at
        and inquiries.inquired_at >= {{ dbt.dateadd('day', -90, 'applications.applied_at') }}
    group by applications.application_id
),

final as (
    select
        applications.application_id,
        applications.applicant_id,
        applications.applied_at,
        applications.applied_date,
        applications.age_years,
        applications.city_code,
        applications.employment_type,
        applications.monthly_income_minor,
        applications.monthly_debt_payment_minor,
        cast(applications.monthly_debt_payment_minor as double)
            / nullif(applications.monthly_income_minor, 0) as debt_to_income_ratio,
        applications.requested_amount_minor,
        applications.term_months,
        applications.loan_purpose,
        applications.channel,
        applications.partner_id,
        applications.device_id,
        applications.phone_pseudonym,
        applications.residential_address_pseudonym,
        applications.ip_range,
        coalesce(devices_summarised.is_emulator, false) as is_emulator,
        coalesce(devices_summarised.is_rooted, false) as is_rooted,
        devices_summarised.os,
        coalesce(devices_summarised.device_event_count, 0) as device_event_count,
        {% for days in [7, 30, 90] %}
        coalesce(inquiries_counted.inquiries_{{ days }}d_count, 0) as inquiries_{{ days }}d_count,
        coalesce(inquiries_counted.inquiry_lenders_{{ days }}d_count, 0)
            as inquiry_lenders_{{ days }}d_count,
        {% endfor %}
        applications.has_consented_credit_scoring,
        applications.has_consented_fraud_prevention,
        applications.ingest_date,
        applications.loaded_at
    from applications
    left join devices_summarised
        on applications.application_id = devices_summarised.application_id
    left join inquiries_counted
        on applications.application_id = inquiries_counted.application_id
)

select * from final
