"""`segc plan`: members now (the latest build) against the working tree's definitions at the same as_of."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from compiler import demo_data, review
from compiler.cli import main, run_build
from compiler.sqltext import definition_sql
from compiler.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 28)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The demo definitions built once on small sample data; each test works on a copy."""
    root = tmp_path_factory.mktemp("plan_base")
    shutil.copytree(ROOT / "segments", root / "segments")
    shutil.copytree(ROOT / "macros", root / "macros")
    db = root / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=400, events=15_000, as_of=AS_OF)
    result = run_build(Workspace(root), AS_OF, db, echo=lambda line: None)
    assert result is not None and result.returncode == 0, "\n".join(result.output[-20:])
    return root


@pytest.fixture
def project(warehouse, tmp_path):
    """A copy of the built project (definitions + warehouse) under git, ready to be edited."""
    root = tmp_path / "p"
    shutil.copytree(warehouse / "segments", root / "segments")
    shutil.copy(warehouse / "warehouse.duckdb", root / "warehouse.duckdb")
    git = ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "segments"], check=True)
    subprocess.run(git + ["commit", "-qm", "base"], check=True)
    return root


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / "segments" / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def plan(root: Path, *args: str, capsys) -> tuple[int, str]:
    code = main(["plan", "--project", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str, params=()):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_no_changes_exit_zero(project, capsys):
    code, out = plan(project, capsys=capsys)
    assert code == 0, out
    assert out.rstrip().endswith("no changes")
    assert "latest build 2026-11-28 00:00:00" in out


def test_tables_of_a_build_that_stopped_before_recording_it(project, capsys):
    """A build killed after publishing the membership and before the feed: plan says which build is recorded."""
    with duckdb.connect(str(project / "warehouse.duckdb")) as con:
        con.execute("update segments.segment_membership set as_of = timestamp '2026-12-05 00:00:00'")
    code, out = plan(project, capsys=capsys)
    assert "latest build 2026-12-05 00:00:00" in out
    assert "note: the latest recorded build is at 2026-11-28 00:00:00: the published tables come from a build at " \
           "2026-12-05 00:00:00 that stopped before recording it" in out


def test_changes_are_evaluated_like_for_like_and_nothing_is_written(project, capsys):
    db = project / "warehouse.duckdb"
    before = digest(db)
    edit(project, "behavioral.yml", "within: 2w}", "within: 30d}")  # tv_shoppers grows
    edit(project, "scoring.yml", "{name: hot, gte: 40}", "{name: hot, gte: 30}")  # more hot leads
    edit(project, "behavioral.yml", "  - name: disengaged_email", "  - name: cart_adders_month\n"
         "    rule: {event: add_to_cart, within: 30d}\n\n  - name: disengaged_email")
    text = (project / "segments" / "behavioral.yml").read_text()
    cut = text.index("  - name: disengaged_email")
    (project / "segments" / "behavioral.yml").write_text(text[:cut])  # removes disengaged_email (the last one)

    code, out = plan(project, "--format", "json", capsys=capsys)
    assert code == review.EXIT_CHANGES
    report = json.loads(out)
    changes = {(c["kind"], c["name"]): c for c in report["changes"]}
    assert {k: c["change"] for k, c in changes.items() if k[0] == "segment"} == {
        ("segment", "tv_shoppers"): "changed", ("segment", "cart_adders_month"): "added",
        ("segment", "disengaged_email"): "removed", ("segment", "hot_leads_without_orders"): "changed"}
    assert changes[("score", "lead_score")]["change"] == "changed"
    assert report["as_of"] == "2026-11-28 00:00:00"

    # members now = the published table, after = the standalone query of `segc sql` at the same as_of
    ws = Workspace(project)
    new = ws.load()
    for name in ("tv_shoppers", "cart_adders_month", "hot_leads_without_orders"):
        c = changes[("segment", name)]
        now = {r[0] for r in query(db, "select contact_id from segments.segment_membership where segment = ?", [name])}
        after = {r[0] for r in query(db, definition_sql(new, "segment", name, "duckdb", AS_OF))}
        assert (c["before"], c["after"]) == (len(now), len(after))
        assert (c["entering"], c["leaving"]) == (len(after - now), len(now - after))
        assert c["sample_entering"] == sorted(after - now)[:5]
    tv = changes[("segment", "tv_shoppers")]
    assert tv["after"] > tv["before"] and tv["leaving"] == 0
    gone = changes[("segment", "disengaged_email")]
    assert gone["after"] == 0 and gone["leaving"] == gone["before"]
    # a change upstream shows downstream, and says so
    assert changes[("segment", "hot_leads_without_orders")]["upstream"] == ["score lead_score"]
    score = changes[("score", "lead_score")]
    assert score["changed"] > 0 and all(b == "warm" and a == "hot" for b, a, _ in score["transitions"])

    # the plan only read the warehouse: same bytes, no scratch left behind
    assert digest(db) == before
    assert not (project / "warehouse.duckdb.wal").exists()
    tables = query(db, "select table_schema, table_name from information_schema.tables where table_name like 'segc_plan%'")
    assert tables == []


def test_markdown_and_sql_diff(project, capsys):
    edit(project, "behavioral.yml", "within: 2w}", "within: 30d}")
    code, out = plan(project, "--format", "markdown", "--sql", "--base", "HEAD", capsys=capsys)
    assert code == 3
    assert out.startswith("### segc plan: 1 change(s): 1 changed")
    assert "| changed | `tv_shoppers` |" in out
    assert "```diff" in out
    assert "-        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '14' DAY" in out
    assert "+        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY" in out


def test_no_sql_diff_without_the_base_revision(project, capsys):
    edit(project, "behavioral.yml", "within: 2w}", "within: 30d}")
    code, out = plan(project, "--sql", "--base", "no-such-branch", capsys=capsys)
    assert code == 3
    assert "warning: no SQL diff against no-such-branch" in out and "@@" not in out


def test_scores_lifecycles_and_rfm_compare_by_published_rows(project, capsys):
    edit(project, "scoring.yml", "bins: 5", "bins: 4")
    code, out = plan(project, capsys=capsys)
    assert code == 3
    assert "~ rfm orders_rfm (changed: differs from segments.contact_rfm" in out
    # RFM segments are referenced by champions_to_reward: its hash changes with the RFM model
    assert "~ segment champions_to_reward" in out and "depends on rfm orders_rfm" in out


def test_nothing_built_yet(project, capsys):
    with duckdb.connect(str(project / "warehouse.duckdb")) as con:
        con.execute("drop schema segments cascade")
        con.execute("drop schema segments_internal cascade")
    code, out = plan(project, "--format", "json", capsys=capsys)
    report = json.loads(out)
    assert code == 3 and report["built"] is False
    assert {c["change"] for c in report["changes"]} == {"added"}
    assert len(report["changes"]) == 16 + 1 + 1 + 1


def test_invalid_definitions_and_missing_warehouse(project, capsys):
    code, out = plan(project, "--database", str(project / "nope.duckdb"), capsys=capsys)
    assert code == 1 and "no warehouse at" in out
    edit(project, "behavioral.yml", "within: 2w}", "within: 2weeks}")
    code, out = plan(project, capsys=capsys)
    assert code == 1 and "SEG" in out


def test_a_column_the_warehouse_does_not_have_yet(project, capsys):
    """A pull request that declares a new column before the loader adds it: a clear error, not a traceback."""
    edit(project, "sources.yml", "      email: string\n", "      email: string\n      loyalty_tier: string\n")
    (project / "segments" / "gold.yml").write_text("segments:\n  - name: gold\n    rule: {attribute: loyalty_tier, eq: gold}\n")
    code, out = plan(project, capsys=capsys)
    assert code == 1
    assert "error: the warehouse cannot evaluate the definitions: Binder Error" in out and "loyalty_tier" in out


def test_a_source_declaration_changes_the_definitions_that_read_it(project, capsys):
    """The hash covers what a definition reads of the sources: a stream pointed at another table changes the
    segments that read it (and what refers to them), not the others."""
    with duckdb.connect(str(project / "warehouse.duckdb")) as con:
        con.execute("create table raw.recent_orders as select * from raw.orders where ordered_at > timestamp '2026-06-01'")
    edit(project, "sources.yml", "relation: raw.orders", "relation: raw.recent_orders")
    code, out = plan(project, "--format", "json", capsys=capsys)
    changed = {(c["kind"], c["name"]) for c in json.loads(out)["changes"]}
    assert code == 3
    assert {("segment", "lapsed_buyers"), ("segment", "champions_to_reward"), ("rfm", "orders_rfm")} <= changed
    assert ("segment", "tv_shoppers") not in changed  # reads the events only
