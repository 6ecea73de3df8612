{#
  Rows for which an expression is false fail the test, e.g. an accounting identity:
    data_tests:
      - expression_is_true:
          arguments: {expression: "amount_paid_minor <= amount_due_minor + fee_minor"}
#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
