"""Placeholders for the relations and the instant a query reads, and their binding at render time.

Trees name dbt sources and models through reserved table names; `render` turns them into
`{{ source() }}` / `{{ ref() }}` for dbt, or into the declared relations for a plain query.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

import sqlglot
from sqlglot import exp

from .. import ir
from .atoms import AS_OF, LATEST_BUILD, NO_BUILD, PREVIOUS_AS_OF, literal, portable, utc_from_local

_SOURCE = "segc_source__"
_REF = "segc_ref__"
_THIS = "segc_this__"
_SIBLING = "segc_sibling__"
_TOKEN = re.compile(rf"\b({_SOURCE}|{_REF}|{_SIBLING})([a-z][a-z0-9_]*)\b|\b{AS_OF.name}\b|\b{PREVIOUS_AS_OF.name}\b|\b{LATEST_BUILD.name}\b|\b{_THIS}\b")


def source_table(name: str) -> exp.Table:
    """The relation of source `name` ('contacts' or a stream name)."""
    return exp.Table(this=exp.to_identifier(_SOURCE + name))


def ref_table(model: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(_REF + model))


def joined(table: exp.Expression, how: str, on: exp.Expression | None = None,
           using: list[str] | None = None) -> exp.Join:
    """A `how` ("left", "right", "full", "inner" or "cross") JOIN of `table`, for Select.join: built directly,
    because Select.join(join_type=...) parses the join type (a third of compiling 1,000 rule tests)."""
    side = how.upper() if how in ("left", "right", "full") else None
    join = exp.Join(this=table, side=side, kind=None if side else how.upper(), on=on)
    if using:
        join.set("using", [exp.to_identifier(u) for u in using])
    return join


def this_table() -> exp.Table:
    """The incremental model's own existing table (`{{ this }}`)."""
    return exp.Table(this=exp.to_identifier(_THIS))


def sibling_table(name: str) -> exp.Table:
    """A table the model's own build keeps next to it (same schema), read without a dbt ref."""
    return exp.Table(this=exp.to_identifier(_SIBLING + name))


def relation_of(project: ir.Project, name: str) -> str:
    return project.contacts.relation if name == "contacts" else project.stream(name).relation


def dbt_source(project: ir.Project, name: str) -> tuple[str, str]:
    """(source name, table name) under which dbt knows a declared relation: the source is named for its
    schema, or `<database>_<schema>` when relations in other databases share that schema name."""
    parts = relation_of(project, name).split(".")
    schema = parts[-2]
    relations = [relation_of(project, n) for n in ["contacts"] + [s.name for s in project.streams]]
    databases = {r.split(".")[0] if r.count(".") == 2 else None for r in relations if r.split(".")[-2] == schema}
    return (f"{parts[0]}_{schema}" if len(parts) == 3 and len(databases) > 1 else schema), parts[-1]


class UnportableSQL(ValueError):
    """A tree or its rendering would mean something else (or nothing) on the target warehouse."""


# Constructs segc must never hand to sqlglot: it translates them without an error into SQL that
# means something else on some warehouse (checked against sqlglot 30).
_NEVER = {
    exp.DateDiff: "DATEDIFF counts day boundaries on DuckDB but whole 24-hour periods on Spark",
    exp.TimestampDiff: "TIMESTAMPDIFF counts boundaries on some warehouses and whole periods on others",
    exp.DatetimeDiff: "DATETIME_DIFF counts boundaries on some warehouses and whole periods on others",
    exp.TimeDiff: "TIME_DIFF counts boundaries on some warehouses and whole periods on others",
}
_LOSES_ORDER = {"spark", "databricks"}  # list(x ORDER BY ...) / ARRAY_AGG(x ORDER BY ...) drops ORDER BY

# Function-call names (a name followed by `(`) each dialect's output may contain: the functions
# and keywords segc relies on, each checked in the warehouse's documentation (and run on DuckDB,
# PostgreSQL and Spark by the test suite). sqlglot passes functions it does not know for a
# dialect through unchanged (e.g. UNIX_MICROS on PostgreSQL, TIME_TO_UNIX on BigQuery); a name
# outside this list is refused instead of reaching the warehouse.
_KEYWORDS = {"AS", "IN", "EXISTS", "OVER", "FROM", "JOIN", "AND", "OR", "NOT", "ON", "WHEN", "THEN", "ELSE",
             "WHERE", "SELECT", "USING", "BY", "CAST", "ARRAY", "ALL", "UNION", "WITH", "DISTINCT", "IS",
             "CASE", "END", "UNPIVOT",
             "DECIMAL", "NUMERIC", "NUMBER", "BIGNUMERIC"}  # types with a precision: DECIMAL(38, 9) in every dialect
