-- A partner's historical book (German Credit as P900), for models trained on real data.

with

records as (
    select * from {{ ref('stg_partner__portfolio_records') }}
),

final as (
    select
        record_id,
        partner_id,
        status_of_existing_checking_account,
        duration_in_month,
        credit_history,
        purpose,
        credit_amount,
        savings_account_and_bonds,
        present_employment_since,
        installment_rate_in_percentage_of_disposable_income,
        personal_status_and_sex,
        other_debtors_or_guarantors,
        present_residence_since,
        property,
        age_in_years,
        other_installment_plans,
        housing,
        number_of_existing_credits_at_this_bank,
        job,
        number_of_people_being_liable_to_provide_maintenance_for,
        telephone,
        foreign_worker,
        is_bad,
        loaded_at
    from records
)

select * from final
