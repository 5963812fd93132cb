"""End to end: `segc build` on sample data, and the dbt rule tests failing on tampered tables."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from compiler import demo_data, emit
from compiler.cli import main, run_build
from compiler.runner import dbt
from compiler.sqltext import definition_sql
from compiler.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 28)


def make_project(tmp: Path) -> Workspace:
    """A copy of the demo definitions with the repository's macros, in a fresh folder."""
    shutil.copytree(ROOT / "segments", tmp / "segments")
    shutil.copytree(ROOT / "macros", tmp / "macros")
    return Workspace(tmp)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    ws = make_project(tmp_path_factory.mktemp("build"))
    db = ws.root / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=600, events=30_000, as_of=AS_OF)
    result = run_build(ws, AS_OF, db, echo=lambda line: None)
    return ws, db, result


def query(db: Path, sql: str):
    with duckdb.connect(str(db)) as con:
        return con.execute(sql).fetchall()


def run_rule_tests(ws: Workspace, db: Path, select: str, as_of: str = "2026-11-28 00:00:00"):
    return dbt(["test", "--select", select], ws.dbt_dir, db, as_of=as_of)


def test_build_passes_every_test(built):
    ws, db, result = built
    assert result.returncode == 0, "\n".join(result.output[-30:])
    statuses = {r["status"] for r in result.results}
    assert statuses <= {"success", "pass", "warn", "no-op"}
    warned = [r["unique_id"] for r in result.results if r["status"] == "warn"]
    assert all("warn_sync_" in name for name in warned)  # members without an email are left out
    tests = [r for r in result.results if r["unique_id"].startswith("test.")]
    unit_tests = [r for r in result.results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) == 5
    assert any("assert_segment_" in r["unique_id"] for r in tests)
    assert any("assert_rfm_orders_rfm" in r["unique_id"] for r in tests)


def test_published_tables_have_their_grain(built):
    ws, db, _ = built
    contacts = query(db, "select count(*) from raw.contacts")[0][0]
    assert query(db, "select count(*) from segments.contact_scores") == [(contacts,)]
    assert query(db, "select count(*) from segments.contact_lifecycle") == [(contacts,)]
    assert query(db, "select count(distinct segment) from segments.segment_catalog")[0][0] == 16
    assert query(db, "select distinct as_of from segments.segment_membership") == [(AS_OF,)]
    assert query(db, "select count(*) from segments.segment_membership")[0][0] > 0


TAMPERING = [
    ("assert_segment_lapsed_buyers",
     "delete from segments.segment_membership where rowid = "
     "(select min(rowid) from segments.segment_membership where segment = 'lapsed_buyers')"),
    ("assert_segment_vip_or_wholesale",
     "insert into segments.segment_membership select contact_id, 'vip_or_wholesale', as_of from "
     "segments.segment_membership where segment = 'lapsed_buyers' and contact_id not in "
     "(select contact_id from segments.segment_membership where segment = 'vip_or_wholesale') limit 1"),
    ("assert_score_lead_score", "update segments.contact_scores set value = value + 0.5 where rowid = 3"),
    ("assert_score_lead_score_bounds_and_grades", "update segments.contact_scores set value = 101 where rowid = 3"),
    ("assert_score_lead_score_bounds_and_grades", "update segments.contact_scores set grade = 'hot' "
     "where grade = 'cold' and rowid = (select min(rowid) from segments.contact_scores where grade = 'cold')"),
    ("assert_lifecycle_customer_journey", "update segments.contact_lifecycle set stage = 'loyal' "
     "where rowid = (select min(rowid) from segments.contact_lifecycle where stage <> 'loyal')"),
    ("assert_rfm_orders_rfm", "update segments.contact_rfm set segment = 'lost' "
     "where rowid = (select min(rowid) from segments.contact_rfm where segment <> 'lost')"),
    ("assert_rfm_orders_rfm_scores_in_range", "update segments.contact_rfm set r = 0 where rowid = 1"),
    ("segc_unique_combination_segment_membership_contact_id__segment",
     "insert into segments.segment_membership select * from segments.segment_membership limit 1"),
    ("segc_unique_combination_segment_membership_changes_contact_id__segment__as_of__as_of",  # latest build's rows
     "insert into segments.segment_membership_changes select * from segments.segment_membership_changes limit 1"),
]