_COMMON = {"COALESCE", "COUNT", "SUM", "MIN", "MAX", "AVG", "LOWER", "FLOOR", "POWER", "GREATEST", "LEAST",
           "ROW_NUMBER", "LEAD", "ABS", "EXTRACT", "LENGTH", "MD5", "SUBSTRING"}
FUNCTIONS = {
    "duckdb": {"HASH", "STRPOS", "STARTS_WITH", "ENDS_WITH", "REGEXP_MATCHES", "ARRAY_CONTAINS", "EPOCH"},
    "postgres": {"POSITION", "STARTS_WITH", "RIGHT", "ANY", "DIV"},
    "spark": {"LOCATE", "STARTSWITH", "ENDSWITH", "RLIKE", "ARRAY_CONTAINS", "UNIX_MICROS", "IF", "DIV",
              "TO_UTC_TIMESTAMP", "CONVERT_TIMEZONE"},
    "databricks": {"LOCATE", "STARTSWITH", "ENDSWITH", "REGEXP_LIKE", "ARRAY_CONTAINS", "UNIX_MICROS", "IF",
                   "DIV", "TO_UTC_TIMESTAMP", "CONVERT_TIMEZONE"},
    "snowflake": {"CHARINDEX", "STARTSWITH", "ENDSWITH", "REGEXP_INSTR", "ARRAY_CONTAINS", "DATE_PART", "IFF",
                  "GREATEST_IGNORE_NULLS", "LEAST_IGNORE_NULLS", "TRUNC", "CONVERT_TIMEZONE"},
    "bigquery": {"INSTR", "STARTS_WITH", "ENDS_WITH", "REGEXP_CONTAINS", "UNNEST", "UNIX_MICROS", "IF", "DIV",
                 "TO_HEX", "TIMESTAMP", "DATETIME"},
    "trino": {"STRPOS", "STARTS_WITH", "REGEXP_LIKE", "CONTAINS", "TO_UNIXTIME", "IF", "TRUNCATE", "SUBSTR",
              "TO_HEX", "TO_UTF8", "WITH_TIMEZONE", "AT_TIMEZONE"},
}
DIALECTS = tuple(FUNCTIONS)
# Functions written for one warehouse on purpose, with no sqlglot class: DuckDB's HASH(a, b, ...)
# fingerprints contact rows for incremental builds, which run on DuckDB only.
NATIVE = {"duckdb": {"HASH"}}


_WORD_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def possible_calls(sql: str) -> set[str] | None:
    """A superset of functions_called(sql), read without tokenizing: every word followed by `(`, literals
    included. None when `sql` may hold a comment, which could sit between a name and its `(`."""
    if "/*" in sql or "--" in sql or "#" in sql:
        return None
    return {name.upper() for name in _WORD_CALL.findall(sql)}


def functions_called(sql: str, dialect: str) -> set[str]:
    """Upper-cased names directly followed by `(` in `sql` (string literals and identifiers aside)."""
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    quoted = {sqlglot.TokenType.STRING, sqlglot.TokenType.IDENTIFIER, sqlglot.TokenType.NATIONAL_STRING}
    return {tok.text.upper() for tok, nxt in zip(tokens, tokens[1:])
            if nxt.token_type == sqlglot.TokenType.L_PAREN and tok.token_type not in quoted
            and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tok.text)}


def guard(tree: exp.Expression, dialect: str) -> None:
    """Refuse constructs that sqlglot would translate into another meaning for `dialect`."""
    for node in tree.find_all(exp.Anonymous, exp.ArrayAgg, exp.GroupConcat, exp.RegexpLike, *_NEVER):
        if isinstance(node, exp.Anonymous) and node.name.upper() not in NATIVE.get(dialect, ()):
            raise UnportableSQL(f"function {node.name}() is unknown to sqlglot: it would reach {dialect} unchanged")
        reason = _NEVER.get(type(node))
        if reason:
            raise UnportableSQL(f"{type(node).__name__} is not portable: {reason}")
        if isinstance(node, (exp.ArrayAgg, exp.GroupConcat)) and dialect in _LOSES_ORDER and node.find(exp.Order):
            raise UnportableSQL(f"an ordered {type(node).__name__} loses its ORDER BY on {dialect}")
        if isinstance(node, exp.RegexpLike) and dialect == "snowflake":
            raise UnportableSQL("REGEXP_LIKE is anchored at both ends on Snowflake (use REGEXP_INSTR(...) > 0)")


