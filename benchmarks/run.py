"""Benchmark: segc's shared plan against one query per segment, and against one scan of the events.

    .venv/bin/python benchmarks/run.py --contacts 200000 --events 2000000 --segments 1 10 100

Everything is measured in the same run on the same DuckDB file, and reported as seconds and as
a ratio to the floor (one GROUP BY contact_id over the events), plus peak memory of the build.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler import demo_data, emit  # noqa: E402
from compiler.cli import GC_THRESHOLDS  # noqa: E402
from compiler.runner import dbt, dbt_invocation  # noqa: E402
from compiler.scaffold import write as scaffold  # noqa: E402
from compiler.sqlgen.direct import Direct  # noqa: E402
from compiler.sqlgen.relations import render_plain  # noqa: E402
from compiler.workspace import Workspace  # noqa: E402

AS_OF = datetime(2026, 11, 28)
OUT = ROOT / "benchmarks" / "out"
URLS = ["/szkolenia", "/buty", "/tv", "/cennik", "/blog", "/kontakt", "/buty/damskie", "/tv/oled"]
CITIES = ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk"]
WINDOWS = ["24h", "7d", "14d", "30d", "60d", "90d", "6mo", "1y"]


def segment_rules(n: int, seed: int = 7) -> list[dict]:
    """N segments of the mixed kinds marketing teams write, with varied parameters."""
    rnd = random.Random(seed)

    def pick(values):
        return rnd.choice(values)

    kinds = [
        lambda: {"event": "page_view", "where": {"url": {"contains": pick(URLS)}}, "within": pick(WINDOWS),
                 "count": {"gte": rnd.randint(1, 5)}},
        lambda: {"event": pick(["email_open", "email_click", "form_submit"]), "within": pick(WINDOWS)},
        lambda: {"stream": "orders", "where": {"status": {"eq": "paid"}}, "within": pick(WINDOWS),
                 "sum": {"of": "amount", "gte": rnd.choice([100, 500, 1000, 2000])}},
        lambda: {"all": [{"attribute": "city", "eq": pick(CITIES)},
                         {"event": "email_open", "within": pick(WINDOWS), "count": {"gte": rnd.randint(1, 3)}}]},
        lambda: {"attribute": "tags", "has_any": rnd.sample(["vip", "newsletter", "webinar", "b2b", "partner"], 2)},
        lambda: {"not": {"stream": "orders", "within": pick(["30d", "90d", "6mo", "1y"])}},
        lambda: {"event": "add_to_cart", "within": pick(["24h", "48h", "7d"]), "not_followed_by": {"event": "purchase"}},
        lambda: {"event": "page_view", "within": pick(WINDOWS), "distinct": {"of": "url", "gte": rnd.randint(2, 6)}},
        lambda: {"attribute": "birth_date", "age": {"between": sorted(rnd.sample(range(18, 70), 2))}},
    ]
    segments = []
    for i in range(n):
        if i >= 10 and i % 10 == 9:  # every tenth refers to two earlier ones
            rule = {"all": [{"segment": f"s{rnd.randrange(i)}"}, {"not": {"segment": f"s{rnd.randrange(i)}"}}]}
        else:
            rule = kinds[i % len(kinds)]()
        segments.append({"name": f"s{i}", "description": f"benchmark segment {i}", "rule": rule})
    return segments


def make_project(folder: Path, n: int, check_sample: int = 100, incremental: bool = False) -> Workspace:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "segments").mkdir(parents=True)
    shutil.copy(ROOT / "segments" / "sources.yml", folder / "segments" / "sources.yml")
    definitions = {"segments": segment_rules(n)}
    settings = {"check_sample_percent": check_sample} if check_sample != 100 else {}
    if incremental:
        settings["incremental"] = True
    if settings:
        definitions["settings"] = settings
    text = yaml.safe_dump(definitions, allow_unicode=True, sort_keys=False)
    (folder / "segments" / "bench.yml").write_text(text)
    scaffold(folder)
    return Workspace(folder)


def timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def floor(db: Path) -> float:
    with duckdb.connect(str(db)) as con:
        return timed(lambda: con.execute(
            "create or replace temp table floor as select contact_id, count(*) as n from raw.events group by 1"))


def naive(db: Path, ws: Workspace) -> float:
    """One CREATE TABLE per segment with the straightforward per-contact SQL."""
    project = ws.load()
    direct = Direct(project)
    queries = [render_plain(direct.per_contact(direct.condition(s.rule)), project, "duckdb", AS_OF)
               for s in project.segments]
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists naive")
        return timed(lambda: [con.execute(f"create or replace table naive.s{i} as select contact_id from ({q}) "
                                          "where expected") for i, q in enumerate(queries)])


def segc_build(db: Path, ws: Workspace) -> tuple[float, float, float]:
    """(`segc build` wall seconds for the models, their SQL seconds, rule tests seconds)."""
    emit.write(ws.load(), ws.dbt_dir)
    started = time.perf_counter()
    sql = models_sql(MODELS, db, ws)
    wall = time.perf_counter() - started
    tests = timed(lambda: dbt(TESTS, ws.dbt_dir, db, as_of=str(AS_OF)))
    return wall, sql, tests


def models_sql(args: list[str], db: Path, ws: Workspace, as_of: datetime = AS_OF) -> float:
    """Run dbt with `args` at `as_of`; the seconds its models' SQL took (dbt's execution times)."""
    run = dbt(args, ws.dbt_dir, db, as_of=str(as_of))
    assert run.returncode == 0, "\n".join(run.output[-20:])
    return sum(r["execution_time"] for r in run.results)


MODELS = ["run", "--select", "segc_results", "segment_membership"]
INCREMENTAL_MODELS = ["run", "--select", "segc_contacts_now", "segc_streams_now", "segc_changed", "segc_members",
                      "segc_contact_hashes", "segc_state", "segment_membership"]
TESTS = ["test", "--select", "tag:segc_rules"]
# Run dbt under a fresh, small parent: the peak RSS the kernel reports for a child includes the memory
# of the process it was forked from (here, the one that generated the data).
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def incremental_build(db: Path, ws: Workspace) -> tuple[float, float, float, int]:
    """(SQL seconds of a full build at AS_OF − 1 day, of the next day's incremental one, its wall seconds,
    contacts recomputed)."""
    full = models_sql(INCREMENTAL_MODELS + ["--full-refresh"], db, ws, AS_OF - timedelta(days=1))
    started = time.perf_counter()
    delta = models_sql(INCREMENTAL_MODELS, db, ws)
    wall = time.perf_counter() - started
    with duckdb.connect(str(db)) as con:
        changed = con.execute("select count(*) from segments_internal.segc_changed").fetchone()[0]
    return full, delta, wall, changed


def whole_builds(db: Path, ws: Workspace, repeat: int) -> float:
    """Median wall seconds of `segc build` (compile, every model and test) at new as_ofs, on a copy of the data,
    after a first build (the initial load of the change feed), as a daily build runs."""
    copy = db.with_name(f"whole_{ws.root.name}.duckdb")
    shutil.copy(db, copy)
    segc = Path(sys.executable).with_name("segc")

    def build(hours: int) -> None:
        as_of = (AS_OF + timedelta(hours=hours)).isoformat()
        subprocess.run([str(segc), "build", "--project", str(ws.root), "--database", str(copy), "--as-of", as_of],
                       stdout=subprocess.DEVNULL, check=True)

    build(0)
    seconds = statistics.median(timed(lambda: build(k)) for k in range(1, repeat + 1))
    copy.unlink()
    return seconds


def peak_gb(db: Path, ws: Workspace, args: list[str]) -> float:
    """Peak resident memory of one dbt invocation, in GB."""
    command, env = dbt_invocation(args, ws.dbt_dir, db, as_of=str(AS_OF))
    out = subprocess.run([sys.executable, "-c", PEAK, *command], cwd=ws.dbt_dir, env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024 / 1024


def compile_time(n: int) -> float:
    """Seconds to load, check, plan and render N segments, with the GC thresholds the `segc` command sets."""
    ws = make_project(OUT / f"compile_{n}", n)
    default = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        return timed(lambda: emit.render(ws.load()))
    finally:
        gc.set_threshold(*default)


def median(func, repeat: int) -> float:
    return statistics.median(func() for _ in range(repeat))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--segments", type=int, nargs="+", default=[1, 10, 100, 300])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--no-naive", action="store_true", help="skip the one-query-per-segment baseline")
    parser.add_argument("--chart", metavar="PNG", help="write a chart of build time against segments")
    parser.add_argument("--check-sample", type=int, default=100, metavar="PERCENT",
                        help="settings.check_sample_percent of the benchmark project (rule tests on a sample)")
    parser.add_argument("--incremental", action="store_true",
                        help="also time a daily incremental build of the largest project against its full build")
    parser.add_argument("--whole", action="store_true",
                        help="also time `segc build` itself (compile, every model and test) for each number of segments")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "bench.duckdb"
    db.unlink(missing_ok=True)
    print(f"data: {args.contacts:,} contacts, {args.events:,} events ...", flush=True)
    with duckdb.connect(str(db)) as con:
        counts = demo_data.generate(con, contacts=args.contacts, events=args.events, as_of=AS_OF)
    print("      " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    base = median(lambda: floor(db), args.repeat)
    print(f"floor (one GROUP BY contact_id over events): {base:.2f}s")
    print(f"{'segments':>8} {'naive s':>9} {'naive/floor':>11} {'segc s':>8} {'segc/floor':>10} "
          f"{'segc SQL s':>10} {'SQL/floor':>9} {'tests s':>8} {'peak GB':>8}")
    rows = []
    for n in args.segments:
        ws = make_project(OUT / f"project_{n}", n, args.check_sample)
        naive_s = None if args.no_naive else median(lambda: naive(db, ws), args.repeat)
        runs = [segc_build(db, ws) for _ in range(args.repeat)]
        segc_s, sql_s, tests_s = (statistics.median(r[i] for r in runs) for i in range(3))
        peak = max(peak_gb(db, ws, MODELS), peak_gb(db, ws, TESTS))
        rows.append((n, naive_s, segc_s, sql_s))
        naive_text = f"{naive_s:>9.2f} {naive_s / base:>10.1f}x" if naive_s else f"{'-':>9} {'-':>11}"
        print(f"{n:>8} {naive_text} {segc_s:>8.2f} {segc_s / base:>9.1f}x {sql_s:>10.2f} {sql_s / base:>8.1f}x "
              f"{tests_s:>8.2f} {peak:>8.2f}", flush=True)
    if args.incremental:
        n, full_wall, full_sql = rows[-1][0], rows[-1][2], rows[-1][3]
        ws = make_project(OUT / f"incremental_{n}", n, args.check_sample, incremental=True)
        emit.write(ws.load(), ws.dbt_dir)
        runs = [incremental_build(db, ws) for _ in range(args.repeat)]
        first, delta, wall, changed = (statistics.median(r[i] for r in runs) for i in range(4))
        print(f"incremental, {n} segments, one new day: SQL {delta:.2f}s = {delta / full_sql:.0%} of the full build's "
              f"SQL ({full_sql:.2f}s), wall clock {wall:.2f}s = {wall / full_wall:.0%} of the full build's "
              f"({full_wall:.2f}s); {changed:,.0f} contacts recomputed; the incremental models' own full "
              f"build {first:.2f}s")
    if args.whole:
        whole = {n: whole_builds(db, Workspace(OUT / f"project_{n}"), args.repeat) for n in args.segments}
        first, last = args.segments[0], args.segments[-1]
        print("segc build with every test, at a new as_of: " + ", ".join(f"{n} segments {t:.2f}s" for n, t in whole.items())
              + (f"; {last} cost {whole[last] / whole[first]:.2f}x {first}" if len(whole) > 1 else ""), flush=True)
    if len(rows) > 1:
        print(f"segc build: {rows[-1][0]} segments cost {rows[-1][2] / rows[0][2]:.2f}x {rows[0][0]} segment(s) "
              f"(SQL alone: {rows[-1][3] / rows[0][3]:.2f}x)")
    print(f"compile 1,000 segments: {median(lambda: compile_time(1000), args.repeat):.2f}s")
    if args.chart:
        chart(rows, Path(args.chart), args)
    return 0


def chart(rows, path: Path, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ns = [r[0] for r in rows]
    ax.plot(ns, [r[2] for r in rows], marker="o", label="segc build: dbt run, wall clock")
    ax.plot(ns, [r[3] for r in rows], marker="^", label="segc build: the models' SQL alone")
    if all(r[1] for r in rows):
        ax.plot(ns, [r[1] for r in rows], marker="s", label="naive: one query per segment (SQL alone)")
    ax.set_xlabel("segments")
    ax.set_ylabel("seconds")
    ax.set_title(f"Build time, {args.contacts:,} contacts / {args.events:,} events, DuckDB")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart: {path}")


if __name__ == "__main__":
    sys.exit(main())
