"""Compile a project and evaluate it in DuckDB without dbt: the engine side of semantic tests.

`warehouse_result` runs the shared plan's query (the same SQL the dbt model holds, with as_of
bound) over tables loaded from a `reference.Dataset`, and returns a `reference.Result`, so a
test compares the two with `==`.
"""

from __future__ import annotations

import math
from datetime import datetime

import duckdb
import yaml

from compiler import ir
from compiler.loader import load_text
from compiler.parse import parse
from compiler.sqlgen.direct import Direct
from compiler.sqlgen.plan import Plan
from compiler.sqlgen.relations import render_plain
from reference import Dataset, Result

SQL_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
             "date": "DATE", "timestamp": "TIMESTAMP", "list": "VARCHAR[]"}


def compile_project(definitions: dict, sources: dict) -> ir.Project:
    """IR from definitions given as Python data (dumped to YAML and loaded like a file)."""
    text = yaml.safe_dump({"version": 1, "sources": sources, **definitions}, sort_keys=False, allow_unicode=True)
    doc, problems = load_text(text, "test.yml")
    assert not problems, problems
    return parse([doc])


def load_tables(con: duckdb.DuckDBPyConnection, sources: dict, data: Dataset) -> None:
    """Create the declared relations with their declared types and insert the dataset's rows."""
    def create(relation: str, columns: dict[str, str], rows: list[dict]) -> None:
        schema = relation.split(".")[0]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cols = ", ".join(f"{c} {SQL_TYPES.get(t, t)}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TABLE {relation} ({cols})")
        if rows:
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"INSERT INTO {relation} VALUES ({marks})",
                            [[row.get(c) for c in columns] for row in rows])

    contacts = sources["contacts"]
    create(contacts["relation"], {contacts["key"]: "BIGINT", **contacts["columns"]}, data.contacts)
    for name, s in (sources.get("streams") or {}).items():
        columns = {s["contact_key"]: "BIGINT", s["timestamp"]: "timestamp"}
        if s.get("event_type"):
            columns[s["event_type"]] = "string"
        columns.update(s.get("columns") or {})
        create(s["relation"], columns, data.streams.get(name, []))


def warehouse_result(con: duckdb.DuckDBPyConnection, project: ir.Project, as_of: datetime) -> Result:
    """Run the shared plan in DuckDB and reshape its wide rows into a reference.Result."""
    plan = Plan(project)
    rows = con.execute(render_plain(plan.results(), project, "duckdb", as_of)).fetchall()
    names = [d[0] for d in con.description]
    result = Result()
    for values in rows:
        row = dict(zip(names, values))
        cid = row["contact_id"]
        for s in project.segments:
            if row[plan.column("segment", s.name)]:
                result.membership.add((cid, s.name))
        for s in project.scores:
            result.scores[(cid, s.name)] = (row[plan.column("score", s.name)], row[plan.column("score", s.name, "_grade")])
        for lc in project.lifecycles:
            result.lifecycle[(cid, lc.name)] = row[plan.column("lifecycle", lc.name)]
        for r in project.rfms:
            prefix = plan.column("rfm", r.name)
            if row[f"{prefix}_r"] is not None:
                result.rfm[(cid, r.name)] = {k: row[f"{prefix}_{k}"] for k in
                                             ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")}
    return result


def direct_membership(con: duckdb.DuckDBPyConnection, project: ir.Project, as_of: datetime) -> set:
    """Members by the direct (one query per condition) translation used in the dbt rule tests."""
    direct = Direct(project)
    found = set()
    for s in project.segments:
        query = direct.per_contact(direct.condition(s.rule))
        for cid, member in con.execute(render_plain(query, project, "duckdb", as_of)).fetchall():
            if member:
                found.add((cid, s.name))
    return found


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_same(expected: Result, actual: Result) -> None:
    """Exact agreement; floats within 1e-9 relative."""
    assert actual.membership == expected.membership
    assert actual.lifecycle == expected.lifecycle
    assert actual.scores.keys() == expected.scores.keys()
    for key, (value, grade) in expected.scores.items():
        got_value, got_grade = actual.scores[key]
        assert close(value, got_value), (key, value, got_value)
        assert got_grade == grade, (key, grade, got_grade)
    assert actual.rfm.keys() == expected.rfm.keys()
    for key, values in expected.rfm.items():
        got = actual.rfm[key]
        assert {k: v for k, v in got.items() if k != "monetary"} == \
            {k: v for k, v in values.items() if k != "monetary"}, key
        assert close(values["monetary"], got["monetary"]), key
