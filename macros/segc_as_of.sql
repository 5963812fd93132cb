{#- The evaluation instant: the `as_of` var (examples set it), else SEGC_AS_OF (set by `segc build
    --as-of`), else the run's start. Read only when executing: a var that changes, or an environment
    variable read while parsing, would make dbt parse the whole project again at every new as_of. -#}
{% macro segc_as_of_text() -%}
  {%- if not execute -%}{{ return('1970-01-01 00:00:00') }}{%- endif -%}
  {%- set value = var('as_of', none) or env_var('SEGC_AS_OF', '') or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?$', value | string) -%}
    {{ exceptions.raise_compiler_error("as_of must look like 2026-11-28 00:00:00, got " ~ value) }}
  {%- endif -%}
  {{ return(value | string | replace("T", " ")) }}
{%- endmacro %}

{% macro segc_as_of() -%}
  cast('{{ segc_as_of_text() }}' as timestamp)
{%- endmacro %}
