{#- Refuse a build whose as_of is earlier than the latest recorded one: history only moves forward.
    `segc build --rebuild-history` sets segc_rebuild_history to rebuild it on purpose. -#}
{% macro segc_check_as_of() %}
  {%- if execute and flags.WHICH in ('build', 'run') and not var('segc_rebuild_history', false) -%}
    {%- set feed = adapter.get_relation(database=target.database, schema='segments',
                                        identifier='segment_membership_changes') -%}
    {%- if feed is not none -%}
      {%- set row = run_query("select cast(max(as_of) as " ~ dbt.type_string() ~ "), max(as_of) > "
                              ~ segc_as_of() ~ " from " ~ feed).rows[0] -%}
      {%- if row[1] -%}
        {{ exceptions.raise_compiler_error("as_of " ~ segc_as_of_text() ~ " is earlier than the latest recorded build ("
           ~ row[0] ~ "): history only moves forward. To rebuild history on purpose, run segc build --rebuild-history") }}
      {%- endif -%}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
