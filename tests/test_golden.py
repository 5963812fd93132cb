"""Golden SQL: the compiled SQL of representative definitions, committed and reviewed as a diff.

Rewrite after an intended change with `SEGC_UPDATE_GOLDEN=1 pytest tests/test_golden.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot
import yaml

from compiler.cli import main
from compiler.emit import render
from compiler.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
AS_OF = "2026-11-28T00:00:00"
CASES = [(name, "duckdb") for name in (
    "interested_in_training", "abandoned_cart_24h", "women_35_45_big_cities_quarterly", "lapsed_buyers",
    "krakow_automotive_opened", "decision_makers_b2b", "lead_score", "customer_journey", "orders_rfm")]
CASES += [(name, dialect) for name in ("interested_in_training", "lead_score", "orders_rfm")
          for dialect in ("postgres", "spark", "snowflake", "bigquery", "trino")]


def check(path: Path, text: str) -> None:
    if os.environ.get("SEGC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}: run with SEGC_UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize("name,dialect", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_segc_sql(name, dialect, capsys):
    assert main(["sql", name, "--project", str(ROOT), "--dialect", dialect, "--as-of", AS_OF]) == 0
    sql = capsys.readouterr().out
    header = f"-- segc sql {name} --dialect {dialect} --as-of {AS_OF}\n"
    check(GOLDEN / dialect / f"{name}.sql", header + sql)
    sqlglot.parse_one(sql, read=dialect)  # what we print, the dialect reads back


def test_dbt_results_model():
    files = render(Workspace(ROOT).load())
    check(GOLDEN / "dbt" / "segc_results.sql", files["models/internal/segc_results.sql"])
    check(GOLDEN / "dbt" / "assert_segment_abandoned_cart_24h.sql",
          files["tests/rules/assert_segment_abandoned_cart_24h.sql"])


def test_libyaml_and_pyyaml_write_the_same_yaml(monkeypatch):
    """schema.yml and sources.yml do not depend on whether PyYAML has libyaml."""
    from compiler import emit

    project = Workspace(ROOT).load()
    fast = render(project)

    class Pure(yaml.SafeDumper):
        pass

    Pure.add_representer(str, emit._Dumper.yaml_representers[str])
    monkeypatch.setattr(emit, "_Dumper", Pure)
    pure = render(project)
    for name in ("models/schema.yml", "models/sources.yml"):
        assert fast[name] == pure[name]


def test_a_new_definition_changes_no_other_generated_file(tmp_path):
    """A pull request that adds a segment shows its own files and the lists that name every segment, nothing else."""
    before = render(Workspace(ROOT).load())
    (tmp_path / "segments").mkdir()
    for path in (ROOT / "segments").glob("*.yml"):
        (tmp_path / "segments" / path.name).write_text(path.read_text())
    (tmp_path / "segments" / "added.yml").write_text(
        "segments:\n  - name: added\n    rule: {event: page_view, within: 3d, count: {gte: 2}}\n")
    after = render(Workspace(tmp_path).load())
    changed = {p for p in before if before[p] != after.get(p)} | (after.keys() - before.keys())
    assert changed == {"tests/rules/assert_segment_added.sql", "models/schema.yml", "models/internal/segc_results.sql",
                       "models/segments/segment_membership.sql", "models/segments/segment_catalog.sql"}
