"""The command line: help on every command, exit codes, init scaffolding, sql output."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.cli import build_parser, main
from compiler.scaffold import MACROS

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--project" in out and "Exit codes" in out


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["build", "--as-of", "yesterday"])
    assert exit_.value.code == 2
    assert "not an ISO timestamp" in capsys.readouterr().err


def test_init_scaffolds_a_valid_project(tmp_path, capsys):
    assert main(["init", str(tmp_path / "crm")]) == 0
    for path in ("segments/sources.yml", "segments/segments.yml", "dbt_project/dbt_project.yml",
                 "dbt_project/profiles.yml", "macros/segc_as_of.sql", "macros/generate_schema_name.sql"):
        assert (tmp_path / "crm" / path).is_file(), path
    assert main(["validate", "--project", str(tmp_path / "crm")]) == 0
    assert main(["init", str(tmp_path / "crm")]) == 1  # never overwrites definitions


def test_the_repository_macros_are_the_ones_segc_writes():
    """macros/ holds a copy of compiler/scaffold.MACROS (what `segc init` writes); the two must not drift."""
    macros = Path(__file__).resolve().parents[1] / "macros"
    assert {p.name: p.read_text() for p in macros.glob("*.sql")} == MACROS


def test_invalid_definitions_exit_1(tmp_path, capsys):
    main(["init", str(tmp_path)])
    (tmp_path / "segments" / "bad.yml").write_text("segments:\n  - name: x\n    rule: {attribute: cty, eq: a}\n")
    assert main(["validate", "--project", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "segments/bad.yml:3:23: error[SEG102]: unknown column 'cty' in contacts (did you mean 'city'?)" in err


def test_sql_of_an_unknown_name(tmp_path, capsys):
    main(["init", str(tmp_path)])
    assert main(["sql", "recent_visitor", "--project", str(tmp_path)]) == 1
    assert "did you mean 'recent_visitors'?" in capsys.readouterr().err
