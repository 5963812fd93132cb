{#- Refuse a build whose as_of is earlier than the latest recorded one: history only moves forward.
    `segc build --rebuild-history` sets segc_rebuild_history to rebuild it on purpose. -#}
{% macro segc_check_as_of() %}
  {{- segc_check_selection() -}}
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

{#- Refuse a selection that records a build (the change feed, the summary) without building the membership it
    reads: the build would be recorded from the previous build's members. Views read their inputs live; every
    other model the membership depends on must be selected too. -#}
{% macro segc_check_selection() %}
  {%- if execute and flags.WHICH in ('build', 'run') -%}
    {%- set prefix = 'model.' ~ project_name ~ '.' -%}
    {%- set recording = [] -%}
    {%- for name in ('segment_membership_changes', 'segment_summary') if prefix ~ name in selected_resources -%}
      {%- do recording.append(name) -%}
    {%- endfor -%}
    {%- set missing, walk = [], namespace(frontier=[prefix ~ 'segment_membership']) -%}
    {%- for depth in range(8) if recording -%}
      {%- set upstream = [] -%}
      {%- for id in walk.frontier if id in graph.nodes -%}
        {%- set node = graph.nodes[id] -%}
        {%- if id not in selected_resources and node.config.materialized != 'view' -%}
          {%- do missing.append(node.name) -%}
        {%- endif -%}
        {%- do upstream.extend(node.depends_on.nodes | select('in', graph.nodes) | list) -%}
      {%- endfor -%}
      {%- set walk.frontier = upstream -%}
    {%- endfor -%}
    {%- if missing -%}
      {{ exceptions.raise_compiler_error(recording | join(' and ') ~ " would record this build from "
         ~ "segment_membership, but the selection leaves out " ~ (missing | unique | join(', '))
         ~ ", so the previous build's members would be recorded as this one's: build without a selection, "
         ~ "or select them too") }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
