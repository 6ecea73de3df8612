with

source as (
    {{ latest_delivery(source('lender', 'applications'), 'application_id') }}
),

renamed as (
    select
        application_id,
        applicant_id,
        {{ utc('applied_at') }} as applied_at,
        cast({{ utc('applied_at') }} as date) as applied_date,
        name_pseudonym,
        phone_pseudonym,
        residential_address_pseudonym,
        age_years,  -- landed as the age at applied_at: the birth date never lands
        city_code,  -- landed as the region (4 digits): the county never lands
        employment_type,
        monthly_income_minor,
        monthly_debt_payment_minor,
        requested_amount_minor,
        term_months,
        loan_purpose,
        channel,
        partner_id,
        device_id,
        ip_address,
        {{ ip_range('ip_address') }} as ip_range,
        has_consented_credit_scoring,
        has_consented_fraud_prevention,
        has_consented_marketing,
        {{ lineage_columns() }}
    from source
)

select * from renamed
