"""Same answers everywhere: one fixture built on DuckDB, PostgreSQL and Spark, tables compared.

Every engine builds the cross-engine fixture (engines.FIXTURE_*) twice through `segc build
--target T` (dbt models, unit tests and rule tests all run on that engine), is refused a third
build at an earlier as_of, and must publish exactly the tables DuckDB publishes (floats to 1e-9
relative). Spark, at about a second per query, runs the data and unit tests in its first build
only: its second build's tables are still compared with DuckDB's. Tests marked `postgres` / `spark` need those warehouses: skipped with the reason when
absent locally (`pytest -m 'not spark'` skips Spark on purpose), failed when absent in CI.
"""

from __future__ import annotations

import math

import pytest

from compiler.cli import main, run_build
from compiler.workspace import Workspace
from engines import (AS_OF_1, AS_OF_2, FIXTURE_DEFINITIONS, FIXTURE_SOURCES, PUBLISHED, DuckDBEngine,
                     SparkEngine, fixture_data, postgres_server, spark_available, write_project)  # noqa: F401

ENGINES = [pytest.param("duckdb", id="duckdb"),
           pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
           pytest.param("spark", id="spark", marks=pytest.mark.spark)]


SECOND_BUILD_EXCLUDES = {"spark": ["resource_type:test", "resource_type:unit_test"]}


class Built:
    def __init__(self, engine, builds, refused, tables):
        self.engine, self.builds, self.refused, self.tables = engine, builds, refused, tables


@pytest.fixture(scope="module")
def build(request, tmp_path_factory):
    """build(name) -> Built: the fixture loaded and built on engine `name` (once per module)."""
    done: dict[str, Built] = {}

    def run(name: str) -> Built:
        if name in done:
            return done[name]
        root = tmp_path_factory.mktemp(f"engines-{name}")
        write_project(root, FIXTURE_SOURCES, FIXTURE_DEFINITIONS)
        database = root / "warehouse.duckdb"
        if name == "duckdb":
            engine = DuckDBEngine(database)
        elif name == "postgres":
            engine = request.getfixturevalue("postgres_server").engine("segc_engines")
        else:
            request.getfixturevalue("spark_available")
            (root / "spark").mkdir()
            engine = SparkEngine(root / "spark")
        engine.load(FIXTURE_SOURCES, fixture_data())
        ws = Workspace(root)
        with engine.environment():
            builds = [run_build(ws, AS_OF_1, database, target=name, echo=lambda line: None),
                      run_build(ws, AS_OF_2, database, target=name, echo=lambda line: None,
                                exclude=SECOND_BUILD_EXCLUDES.get(name))]
            refused = run_build(ws, AS_OF_1, database, select=["segment_catalog"], target=name, echo=lambda line: None)
        try:
            tables = dict(zip(PUBLISHED, engine.queries([f"SELECT * FROM segments.{t}" for t in PUBLISHED])))
        except Exception as exc:  # a failed build leaves tables missing: the build test says why
            tables = {"error": exc}
        done[name] = Built(engine, builds, refused, tables)
        return done[name]

    return run


def failures(result) -> str:
    lines = [f"{r['unique_id']}: {(r.get('message') or '').strip()[:2000]}" for r in result.failures]
    return "\n".join(lines or result.output[-40:])


@pytest.mark.parametrize("name", ENGINES)
def test_builds_with_every_test_passing(build, name):
    built = build(name)
    for result, excluded in zip(built.builds, (None, SECOND_BUILD_EXCLUDES.get(name))):
        assert result.returncode == 0, failures(result)
        assert {r["status"] for r in result.results} <= {"success", "pass", "warn", "no-op"}
        kinds = {r["unique_id"].split(".")[0] for r in result.results}
        assert "model" in kinds
        assert {"test", "unit_test"} <= kinds if excluded is None else not kinds & {"test", "unit_test"}
        assert any(".assert_" in r["unique_id"] for r in result.results) == (excluded is None)
    assert sum(r["unique_id"].startswith("unit_test.") for r in built.builds[0].results) == 2
    assert sum("assert_segment_" in r["unique_id"] for r in built.builds[0].results) == 46