@pytest.mark.parametrize("test_name,tamper", TAMPERING, ids=[f"{t}-{i}" for i, (t, _) in enumerate(TAMPERING)])
def test_rule_tests_fail_on_tampered_tables(built, test_name, tamper):
    ws, db, build = built
    assert [r["status"] for r in build.results if r["unique_id"].split(".")[2] == test_name] == ["pass"]
    # One path for every case: the profile stays the same, so dbt parses the project once, not per case.
    copy = ws.root / "tampered.duckdb"
    shutil.copy(db, copy)
    query(copy, tamper)
    broken = run_rule_tests(ws, copy, test_name)
    assert broken.returncode == 1
    assert [r["status"] for r in broken.results if r["unique_id"].startswith("test.")] == ["fail"]


def test_failed_build_publishes_nothing(built, tmp_path):
    """A wrong example fails its unit test before any model is replaced."""
    ws, db, _ = built
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    before = query(copy, "select segment, count(*) from segments.segment_membership group by 1 order by 1")
    broken = make_project(tmp_path / "broken")
    path = broken.segments_dir / "behavioral.yml"
    path.write_text(path.read_text().replace("expect: not_member", "expect: member", 1))
    result = run_build(broken, datetime(2026, 11, 29), copy, echo=lambda line: None)
    assert result.returncode == 1
    assert any(r["status"] == "fail" and "example__" in r["unique_id"] for r in result.results)
    assert query(copy, "select segment, count(*) from segments.segment_membership group by 1 order by 1") == before
    assert query(copy, "select distinct as_of from segments.segment_membership") == [(AS_OF,)]


def test_duplicate_contact_keys_fail_the_build(built, tmp_path, capsys):
    ws, db, _ = built
    copy = tmp_path / "dup.duckdb"
    shutil.copy(db, copy)
    query(copy, "insert into raw.contacts select * from raw.contacts limit 2")
    code = main(["build", "--project", str(ws.root), "--database", str(copy), "--as-of", "2026-11-29"])
    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL duplicate contact keys (2 keys occur more than once)" in out
    assert query(copy, "select distinct as_of from segments.segment_membership") == [(AS_OF,)]


@pytest.mark.parametrize("kind,name,table,columns", [
    ("segment", "lapsed_buyers", "segment_membership", "contact_id"),
    ("score", "lead_score", "contact_scores", "contact_id, round(value, 9), grade"),
    ("lifecycle", "customer_journey", "contact_lifecycle", "contact_id, stage"),
    ("rfm", "orders_rfm", "contact_rfm", "contact_id, recency_days, frequency, round(monetary, 9), r, f, m, segment"),
])
def test_segc_sql_gives_the_published_rows(built, kind, name, table, columns):
    """`segc sql NAME` run at the build's as_of returns the rows and columns of NAME's published table."""
    ws, db, _ = built
    sql = definition_sql(ws.load(), kind, name, "duckdb", AS_OF)
    published = query(db, f"select {columns} from segments.{table} where {kind} = '{name}'")
    assert sorted(query(db, f"select {columns} from ({sql})"), key=str) == sorted(published, key=str)
    assert len(published) > 0


def test_compile_is_deterministic(tmp_path):
    ws = make_project(tmp_path)
    project = ws.load()
    first, second = emit.render(project), emit.render(ws.load())
    assert first == second
    emit.write(project, ws.dbt_dir)
    written = {p: p.read_bytes() for p in sorted(ws.dbt_dir.rglob("*")) if p.is_file()}
    emit.write(ws.load(), ws.dbt_dir)
    assert {p: p.read_bytes() for p in sorted(ws.dbt_dir.rglob("*")) if p.is_file()} == written


