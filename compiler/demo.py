"""`segc demo`: realistic sample data in DuckDB, two daily builds, and a short summary."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from . import demo_data
from .cli import cmd_status, report, run_build
from .workspace import Workspace, published_tables

DEMO_AS_OF = datetime(2026, 11, 27, 0, 0, 0)
NEXT_DAY = DEMO_AS_OF + timedelta(days=1)


def run(root: Path, *, contacts: int, events: int, database: Path | None) -> int:
    ws = Workspace(root.resolve())
    database = database or ws.default_database
    schema = ws.defined_schema
    started = time.perf_counter()
    print(f"[1/4] generating {contacts:,} contacts and ~{events:,} events in {database} ...")
    with duckdb.connect(str(database)) as con:
        summary = published_tables(con, schema).get("segment_summary")
        if summary:
            builds = con.execute(f"select count(distinct as_of) from {summary}").fetchone()[0]
            print(f"      replacing the raw tables and the {schema} schema ({builds} recorded builds of history)")
        counts = demo_data.generate(con, contacts=contacts, events=events, as_of=DEMO_AS_OF)
        for dropped in (schema, f"{schema}_internal"):
            con.execute(f'drop schema if exists "{dropped}" cascade')
    print("      " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" ({time.perf_counter() - started:.1f}s)")
    for step, as_of in ((2, DEMO_AS_OF), (3, NEXT_DAY)):
        if as_of == NEXT_DAY:
            with duckdb.connect(str(database)) as con:
                added = demo_data.add_day(con, start=DEMO_AS_OF, end=NEXT_DAY)
            print(f"      a day passes: {added['events']:,} new events, {added['orders']:,} new orders")
        print(f"[{step}/4] building at as_of {as_of} ...")
        build_started = time.perf_counter()
        result = run_build(ws, as_of, database, echo=lambda line: None)
        if result is None:
            return 1
        report(result, time.perf_counter() - build_started)
        if result.returncode:
            return 1
    print("[4/4] summary")
    cmd_status(type("Args", (), {"project": str(ws.root), "database": str(database), "builds": 10}))
    print(f"total time {time.perf_counter() - started:.1f}s; query it: "
          f"duckdb {database.name} \"select * from {schema}.segment_membership_changes limit 5\"")
    return 0
