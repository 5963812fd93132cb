{#- The evaluation instant: the `as_of` var (set by `segc build --as-of`), else the run's start. -#}
{% macro segc_as_of() -%}
  {%- set value = var('as_of', none) -%}
  {%- if value is none -%}{%- set value = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}{%- endif -%}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?$', value | string) -%}
    {{ exceptions.raise_compiler_error("as_of must look like 2026-11-28 00:00:00, got " ~ value) }}
  {%- endif -%}
  cast('{{ value | replace("T", " ") }}' as timestamp)
{%- endmacro %}