def test_sync_tables_hold_members_with_an_identifier(built):
    ws, db, _ = built
    members = query(db, "select count(distinct c.email) from segments.segment_membership m join raw.contacts c "
                        "on c.contact_id = m.contact_id where m.segment = 'interested_in_training' and c.email is not null")
    assert query(db, "select count(*), count(distinct email) from segments.sync_training_newsletter") == \
        [(members[0][0], members[0][0])]
    changes = query(db, "select distinct change from segments.sync_training_newsletter_changes")
    assert changes == [("entered",)]  # the first build is the initial load


def test_rule_tests_can_check_a_sample_of_contacts(built, tmp_path):
    ws, db, _ = built
    sampled = make_project(tmp_path)
    (sampled.segments_dir / "settings.yml").write_text("settings:\n  check_sample_percent: 10\n")
    copy = tmp_path / "sampled.duckdb"
    shutil.copy(db, copy)
    result = run_build(sampled, datetime(2026, 11, 29), copy, echo=lambda line: None)
    assert result.returncode == 0, "\n".join(result.output[-20:])
    check = (sampled.dbt_dir / "tests" / "rules" / "assert_segment_lapsed_buyers.sql").read_text()
    assert check.count("SUBSTRING(MD5(CAST(") == 2  # both the recomputation and the published rows
    query(copy, "delete from segments.segment_membership where segment = 'lapsed_buyers'")
    assert run_rule_tests(sampled, copy, "assert_segment_lapsed_buyers", "2026-11-29 00:00:00").returncode == 1


def test_model_contracts_stop_a_type_change(built, tmp_path):
    """The published tables and the catalog stay as they were (so `segc plan` still shows the new segment)."""
    ws, db, _ = built
    changed = make_project(tmp_path)
    sources = changed.segments_dir / "sources.yml"
    sources.write_text(sources.read_text().replace("key_type: bigint", "key_type: varchar"))
    (changed.segments_dir / "new.yml").write_text("segments:\n  - name: krakow\n    rule: {attribute: city, eq: Kraków}\n")
    copy = tmp_path / "contract.duckdb"
    shutil.copy(db, copy)
    published = ("select (select count(*) from segments.segment_membership), "
                 "(select max(as_of) from segments.segment_membership), "
                 "(select string_agg(segment || definition_hash, ',' order by segment) from segments.segment_catalog)")
    before = query(copy, published)
    result = run_build(changed, datetime(2026, 11, 29), copy, echo=lambda line: None)
    assert result.returncode == 1
    assert any("enforced contract" in (r.get("message") or "") for r in result.failures)
    assert query(copy, published) == before


def test_the_summary_counts_the_exits_of_a_removed_segment(built, tmp_path):
    """The build that removes a segment records its members' exits in the feed; the summary must agree."""
    ws, db, _ = built
    removed = make_project(tmp_path / "removed")
    path = removed.segments_dir / "transactional.yml"
    definitions = yaml.safe_load(path.read_text())
    definitions["segments"] = [s for s in definitions["segments"] if s["name"] != "vip_or_wholesale"]
    path.write_text(yaml.safe_dump(definitions, allow_unicode=True, sort_keys=False))
    copy = tmp_path / "removed.duckdb"
    shutil.copy(db, copy)
    assert run_build(removed, datetime(2026, 11, 29), copy, echo=lambda line: None).returncode == 0
    [(members,)] = query(copy, "select count(*) from segments.segment_membership_history "
                               "where segment = 'vip_or_wholesale' and valid_from = '2026-11-28'")
    assert members > 0
    summary = "select segment, members, entered, exited from segments.segment_summary where as_of = '2026-11-29'"
    assert ("vip_or_wholesale", 0, 0, members) in query(copy, summary)
    feed = "select count(*) from segments.segment_membership_changes where as_of = '2026-11-29' and change = 'exited'"
    assert query(copy, feed) == query(copy, f"select sum(exited) from ({summary})")


