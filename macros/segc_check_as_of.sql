{#- Refuse a build whose as_of is earlier than the latest recorded one: history only moves forward.
    `segc build --rebuild-history` sets segc_rebuild_history to rebuild it on purpose. -#}
{% macro segc_check_as_of() %}
  {%- if execute and flags.WHICH in ('build', 'run') and not var('segc_rebuild_history', false) -%}
    {%- set row = run_query("select cast(latest as " ~ dbt.type_string() ~ "), latest > " ~ segc_as_of()
                            ~ " from (select " ~ segc_latest_build() ~ " as latest) as segc_recorded").rows[0] -%}
    {%- if row[1] -%}
      {{ exceptions.raise_compiler_error("as_of " ~ segc_as_of_text() ~ " is earlier than the latest recorded build ("
         ~ row[0] ~ "): history only moves forward. To rebuild history on purpose, run segc build --rebuild-history") }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{#- The latest recorded build's as_of, as a SQL expression (1900-01-01 before the first): the latest in the
    change feed or in the summary, which also records the builds that changed no membership. -#}
{% macro segc_latest_build() -%}
  {%- set reads = [] -%}
  {%- for name in ('segment_membership_changes', 'segment_summary') if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='segments', identifier=name) -%}
    {%- if relation is not none -%}
      {%- do reads.append('select max(as_of) as as_of from ' ~ relation) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set epoch = "cast('1900-01-01 00:00:00' as timestamp)" -%}
  {%- if reads -%}
    coalesce((select max(as_of) from ({{ reads | join(' union all ') }}) as segc_builds), {{ epoch }})
  {%- else -%}
    {{ epoch }}
  {%- endif -%}
{%- endmacro %}