@pytest.mark.parametrize("name", ENGINES)
def test_history_only_moves_forward(build, name):
    """segc_check_as_of (on-run-start) refuses an as_of earlier than the latest recorded build."""
    refused = build(name).refused
    assert refused.returncode != 0
    assert any("history only moves forward" in line for line in refused.output), "\n".join(refused.output[-20:])


def test_fixture_exercises_the_edges(build):
    """The DuckDB tables themselves: the fixture really reaches the boundaries it is meant to."""
    assert "error" not in build("duckdb").tables
    members = {(c, s) for c, s, as_of in build("duckdb").tables["segment_membership"] if as_of == AS_OF_2}
    changes = build("duckdb").tables["segment_membership_changes"]
    first = {(c, s) for c, s, change, as_of, _ in changes if as_of == AS_OF_1 and change == "entered"}
    # 24h window: (as_of − 24h, as_of]
    assert (1, "ev_24h") not in first and (2, "ev_24h") in first and (3, "ev_24h") in first
    assert (4, "ev_24h") not in first
    # one calendar month before 2026-03-31 12:00 is 2026-02-28 12:00 (excluded), one second later included
    assert (1, "op_within_month") not in first and (2, "op_within_month") in first
    assert (5, "ev_month") not in first and (6, "ev_month") in first
    # not_followed_by within 48h: followed at 48h − 1s and at 48h exactly, not at 48h + 1s
    assert (1, "ev_nfb") not in first and (2, "ev_nfb") not in first and (6, "ev_nfb") in first
    # age: born 1996-03-31 is 30 on 2026-03-31; born 1996-04-01 is still 29; born 2000-02-29 is 26
    assert (1, "op_age") in first and (2, "op_age") not in first and (4, "op_age_26") in first
    # NULLs: ne / not_in are true on NULL, everything else false
    assert (3, "op_ne") in first and (3, "op_not_in") in first and (3, "op_eq") not in first
    assert (3, "op_is_null") in first and (3, "op_bool_ne") in first and (3, "op_has") not in first
    # icontains is Unicode-aware, contains treats % and _ literally
    assert {(2, "op_icontains"), (4, "op_icontains"), (1, "op_contains"), (4, "op_ends_with_percent")} <= first
    assert (2, "op_contains") not in first
    assert members, "the second build has members"
    exited = {(c, s) for c, s, change, as_of, _ in changes if as_of == AS_OF_2 and change == "exited"}
    assert exited, "the second build records exits"


def same_rows(expected: list[tuple], actual: list[tuple]) -> list[str]:
    """Differences between two row sets (floats equal to 1e-9 relative), at most a few."""
    def key(row):
        return tuple((v is None, "" if isinstance(v, float) else repr(v)) for v in row)

    problems = []
    if len(expected) != len(actual):
        problems.append(f"{len(expected)} rows expected, {len(actual)} found")
    for e, a in zip(sorted(expected, key=key), sorted(actual, key=key)):
        same = len(e) == len(a) and all(
            (isinstance(x, float) and isinstance(y, (int, float)) and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9))
            or x == y for x, y in zip(e, a))
        if not same:
            problems.append(f"expected {e!r}, found {a!r}")
        if len(problems) > 5:
            break
    return problems


@pytest.mark.parametrize("name", [p for p in ENGINES if p.values[0] != "duckdb"])
def test_same_tables_as_duckdb(build, name):
    expected, actual = build("duckdb").tables, build(name).tables
    assert "error" not in expected and "error" not in actual, (expected.get("error"), actual.get("error"))
    for table in PUBLISHED:
        assert expected[table], f"{table} is empty: the fixture should fill it"
        problems = same_rows(expected[table], actual[table])
        assert not problems, f"{name} {table}:\n  " + "\n  ".join(problems)


