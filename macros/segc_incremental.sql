{#- Incremental membership (settings.incremental): compiler/sqlgen/incremental.py explains the models. -#}

{#- Whether this build can resume from the previous one's state: not with --full-refresh, and only when the
    state comes from the same compiled definitions (checked first: a state of other definitions may lack the
    columns `check` reads, one per stream) and `check` returns a row. -#}
{% macro segc_resumable(fingerprint, check) %}
  {%- if not execute or flags.FULL_REFRESH -%}{{ return(false) }}{%- endif -%}
  {%- for name in ('segc_state', 'segc_contact_hashes') -%}
    {%- if adapter.get_relation(database=this.database, schema=this.schema, identifier=name) is none -%}
      {{ return(false) }}
    {%- endif -%}
  {%- endfor -%}
  {%- set same = "select 1 from " ~ this.schema ~ ".segc_state where fingerprint = '" ~ fingerprint ~ "'" -%}
  {{ return(segc_returns_rows(same) and segc_returns_rows(check)) }}
{% endmacro %}

{#- Post-hook of segc_changed: the state is incomplete until segc_state is rebuilt, so a build that
    stops in between makes the next one recompute every contact. -#}
{% macro segc_state_incomplete() %}
  {%- set state = adapter.get_relation(database=this.database, schema=this.schema, identifier='segc_state') -%}
  {%- if state is not none -%}update {{ state }} set complete = false{%- endif -%}
{% endmacro %}

{#- Whether segc_changed says "every contact" (one NULL key). -#}
{% macro segc_everything_changed(changed) %}
  {%- if not execute -%}{{ return(true) }}{%- endif -%}
  {{ return(segc_returns_rows("select 1 from " ~ changed ~ " where segc_cid is null")) }}
{% endmacro %}

{#- Pre-hook of the kept members: forget the rows of the contacts about to be recomputed. -#}
{% macro segc_forget_changed(changed, key) %}
  {%- if is_incremental() -%}
    {%- if segc_everything_changed(changed) -%}
      delete from {{ this }}
    {%- else -%}
      delete from {{ this }} where {{ key }} in (select segc_cid from {{ changed }})
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{#- The previous build's as_of, as a literal (read from segc_state). -#}
{% macro segc_previous_as_of() %}
  {%- if not execute -%}
    cast(null as timestamp)
  {%- else -%}
    {%- set state = adapter.get_relation(database=this.database, schema=this.schema, identifier='segc_state') -%}
    cast('{{ run_query("select cast(as_of as varchar) from " ~ state).columns[0].values()[0] }}' as timestamp)
  {%- endif -%}
{% endmacro %}
