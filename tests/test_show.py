"""`segc show NAME`: the definition, its size, sample and trend in the warehouse, its neighbours, its SQL."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from compiler import demo_data
from compiler.cli import main, run_build
from compiler.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 28)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("show")
    shutil.copytree(ROOT / "segments", root / "segments")
    shutil.copytree(ROOT / "macros", root / "macros")
    db = root / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        demo_data.generate(con, contacts=300, events=10_000, as_of=AS_OF)
    result = run_build(Workspace(root), AS_OF, db, echo=lambda line: None)
    assert result is not None and result.returncode == 0, "\n".join(result.output[-20:])
    return root


def show(root: Path, *args: str, capsys) -> tuple[int, str]:
    code = main(["show", "--project", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def query(db: Path, sql: str, params=()):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_segment(built, capsys):
    db = built / "warehouse.duckdb"
    code, out = show(built, "interested_in_training", capsys=capsys)
    assert code == 0
    members = sorted(r[0] for r in query(db, "select contact_id from segments.segment_membership "
                                             "where segment = 'interested_in_training'"))
    assert out.startswith("segment interested_in_training\n  Signed up for a training")
    assert "owner: marketing-ops   tags: behavioral, trainings" in out
    assert "defined at segments/behavioral.yml:" in out
    assert "\ndefinition\n  - name: interested_in_training\n" in out and "expect: not_member" in out
    assert f"members       {len(members):,} (" in out and "of 300 contacts)" in out
    assert "definition    same as the latest build" in out
    assert f"sample        {', '.join(map(str, members[:5]))}\n" in out
    assert "2026-11-28 00:00:00" in out.split("last 1 build(s)")[1]
    assert "used by\n  sync training_newsletter -> mailchimp\n" in out
    # the SQL is exactly what `segc sql` prints at the build's as_of
    assert main(["sql", "interested_in_training", "--project", str(built), "--as-of", "2026-11-28"]) == 0
    assert out.endswith(capsys.readouterr().out)


def test_score_dependencies_and_json(built, capsys):
    code, out = show(built, "lead_score", "--format", "json", "--no-sql", capsys=capsys)
    assert code == 0
    info = json.loads(out)
    assert info["kind"] == "score" and "sql" not in info
    assert info["used_by"] == ["lifecycle customer_journey", "segment hot_leads_without_orders"]
    assert sum(n for _, n in info["warehouse"]["distribution"]) == 300
    values = [row[1] for row in info["warehouse"]["sample"]]
    assert values == sorted(values, reverse=True)  # the top contacts
    code, out = show(built, "hot_leads_without_orders", "--no-sql", capsys=capsys)
    assert "depends on\n  score lead_score\n" in out


def test_changed_definition_and_no_warehouse(built, tmp_path, capsys):
    shutil.copytree(built / "segments", tmp_path / "segments")
    shutil.copy(built / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    path = tmp_path / "segments" / "behavioral.yml"
    path.write_text(path.read_text().replace("within: 2w}", "within: 3w}"))
    code, out = show(tmp_path, "tv_shoppers", "--no-sql", capsys=capsys)
    assert "definition    CHANGED since the latest build: `segc plan` shows the effect" in out
    code, out = show(tmp_path, "tv_shoppers", "--database", str(tmp_path / "none.duckdb"), "--dialect", "snowflake",
                     capsys=capsys)
    assert code == 0 and "no warehouse: run `segc build`" in out and "STARTSWITH" in out
    code, out = show(tmp_path, "tv_shopers", capsys=capsys)
    assert code == 1 and "did you mean 'tv_shoppers'" in out
