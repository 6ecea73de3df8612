{{ config(materialized='view') }}

-- Each instalment's days past due, and the day it crossed 30 and 90 days past due, if it
-- did. A loan is observed as of its latest delivery: an instalment still unpaid then has
-- kept ageing until that day (had it been paid, it would have been redelivered).

with

instalments as (
    select * from {{ ref('stg_lender__repayments') }}
),

observed as (
    select
        *,
        max(ingest_date) over (partition by loan_id) as observed_date
    from instalments
),

aged as (
    select
        instalments.*,
        greatest(
            0,
            case
                when instalments.is_paid_in_full
                    then {{ days_between('instalments.due_date', 'instalments.paid_date') }}
                else {{ days_between('instalments.due_date', 'instalments.observed_date') }}
            end
        ) as max_days_past_due,
        case
            when instalments.is_paid_in_full then 0
            else greatest(0, {{ days_between('instalments.due_date', 'instalments.observed_date') }})
        end as days_past_due
    from observed as instalments
),

final as (
    select
        *,
        case
            when max_days_past_due >= 30 then {{ add_days('due_date', 30) }}
        end as reached_30_days_past_due_date,
        case
            when max_days_past_due >= 90 then {{ add_days('due_date', 90) }}
        end as reached_90_days_past_due_date
    from aged
)

select * from final
