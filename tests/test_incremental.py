"""Incremental membership: a build that resumes from the previous one equals the reference evaluator.

The models of an incremental build run here as plain DuckDB statements, as the dbt models and the
macros in macros/segc_incremental.sql chain them: a full build at T0 (members, contact hashes,
state); then the contacts change (some edited, deleted, added), rows that were in the future at T0
start to count, and a build at T1 recomputes only `changed` and must equal the reference at T1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from compiler import emit
from compiler.sqlgen import incremental, outputs
from compiler.sqlgen.plan import CID, Plan
from compiler.sqlgen.relations import ref_table, render_plain
from harness import compile_project, load_tables
from reference import Dataset, evaluate
from strategies import AS_OF, SCHEMA, SOURCES, datasets, projects

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
GAPS = (timedelta(seconds=1), timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=31))
INTERNAL = "segments_internal"


class Builds:
    """The incremental models of one project, run against one in-memory DuckDB."""

    def __init__(self, project, con):
        self.project, self.con, self.plan = project, con, Plan(project)
        self.full = outputs.members(self.plan, project.segments, self.plan.results())
        only = ref_table("segc_changed")
        self.delta = outputs.members(self.plan, project.segments,
                                     self.plan.results(exp.select(CID).from_(only)))
        con.execute(f"create schema {INTERNAL}")

    def sql(self, tree, as_of, previous=None) -> str:
        return render_plain(tree, self.project, "duckdb", as_of, INTERNAL, previous)

    def table(self, name: str, tree, as_of, previous=None) -> None:
        self.con.execute(f"create or replace table {INTERNAL}.{name} as {self.sql(tree, as_of, previous)}")

    def start(self, as_of) -> None:
        self.table(incremental.CONTACTS_NOW, incremental.contact_hashes(self.project), as_of)
        self.table(incremental.STREAMS_NOW, incremental.stream_counts(self.plan), as_of)

    def first(self, as_of) -> None:
        self.start(as_of)
        self.table("segc_members", self.full, as_of)
        self.finish(as_of)

    def finish(self, as_of) -> None:
        self.con.execute(f"create or replace table {INTERNAL}.segc_contact_hashes as "
                         f"select * from {INTERNAL}.{incremental.CONTACTS_NOW}")
        self.table("segc_state", incremental.state(self.plan, "same"), as_of)

    def resumable(self, as_of, fingerprint="same") -> bool:
        return self.con.execute(self.sql(incremental.resumable(self.plan, fingerprint), as_of)).fetchone() is not None

    def next(self, previous, as_of, meanwhile=lambda: None) -> None:
        """An incremental build at `as_of`; `meanwhile` changes the sources after it has read them."""
        assert self.resumable(as_of)
        self.start(as_of)
        self.table("segc_changed", incremental.changed(self.project, self.plan), as_of, previous)
        self.con.execute(f"delete from {INTERNAL}.segc_members where contact_id in "
                         f"(select {CID} from {INTERNAL}.segc_changed)")
        self.con.execute(f"insert into {INTERNAL}.segc_members {self.sql(self.delta, as_of)}")
        meanwhile()
        self.finish(as_of)

    def members(self) -> set:
        return set(self.con.execute(f"select contact_id, segment from {INTERNAL}.segc_members").fetchall())


@st.composite
def histories(draw):
    """(contacts at T0, data at T1, T0): rows near both instants' window edges; contacts edited,
    deleted (present at T0 only) and added (present at T1 only) in between."""
    gap = draw(st.sampled_from(GAPS))
    now, before = draw(datasets(AS_OF)), draw(datasets(AS_OF - gap))
    rows = {name: now.streams[name] + before.streams[name] for name in now.streams}
    kept = {c["contact_id"] for c in now.contacts}
    earlier = [c for c in before.contacts if c["contact_id"] not in kept]  # deleted since T0
    for c in now.contacts:
        fate = draw(st.sampled_from(("same", "same", "edited", "added")))
        if fate == "same":
            earlier.append(c)
        elif fate == "edited" and before.contacts:
            earlier.append({**draw(st.sampled_from(before.contacts)), "contact_id": c["contact_id"]})
    return earlier, Dataset(contacts=now.contacts, streams=rows), AS_OF - gap


@SETTINGS
@given(definitions=projects(), history=histories())
def test_incremental_build_equals_the_reference(definitions, history):
    project = compile_project(definitions, SOURCES)
    assume(not incremental.blockers(project))
    contacts_before, data, before = history
    with duckdb.connect() as con:
        load_tables(con, SOURCES, Dataset(contacts=contacts_before, streams=data.streams))
        builds = Builds(project, con)
        builds.first(before)
        assert builds.members() == evaluate(definitions, SCHEMA, Dataset(contacts_before, data.streams), before).membership
        load_tables(con, SOURCES, data)
        builds.next(before, AS_OF)
        assert builds.members() == evaluate(definitions, SCHEMA, data, AS_OF).membership


def one_segment_project():
    return compile_project({"segments": [{"name": "openers", "rule": {"event": "email_open", "within": "7d"}}]},
                           SOURCES)


def test_the_previous_state_is_not_resumed_when_it_cannot_be_trusted():
    """Other definitions, an as_of before the state's, late rows at or before it, an unfinished build."""
    project = one_segment_project()
    event = {"contact_id": 1, "occurred_at": AS_OF - timedelta(days=2), "event_type": "email_open"}
    data = Dataset(contacts=[{"contact_id": 1}], streams={"events": [event], "orders": []})
    with duckdb.connect() as con:
        load_tables(con, SOURCES, data)
        builds = Builds(project, con)
        builds.first(AS_OF - timedelta(days=1))
        assert builds.resumable(AS_OF)
        assert builds.resumable(AS_OF - timedelta(days=1))  # the same as_of again
        assert not builds.resumable(AS_OF, fingerprint="other definitions")
        assert not builds.resumable(AS_OF - timedelta(days=2))
        con.execute("insert into raw.events (contact_id, occurred_at, event_type) values "
                    "(1, timestamp '2026-03-29 00:00:00', 'email_open')")  # late: before T0
        assert not builds.resumable(AS_OF)
        con.execute("delete from raw.events where occurred_at = timestamp '2026-03-29 00:00:00'")
        assert builds.resumable(AS_OF)
        late = AS_OF - timedelta(days=1)  # exactly at T0: it counted at T0, so the count differs
        con.execute("insert into raw.events (contact_id, occurred_at, event_type) values (1, ?, 'email_open')", [late])
        assert not builds.resumable(AS_OF)
        con.execute("delete from raw.events where occurred_at = ?", [late])
        assert builds.resumable(AS_OF)
        con.execute(f"update {INTERNAL}.segc_state set complete = false")
        assert not builds.resumable(AS_OF)