def to_sql(tree: exp.Expression, dialect: str) -> str:
    """Render for `dialect`, raising instead of silently emitting something it cannot express.

    Portability rewrites (atoms.portable) first, then the guards on the tree, then sqlglot with
    unsupported constructs raising, then the check of every called function against FUNCTIONS (a scan of
    the text first; the tokenizer decides when the scan finds a name that is not known, or a comment).
    """
    if dialect not in FUNCTIONS:
        raise UnportableSQL(f"unsupported dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    tree = portable(tree, dialect)
    guard(tree, dialect)
    sql = tree.sql(dialect=dialect, pretty=True, copy=False, unsupported_level=sqlglot.ErrorLevel.RAISE)
    known = _KEYWORDS | _COMMON | FUNCTIONS[dialect]
    maybe = possible_calls(sql)
    unknown = set() if maybe is not None and maybe <= known else functions_called(sql, dialect) - known
    if unknown:
        raise UnportableSQL(f"{', '.join(sorted(unknown))} not known to be a {dialect} function: "
                            f"sqlglot would pass it through unchanged")
    return sql


def timezone_of(project: ir.Project) -> str:
    """The project's `settings: {timezone: ...}`: the zone of the sources' wall-clock timestamps."""
    settings = getattr(project, "settings", None)
    return getattr(settings, "timezone", None) or "UTC"


def _timestamp_columns(project: ir.Project, name: str) -> tuple[list[str], set[str]]:
    """(every column a query may read, the timestamp ones) of source `name`."""
    if name == "contacts":
        c = project.contacts
        columns = [c.key] + [col for col, _ in c.columns if col != c.key]
        return columns, {col for col, typ in c.columns if typ == "timestamp"}
    s = project.stream(name)
    columns = list(dict.fromkeys([s.contact_key, s.timestamp] + ([s.event_type] if s.event_type else [])
                                 + [col for col, _ in s.columns]))
    return columns, {s.timestamp} | {col for col, typ in s.columns if typ == "timestamp"}


def localize(tree: exp.Expression, project: ir.Project) -> exp.Expression:
    """With a non-UTC project timezone, each source is read through a subquery that turns its
    wall-clock timestamps into UTC (atoms.utc_from_local); as_of and all arithmetic stay UTC."""
    zone = timezone_of(project)
    if zone == "UTC" or not any(isinstance(n, exp.Table) and n.name.startswith(_SOURCE) for n in tree.walk()):
        return tree

    def wrap(node):
        if not (isinstance(node, exp.Table) and node.name.startswith(_SOURCE)):
            return node
        name = node.name[len(_SOURCE):]
        columns, stamps = _timestamp_columns(project, name)
        select = [utc_from_local(exp.column(c), zone).as_(c) if c in stamps else exp.column(c) for c in columns]
        inner = exp.select(*select).from_(source_table(name))
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(node.alias or f"segc_{name}")))

    return tree.transform(wrap)


# In a string literal: what Jinja would evaluate, or the placeholder substitution replace.
_UNSAFE = re.compile(r"\{[{%#]|segc_")
_SPLIT = re.compile(r"(?<=\{)(?=[{%#])|(?<=seg)(?=c_)")
# Words that read as SQL rather than as a column name, unquoted, in some warehouse (besides each dialect's keywords).
_RESERVED = frozenset("""all analyse analyze and any as asc asymmetric between both by case cast check collate column
constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp
current_user default deferrable desc distinct do else end except exists false fetch for foreign from full grant group
having in initially inner intersect interval into is join lateral leading left like limit localtime localtimestamp
natural not null offset on only or order outer over partition placing primary references returning right select
session_user some symmetric table then to trailing true union unique user using values variadic when where window
with""".split())
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


@functools.cache
def _keywords(dialect: str) -> frozenset[str]:
    return frozenset(k.lower() for k in sqlglot.Dialect.get_or_raise(dialect).tokenizer_class.KEYWORDS if k.isidentifier())


def needs_quotes(name: str, dialect: str) -> bool:
    """Whether a declared name (a column, a schema, a table) must be quoted to be read as itself: a reserved word
    (`order`, `user`), or not lowercase (`FirstName`). Snowflake folds unquoted names to upper case, so quoting
    there would change which column is meant: names are left as written."""
    return dialect != "snowflake" and (not _PLAIN.fullmatch(name) or name in _RESERVED or name in _keywords(dialect))


