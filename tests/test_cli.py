"""The command line: help on every command, exit codes, init scaffolding, sql output."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.cli import build_parser, main

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
                 "dbt_project/profiles.yml"):
        assert (tmp_path / "crm" / path).is_file(), path
    # every segc macro (the files of the repository's macros/, shipped as compiler.macros), byte for byte
    ours = {p.name: p.read_text() for p in (Path(__file__).resolve().parents[1] / "macros").glob("*.sql")}
    assert "segc_check_as_of.sql" in ours
    assert {p.name: p.read_text() for p in (tmp_path / "crm" / "macros").iterdir()} == ours
    assert main(["validate", "--project", str(tmp_path / "crm")]) == 0
    assert main(["init", str(tmp_path / "crm")]) == 1  # never overwrites definitions


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
