{#- Fails with every combination of `columns` that occurs more than once. With `latest_of`, only among the rows
    whose `latest_of` is the latest: an append-only table keyed by its build's as_of gains duplicates only there. -#}
{% test segc_unique_combination(model, columns, latest_of=none) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if latest_of %}
where {{ latest_of }} = (select max({{ latest_of }}) from {{ model }})
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
