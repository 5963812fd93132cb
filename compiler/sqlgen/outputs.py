"""The published models (long tables read by BI and reverse ETL) and the dbt tests that assert rules."""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from . import atoms
from .atoms import AS_OF, any_of
from .direct import Direct
from .plan import PUBLISHED_AS, RFM_COLUMNS, Plan, grade_of
from .relations import joined, ref_table

RESULTS = "segc_results"
MEMBERS = "segc_members"
RFM_TYPES = {"recency_days": "INT", "frequency": "INT", "monetary": "DOUBLE", "r": "INT", "f": "INT", "m": "INT",
             "segment": "VARCHAR"}
TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
         "timestamp": "TIMESTAMP", "list": "ARRAY<VARCHAR>"}


def sql_type(typ: str) -> exp.DataType:
    return exp.DataType.build(TYPES[typ])


def _as_of() -> exp.Expression:
    return exp.cast(AS_OF.copy(), "TIMESTAMP").as_("as_of", copy=False)


def _union(parts: list[exp.Select], empty: exp.Select) -> exp.Expression:
    """UNION ALL of `parts` (built without copying: linear in the number of parts)."""
    if len(parts) > 1:
        return exp.union(*parts, distinct=False, copy=False)
    return parts[0] if parts else empty.where(exp.false())


def long_table(plan: Plan, kind: str, defs, columns) -> exp.Expression:
    """One row per (contact, definition): UNION ALL of the wide results' columns.

    `columns` are (name, type, result column of a definition); without definitions the table is
    empty, with its columns typed as its contract says.
    """
    parts = []
    for d in defs:
        select = [exp.column("contact_id"), atoms.literal(d.name).as_(kind, copy=False)]
        select += [exp.column(source(d)).as_(name, copy=False) for name, _, source in columns]
        query = exp.select(*select, _as_of()).from_(ref_table(RESULTS))
        rows = plan.published_rows(kind, d.name)
        parts.append(query if rows is None else query.where(rows, copy=False))
    empty = exp.select(exp.column("contact_id"), exp.cast(exp.Null(), "VARCHAR").as_(kind, copy=False),
                       *(exp.cast(exp.Null(), typ).as_(name, copy=False) for name, typ, _ in columns), _as_of()
                       ).from_(ref_table(RESULTS))
    return _union(parts, empty)


def _unpivoted(plan: Plan, segments, results: exp.Expression, *extra: exp.Expression) -> exp.Select:
    """DuckDB's UNPIVOT of the segment columns: one pass over the results instead of one per segment."""
    columns = [exp.column(plan.column("segment", s.name)).as_(exp.to_identifier(s.name, quoted=True), copy=False)
               for s in segments]
    into = exp.UnpivotColumns(this=exp.column("segment"), expressions=[exp.column("segc_member")])
    unpivot = exp.Pivot(this=results, expressions=columns, unpivot=True, into=into)
    return (exp.select(exp.column("contact_id"), exp.column("segment"), *extra)
            .from_(exp.Subquery(this=unpivot)).where(exp.column("segc_member")))


def unpivoted_membership(plan: Plan, segments) -> exp.Select:
    return _unpivoted(plan, segments, ref_table(RESULTS), _as_of())


def members(plan: Plan, segments, results: exp.Select) -> exp.Select:
    """(contact_id, segment) of every member in `results`, a query of the wide results (DuckDB).

    `results` is a CTE: sqlglot unqualifies every column inside a DuckDB UNPIVOT, joins included.
    """
    rows = _unpivoted(plan, segments, exp.Table(this=exp.to_identifier(RESULTS)))
    return rows.with_(RESULTS, as_=results, copy=False)


def membership_view() -> exp.Select:
    """The published membership of an incremental build: the kept members, stamped with this as_of."""
    return exp.select(exp.column("contact_id"), exp.column("segment"), _as_of()).from_(ref_table(MEMBERS))


