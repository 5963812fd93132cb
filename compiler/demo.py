"""`segc demo`: realistic sample data in DuckDB, then the whole pipeline, with a short summary."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import duckdb

from . import demo_data
from .cli import report, run_build
from .workspace import Workspace

DEMO_AS_OF = datetime(2026, 11, 28, 0, 0, 0)


def run(root: Path, *, contacts: int, events: int, database: Path | None) -> int:
    ws = Workspace(root.resolve())
    database = database or ws.default_database
    started = time.perf_counter()
    print(f"[1/3] generating {contacts:,} contacts and ~{events:,} events in {database} ...")
    with duckdb.connect(str(database)) as con:
        counts = demo_data.generate(con, contacts=contacts, events=events, as_of=DEMO_AS_OF)
    print("      " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
          + f" ({time.perf_counter() - started:.1f}s)")
    print("[2/3] compiling segments/ and building with dbt ...")
    result = run_build(ws, DEMO_AS_OF, database)
    if result is None:
        return 1
    report(result, time.perf_counter() - started)
    print("[3/3] summary")
    with duckdb.connect(str(database), read_only=True) as con:
        sizes = con.execute("select segment, count(*) from segments.segment_membership group by 1 order by 1").fetchall()
        total = con.execute("select count(*) from segments.segment_catalog").fetchone()[0]
    sizes = dict(sizes)
    with duckdb.connect(str(database), read_only=True) as con:
        names = [r[0] for r in con.execute("select segment from segments.segment_catalog order by 1").fetchall()]
    width = max(map(len, names), default=10)
    for name in names:
        print(f"      {name:<{width}}  {sizes.get(name, 0):>7,}")
    print(f"      {total} segments at as_of {DEMO_AS_OF}; total time {time.perf_counter() - started:.1f}s")
    print("      try: duckdb warehouse.duckdb \"select * from segments.segment_membership limit 5\"")
    return 0 if result.returncode == 0 else 1
