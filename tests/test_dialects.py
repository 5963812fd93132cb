"""Guards against silent mistranslation, and the SQL of warehouses we cannot run here.

sqlglot 30 translates some constructs without raising into SQL that means something else, or
passes functions it does not know through unchanged. segc never emits such constructs
(relations.guard), rewrites the few single constructs that need another spelling
(atoms.portable), renders with unsupported constructs raising, and refuses any called function
that is not on the dialect's checked list (relations.FUNCTIONS). Snowflake, BigQuery, Trino and
Databricks output is tested by parsing it back and by golden files (tests/golden/dialects/);
DuckDB, PostgreSQL and Spark output also runs in tests/test_engines.py.

Rewrite the golden files after an intended change with `SEGC_UPDATE_GOLDEN=1`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

from compiler import emit, ir
from compiler.sqlgen import atoms
from compiler.sqlgen.relations import DIALECTS, UnportableSQL, functions_called, guard, possible_calls, to_sql
from compiler.workspace import Workspace
from engines import FIXTURE_DEFINITIONS, FIXTURE_SOURCES, write_project

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "dialects"
REMOTE = ("snowflake", "bigquery", "trino", "databricks")
X, P, TS = exp.column("x"), exp.Literal.string("a+"), exp.column("ts")


def flat(sql: str) -> str:
    """`sql` on one line (pretty printing aside)."""
    return re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", sql))).strip()


def jinja_free(text: str) -> list[str]:
    """The SQL bodies of a generated model or test with its Jinja bound to plain SQL."""
    text = re.sub(r"\{\{ source\('(\w+)', '(\w+)'\) \}\}", r"\1.\2", text)
    text = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"segments.\1", text)
    text = text.replace("{{ this }}", "segments.this_model")
    text = text.replace("{{ segc_as_of() }}", "CAST('2026-03-31 12:00:00' AS TIMESTAMP)")
    text = text.replace("{{ segc_latest_build() }}", "CAST('2026-03-30 12:00:00' AS TIMESTAMP)")
    text = re.sub(r"\{\{ config\(.*?\) \}\}\n", "", text)
    bodies = re.split(r"\{% (?:if is_incremental\(\)(?: and \w+\(\w+\))?|else|endif|set \w+|endset) %\}\n", text)
    bodies = ["\n".join(line for line in b.splitlines() if not line.startswith("--")).strip() for b in bodies]
    assert not any("{{" in b or "{%" in b for b in bodies), text
    return [b for b in bodies if b]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """The demo definitions and the cross-engine fixture, loaded."""
    root = tmp_path_factory.mktemp("fixture")
    write_project(root, FIXTURE_SOURCES, FIXTURE_DEFINITIONS)
    return {"demo": Workspace(ROOT).load(), "fixture": Workspace(root).load()}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("which", ["demo", "fixture"])
def test_every_generated_file_parses_back(projects, which, dialect):
    """Each model and test renders for the dialect (guards on) and reads back as that dialect's SQL."""
    files = emit.render(projects[which], dialect)
    sql_files = {path: text for path, text in files.items() if path.endswith(".sql")}
    assert len(sql_files) > 10
    for path, text in sql_files.items():
        for body in jinja_free(text):
            tree = sqlglot.parse_one(body, read=dialect)
            assert tree is not None, path
            unknown = {a.name.upper() for a in tree.find_all(exp.Anonymous)}
            assert not unknown - functions_called(body, dialect), (path, unknown)