def _unpivots(project: ir.Project, dialect: str) -> bool:
    return dialect == "duckdb" and len(project.segments) > 1


def results_reads(project: ir.Project, dialect: str, incremental: bool = False) -> int:
    """How many passes over the wide results the published models make (one per UNION ALL part).

    An incremental membership computes its own rows (outputs.members) and does not read them.
    """
    segments = 0 if incremental else 1 if _unpivots(project, dialect) else len(project.segments)
    return segments + len(project.scores) + len(project.lifecycles) + len(project.rfms)


def published(project: ir.Project, plan: Plan, dialect: str) -> dict[str, exp.Expression]:
    """Model name -> query, for the tables in the `segments` schema."""
    def result_columns(kind: str, types) -> list:
        """(published name, type, the definition's result column) for each result column of `kind`."""
        return [(name, typ, lambda d, i=i: plan.outputs(kind, d.name)[i])
                for i, (name, typ) in enumerate(zip(PUBLISHED_AS[kind], types, strict=True))]

    return {
        "segment_membership": unpivoted_membership(plan, project.segments) if _unpivots(project, dialect)
        else long_table(plan, "segment", project.segments, []),
        "contact_scores": long_table(plan, "score", project.scores, result_columns("score", ("DOUBLE", "VARCHAR"))),
        "contact_lifecycle": long_table(plan, "lifecycle", project.lifecycles, result_columns("lifecycle", ("VARCHAR",))),
        "contact_rfm": long_table(plan, "rfm", project.rfms, result_columns("rfm", [RFM_TYPES[c] for c in RFM_COLUMNS])),
    }


def catalog(project: ir.Project, hashes: dict[str, str]) -> exp.Expression:
    def text(value):
        return atoms.literal(value) if value is not None else exp.cast(exp.Null(), "VARCHAR")

    parts = [exp.select(text(s.name).as_("segment", copy=False), text(s.description).as_("description", copy=False),
                        text(s.owner).as_("owner", copy=False), text(",".join(s.tags)).as_("tags", copy=False),
                        text(hashes[s.name]).as_("definition_hash", copy=False)) for s in project.segments]
    empty = exp.select(*(exp.cast(exp.Null(), "VARCHAR").as_(c, copy=False) for c in
                         ("segment", "description", "owner", "tags", "definition_hash")))
    return _union(parts, empty)


# -- rule-asserting tests: each returns the rows where the published table and the rule disagree --


def _disagreements(expected: exp.Select, actual: exp.Select, differs) -> exp.Select:
    """FULL JOIN of expected and actual rows by contact; rows kept where `differs(e, a)`."""
    on = exp.EQ(this=exp.column("contact_id", "e"), expression=exp.column("contact_id", "a"))
    return (exp.select(exp.func("COALESCE", exp.column("contact_id", "e"), exp.column("contact_id", "a")).as_("contact_id", copy=False),
                       exp.Star())
            .from_(expected.subquery("e", copy=False), copy=False)
            .join(joined(actual.subquery("a", copy=False), "full", on=on), copy=False)
            .where(differs, copy=False))


def _published_rows(model: str, kind: str, name: str, columns, direct: Direct | None = None) -> exp.Select:
    query = (exp.select(exp.column("contact_id"), *(exp.column(c) for c in columns))
             .from_(ref_table(model), copy=False)
             .where(exp.EQ(this=exp.column(kind), expression=atoms.literal(name)), copy=False))
    sample = direct.in_sample(exp.column("contact_id")) if direct else None
    return query.where(sample, copy=False) if sample is not None else query


def _missing(side: str) -> exp.Expression:
    return exp.Is(this=exp.column("contact_id", side), expression=exp.Null())