@pytest.mark.postgres
def test_segc_build_target_postgres_from_the_command_line(postgres_server, tmp_path, capsys):
    """`segc compile --target postgres` renders PostgreSQL SQL and `segc build --target postgres` runs it."""
    write_project(tmp_path, FIXTURE_SOURCES, {"segments": FIXTURE_DEFINITIONS["segments"][7:10]})
    engine = postgres_server.engine("segc_cli")
    engine.load(FIXTURE_SOURCES, fixture_data())
    assert main(["compile", "--project", str(tmp_path), "--target", "postgres"]) == 0
    model = (tmp_path / "dbt_project" / "models" / "internal" / "segc_results.sql").read_text()
    assert "POSITION(" in model and "STRPOS(" not in model  # PostgreSQL's spelling, not DuckDB's
    with engine.environment():
        code = main(["build", "--project", str(tmp_path), "--target", "postgres", "--as-of", "2026-03-31T12:00:00"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 failed" in out
    assert engine.query("SELECT count(*) FROM segments.segment_catalog") == [(3,)]


def test_unknown_target_is_a_clear_error(tmp_path, capsys):
    write_project(tmp_path, FIXTURE_SOURCES, {"segments": FIXTURE_DEFINITIONS["segments"][:1]})
    assert main(["compile", "--project", str(tmp_path), "--target", "oracle"]) == 1
    err = capsys.readouterr().err
    assert "no target 'oracle'" in err and "duckdb, postgres, spark" in err


@pytest.mark.postgres
def test_names_that_read_as_sql_or_keep_their_case_on_postgres(postgres_server, tmp_path, capsys):
    """A key named `user` (PostgreSQL's current user, unquoted), columns `order`, `group` and `when`, and a column
    created as "FirstName" are each read as the column: the generated SQL and dbt's tests quote them."""
    sources = {"contacts": {"relation": "crm.contacts", "key": "user",
                            "columns": {"order": "string", "FirstName": "string"}},
               "streams": {"events": {"relation": "crm.events", "contact_key": "user", "timestamp": "when",
                                      "event_type": "group", "event_types": ["open", "click"]}}}
    definitions = {"segments": [{"name": "ordered", "rule": {"attribute": "order", "eq": "x"}},
                                {"name": "anns", "rule": {"attribute": "FirstName", "eq": "Ann"},
                                 "examples": [{"name": "ann", "contact": {"FirstName": "Ann", "order": "y"},
                                               "expect": "member"}]},
                                {"name": "openers", "rule": {"event": "open", "within": "7d"}}],
                   "syncs": [{"name": "crm", "segment": "anns", "destination": "crm", "identifier": "FirstName",
                              "fields": ["order"]}]}
    write_project(tmp_path, sources, definitions)
    engine = postgres_server.engine("segc_names")
    engine.execute(['CREATE SCHEMA IF NOT EXISTS crm',
                    'CREATE TABLE crm.contacts ("user" BIGINT, "order" TEXT, "FirstName" TEXT)',
                    "INSERT INTO crm.contacts VALUES (1, 'x', 'Ann'), (2, 'y', 'Ann'), (3, 'x', 'Bob')",
                    'CREATE TABLE crm.events ("user" BIGINT, "when" TIMESTAMP, "group" TEXT)',
                    "INSERT INTO crm.events VALUES (2, '2026-03-30 00:00:00', 'open'), (3, '2026-03-01 00:00:00', 'open')"])
    with engine.environment():
        code = main(["build", "--project", str(tmp_path), "--target", "postgres", "--as-of", "2026-03-31T12:00:00"])
    out = capsys.readouterr().out
    assert code == 0 and "0 failed" in out, out
    assert sorted(engine.query("SELECT segment, contact_id FROM segments.segment_membership")) == [
        ("anns", 1), ("anns", 2), ("openers", 2), ("ordered", 1), ("ordered", 3)]
    assert engine.query('SELECT "FirstName", "order" FROM segments.sync_crm') == [("Ann", "x")]
