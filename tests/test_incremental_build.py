"""Incremental builds through dbt: each build's membership is checked by the rule tests (the direct
translation of every rule), and the change feed against the memberships the builds published."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks.run import segment_rules
from compiler import demo_data, emit
from compiler.cli import main, run_build
from compiler.workspace import Workspace
from test_history import T0, add_day, check, day, membership, rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "segments").mkdir()
    shutil.copy(ROOT / "segments" / "sources.yml", tmp_path / "segments" / "sources.yml")
    definitions = {"settings": {"incremental": True}, "segments": segment_rules(20)}
    (tmp_path / "segments" / "audiences.yml").write_text(yaml.safe_dump(definitions, sort_keys=False))
    shutil.copytree(ROOT / "macros", tmp_path / "macros")
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=400, events=20_000, as_of=T0)
    return Workspace(tmp_path), db


def build(ws: Workspace, db: Path, as_of) -> None:
    result = run_build(ws, as_of, db, echo=lambda line: None)
    assert result.returncode == 0, [(r["unique_id"], r.get("message")) for r in result.failures]
    assert any(".assert_segment_" in r["unique_id"] for r in result.results)  # every rule was checked


def recomputed(db: Path) -> int | None:
    """How many contacts the last build recomputed; None when it recomputed all of them."""
    keys = [k for (k,) in rows(db, "select segc_cid from segments_internal.segc_changed")]
    return None if None in keys else len(keys)


def test_incremental_builds_recompute_what_changed_and_stay_correct(project):
    ws, db = project
    build(ws, db, T0)
    assert recomputed(db) is None  # nothing to resume from
    states = [(T0, membership(db))]

    add_day(db, T0)
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.contacts set city = 'Gdańsk' where contact_id % 7 = 0")
        con.execute("delete from raw.contacts where contact_id = (select max(contact_id) from raw.contacts)")
        con.execute("insert into raw.contacts (contact_id, email, city, tags) values (100000, 'new@example.com', "
                    "'Kraków', ['vip'])")
    build(ws, db, day(1))
    assert recomputed(db) is not None  # resumed (this busy day touches most of the 400 contacts)
    states.append((day(1), membership(db)))
    check(db, states)

    build(ws, db, day(1))  # the same as_of again: nothing to recompute, nothing recorded
    assert recomputed(db) == 0
    check(db, states)

    with duckdb.connect(str(db)) as con:  # a late row: at or before the recorded build
        con.execute("insert into raw.events (event_id, contact_id, occurred_at, event_type, url) "
                    "values (-1, 1, ?, 'page_view', '/tv')", [T0 + timedelta(hours=12)])
    add_day(db, day(1))
    build(ws, db, day(2))
    assert recomputed(db) is None
    states.append((day(2), membership(db)))
    check(db, states)

    # A failing example stops the build before the kept members change (the examples are unit tests of
    # segc_results, which the incremental models depend on).
    definitions = yaml.safe_load((ws.segments_dir / "audiences.yml").read_text())
    definitions["segments"][0]["rule"] = {"attribute": "city", "eq": "Gdańsk"}
    definitions["segments"][0]["examples"] = [{"name": "never", "contact": {"city": "Kraków"}, "expect": "member"}]
    (ws.segments_dir / "audiences.yml").write_text(yaml.safe_dump(definitions, sort_keys=False))
    add_day(db, day(2))
    result = run_build(ws, day(3), db, echo=lambda line: None)
    assert result.returncode == 1
    assert any(r["status"] == "fail" and "example__s0__never" in r["unique_id"] for r in result.results)
    assert membership(db) == states[-1][1]
    assert rows(db, "select distinct as_of from segments.segment_membership") == [(day(2),)]
    check(db, states)


def test_a_project_that_ranks_contacts_is_built_in_full(tmp_path, capsys):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    with (tmp_path / "segments" / "sources.yml").open("a") as f:
        f.write("\nsettings:\n  incremental: true\n")
    assert main(["compile", "--project", str(tmp_path)]) == 0
    assert "note: settings.incremental is on, but every build recomputes every contact: it depends on RFM " \
           "'orders_rfm'" in capsys.readouterr().err
    files = emit.render(Workspace(tmp_path).load())
    assert "models/internal/segc_changed.sql" not in files
    assert "every build recomputes every contact: it depends on RFM 'orders_rfm'" in \
        files["models/segments/segment_membership.sql"]


def test_a_failed_rule_test_or_other_definitions_make_the_next_build_recompute_everything(project):
    ws, db = project
    audiences = ws.segments_dir / "audiences.yml"
    definitions = yaml.safe_load(audiences.read_text())
    on_events = [s for s in definitions["segments"] if "stream" not in str(s["rule"]) and "segment" not in str(s["rule"])]
    audiences.write_text(yaml.safe_dump({**definitions, "segments": on_events}, sort_keys=False))
    build(ws, db, T0)
    assert rows(db, "select count(*) from information_schema.columns where column_name = 'rows_orders'") == [(0,)]

    # a kept row goes wrong: the rule test of the next build fails, so that build leaves the state incomplete
    [(largest,)] = rows(db, "select segment from segments_internal.segc_members group by 1 order by count(*) desc limit 1")
    kept = f"select count(*) from segments_internal.segc_members where segment = '{largest}'"
    with duckdb.connect(str(db)) as con:
        con.execute(f"delete from segments_internal.segc_members where segment = '{largest}'")
    add_day(db, T0)
    failed = run_build(ws, day(1), db, echo=lambda line: None)
    assert [r["unique_id"].split(".")[2] for r in failed.failures] == [f"assert_segment_{largest}"]
    assert rows(db, "select complete from segments_internal.segc_state") == [(False,)]
    build(ws, db, day(1))
    assert recomputed(db) is None and rows(db, kept)[0][0] > 0

    # a segment on another stream: the state has no count of its rows, and is not resumed
    audiences.write_text(yaml.safe_dump(definitions, sort_keys=False))
    add_day(db, day(1))
    build(ws, db, day(2))
    assert recomputed(db) is None

    # the membership view stamps the kept members with its build's as_of: a selection must rebuild it with them
    refused = run_build(ws, day(3), db, exclude=["segment_membership"], echo=lambda line: None)
    assert refused.returncode != 0 and any("segment_membership, a view of tables it rebuilds" in line
                                           for line in refused.output)
