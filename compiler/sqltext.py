"""The standalone query of one definition: what `segc sql` prints, shared by `segc plan` and `segc show`."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from . import ir
from .sqlgen.plan import PUBLISHED_AS, Plan
from .sqlgen.relations import render_plain
from .workspace import subset


def definition_query(project: ir.Project, kind: str, name: str) -> tuple[ir.Project, exp.Select]:
    """(the project reduced to what `name` needs, the query computing it): a segment's members, or
    contact_id plus the result columns of a score, lifecycle or RFM model, named as in its published table."""
    small = subset(project, kind, name)
    plan = Plan(small)
    query = plan.results()
    wanted = plan.outputs(kind, name)
    if kind == "segment":
        query.set("expressions", query.expressions[:1])
        return small, query.where(wanted[0])
    published = dict(zip(wanted, PUBLISHED_AS[kind]))
    query.set("expressions", [query.expressions[0]] + [e.as_(published[e.alias_or_name], copy=False)
                                                       for e in query.expressions if e.alias_or_name in published])
    return small, query


def definition_sql(project: ir.Project, kind: str, name: str, dialect: str, as_of: datetime) -> str:
    """The SQL `segc sql NAME --dialect D --as-of T` prints."""
    small, query = definition_query(project, kind, name)
    return render_plain(query, small, dialect, as_of)
