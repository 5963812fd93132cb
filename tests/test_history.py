"""History and change feed across builds: replayed independently, through kills and failures.

The builds here leave out the rule tests (`--exclude tag:segc_rules`): test_build.py runs them on the
same project, and here they would only cost time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from compiler import demo_data
from compiler.cli import run_build
from compiler.sqlgen import history
from compiler.sqlgen.relations import render_plain, this_table
from compiler.workspace import Workspace
from harness import compile_project

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 20)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def rows(db: Path, sql: str) -> list:
    with duckdb.connect(str(db)) as con:
        return con.execute(sql).fetchall()


def membership(db: Path) -> set:
    return set(rows(db, "select contact_id, segment from segments.segment_membership"))


def feed(db: Path) -> list:
    return sorted(rows(db, "select contact_id, segment, change, as_of from segments.segment_membership_changes"))


def expected_feed(states: list[tuple[datetime, set]]) -> list:
    """The change feed implied by the recorded membership states, replayed independently."""
    out, previous = [], set()
    for as_of, current in states:
        out += [(c, s, "entered", as_of) for c, s in current - previous]
        out += [(c, s, "exited", as_of) for c, s in previous - current]
        previous = current
    return sorted(out)


def expected_history(states: list[tuple[datetime, set]]) -> list:
    open_, closed, previous = {}, [], set()
    for as_of, current in states:
        for pair in current - previous:
            open_[pair] = as_of
        for pair in previous - current:
            closed.append((*pair, open_.pop(pair), as_of))
        previous = current
    return sorted(closed + [(*pair, start, None) for pair, start in open_.items()])


def build(ws: Workspace, db: Path, as_of: datetime, exclude=("tag:segc_rules",), **kw):
    return run_build(ws, as_of, db, echo=lambda line: None, exclude=list(exclude), **kw)


MODELS_ONLY = ("resource_type:test", "resource_type:unit_test")  # the tables are checked here directly


@pytest.fixture
def project(tmp_path):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    shutil.copytree(ROOT / "macros", tmp_path / "macros")
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=400, events=20_000, as_of=T0)
    return Workspace(tmp_path), db


def add_day(db: Path, start: datetime) -> None:
    with duckdb.connect(str(db)) as con:
        demo_data.add_day(con, start=start, end=start + timedelta(days=1), events=3_000, seed=start.day)


def check(db: Path, states) -> None:
    assert feed(db) == expected_feed(states)
    history = rows(db, "select contact_id, segment, valid_from, valid_to from segments.segment_membership_history")
    assert sorted(history) == expected_history(states)
    summary = {(seg, at): counts for seg, at, *counts in
               rows(db, "select segment, as_of, members, entered, exited from segments.segment_summary")}
    segments = [s for (s,) in rows(db, "select segment from segments.segment_catalog")]
    expected, previous = {}, set()
    for as_of, current in states:
        for seg in segments:
            expected[(seg, as_of)] = [sum(1 for _, s in pairs if s == seg)
                                      for pairs in (current, current - previous, previous - current)]
        previous = current
    assert summary == expected


def test_builds_record_changes_and_refuse_going_back(project):
    ws, db = project
    states = []
    first = build(ws, db, T0)
    assert first.returncode == 0
    assert first.count("model", "success") and first.count("unit_test", "pass")
    assert not [r for r in first.results if ".assert_" in r["unique_id"]]  # --exclude tag:segc_rules
    states.append((T0, membership(db)))
    check(db, states)
    assert {c for _, _, c, _ in feed(db)} == {"entered"}  # the initial load
    summary_rows = len(rows(db, "select * from segments.segment_summary"))

    add_day(db, T0)
    next_day = build(ws, db, day(1))
    assert next_day.returncode == 0
    # as_of is no dbt var: a new one reuses the parsed project (docs/decisions.md)
    assert not [line for line in next_day.output if "Unable to do partial parsing" in line]
    states.append((day(1), membership(db)))
    check(db, states)
    assert {c for _, _, c, at in feed(db) if at == day(1)} == {"entered", "exited"}
    assert len(rows(db, "select * from segments.segment_summary")) == 2 * summary_rows

    before = (feed(db), membership(db))
    result = build(ws, db, T0)  # earlier than the latest recorded build
    assert result.returncode != 0
    assert any("history only moves forward" in line for line in result.output)
    assert (feed(db), membership(db)) == before

    quiet = day(1) + timedelta(microseconds=2)  # too soon after day 1 for any membership to change
    assert build(ws, db, quiet, exclude=MODELS_ONLY).returncode == 0
    assert membership(db) == states[-1][1]
    states.append((quiet, membership(db)))
    check(db, states)  # the build is recorded in the summary only
    with duckdb.connect(str(db)) as con:
        con.execute("delete from raw.contacts where contact_id % 2 = 0")
    assert build(ws, db, quiet, exclude=MODELS_ONLY).returncode == 0  # same as_of, other data: nothing added
    assert membership(db) != states[-1][1]
    check(db, states)
    result = build(ws, db, day(1) + timedelta(microseconds=1))  # between the two latest builds
    assert result.returncode != 0
    assert any("history only moves forward" in line for line in result.output)

    add_day(db, day(1))
    assert build(ws, db, day(2), full_refresh=True).returncode == 0  # never rebuilds the history
    states.append((day(2), membership(db)))
    check(db, states)

    assert build(ws, db, T0, rebuild_history=True).returncode == 0  # on purpose
    check(db, [(T0, membership(db))])


def test_rule_change_is_recorded_with_the_new_hash(project):
    ws, db = project
    assert build(ws, db, T0).returncode == 0
    old = rows(db, "select definition_hash from segments.segment_catalog where segment = 'big_spenders'")
    path = ws.segments_dir / "transactional.yml"
    path.write_text(path.read_text().replace("sum: {of: amount, gte: 2000}", "sum: {of: amount, gte: 500}"))
    assert build(ws, db, day(1)).returncode == 0
    new = rows(db, "select definition_hash from segments.segment_catalog where segment = 'big_spenders'")
    assert new != old
    hashes = rows(db, f"select distinct definition_hash from segments.segment_membership_changes "
                      f"where segment = 'big_spenders' and as_of = '{day(1)}'")
    assert hashes == new


def test_failing_model_loses_nothing_and_next_build_catches_up(project):
    ws, db = project
    assert build(ws, db, T0).returncode == 0
    states = [(T0, membership(db))]
    add_day(db, T0)
    rows(db, "alter table raw.orders rename column amount to amount_pln")  # segc_results now fails
    published = {t: rows(db, f"select count(*), max(as_of) from segments.{t}")
                 for t in ("segment_membership", "contact_scores", "segment_summary")}
    assert build(ws, db, day(1)).returncode == 1
    check(db, states)
    assert {t: rows(db, f"select count(*), max(as_of) from segments.{t}") for t in published} == published
    rows(db, "alter table raw.orders rename column amount_pln to amount")
    assert build(ws, db, day(2)).returncode == 0
    states.append((day(2), membership(db)))
    check(db, states)


def test_killed_build_loses_nothing_and_next_build_catches_up(project):
    ws, db = project
    assert build(ws, db, T0).returncode == 0
    states = [(T0, membership(db))]
    add_day(db, T0)
    segc = Path(sys.executable).with_name("segc")
    command = [str(segc), "build", "--project", str(ws.root), "--database", str(db), "--as-of", str(day(1)),
               "--exclude", "tag:segc_rules"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    for line in proc.stdout:  # kill it once the first published table has been replaced
        if "segments.segment_membership" in line or "segments.contact_" in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    if feed(db) != expected_feed(states):  # it got as far as recording the change feed
        states.append((day(1), membership(db)))
    check(db, states)
    assert build(ws, db, day(2)).returncode == 0
    states.append((day(2), membership(db)))
    check(db, states)


PAIRS = st.tuples(st.integers(1, 3), st.sampled_from(["a", "b"]))


@pytest.fixture(scope="module")
def example():
    return Workspace(ROOT).load()


@settings(max_examples=80, deadline=None)
@given(states=st.lists(st.frozensets(PAIRS), min_size=1, max_size=6), repeat=st.integers(0, 5))
def test_change_feed_and_history_replay_any_sequence_of_memberships(example, states, repeat):
    """The feed and history SQL alone, over any sequence of builds (leaving and coming back again
    included), against the independent replay: building again at a recorded as_of, even on other
    data and after a build that changed nothing, adds nothing; the kept history, updated by pair,
    equals the history derived again; a feed rebuilt from scratch under it is detected."""
    feed, kept = "segments.segment_membership_changes", "segments.segment_membership_history"

    def sql(tree: exp.Expression, as_of: datetime, this: str = feed) -> str:
        tree = tree.transform(lambda n: exp.to_table(this) if n == this_table() else n)
        return render_plain(tree, example, "duckdb", as_of, latest=latest)

    with duckdb.connect() as con:
        con.execute("create schema segments")
        con.execute("create table segments.segment_catalog as "
                    "select * from (values ('a', 'ha'), ('b', 'hb')) as t(segment, definition_hash)")
        con.execute("create table segments.segment_membership (contact_id bigint, segment varchar)")
        recorded = []
        latest = T0 - timedelta(days=1)  # what segc_latest_build says: any build, one that changed nothing too
        for i, members in enumerate(states):
            as_of = day(i)
            for build_again in (False, True) if i == repeat else (False,):
                con.execute("delete from segments.segment_membership")
                for pair in sorted(members ^ {(1, "a")} if build_again else members):  # other data, same as_of
                    con.execute("insert into segments.segment_membership values (?, ?)", pair)
                if i == 0 and not build_again:
                    con.execute(f"create table {feed} as {sql(history.changes(False), as_of)}")
                else:
                    con.execute(f"insert into {feed} {sql(history.changes(True), as_of)}")
                latest = as_of
            recorded.append((as_of, set(members)))
            if i == 0:
                con.execute(f"create table {kept} as {sql(history.history(), as_of)}")
            else:  # what dbt's delete+insert by (contact_id, segment) does with the model's rows
                in_step = con.execute(sql(history.history_kept_in_step(), as_of, kept)).fetchall()
                assert in_step or not con.execute(f"select * from {kept}").fetchall()
                if in_step:
                    con.execute(f"create or replace temp table batch as {sql(history.history(True), as_of, kept)}")
                    con.execute(f"delete from {kept} k using batch b where k.contact_id = b.contact_id "
                                "and k.segment = b.segment")
                    con.execute(f"insert into {kept} select * from batch")
                else:
                    con.execute(f"create or replace table {kept} as {sql(history.history(), as_of)}")
            assert sorted(con.execute(f"select * from {kept}").fetchall()) == expected_history(recorded)
        got = con.execute(f"select contact_id, segment, change, as_of from {feed}").fetchall()
        assert sorted(got) == expected_feed(recorded)
        assert {h for (h,) in con.execute(f"select definition_hash from {feed}").fetchall()} <= {"ha", "hb"}
        rebuilt = day(len(states))  # --rebuild-history whose build then fails before the history
        con.execute(f"create or replace table {feed} as {sql(history.changes(False), rebuilt)}")
        assert not con.execute(sql(history.history_kept_in_step(), rebuilt, kept)).fetchall()


EMAILS = {1: "a@x", 2: "a@x", 3: "b@x", 4: None, 5: "c@x"}  # contacts 1 and 2 share an address


@settings(max_examples=60, deadline=None)
@given(states=st.lists(st.frozensets(st.sampled_from(sorted(EMAILS))), min_size=1, max_size=5))
def test_sync_changes_diff_the_identifiers_of_consecutive_builds(example, states):
    """A diff-mode sync's changes are the identifiers that entered or left the audience, so an address that
    another member still holds never exits, as it never leaves the mirror; the fields are the lowest key's."""
    [sync] = [s for s in example.syncs if s.name == "training_newsletter"]
    feed = "segments.segment_membership_changes"

    def sql(tree: exp.Expression, as_of: datetime) -> str:
        return render_plain(tree, example, "duckdb", as_of, latest=as_of - timedelta(days=1))

    def audience(members: set) -> dict:
        return {EMAILS[c]: (f"n{c}", "Berlin") for c in sorted(members, reverse=True) if EMAILS[c]}

    with duckdb.connect() as con:
        con.execute("create schema segments; create schema raw")
        con.execute("create table raw.contacts (contact_id bigint, email varchar, first_name varchar, city varchar)")
        con.executemany("insert into raw.contacts values (?, ?, ?, 'Berlin')",
                        [(c, e, f"n{c}") for c, e in EMAILS.items()])
        con.execute(f"create table segments.segment_catalog as select '{sync.segment}' as segment, 'h' as definition_hash")
        con.execute("create table segments.segment_membership (contact_id bigint, segment varchar)")
        con.execute("create table segments.segment_summary (as_of timestamp)")
        before: set = set()
        for i, members in enumerate(states):
            as_of = day(i)
            con.execute("delete from segments.segment_membership")
            for c in sorted(members):
                con.execute("insert into segments.segment_membership values (?, ?)", [c, sync.segment])
            changes = history.changes(i > 0).transform(lambda n: exp.to_table(feed) if n == this_table() else n)
            con.execute(f"insert into {feed} {sql(changes, as_of)}" if i else f"create table {feed} as {sql(changes, as_of)}")
            con.execute("insert into segments.segment_summary values (?)", [as_of])
            con.execute(f"create or replace table segments.sync_{sync.name} as "
                        f"{sql(history.sync_members(example, sync), as_of)}")  # the mirror, built first
            got = con.execute(sql(history.sync_changes(example, sync), as_of)).fetchall()
            now, then = audience(members), audience(before)
            expected = [(e, *now[e], "entered", as_of) for e in now.keys() - then.keys()] + \
                       [(e, *then[e], "exited", as_of) for e in then.keys() - now.keys()]
            assert sorted(got) == sorted(expected)
            before = set(members)


def test_sync_fields_are_columns_whatever_their_names():
    """Fields named like SQL constants are the contacts' columns, not NULL, TRUE or today's date."""
    columns = {"email": "string", "null": "string", "true": "string", "current_date": "string"}
    project = compile_project({"segments": [{"name": "all", "rule": {"attribute": "email", "is_null": False}}],
                               "syncs": [{"name": "crm", "segment": "all", "destination": "crm", "identifier": "email",
                                          "fields": ["null", "true", "current_date"]}]},
                              {"contacts": {"relation": "raw.contacts", "key": "contact_id", "columns": columns}})
    [sync] = project.syncs
    with duckdb.connect() as con:
        con.execute('create schema raw; create table raw.contacts (contact_id int, email text, "null" text, '
                    '"true" text, "current_date" text)')
        con.execute("insert into raw.contacts values (1, 'a@x.pl', 'n', 't', 'd')")
        con.execute("create schema segments; create table segments.segment_membership as "
                    "select 1 as contact_id, 'all' as segment")
        got = con.execute(render_plain(history.sync_members(project, sync), project, "duckdb", datetime(2026, 1, 1)))
        assert got.fetchall() == [("a@x.pl", "n", "t", "d")]
