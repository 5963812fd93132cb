"""`settings: {timezone: ...}`: sources whose timestamps are local wall-clock time.

segc reads every timestamp column of every source through atoms.utc_from_local, so as_of and
all window arithmetic stay UTC. Around a daylight-saving change the engines disagree on their
own (a wall-clock time repeated when clocks fall back is the later instant on PostgreSQL and
DuckDB, the earlier on Spark); segc pins one reading, the same everywhere:

- a repeated (fall-back) time is the later instant, standard time: Python's fold=1;
- a skipped (spring-forward) time is read with the offset before the change: Python's fold=0.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlglot import exp

from compiler.errors import CompileError
from compiler.sqlgen.plan import Plan
from compiler.sqlgen.relations import render_dbt, render_plain, source_table
from compiler.workspace import Workspace
from engines import (FIXTURE_DEFINITIONS, FIXTURE_SOURCES, DuckDBEngine, SparkEngine, fixture_data,
                     postgres_server, spark_available, table_statements, source_tables, write_project)  # noqa: F401

ZONE = "Europe/Warsaw"
WALL_CLOCK = [
    datetime(2026, 3, 29, 1, 59, 59),   # CET, just before clocks spring forward (02:00 -> 03:00)
    datetime(2026, 3, 29, 2, 0, 0),     # skipped
    datetime(2026, 3, 29, 2, 30, 0),    # skipped
    datetime(2026, 3, 29, 3, 0, 0),     # CEST
    datetime(2026, 10, 25, 1, 59, 59),  # CEST, just before clocks fall back (03:00 -> 02:00)
    datetime(2026, 10, 25, 2, 0, 0),    # repeated
    datetime(2026, 10, 25, 2, 30, 0),   # repeated
    datetime(2026, 10, 25, 2, 59, 59, 500000),  # repeated, with a fraction
    datetime(2026, 10, 25, 3, 0, 0),    # CET
    datetime(2026, 7, 1, 12, 0, 0, 250000),
    datetime(2026, 1, 1, 0, 0, 0),
]


def expected_utc(local: datetime, zone: str = ZONE) -> datetime:
    """The documented reading: fold=1 (later) for repeated times, fold=0 (offset before) for skipped ones."""
    tz = ZoneInfo(zone)
    later = local.replace(tzinfo=tz, fold=1)
    if later.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != local:  # skipped: no such time
        later = local.replace(tzinfo=tz, fold=0)
    return later.astimezone(timezone.utc).replace(tzinfo=None)


def test_the_documented_reading_around_both_changes():
    got = [expected_utc(t) for t in WALL_CLOCK]
    assert got[:4] == [datetime(2026, 3, 29, 0, 59, 59), datetime(2026, 3, 29, 1), datetime(2026, 3, 29, 1, 30),
                       datetime(2026, 3, 29, 1)]
    assert got[4:9] == [datetime(2026, 10, 24, 23, 59, 59), datetime(2026, 10, 25, 1), datetime(2026, 10, 25, 1, 30),
                        datetime(2026, 10, 25, 1, 59, 59, 500000), datetime(2026, 10, 25, 2)]


SOURCES = {"contacts": {"relation": "raw.contacts", "key": "contact_id", "columns": {"created_at": "timestamp"}},
           "streams": {"events": {"relation": "raw.events", "contact_key": "contact_id", "timestamp": "occurred_at",
                                  "event_type": "event_type", "columns": {"url": "string"}}}}
DEFINITIONS = {"segments": [
    {"name": "visited_last_hour", "rule": {"event": "visit", "within": "1h"}},
    {"name": "visited_last_day", "rule": {"event": "visit", "within": "24h"}},
    {"name": "created_last_hour", "rule": {"attribute": "created_at", "within": "1h"}},
]}
DATA = {"contacts": [{"contact_id": i, "created_at": t} for i, t in enumerate(WALL_CLOCK, 1)] + [
    {"contact_id": 99, "created_at": None}],
    "events": [{"contact_id": i, "occurred_at": t, "event_type": "visit"} for i, t in enumerate(WALL_CLOCK, 1)]}
AS_OFS = [datetime(2026, 3, 29, 1, 30), datetime(2026, 10, 25, 1, 45), datetime(2026, 10, 25, 2, 30)]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("tz")
    write_project(root, SOURCES, DEFINITIONS, settings={"timezone": ZONE})
    return Workspace(root).load()


def converted_query(project) -> exp.Select:
    """The events as segc reads them: contact and occurred_at after the timezone conversion."""
    return exp.select("contact_id", "occurred_at").from_(source_table("events")).order_by("contact_id")


def plain_queries(project, dialect: str) -> list[str]:
    queries = [render_plain(converted_query(project), project, dialect, AS_OFS[0])]
    queries += [render_plain(Plan(project).results().order_by("contact_id"), project, dialect, a) for a in AS_OFS]
    return queries


def expected_members(as_of: datetime) -> dict[str, set[int]]:
    members = {}
    for name, width, times in (("visited_last_hour", timedelta(hours=1), WALL_CLOCK),
                               ("visited_last_day", timedelta(hours=24), WALL_CLOCK),
                               ("created_last_hour", timedelta(hours=1), WALL_CLOCK)):
        members[name] = {i for i, t in enumerate(times, 1) if as_of - width < expected_utc(t) <= as_of}
    return members


def check(project, rows_per_query: list[list[tuple]]) -> None:
    converted = rows_per_query[0]
    assert converted == [(i, expected_utc(t)) for i, t in enumerate(WALL_CLOCK, 1)]
    plan = Plan(project)
    for as_of, rows in zip(AS_OFS, rows_per_query[1:]):
        flags = {name: plan.column("segment", name) for name in expected_members(as_of)}
        got = {name: set() for name in flags}
        columns = ["contact_id"] + [c for s in project.segments for c in plan.outputs("segment", s.name)]
        for row in rows:
            row = dict(zip(columns, row))
            for name, flag in flags.items():
                if row[flag]:
                    got[name].add(row["contact_id"])
        assert got == expected_members(as_of), as_of


def test_duckdb(project, tmp_path):
    engine = DuckDBEngine(tmp_path / "tz.duckdb")
    engine.load(SOURCES, DATA)
    check(project, engine.queries(plain_queries(project, "duckdb")))


@pytest.mark.postgres
def test_postgres(project, postgres_server):
    engine = postgres_server.engine("segc_timezone")
    engine.load(SOURCES, DATA)
    check(project, engine.queries(plain_queries(project, "postgres")))


@pytest.mark.spark
def test_spark(project, spark_available, tmp_path):
    engine = SparkEngine(tmp_path)
    statements = [s for rel, cols, rows in source_tables(SOURCES, DATA) for s in table_statements("spark", rel, cols, rows)]
    check(project, engine._run(statements, plain_queries(project, "spark")))


def test_utc_reads_the_sources_as_they_are(tmp_path):
    write_project(tmp_path, SOURCES, DEFINITIONS)
    project = Workspace(tmp_path).load()
    assert project.settings.timezone == "UTC"
    sql = render_dbt(Plan(project).results(), project)
    assert "AT TIME ZONE" not in sql and "FROM {{ source('raw', 'events') }}" in sql


def test_every_timestamp_column_is_converted_once(project):
    sql = render_dbt(Plan(project).results(), project)
    assert sql.count("AT TIME ZONE 'Europe/Warsaw' AT TIME ZONE 'UTC'") == 2 * 3  # events.occurred_at, created_at
    assert "{{ source('raw', 'events') }}" in sql


def test_unknown_timezone_is_an_error(tmp_path):
    write_project(tmp_path, SOURCES, DEFINITIONS, settings={"timezone": "Europe/Warsawa"})
    with pytest.raises(CompileError) as info:
        Workspace(tmp_path).load()
    message = str(info.value.diagnostics[0])
    assert "unknown timezone 'Europe/Warsawa'" in message and "Europe/Warsaw" in message


def test_fixed_offsets_are_refused(tmp_path):
    """'+02:00' or 'CET' would not follow daylight saving the same way on every engine."""
    write_project(tmp_path, SOURCES, DEFINITIONS, settings={"timezone": "CET"})
    with pytest.raises(CompileError):
        Workspace(tmp_path).load()


FIXTURE_AS_OF = datetime(2026, 3, 29, 1, 30)  # between the wall-clock 02:00 and 03:00 that do not exist


def fixture_results(tmp_path, engine_name, postgres=None, zone=ZONE):
    """The cross-engine fixture's wide results with timezone Europe/Warsaw, on one engine."""
    write_project(tmp_path, FIXTURE_SOURCES, FIXTURE_DEFINITIONS, settings={"timezone": zone} if zone else None)
    project = Workspace(tmp_path).load()
    sql = render_plain(Plan(project).results(), project, engine_name, FIXTURE_AS_OF)
    data = fixture_data()
    if engine_name == "duckdb":
        engine = DuckDBEngine(tmp_path / "fixture.duckdb")
        engine.load(FIXTURE_SOURCES, data)
        return engine.query(sql)
    if engine_name == "postgres":
        engine = postgres.engine("segc_timezone_fixture")
        engine.load(FIXTURE_SOURCES, data)
        return engine.query(sql)
    statements = [s for rel, cols, rows in source_tables(FIXTURE_SOURCES, data)
                  for s in table_statements("spark", rel, cols, rows)]
    return SparkEngine(tmp_path)._run(statements, [sql])[0]


