"""Running dbt on the generated project in a subprocess, streaming its progress."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

_PROGRESS = re.compile(r"\b(\d+) of (\d+) (OK|PASS|FAIL|ERROR|WARN|SKIP)\b\s*(.*?)\s*(\.{2,}|\[|$)")


@dataclass
class BuildResult:
    returncode: int
    results: list[dict] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    def count(self, resource: str, *statuses: str) -> int:
        return sum(1 for r in self.results if r["unique_id"].split(".")[0] == resource and r["status"] in statuses)

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if r["status"] in ("fail", "error")]


def dbt_invocation(args: list[str], dbt_dir: Path, database: Path | None,
                   as_of: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run `dbt ARGS` on the project in `dbt_dir`.

    `as_of` goes in SEGC_AS_OF, not in `--vars`: dbt parses the whole project again when a var
    changes, and the macro `segc_as_of` reads the variable only when executing.
    """
    env = dict(os.environ, DBT_PROFILES_DIR=str(dbt_dir), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if as_of is not None:
        env["SEGC_AS_OF"] = as_of
    # An in-process Spark (target `spark`, method session) binds to loopback and runs this Python.
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    if database is not None:
        env["SEGC_DATABASE"] = str(database.resolve())
    return [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "--no-use-colors", *args], env


def dbt(args: list[str], dbt_dir: Path, database: Path | None, echo=None, as_of: str | None = None) -> BuildResult:
    """`dbt ARGS` in `dbt_dir` at `as_of` (see dbt_invocation); each progress line is passed to `echo`."""
    command, env = dbt_invocation(args, dbt_dir, database, as_of)
    run_results = dbt_dir / "target" / "run_results.json"
    if run_results.exists():
        run_results.unlink()
    out = []
    with subprocess.Popen(command, cwd=dbt_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        for line in proc.stdout:
            out.append(line.rstrip("\n"))
            match = _PROGRESS.search(line)
            if echo and match:
                echo(f"  [{match.group(1)}/{match.group(2)}] {match.group(3):<5} {match.group(4)}")
    results = json.loads(run_results.read_text())["results"] if run_results.exists() else []
    return BuildResult(proc.returncode, results, out)