@pytest.mark.parametrize("selected", ["segment_summary", "contact_scores", "segment_membership"])
def test_a_selection_must_build_what_its_models_are_computed_from(built, tmp_path, capsys, selected):
    """Otherwise the previous build's results would be published, or recorded, under the new as_of."""
    ws, db, _ = built
    copy = tmp_path / "selected.duckdb"
    shutil.copy(db, copy)
    code = main(["build", "--project", str(ws.root), "--database", str(copy), "--as-of", "2026-11-29",
                 "--select", selected])
    assert code == 1
    missing = capsys.readouterr().out.split("the selection leaves out ")[1].split(", which")[0].split(", ")
    assert "segc_results" in missing and selected not in missing
    assert query(copy, f"select max(as_of) from segments.{selected}") == [(AS_OF,)]
    assert main(["build", "--project", str(ws.root), "--database", str(copy), "--as-of", "2026-11-29",
                 "--select", f"+{selected}"]) == 0  # with the tests of what it builds, none reading other tables


def test_tests_alone_run_at_the_latest_build(built, tmp_path, capsys):
    """They check the published tables, so at another as_of every rule test would fail falsely."""
    ws, db, _ = built
    copy = tmp_path / "tests_only.duckdb"
    shutil.copy(db, copy)
    args = ["build", "--project", str(ws.root), "--database", str(copy), "--select", "tag:segc_rules"]
    assert main([*args, "--as-of", "2026-11-29"]) == 1
    assert "so its tests check the tables of the latest build, whose as_of is 2026-11-28 00:00:00, not " \
           "2026-11-29 00:00:00: run it with --as-of '2026-11-28 00:00:00'" in capsys.readouterr().out
    assert main([*args, "--as-of", "2026-11-28 00:00:00"]) == 0


def test_results_read_by_one_query_are_a_view(built, tmp_path):
    """Segments only, on DuckDB: the membership's UNPIVOT is the one reader, so no wide table is written."""
    ws, db, _ = built
    only = make_project(tmp_path)
    (only.segments_dir / "scoring.yml").unlink()  # scores, lifecycles, RFM and syncs
    model = "models/internal/segc_results.sql"
    assert "materialized='view'" in emit.render(only.load())[model]
    assert "materialized='view'" not in emit.render(only.load(), "postgres")[model]  # a UNION ALL per segment
    assert "materialized='view'" not in emit.render(ws.load())[model]
    copy = tmp_path / "view.duckdb"
    shutil.copy(db, copy)
    kind = ("select table_type from information_schema.tables "
            "where table_schema = 'segments_internal' and table_name = 'segc_results'")
    result = run_build(only, datetime(2026, 11, 29), copy, echo=lambda line: None)
    assert result.returncode == 0, "\n".join(result.output[-20:])  # the rule tests agree with the members
    assert any("assert_segment_" in r["unique_id"] and r["status"] == "pass" for r in result.results)
    assert query(copy, kind) == [("VIEW",)]
    result = run_build(ws, datetime(2026, 11, 30), copy, echo=lambda line: None)
    assert result.returncode == 0, "\n".join(result.output[-20:])
    assert query(copy, kind) == [("BASE TABLE",)]