def same(a: list[tuple], b: list[tuple]) -> bool:
    key = lambda row: row[0]  # noqa: E731 - contact_id
    return len(a) == len(b) and all(
        len(x) == len(y) and all((isinstance(u, float) and isinstance(v, (int, float))
                                  and math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9)) or u == v for u, v in zip(x, y))
        for x, y in zip(sorted(a, key=key), sorted(b, key=key)))


@pytest.mark.parametrize("name", [pytest.param("postgres", marks=pytest.mark.postgres),
                                  pytest.param("spark", marks=pytest.mark.spark)])
def test_fixture_in_local_time_is_the_same_everywhere(request, tmp_path, name):
    expected = fixture_results(tmp_path / "duckdb", "duckdb")
    if name == "postgres":
        actual = fixture_results(tmp_path / name, name, request.getfixturevalue("postgres_server"))
    else:
        request.getfixturevalue("spark_available")
        actual = fixture_results(tmp_path / name, name)
    assert same(expected, actual)


def test_fixture_in_local_time_differs_from_utc(tmp_path):
    assert not same(fixture_results(tmp_path / "local", "duckdb"), fixture_results(tmp_path / "utc", "duckdb", zone=None))


def test_examples_stay_utc_instants(tmp_path):
    """An example's `at:` / `ago:` is a UTC instant, like as_of, whatever the sources' timezone."""
    from compiler.cli import run_build

    definitions = {"segments": [{"name": "recent", "rule": {"event": "visit", "within": "1h"}, "examples": [
        {"name": "half_an_hour_before", "as_of": "2026-01-15T12:00:00", "expect": "member",
         "events": [{"event_type": "visit", "at": "2026-01-15T11:30:00"}]}]}]}
    write_project(tmp_path, SOURCES, definitions, settings={"timezone": ZONE})
    engine = DuckDBEngine(tmp_path / "tz.duckdb")
    engine.load(SOURCES, DATA)
    result = run_build(Workspace(tmp_path), AS_OFS[-1], tmp_path / "tz.duckdb", echo=lambda line: None)
    assert result.returncode == 0, [r["unique_id"] for r in result.failures]