def test_projects_that_rank_or_decay_are_not_incremental():
    ranked = compile_project({
        "rfm": [{"name": "buyers", "stream": "orders", "monetary": "amount"}],
        "scores": [{"name": "fading", "decay": {"half_life": "7d"}, "rules": [
            {"points": 1, "per_event": True, "when": {"event": "email_open"}}]}],
        "segments": [{"name": "champions", "rule": {"rfm": "buyers", "segment": "champions"}},
                     {"name": "warm", "rule": {"score": "fading", "gt": 1}},
                     {"name": "recent", "rule": {"event": "page_view", "where": {"url": {"contains": "/a"}}}}],
    }, SOURCES)
    assert incremental.blockers(ranked) == [
        "it depends on RFM 'buyers', whose scores rank all contacts together",
        "it depends on score 'fading', which decays with time"]
    assert incremental.blockers(one_segment_project()) == []
    assert emit.incremental_blockers(one_segment_project(), "postgres") == [
        "incremental builds run on DuckDB only, and this target is postgres"]


def test_attribute_tests_on_time_are_rechecked_for_contacts_without_new_rows():
    """Nothing happened to these contacts between the builds, but time passed: a birthday, an
    anniversary of sign-up, a date entering and another leaving a window."""
    before = AS_OF - timedelta(days=1)
    project = {"segments": [
        {"name": "adults", "rule": {"attribute": "birth_date", "age": {"gte": 18}}},
        {"name": "new", "rule": {"attribute": "created_at", "within": "30d"}},
        {"name": "veterans", "rule": {"attribute": "created_at", "older_than": "1y"}}]}
    contacts = [
        {"contact_id": 1, "birth_date": (AS_OF - timedelta(days=18 * 365 + 4)).date()},  # 18 on AS_OF's date
        {"contact_id": 2, "created_at": AS_OF - timedelta(hours=1)},  # signed up between the builds
        {"contact_id": 3, "created_at": before - timedelta(days=30) + timedelta(hours=1)},  # leaves the window
        {"contact_id": 4, "created_at": AS_OF - timedelta(days=365, hours=1)},  # a year old by AS_OF
    ]
    data = Dataset(contacts=contacts, streams={"events": [], "orders": []})
    with duckdb.connect() as con:
        load_tables(con, SOURCES, data)
        builds = Builds(compile_project(project, SOURCES), con)
        builds.first(before)
        assert builds.members() == evaluate(project, SCHEMA, data, before).membership == {(3, "new")}
        builds.next(before, AS_OF)
        assert builds.members() == evaluate(project, SCHEMA, data, AS_OF).membership
        assert builds.members() == {(1, "adults"), (2, "new"), (4, "veterans")}


