{#- Models land in exactly the schema they configure (`segments`), not target_schema + '_segments'. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
