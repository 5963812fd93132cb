"""The command line: help on every command, exit codes, init scaffolding, sql output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from compiler.cli import build_parser, main, report
from compiler.runner import BuildResult

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


@pytest.mark.parametrize("args", [["status", "--builds", "0"], ["show", "x", "--samples", "-1"], ["demo", "--events", "x"]])
def test_counts_are_checked(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert "expected a whole number of at least" in capsys.readouterr().err


def test_status_before_any_build_and_on_a_locked_file(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        assert main(["status", "--project", str(tmp_path), "--database", str(db)]) == 1  # held by this connection
        assert "error: cannot open" in capsys.readouterr().err
    assert main(["status", "--project", str(tmp_path), "--database", str(db)]) == 0
    assert capsys.readouterr().out == "no builds recorded yet\n"


def test_build_summary_names_the_error_of_a_missing_source(capsys):
    error = {"unique_id": "test.segc.source_unique_raw_contacts_contact_id.1a", "status": "error",
             "message": "Catalog Error: Table with name contacts does not exist", "failures": None}
    report(BuildResult(1, [error]), 1.0)
    out = capsys.readouterr().out
    assert "ERROR source_unique_raw_contacts_contact_id: Catalog Error" in out and "duplicate" not in out
    report(BuildResult(0, []), 1.0)
    assert capsys.readouterr().out.startswith("error: the selection matches no model or test")


def test_a_build_dbt_stopped_shows_its_error_without_the_python_traceback(capsys):
    output = ["01:16:21  Encountered an error:", 'IO Error: Cannot open file "/x/w.duckdb"',
              "01:16:21  Traceback (most recent call last):", '  File "connections.py", line 110, in handler',
              "    connection.handle = cls._ENV.handle()", "_duckdb.IOException: IO Error: Cannot open file"]
    report(BuildResult(2, [], output), 1.0)
    assert capsys.readouterr().out.splitlines() == ["dbt stopped before building anything:", *output[:2]]


def test_contacts_without_a_key_are_told_plainly(capsys):
    failed = {"unique_id": "test.segc.source_not_null_raw_contacts_contact_id.5d", "status": "fail", "failures": 2,
              "message": "Got 2 results, configured to fail if != 0"}
    report(BuildResult(1, [failed]), 1.0)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  FAIL contacts without a key (2 rows have a NULL key): every contact row needs one; nothing was published")


def test_a_failing_example_is_told_in_the_words_of_the_definitions(capsys):
    failed = {"unique_id": "unit_test.segc.segc_results.example__recent_visitors__visited_yesterday",
              "status": "fail", "failures": None,
              "message": "actual differs from expected:\n\n@@,contact_id,segc_segment_1\n→ ,1         ,False→True\n"}
    report(BuildResult(1, [failed]), 1.0)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  FAIL example 'visited_yesterday' of segment 'recent_visitors': it expects not_member, "
        "but the rule makes the contact member")


def test_init_where_nothing_can_be_written(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["init", str(tmp_path / "file" / "project")]) == 1
    assert capsys.readouterr().err.startswith(f"error: cannot create the project in {tmp_path / 'file' / 'project'}: ")


def test_output_into_a_closed_pipe_ends_quietly():
    """`segc status | head`: the reader is gone before segc writes."""
    run = subprocess.Popen([Path(sys.executable).with_name("segc"), "schema"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    run.stdout.close()
    assert (run.stderr.read(), run.wait()) == ("", 1)


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
    (tmp_path / "file").write_text("")
    assert main(["init", str(tmp_path / "file")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


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


def test_sql_and_show_of_a_segment_and_a_score_that_share_a_name(tmp_path, capsys):
    main(["init", str(tmp_path)])
    (tmp_path / "segments" / "warm.yml").write_text(
        "segments:\n  - name: warm\n    rule: {event: email_open, within: 7d}\n"
        "scores:\n  - name: warm\n    rules:\n      - {points: 5, when: {event: page_view}}\n")
    capsys.readouterr()
    project = ["--project", str(tmp_path), "--as-of", "2026-11-28"]
    assert main(["sql", "warm", *project]) == main(["sql", "warm", "--kind", "segment", *project]) == 0
    segment, same = capsys.readouterr().out.split("WITH contacts AS", 2)[1:]
    assert main(["sql", "warm", "--kind", "score", *project]) == 0
    score = capsys.readouterr().out
    assert segment == same and "email_open" in segment and "'page_view'" in score and "email_open" not in score
    assert main(["sql", "warm", "--kind", "lifecycle", *project]) == 1
    assert capsys.readouterr().err == "error: no lifecycle named 'warm'\n"
    assert main(["show", "warm", "--kind", "score", "--project", str(tmp_path), "--no-sql"]) == 0
    assert capsys.readouterr().out.startswith("score warm")