def rebuilt(project: dict, before: Dataset, after: Dataset, t0=AS_OF - timedelta(days=1), t1=AS_OF) -> set:
    """Membership of an incremental build at t1 after a full one at t0, checked against the reference at both."""
    with duckdb.connect() as con:
        load_tables(con, SOURCES, before)
        builds = Builds(compile_project(project, SOURCES), con)
        builds.first(t0)
        assert builds.members() == evaluate(project, SCHEMA, before, t0).membership
        load_tables(con, SOURCES, after)
        builds.next(t0, t1)
        assert builds.members() == evaluate(project, SCHEMA, after, t1).membership
        return builds.members()


def test_rows_exactly_on_the_edges_of_both_instants():
    """A row at T1 − D leaves a window of D; a latest row crosses `older_than` D without any window; a row
    at T1 starts to count."""
    project = {"segments": [
        {"name": "week", "rule": {"event": "email_open", "within": "7d"}},
        {"name": "lapsed", "rule": {"event": "email_click", "last": {"older_than": "10d"}}},
        {"name": "today", "rule": {"event": "form_submit", "within": "24h"}}]}
    events = [{"contact_id": 1, "occurred_at": AS_OF - timedelta(days=7), "event_type": "email_open"},
              {"contact_id": 2, "occurred_at": AS_OF - timedelta(days=10, hours=12), "event_type": "email_click"},
              {"contact_id": 3, "occurred_at": AS_OF, "event_type": "form_submit"}]
    data = Dataset(contacts=[{"contact_id": c} for c in (1, 2, 3)], streams={"events": events, "orders": []})
    assert rebuilt(project, data, data) == {(2, "lapsed"), (3, "today")}


def test_an_edit_read_through_a_score_recomputes_the_contact():
    """The contact hash covers the columns of every definition a segment refers to, not only its own."""
    project = {"scores": [{"name": "fit", "rules": [{"points": 10, "when": {"attribute": "city", "eq": "Kraków"}}]}],
               "segments": [{"name": "fits", "rule": {"score": "fit", "gte": 10}}]}
    streams = {"events": [], "orders": []}
    before = Dataset(contacts=[{"contact_id": 1, "city": "Warszawa"}], streams=streams)
    after = Dataset(contacts=[{"contact_id": 1, "city": "Kraków"}], streams=streams)
    assert rebuilt(project, before, after) == {(1, "fits")}


def test_a_calendar_edge_that_moves_back():
    """1mo before Mar 29 23:00 is Feb 28 23:00, before Mar 30 01:00 it is Feb 28 01:00 (the day clamped to the
    month's last): a row at Feb 28 12:00 comes back into the window."""
    project = {"segments": [{"name": "monthly", "rule": {"event": "page_view", "within": "1mo"}},
                            {"name": "lapsed", "rule": {"event": "email_open", "last": {"older_than": "1mo"}}}]}
    feb_28 = datetime(2026, 2, 28, 12)
    events = [{"contact_id": 1, "occurred_at": feb_28, "event_type": "page_view"},
              {"contact_id": 2, "occurred_at": feb_28, "event_type": "email_open"}]
    data = Dataset(contacts=[{"contact_id": 1}, {"contact_id": 2}], streams={"events": events, "orders": []})
    members = rebuilt(project, data, data, datetime(2026, 3, 29, 23), datetime(2026, 3, 30, 1))
    assert members == {(1, "monthly")}


def test_sources_that_change_during_a_build_are_caught_by_the_next():
    """A contact edited, or a row at or before as_of added, after the build read the sources but before it
    wrote its state: the next build must not take them as read."""
    project = {"segments": [{"name": "cracow", "rule": {"attribute": "city", "eq": "Kraków"}},
                            {"name": "openers", "rule": {"event": "email_open", "within": "7d"}}]}
    t0, t1, t2 = AS_OF - timedelta(days=2), AS_OF - timedelta(days=1), AS_OF
    data = Dataset(contacts=[{"contact_id": 1, "city": "Warszawa"}, {"contact_id": 2}],
                   streams={"events": [], "orders": []})
    edit = "update raw.contacts set city = 'Kraków' where contact_id = 1"
    late = "insert into raw.events (contact_id, occurred_at, event_type) values (2, ?, 'email_open')"
    with duckdb.connect() as con:
        load_tables(con, SOURCES, data)
        builds = Builds(compile_project(project, SOURCES), con)
        builds.first(t0)
        builds.next(t0, t1, meanwhile=lambda: con.execute(edit))
        assert builds.members() == set()  # what the build read
        builds.next(t1, t2)  # resumes, and recomputes the edited contact
        assert builds.members() == {(1, "cracow")}
        builds.next(t2, t2, meanwhile=lambda: con.execute(late, [t2 - timedelta(hours=1)]))
        assert builds.members() == {(1, "cracow")}
        assert not builds.resumable(t2)  # the row it did not read makes the next build a full one