@pytest.mark.parametrize("dialect", REMOTE)
def test_golden_results_model(projects, dialect):
    """The whole per-contact model of the cross-engine fixture, as each remote warehouse gets it."""
    text = emit.render(projects["fixture"], dialect)["models/internal/segc_results.sql"]
    path = GOLDEN / dialect / "segc_results.sql"
    if os.environ.get("SEGC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}: run with SEGC_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_compile_is_deterministic_per_dialect(projects):
    for dialect in DIALECTS:
        assert emit.render(projects["fixture"], dialect) == emit.render(projects["fixture"], dialect)


def test_sources_in_other_databases_keep_their_database(tmp_path):
    """Relations in two databases under one schema name become two dbt sources, each with its database."""
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    sources = tmp_path / "segments" / "sources.yml"
    sources.write_text(sources.read_text().replace("relation: raw.contacts", "relation: crm.raw.contacts")
                       .replace("relation: raw.events", "relation: web.raw.events"))
    files = emit.render(Workspace(tmp_path).load(), "snowflake")
    declared = {s["name"]: (s.get("database"), s["schema"], [t["name"] for t in s["tables"]])
                for s in yaml.safe_load(files["models/sources.yml"])["sources"]}
    assert declared == {"crm_raw": ("crm", "raw", ["contacts"]), "web_raw": ("web", "raw", ["events"]),
                        "raw": (None, "raw", ["orders"])}
    results = files["models/internal/segc_results.sql"]
    assert "{{ source('web_raw', 'events') }}" in results and "{{ source('raw', 'orders') }}" in results


# -- constructs sqlglot mistranslates: never emitted ----------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_datediff_is_refused(dialect):
    """Spark DATEDIFF(DAY, ...) counts whole 24-hour periods where DuckDB counts day boundaries."""
    tree = exp.select(exp.DateDiff(this=TS, expression=exp.column("t2"), unit=exp.var("DAY")))
    with pytest.raises(UnportableSQL, match="DATEDIFF"):
        to_sql(tree, dialect)


@pytest.mark.parametrize("dialect", ["spark", "databricks"])
def test_ordered_list_aggregate_is_refused_where_it_loses_its_order(dialect):
    ordered = exp.ArrayAgg(this=exp.Order(this=X, expressions=[exp.Ordered(this=TS)]))
    assert "ORDER BY" not in exp.select(ordered).sql(dialect)  # what sqlglot would silently do
    with pytest.raises(UnportableSQL, match="ORDER BY"):
        to_sql(exp.select(ordered), dialect)
    guard(exp.select(ordered), "duckdb")  # fine where the order is kept


def test_regexp_like_is_a_search_on_snowflake():
    """Snowflake's REGEXP_LIKE is anchored at both ends; `matches` means search."""
    tree = exp.select(exp.RegexpLike(this=X, expression=P))
    assert "REGEXP_LIKE" in tree.sql("snowflake")  # what sqlglot would silently emit
    with pytest.raises(UnportableSQL, match="anchored"):
        guard(tree, "snowflake")
    assert to_sql(tree, "snowflake") == "SELECT\n  REGEXP_INSTR(x, 'a+') > 0"
    assert to_sql(tree, "postgres") == "SELECT\n  x ~ 'a+'"
    assert to_sql(tree, "spark") == "SELECT\n  x RLIKE 'a+'"
    assert to_sql(tree, "bigquery") == "SELECT\n  REGEXP_CONTAINS(x, 'a+')"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_unknown_functions_are_refused(dialect):
    """sqlglot passes a function it does not know through unchanged: segc refuses it."""
    with pytest.raises(UnportableSQL, match="unknown to sqlglot"):
        to_sql(exp.select(exp.func("MY_UDF", X)), dialect)


@pytest.mark.parametrize("dialect,node", [
    ("postgres", exp.UnixMicros(this=TS)),            # no UNIX_MICROS in PostgreSQL
    ("trino", exp.UnixMicros(this=TS)),
    ("snowflake", exp.UnixMicros(this=TS)),
    ("postgres", exp.EndsWith(this=X, expression=P)),   # no ENDS_WITH in PostgreSQL: rewritten
])
def test_functions_a_dialect_lacks_are_refused_or_rewritten(dialect, node):
    try:
        sql = to_sql(exp.select(node), dialect)
    except UnportableSQL as exc:
        assert "not known to be a" in str(exc)
    else:
        assert functions_called(sql, dialect) <= {"RIGHT", "LENGTH"}, sql  # ENDS_WITH -> RIGHT(x, LENGTH(v)) = v


@pytest.mark.parametrize("dialect,expected", [
    ("duckdb", "EPOCH(ts)"),
    ("postgres", "CAST(EXTRACT(EPOCH FROM ts) AS DOUBLE PRECISION)"),
    ("spark", "(CAST(UNIX_MICROS(ts) AS DOUBLE) / 1000000)"),
    ("databricks", "(CAST(UNIX_MICROS(ts) AS DOUBLE) / 1000000)"),
    ("bigquery", "(CAST(UNIX_MICROS(CAST(ts AS TIMESTAMP)) AS FLOAT64) / 1000000)"),
    ("snowflake", "(CAST(DATE_PART(EPOCH_MICROSECOND, ts) AS DOUBLE) / 1000000)"),
    ("trino", "TO_UNIXTIME(ts)"),
])
def test_epoch_seconds_keep_their_fraction(dialect, expected):
    """Decay ages use epoch seconds: Spark's UNIX_TIMESTAMP would truncate them, BigQuery has no TIME_TO_UNIX."""
    assert flat(to_sql(exp.TimeToUnix(this=TS), dialect)) == expected


def test_ends_with_on_postgres():
    assert to_sql(exp.EndsWith(this=X, expression=P), "postgres") == "RIGHT(x, LENGTH('a+')) = 'a+'"
    assert to_sql(exp.EndsWith(this=X, expression=P), "duckdb") == "ENDS_WITH(x, 'a+')"
    assert flat(to_sql(exp.EndsWith(this=X, expression=P), "trino")) == "SUBSTR(x, LENGTH(x) - (LENGTH('a+') - 1)) = 'a+'"


def test_list_contains_uses_no_array_operators_on_postgres():
    sql = to_sql(atoms.predicate(exp.column("tags"), ir.Predicate("tags", "list", "has", "vip")), "postgres")
    assert "= ANY(tags)" in flat(sql) and "@>" not in sql and "&&" not in sql


def test_list_literals_are_typed():
    """An empty ARRAY[] has no type on PostgreSQL; every string-list literal is cast."""
    assert to_sql(exp.Array(expressions=[]), "postgres") == "CAST(ARRAY[] AS VARCHAR[])"
    assert to_sql(exp.Array(expressions=[P]), "spark") == "CAST(ARRAY('a+') AS ARRAY<STRING>)"


def test_strings_and_comments_are_not_function_calls():
    assert functions_called("SELECT 'MY_UDF(' AS \"F(\", COUNT(*) FROM t", "postgres") == {"COUNT"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_quick_function_scan_never_misses_a_call(projects, dialect):
    """to_sql accepts a rendering without tokenizing it when every word followed by `(` is known: that scan
    must find every call the tokenizer finds (it may find more, inside literals; then the tokenizer decides)."""
    texts = [text for which in projects for path, text in emit.render(projects[which], dialect).items()
             if path.endswith(".sql")]
    texts += ["SELECT 1FOO(x), a.b_c1 (y), 'X(' AS \"Y(\", E5(1e5)", "SELECT x -- (\n(1)", "SELECT x /* c */ (1)"]
    for text in texts:
        maybe = possible_calls(text)
        assert maybe is None or functions_called(text, dialect) <= maybe, text
    assert possible_calls("SELECT x -- c\n(1)") is None


def test_compile_refuses_unportable_sql(tmp_path, monkeypatch, capsys):
    """`segc compile` turns a refused construct into an error message, not a traceback or bad SQL."""
    from compiler.cli import main
    from compiler.sqlgen import relations

    write_project(tmp_path, FIXTURE_SOURCES, {"segments": FIXTURE_DEFINITIONS["segments"][:1]})
    monkeypatch.setattr(relations, "_COMMON", set())
    assert main(["compile", "--project", str(tmp_path)]) == 1
    assert "COALESCE not known to be a duckdb function" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "dbt_project", ignore_errors=True)
