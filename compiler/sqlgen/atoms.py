"""The smallest pieces: typed literals, time shifts and two-valued predicates and comparisons."""

from __future__ import annotations

from datetime import date, datetime

from sqlglot import exp

from .. import ir

AS_OF = exp.column("segc_as_of__")
PREVIOUS_AS_OF = exp.column("segc_previous_as_of__")  # the previous build's, in incremental builds
LATEST_BUILD = exp.column("segc_latest_build__")  # the latest recorded build's (change feed or summary)
NO_BUILD = datetime(1900, 1, 1)  # LATEST_BUILD before the first build (macro segc_latest_build says the same)


def summable(value: exp.Expression, column_type: str | None) -> exp.Expression:
    """A value to SUM: a `number` (a DOUBLE) as DECIMAL(38, 9), so that the sum is exact and the same in any
    row order (0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ as doubles)."""
    return exp.cast(value, "DECIMAL(38, 9)") if column_type == "number" else value


def all_of(*conditions: exp.Expression) -> exp.Expression:
    """AND of already-built conditions (no copies, no parsing)."""
    return exp.and_(*conditions, copy=False)


def any_of(*conditions: exp.Expression) -> exp.Expression:
    return exp.or_(*conditions, copy=False)


def is_not_null(value: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=value, expression=exp.Null()))


def literal(value) -> exp.Expression:
    """A Python value as a typed SQL literal (never spliced into SQL text)."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"no SQL literal for {value!r}")


def shift(ts: exp.Expression, duration: ir.Duration, sign: int) -> exp.Expression:
    """`ts ± duration`; months and years are calendar intervals (the day clamps to month end)."""
    amount, unit = duration.amount, {"h": "HOUR", "d": "DAY", "w": "DAY", "mo": "MONTH", "y": "MONTH"}[duration.unit]
    amount *= {"w": 7, "y": 12}.get(duration.unit, 1)
    interval = exp.Interval(this=exp.Literal.string(str(amount)), unit=exp.var(unit))
    return (exp.Add if sign > 0 else exp.Sub)(this=ts, expression=interval)


def window(ts: exp.Expression, duration: ir.Duration) -> exp.Expression:
    """ts in (as_of − D, as_of] — the upper bound is enforced once where rows are read."""
    return exp.GT(this=ts, expression=shift(AS_OF.copy(), duration, -1))


def null_as(cond: exp.Expression, default: bool) -> exp.Expression:
    """`cond`, two-valued: `default` where it is NULL."""
    return exp.Coalesce(this=exp.paren(cond, copy=False), expressions=[exp.Boolean(this=default)])


def _own(value: exp.Expression) -> exp.Expression:
    """`value` itself when it is not part of a tree yet, else a copy (a node has one parent)."""
    return value.copy() if value.parent is not None else value


_BINARY = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}


def compare(value: exp.Expression, op: str, operand, null_is: bool = False) -> exp.Expression:
    """`value OP operand` as a two-valued condition: NULL becomes `null_is`."""
    value = _own(value)
    if op in _BINARY:
        cond = _BINARY[op](this=value, expression=literal(operand))
    elif op == "between":
        cond = exp.Between(this=value, low=literal(operand[0]), high=literal(operand[1]))
    elif op in ("in", "not_in"):
        cond = exp.In(this=value, expressions=[literal(v) for v in operand])
        cond = exp.Not(this=cond) if op == "not_in" else cond
    else:
        raise AssertionError(op)
    return null_as(cond, null_is)


def compare_all(value: exp.Expression, tests, null_is: bool = False) -> exp.Expression:
    return all_of(*(compare(value, t.op, t.value, null_is) for t in tests))


def age_years(value: exp.Expression) -> exp.Expression:
    """Whole completed years from `value` to as_of: a birthday not reached yet this year doesn't count."""
    def part(unit, of):
        return exp.Extract(this=exp.var(unit), expression=of.copy())

    def month_day(of):
        return exp.Add(this=exp.Mul(this=part("MONTH", of), expression=exp.Literal.number(100)),
                       expression=part("DAY", of))

    not_yet = exp.If(this=exp.LT(this=month_day(AS_OF), expression=month_day(value)),
                     true=exp.Literal.number(1), false=exp.Literal.number(0))
    years = exp.Sub(this=part("YEAR", AS_OF), expression=part("YEAR", value))
    return exp.paren(exp.Sub(this=years, expression=exp.Case(ifs=[not_yet], default=exp.Literal.number(0))))


def as_timestamp(value: exp.Expression, typ: str) -> exp.Expression:
    return exp.cast(value, exp.DataType.Type.TIMESTAMP) if typ == "date" else value


def predicate(value: exp.Expression, p: ir.Predicate) -> exp.Expression:
    """One column operator, two-valued: false on NULL except ne, not_in and is_null: true."""
    op, v, value = p.op, p.value, _own(value)
    if op == "is_null":
        isnull = exp.Is(this=value, expression=exp.Null())
        return isnull if v else exp.Not(this=isnull)
    if op in ("ne", "not_in"):
        return compare(value, op, v, null_is=True)
    if op in _BINARY or op in ("between", "in"):
        return compare(value, op, v)
    if op == "contains":
        cond = exp.GT(this=exp.StrPosition(this=value, substr=literal(v)), expression=exp.Literal.number(0))
    elif op == "icontains":
        cond = exp.GT(this=exp.StrPosition(this=exp.Lower(this=value), substr=exp.Lower(this=literal(v))),
                      expression=exp.Literal.number(0))
    elif op == "starts_with":
        cond = exp.StartsWith(this=value, expression=literal(v))
    elif op == "ends_with":
        cond = exp.EndsWith(this=value, expression=literal(v))
    elif op == "matches":
        cond = exp.RegexpLike(this=value, expression=literal(v))
    elif op == "has":
        cond = exp.ArrayContains(this=value, expression=literal(v))
    elif op in ("has_any", "has_all"):
        parts = [predicate(value, ir.Predicate(p.column, p.type, "has", item)) for item in v]
        return (exp.or_ if op == "has_any" else exp.and_)(*parts)
    elif op == "within":
        ts = as_timestamp(value, p.type)
        cond = all_of(window(ts, v), exp.LTE(this=ts.copy(), expression=AS_OF.copy()))
    elif op == "older_than":
        cond = exp.LTE(this=as_timestamp(value, p.type), expression=shift(AS_OF.copy(), v, -1))
    elif op == "age":
        return compare_all(age_years(value), v)
    else:
        raise AssertionError(op)
    return null_as(cond, False)