def _declared_names(project: ir.Project) -> set[str]:
    """Every column, key, schema and table name the definitions declare."""
    names = {project.contacts.key, *(c for c, _ in project.contacts.columns), *project.contacts.relation.split(".")}
    for s in project.streams:
        names |= {s.contact_key, s.timestamp, s.event_type, *(c for c, _ in s.columns), *s.relation.split(".")}
    return names - {None}


_last_checked: list = [None, "", False, frozenset()]  # project, dialect, text unsafe, names to quote


def _checked(project: ir.Project, dialect: str) -> tuple[bool, frozenset[str]]:
    """(whether some text of the project holds what _UNSAFE finds, the declared names that need quotes), worked
    out once for a project and dialect: render_dbt runs many times for one."""
    if _last_checked[0] is not project or _last_checked[1] != dialect:
        quoted = frozenset(n for n in _declared_names(project) if needs_quotes(n, dialect))
        _last_checked[:] = [project, dialect, bool(_UNSAFE.search(repr(project))), quoted]
    return _last_checked[2], _last_checked[3]


def declared_quoted(tree: exp.Expression, project: ir.Project, dialect: str) -> exp.Expression:
    """`tree` with the declared names that need quotes in `dialect` quoted (see needs_quotes)."""
    return _quoted(tree, _checked(project, dialect)[1])


def _quoted(tree: exp.Expression, names: frozenset[str]) -> exp.Expression:
    """`tree` with the identifiers spelled as one of `names` quoted."""
    if not names:
        return tree

    def quote(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier) and not node.quoted and node.this in names:
            node.set("quoted", True)
        return node

    return tree.transform(quote)


def _literal_kept(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string and _UNSAFE.search(node.this):
        parts = [exp.Literal.string(part) for part in _SPLIT.split(node.this)]
        return exp.paren(functools.reduce(lambda a, b: exp.DPipe(this=a, expression=b), parts))
    return node


def literals_kept(tree: exp.Expression) -> exp.Expression:
    """`tree` with each string literal that Jinja (however often dbt renders it) or the placeholder substitution
    would change written as a concatenation of parts neither touches: 'Hi {{ name }}' as ('Hi {' || '{ name }}')."""
    return tree.transform(_literal_kept)


def render_dbt(tree: exp.Expression, project: ir.Project, dialect: str = "duckdb") -> str:
    """SQL for a dbt model: sources, refs and as_of become Jinja calls; user text in string literals reaches
    the warehouse as written."""

    def jinja(match: re.Match) -> str:
        if match.group(1) == _SOURCE:
            return "{{ source('%s', '%s') }}" % dbt_source(project, match.group(2))
        if match.group(1) == _REF:
            return "{{ ref('%s') }}" % match.group(2)
        if match.group(1) == _SIBLING:
            return "{{ this.schema }}.%s" % match.group(2)
        if match.group(0) == _THIS:
            return "{{ this }}"
        if match.group(0) == PREVIOUS_AS_OF.name:
            return "{{ segc_previous }}"  # set once at the top of the model (incremental builds)
        if match.group(0) == LATEST_BUILD.name:
            return "{{ segc_latest_build() }}"
        return "{{ segc_as_of() }}"

    unsafe, names = _checked(project, dialect)
    sql = to_sql(_quoted(localize(literals_kept(tree) if unsafe else tree, project), names), dialect)
    return _TOKEN.sub(jinja, sql) + "\n"


def render_plain(tree: exp.Expression, project: ir.Project, dialect: str, as_of: datetime,
                 schema: str | None = None, previous: datetime | None = None, latest: datetime = NO_BUILD) -> str:
    """SQL that runs as is against the declared relations at a fixed as_of (and previous as_of, and the
    latest recorded build's as_of: none by default), reading segc's tables from `schema` (default: the
    project's published schema)."""
    schema = schema or project.settings.schema

    def bind(node):
        if isinstance(node, exp.Table) and node.name.startswith(_SOURCE):
            return exp.to_table(relation_of(project, node.name[len(_SOURCE):]), alias=node.alias or None)
        for prefix in (_REF, _SIBLING):
            if isinstance(node, exp.Table) and node.name.startswith(prefix):
                return exp.to_table(f"{schema}.{node.name[len(prefix):]}", alias=node.alias or None)
        if isinstance(node, exp.Column) and node.name == AS_OF.name and not node.table:
            return literal(as_of)
        if isinstance(node, exp.Column) and node.name == PREVIOUS_AS_OF.name and not node.table:
            return literal(previous)
        if isinstance(node, exp.Column) and node.name == LATEST_BUILD.name and not node.table:
            return literal(latest)
        return node

    return to_sql(_quoted(localize(tree, project).transform(bind), _checked(project, dialect)[1]), dialect) + "\n"
