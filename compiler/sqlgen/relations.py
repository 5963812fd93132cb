"""Placeholders for the relations and the instant a query reads, and their binding at render time.

Trees name dbt sources and models through reserved table names; `render` turns them into
`{{ source() }}` / `{{ ref() }}` for dbt, or into the declared relations for a plain query.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlglot
from sqlglot import exp

from .. import ir
from .atoms import AS_OF, literal

_SOURCE = "segc_source__"
_REF = "segc_ref__"
_THIS = "segc_this__"
_TOKEN = re.compile(rf"\b({_SOURCE}|{_REF})([a-z][a-z0-9_]*)\b|\b{AS_OF.name}\b|\b{_THIS}\b")


def source_table(name: str) -> exp.Table:
    """The relation of source `name` ('contacts' or a stream name)."""
    return exp.to_table(_SOURCE + name)


def ref_table(model: str) -> exp.Table:
    return exp.to_table(_REF + model)


def this_table() -> exp.Table:
    """The incremental model's own existing table (`{{ this }}`)."""
    return exp.to_table(_THIS)


def relation_of(project: ir.Project, name: str) -> str:
    return project.contacts.relation if name == "contacts" else project.stream(name).relation


def dbt_source(project: ir.Project, name: str) -> tuple[str, str]:
    """(source name, table name) under which dbt knows a declared relation."""
    parts = relation_of(project, name).split(".")
    return parts[-2], parts[-1]


def to_sql(tree: exp.Expression, dialect: str) -> str:
    """Render, raising instead of silently emitting something the dialect cannot express."""
    return tree.sql(dialect=dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)


def render_dbt(tree: exp.Expression, project: ir.Project, dialect: str = "duckdb") -> str:
    """SQL for a dbt model: sources, refs and as_of become Jinja calls."""

    def jinja(match: re.Match) -> str:
        if match.group(1) == _SOURCE:
            return "{{ source('%s', '%s') }}" % dbt_source(project, match.group(2))
        if match.group(1) == _REF:
            return "{{ ref('%s') }}" % match.group(2)
        if match.group(0) == _THIS:
            return "{{ this }}"
        return "{{ segc_as_of() }}"

    return _TOKEN.sub(jinja, to_sql(tree, dialect)) + "\n"


def render_plain(tree: exp.Expression, project: ir.Project, dialect: str, as_of: datetime,
                 schema: str = "segments") -> str:
    """SQL that runs as is against the declared relations at a fixed as_of."""

    def bind(node):
        if isinstance(node, exp.Table) and node.name.startswith(_SOURCE):
            return exp.to_table(relation_of(project, node.name[len(_SOURCE):]), alias=node.alias or None)
        if isinstance(node, exp.Table) and node.name.startswith(_REF):
            return exp.to_table(f"{schema}.{node.name[len(_REF):]}", alias=node.alias or None)
        if isinstance(node, exp.Column) and node.name == AS_OF.name and not node.table:
            return literal(as_of)
        return node

    return to_sql(tree.transform(bind), dialect) + "\n"
