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
    contact_id plus the result columns of a score, lifecycle or RFM model: the rows and columns of its published
    table."""
    small = subset(project, kind, name)
    plan = Plan(small)
    query = plan.results()
    published = dict(zip(plan.outputs(kind, name), PUBLISHED_AS.get(kind, ())))
    query.set("expressions", [query.expressions[0]] + [e.as_(published[e.alias_or_name], copy=False)
                                                       for e in query.expressions if e.alias_or_name in published])
    rows = plan.published_rows(kind, name)
    return small, query if rows is None else query.where(rows, copy=False)


def definition_sql(project: ir.Project, kind: str, name: str, dialect: str, as_of: datetime) -> str:
    """The SQL `segc sql NAME --dialect D --as-of T` prints."""
    small, query = definition_query(project, kind, name)
    return render_plain(query, small, dialect, as_of)