def test_settings_schema_moves_every_table_and_the_commands_follow(tmp_path, capsys):
    """`settings.schema` publishes into that schema (segc's own tables into <schema>_internal); a second build
    finds its history there, and status, show and plan read it, in a database file of the same name too."""
    ws = make_project(tmp_path)
    (ws.segments_dir / "settings.yml").write_text("settings:\n  schema: marketing\n")
    db = ws.root / "marketing.duckdb"  # DuckDB names the database 'marketing' too
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=300, events=8_000, as_of=AS_OF)
    where = ["--project", str(ws.root), "--database", str(db)]
    for day in ("2026-11-28", "2026-11-29"):
        assert main(["build", *where, "--as-of", day, "--exclude", "tag:segc_rules"]) == 0
    schemas = dict(query(db, "select table_schema, count(*) from information_schema.tables group by 1"))
    assert "segments" not in schemas and "segments_internal" not in schemas
    assert schemas["marketing"] >= 8 and schemas["marketing_internal"] >= 1
    assert query(db, "select count(distinct as_of) from marketing.marketing.segment_summary") == [(2,)]
    capsys.readouterr()
    assert main(["build", *where, "--as-of", "2026-11-27"]) == 1  # the history is found there
    assert "is earlier than the latest recorded build (2026-11-29 00:00:00)" in capsys.readouterr().out
    assert main(["status", *where]) == 0
    assert "latest build: 2026-11-29 00:00:00" in capsys.readouterr().out
    assert main(["show", "abandoned_cart_24h", *where]) == 0
    assert "latest build  2026-11-29 00:00:00" in capsys.readouterr().out
    assert main(["plan", *where]) == 0
    assert "latest build 2026-11-29 00:00:00" in capsys.readouterr().out
    (ws.dbt_dir / "dbt_project.yml").unlink()  # not compiled: the definitions say where
    assert main(["status", *where]) == 0
    assert "latest build: 2026-11-29 00:00:00" in capsys.readouterr().out
    (ws.segments_dir / "settings.yml").write_text("settings:\n  schema: audiences\n")
    assert main(["compile", "--project", str(ws.root)]) == 0
    (ws.segments_dir / "settings.yml").write_text("settings:\n  schema: elsewhere\n")
    assert main(["plan", *where]) == 3  # a change, though no definition changed
    assert "settings.schema moves the published tables from audiences to elsewhere" in capsys.readouterr().out

TEXT_AS_WRITTEN = """\
segments:
  - name: braces
    description: "Hi {{ first_name }}, {% raw %} and {# not a comment #}"
    owner: "{{ owner }}"
    tags: ["{{ tag }}"]
    rule: {attribute: city, eq: "{{ 7*7 }}"}
    examples:
      - {name: braces, contact: {city: "{{ 7*7 }}"}, expect: member}
      - {name: computed, contact: {city: "49"}, expect: not_member}
  - name: placeholder_text
    rule: {attribute: city, eq: "segc_as_of__"}
  - name: no_query_runs
    rule: {attribute: city, eq: '{{ run_query("create table raw.pwned as select 1 as x") }}'}
  - name: apostrophes
    rule: {event: "it's"}
"""


def test_user_text_reaches_the_warehouse_as_written(tmp_path):
    """Values, names of events, descriptions, owners, tags and examples are data, never Jinja or placeholders."""
    ws = make_project(tmp_path)
    (ws.segments_dir / "text.yml").write_text(TEXT_AS_WRITTEN)
    sources = ws.segments_dir / "sources.yml"
    sources.write_text(sources.read_text().replace("event_types: [page_view,", "event_types: [\"it's\", page_view,"))
    db = ws.root / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=300, events=8_000, as_of=AS_OF)
        con.execute("update raw.contacts set city = case contact_id % 4 when 0 then '{{ 7*7 }}' when 1 then '49' "
                    "when 2 then 'segc_as_of__' else city end")
        con.execute("update raw.events set event_type = 'it''s' where contact_id % 5 = 0 and event_type = 'email_open'")
    result = run_build(ws, AS_OF, db, echo=lambda line: None)
    assert result.returncode == 0, "\n".join(result.output[-30:])
    assert not [r for r in result.results if r["status"] == "warn" and "accepted_values" in r["unique_id"]]

    def members(segment):
        return query(db, f"select count(*) from segments.segment_membership where segment = '{segment}'")[0][0]

    assert members("braces") == query(db, "select count(*) from raw.contacts where city = '{{ 7*7 }}'")[0][0] > 0
    assert members("placeholder_text") == query(db, "select count(*) from raw.contacts where city = 'segc_as_of__'")[0][0]
    assert members("no_query_runs") == 0
    assert members("apostrophes") == query(db, "select count(distinct contact_id) from raw.events "
                                               "where event_type = 'it''s' and occurred_at <= '2026-11-28'")[0][0] > 0
    assert query(db, "select count(*) from information_schema.tables where table_name = 'pwned'") == [(0,)]
    assert query(db, "select description, owner, tags from segments.segment_catalog where segment = 'braces'") == [
        ("Hi {{ first_name }}, {% raw %} and {# not a comment #}", "{{ owner }}", "{{ tag }}")]
