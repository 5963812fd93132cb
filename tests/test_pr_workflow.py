"""The pre-commit hooks and the example CI workflow call segc commands that exist, with valid options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from compiler.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def parses(command: str) -> None:
    words = shlex.split(command)
    assert words[0] == "segc", command
    build_parser().parse_args(words[1:])  # SystemExit on an unknown command or option


def test_pre_commit_hooks():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} >= {"segc-validate", "segc-fmt", "segc-compile-check"}
    for hook in hooks:
        assert hook["language"] == "python" and re.compile(hook["files"]).search("segments/a.yml")
        parses(hook["entry"] + ("" if hook.get("pass_filenames") is False else " segments/a.yml"))


@pytest.mark.parametrize("path", sorted((ROOT / "docs" / "ci").glob("*.yml")), ids=lambda p: p.name)
def test_ci_workflow(path):
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    commands = [line.strip() for s in steps for line in s.get("run", "").splitlines()
                if line.strip().startswith("segc ")]
    used = {c.split()[1] for c in commands}
    assert used >= {"validate", "fmt", "compile", "demo", "plan", "build"}
    for command in commands:
        command = re.sub(r'"\$\w+"|\$\w+', "X", re.split(r" \|\| | > ", command)[0])
        parses(command)
