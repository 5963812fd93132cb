{#- Whether the query `check` returns a row; read only when executing. -#}
{% macro segc_returns_rows(check) %}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {{ return(run_query(check).rows | length > 0) }}
{% endmacro %}