def _distinct(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.NullSafeNEQ(this=a, expression=b)


def _far(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """Floats compared to 1e-9 relative (exact equality would flag summation-order noise)."""
    diff = exp.Abs(this=exp.Sub(this=a, expression=b))
    scale = exp.func("GREATEST", exp.Literal.number(1), exp.Abs(this=a.copy()))
    return exp.func("COALESCE", exp.GT(this=diff, expression=exp.Mul(this=exp.Literal.number("1e-9"), expression=scale)),
                    _distinct(a.copy(), b.copy()))


def segment_check(direct: Direct, s: ir.Segment) -> exp.Select:
    expected = direct.per_contact(direct.condition(s.rule))
    expected = exp.select(exp.column("contact_id")).from_(expected.subquery("x", copy=False), copy=False).where(
        exp.column("expected"), copy=False)
    actual = _published_rows("segment_membership", "segment", s.name, [], direct)
    return _disagreements(expected, actual, any_of(_missing("e"), _missing("a")))


def score_check(direct: Direct, s: ir.Score) -> exp.Select:
    expected = direct.per_contact(direct.score(s))
    expected = exp.select("contact_id", exp.column("expected").as_("value", copy=False), grade_of(exp.column("expected"), s.grades).as_("grade", copy=False)) \
        .from_(expected.subquery("x"))
    actual = _published_rows("contact_scores", "score", s.name, ["value", "grade"], direct)
    differs = any_of(_missing("e"), _missing("a"), _far(exp.column("value", "e"), exp.column("value", "a")),
                      _distinct(exp.column("grade", "e"), exp.column("grade", "a")))
    return _disagreements(expected, actual, differs)


def lifecycle_check(direct: Direct, lc: ir.Lifecycle) -> exp.Select:
    expected = direct.per_contact(direct.lifecycle(lc))
    expected = exp.select("contact_id", exp.column("expected").as_("stage", copy=False)).from_(expected.subquery("x"))
    actual = _published_rows("contact_lifecycle", "lifecycle", lc.name, ["stage"], direct)
    differs = any_of(_missing("e"), _missing("a"), _distinct(exp.column("stage", "e"), exp.column("stage", "a")))
    return _disagreements(expected, actual, differs)


def rfm_check(direct: Direct, r: ir.Rfm) -> exp.Select:
    cols = RFM_COLUMNS
    expected = exp.select("contact_id", *cols).from_(direct.rfm_query(r).subquery("x"))
    sample = direct.in_sample(exp.column("contact_id"))
    expected = expected.where(sample, copy=False) if sample is not None else expected
    actual = _published_rows("contact_rfm", "rfm", r.name, cols, direct)
    differs = [_missing("e"), _missing("a"), _far(exp.column("monetary", "e"), exp.column("monetary", "a"))]
    differs += [_distinct(exp.column(c, "e"), exp.column(c, "a")) for c in cols if c != "monetary"]
    return _disagreements(expected, actual, any_of(*differs))


def score_bounds_check(s: ir.Score) -> exp.Select:
    """Rows whose value is outside [min, max] or whose grade is not the first that holds."""
    value = exp.column("value")
    bad = [exp.Is(this=value, expression=exp.Null())]
    if s.min is not None:
        bad.append(exp.LT(this=value.copy(), expression=atoms.literal(float(s.min))))
    if s.max is not None:
        bad.append(exp.GT(this=value.copy(), expression=atoms.literal(float(s.max))))
    bad.append(_distinct(exp.column("grade"), grade_of(value, s.grades)))
    return _published_rows("contact_scores", "score", s.name, ["value", "grade"]).where(any_of(*bad))


def rfm_range_check(r: ir.Rfm) -> exp.Select:
    bad = [exp.not_(exp.Between(this=exp.column(k), low=exp.Literal.number(1), high=exp.Literal.number(r.bins)))
           for k in "rfm"]
    bad += [exp.Is(this=exp.column(k), expression=exp.Null()) for k in "rfm"]
    return _published_rows("contact_rfm", "rfm", r.name, ["r", "f", "m"]).where(any_of(*bad))
