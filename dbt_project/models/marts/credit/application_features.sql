-- Application-level features, each as known at the moment of application (applied_at is
-- the event timestamp Feast joins on).

with

applications as (
    select * from {{ ref('int_applications_enriched') }}
),

final as (
    select
        application_id,
        applicant_id,
        applied_at,
        age_years,
        city_code,
        employment_type,
        monthly_income_minor,
        monthly_debt_payment_minor,
        debt_to_income_ratio,
        requested_amount_minor,
        term_months,
        loan_purpose,
        channel,
        partner_id,
        device_id,
        ip_range,
        is_emulator,
        is_rooted,
        os,
        device_event_count,
        inquiries_7d_count,
        inquiries_30d_count,
        inquiries_90d_count,
        inquiry_lenders_7d_count,
        inquiry_lenders_30d_count,
        inquiry_lenders_90d_count,
        has_consented_credit_scoring,
        has_consented_fraud_prevention
    from applications
)

select * from final
