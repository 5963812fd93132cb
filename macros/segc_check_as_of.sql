{#- Refuse a build whose as_of is earlier than the latest recorded one: history only moves forward.
    `segc build --rebuild-history` sets segc_rebuild_history to rebuild it on purpose. Refuse a run of tests alone
    at another as_of than the latest build's: they would check that build's tables against another instant. -#}
{% macro segc_check_as_of() %}
  {%- if execute and flags.WHICH in ('build', 'run', 'test') and not var('segc_rebuild_history', false) -%}
    {%- set row = run_query("select cast(latest as " ~ dbt.type_string() ~ "), latest > " ~ segc_as_of()
                            ~ ", latest <> " ~ segc_as_of() ~ " and latest > cast('1900-01-01 00:00:00' as timestamp)"
                            ~ " from (select " ~ segc_latest_build() ~ " as latest) as segc_recorded").rows[0] -%}
    {%- set models = [] -%}
    {%- for id in selected_resources if id.startswith('model.' ~ project_name ~ '.') -%}
      {%- do models.append(id) -%}
    {%- endfor -%}
    {%- if row[2] and not models and flags.WHICH != 'run' -%}
      {{ exceptions.raise_compiler_error("this selection builds no model, so its tests check the tables of the "
         ~ "latest build, whose as_of is " ~ row[0] ~ ", not " ~ segc_as_of_text() ~ ": run it with --as-of '"
         ~ row[0] ~ "'") }}
    {%- elif row[1] -%}
      {{ exceptions.raise_compiler_error("as_of " ~ segc_as_of_text() ~ " is earlier than the latest recorded build ("
         ~ row[0] ~ "): history only moves forward. To rebuild history on purpose, run segc build --rebuild-history") }}
    {%- endif -%}
  {%- endif -%}
  {{- segc_check_selection() -}}
{% endmacro %}

{#- The latest recorded build's as_of, as a SQL expression (1900-01-01 before the first): the latest in the
    change feed or in the summary, which also records the builds that changed no membership. -#}
{% macro segc_latest_build() -%}
  {%- set reads = [] -%}
  {%- for name in ('segment_membership_changes', 'segment_summary') if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=var('segc_schema'), identifier=name) -%}
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

{#- Refuse a selection that builds a model without a table it is computed from (through views, which read their
    inputs live): that model would publish, or the change feed and the summary record, the previous build's
    results under this build's as_of. Refuse one that leaves out a view of the tables it rebuilds (the
    incremental membership): the view stamps them with the as_of of the build that created it. -#}
{% macro segc_check_selection() %}
  {%- if execute and flags.WHICH in ('build', 'run') -%}
    {%- set prefix = 'model.' ~ project_name ~ '.' -%}
    {%- set seen, missing, walk = [], [], namespace(frontier=[]) -%}
    {%- for id in selected_resources if id.startswith(prefix) -%}
      {%- do walk.frontier.append(id) -%}
    {%- endfor -%}
    {%- for depth in range(12) -%}
      {%- set upstream = [] -%}
      {%- for id in walk.frontier if id in graph.nodes and id not in seen -%}
        {%- do seen.append(id) -%}
        {%- set node = graph.nodes[id] -%}
        {%- if id not in selected_resources and node.config.materialized != 'view' -%}
          {%- do missing.append(node.name) -%}
        {%- endif -%}
        {%- do upstream.extend(node.depends_on.nodes | select('in', graph.nodes) | list) -%}
      {%- endfor -%}
      {%- set walk.frontier = upstream -%}
    {%- endfor -%}
    {%- set stamping = [] -%}
    {%- for id, node in graph.nodes.items() if id.startswith(prefix) and id not in selected_resources
                                              and node.config.materialized == 'view' -%}
      {%- if node.depends_on.nodes | select('in', selected_resources) | list -%}
        {%- do stamping.append(node.name) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if stamping -%}
      {{ exceptions.raise_compiler_error("the selection leaves out " ~ (stamping | sort | join(', ')) ~ ", a view "
         ~ "of tables it rebuilds that stamps them with the build's as_of: it would show this build's rows under "
         ~ "the previous as_of. Select it too") }}
    {%- endif -%}
    {%- if missing -%}
      {{ exceptions.raise_compiler_error("the selection leaves out " ~ (missing | sort | join(', '))
         ~ ", which the selected models are computed from: they would publish (or record) what the previous "
         ~ "build left there under this build's as_of. Build without a selection, or select them too (+MODEL "
         ~ "selects a model and everything it is computed from)") }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
