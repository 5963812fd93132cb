"""`segc compile --check`: generated dbt files that are stale, edited by hand, missing or left over."""

from __future__ import annotations

import shutil
from pathlib import Path

from compiler.cli import main
from compiler.emit import HEADER

ROOT = Path(__file__).resolve().parents[1]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_dbt_project_is_up_to_date(capsys):
    """Guards pull requests: a change to segments/ or to the compiler must come with `segc compile`'s output."""
    code = main(["compile", "--check", "--project", str(ROOT)])
    out = capsys.readouterr().out
    assert code == 0, out + "\nrun `.venv/bin/segc compile` and commit dbt_project/"


def test_check_lists_every_kind_of_difference_and_writes_nothing(tmp_path, capsys):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    assert main(["compile", "--project", str(tmp_path)]) == 0
    assert main(["compile", "--check", "--project", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().out

    dbt = tmp_path / "dbt_project"
    (dbt / "models/segments/segment_membership.sql").write_text(
        (dbt / "models/segments/segment_membership.sql").read_text() + "-- tweak\n")
    scores = dbt / "models/segments/contact_scores.sql"
    scores.write_text(scores.read_text().split("\n", 1)[1])  # header removed: edited by hand
    (dbt / "models/sources.yml").unlink()
    (dbt / "tests/rules/assert_segment_gone.sql").write_text(HEADER + "select 1\n")  # a segment removed since
    (dbt / "models/custom").mkdir()
    (dbt / "models/custom/my_report.sql").write_text("select 1\n")  # the user's own: neither listed nor deleted
    behavioral = tmp_path / "segments/behavioral.yml"
    behavioral.write_text(behavioral.read_text().replace("within: 2w}", "within: 3w}"))
    (tmp_path / "macros/segc_as_of.sql").write_text("{% macro segc_as_of() %}current_timestamp{% endmacro %}\n")
    (tmp_path / "macros/segc_returns_rows.sql").unlink()  # e.g. from an older segc
    before = snapshot(tmp_path)

    assert main(["compile", "--check", "--project", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    status = {line.split()[1]: line.split()[0] for line in lines[1:-1]}
    assert status == {
        "dbt_project/models/segments/segment_membership.sql": "changed",
        "dbt_project/models/segments/contact_scores.sql": "edited",
        "dbt_project/models/sources.yml": "missing",
        "dbt_project/tests/rules/assert_segment_gone.sql": "extra",
        # the tv_shoppers edit: stale generated files
        "dbt_project/models/internal/segc_results.sql": "changed",
        "dbt_project/models/segments/segment_catalog.sql": "changed",
        "dbt_project/tests/rules/assert_segment_tv_shoppers.sql": "changed",
        # segc's macros: compile writes them again
        "macros/segc_as_of.sql": "changed",
        "macros/segc_returns_rows.sql": "missing",
    }
    assert snapshot(tmp_path) == before  # --check writes nothing

    assert main(["compile", "--project", str(tmp_path)]) == 0
    assert main(["compile", "--check", "--project", str(tmp_path)]) == 0
    assert not (dbt / "tests/rules/assert_segment_gone.sql").exists()
    assert (dbt / "models/custom/my_report.sql").read_text() == "select 1\n"
    assert not (dbt / "tests/rules/assert_segment_gone.sql").exists()
    assert (dbt / "models/custom/my_report.sql").read_text() == "select 1\n"


def test_check_fails_on_invalid_definitions(tmp_path, capsys):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")
    behavioral = tmp_path / "segments/behavioral.yml"
    behavioral.write_text(behavioral.read_text().replace("within: 2w}", "within: 2 weeks}"))
    assert main(["compile", "--check", "--project", str(tmp_path)]) == 1
    assert "SEG" in capsys.readouterr().err