# -- portability: single constructs that sqlglot would translate into something else -----------
#
# The trees above are dialect-neutral. `portable(tree, dialect)` rewrites, just before a tree is
# rendered for a warehouse, the few constructs whose translation by sqlglot 30 is wrong or
# missing there (each checked on DuckDB, PostgreSQL and Spark, and against the vendors' docs for
# Snowflake, BigQuery, Trino and Databricks):
#   epoch seconds   EPOCH() is DuckDB's; Spark's UNIX_TIMESTAMP truncates to whole seconds,
#                   Snowflake's EXTRACT(epoch_second) too, BigQuery has no TIME_TO_UNIX: use
#                   microseconds everywhere and divide, as a DOUBLE (PostgreSQL: EXTRACT(EPOCH)).
#   ends_with       PostgreSQL and Trino have STARTS_WITH but no ENDS_WITH: RIGHT(x, LENGTH(v)) = v.
#   matches         Snowflake's REGEXP_LIKE / RLIKE match the whole string: REGEXP_INSTR(x, p) > 0.
#   list literals   an empty ARRAY[] has no type on PostgreSQL: literals are cast to a string array.

EPOCH_DIALECTS = {"duckdb", "trino"}  # where sqlglot's TimeToUnix is fractional epoch seconds


def _epoch_seconds(ts: exp.Expression, dialect: str) -> exp.Expression:
    double = exp.DataType.build("DOUBLE")
    if dialect == "postgres":
        return exp.cast(exp.Extract(this=exp.var("EPOCH"), expression=ts), double)
    if dialect == "snowflake":
        micros = exp.Extract(this=exp.var("EPOCH_MICROSECOND"), expression=ts)
    elif dialect == "bigquery":  # segc's TIMESTAMP is BigQuery's DATETIME; UNIX_MICROS takes a TIMESTAMP
        micros = exp.UnixMicros(this=exp.cast(ts, exp.DataType.Type.TIMESTAMPTZ))
    else:  # spark, databricks
        micros = exp.UnixMicros(this=ts)
    return exp.paren(exp.Div(this=exp.cast(micros, double), expression=exp.Literal.number(1000000)))


def _string_array(node: exp.Array) -> bool:
    return not isinstance(node.parent, exp.Cast) and all(
        isinstance(e, exp.Literal) and e.is_string for e in node.expressions)


_REWRITTEN = (exp.TimeToUnix, exp.EndsWith, exp.RegexpLike, exp.Array)


def _needs_rewrite(node: exp.Expression, dialect: str) -> bool:
    if isinstance(node, exp.TimeToUnix):
        return dialect not in EPOCH_DIALECTS
    if isinstance(node, exp.EndsWith):
        return dialect in ("postgres", "trino")
    if isinstance(node, exp.RegexpLike):
        return dialect == "snowflake"
    if isinstance(node, exp.Array):
        return dialect != "duckdb" and _string_array(node)
    return False


def portable(tree: exp.Expression, dialect: str) -> exp.Expression:
    """`tree` with the constructs listed above rewritten for `dialect` (the same tree if none occurs)."""
    if not any(_needs_rewrite(node, dialect) for node in tree.find_all(*_REWRITTEN)):
        return tree

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not _needs_rewrite(node, dialect):
            return node
        if isinstance(node, exp.TimeToUnix):
            return _epoch_seconds(node.this, dialect)
        if isinstance(node, exp.EndsWith):
            suffix = node.expression
            return exp.EQ(this=exp.Right(this=node.this, expression=exp.Length(this=suffix.copy())),
                          expression=suffix.copy())
        if isinstance(node, exp.RegexpLike):
            return exp.GT(this=exp.RegexpInstr(this=node.this, expression=node.expression),
                          expression=exp.Literal.number(0))
        return exp.cast(node.copy(), exp.DataType.build("ARRAY<VARCHAR>"))

    return tree.transform(rewrite)


def utc_from_local(ts: exp.Expression, zone: str) -> exp.Expression:
    """A wall-clock TIMESTAMP in IANA `zone` as the UTC TIMESTAMP of the same instant.

    Engines disagree on a wall-clock time repeated when clocks fall back (PostgreSQL and DuckDB
    take the later instant, Spark the earlier), so the result is pinned: the later instant
    (standard time) when the hour after the engine's answer shows the same wall-clock time.
    A time skipped when clocks spring forward is read with the offset before the change
    (02:30 in a 02:00 -> 03:00 gap is 03:30 local), as all three engines do.
    """
    timestamp = exp.DataType.build("TIMESTAMP")
    utc = exp.cast(exp.FromTimeZone(this=ts.copy(), zone=literal(zone)), timestamp)
    later = exp.Add(this=utc, expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("HOUR")))
    shown = exp.cast(exp.ConvertTimezone(source_tz=literal("UTC"), target_tz=literal(zone), timestamp=later.copy()),
                     timestamp)
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=shown, expression=ts.copy()), true=later)], default=utc.copy())
