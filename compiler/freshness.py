"""`segc compile --check`: whether dbt_project/ is exactly what `segc compile` would write.

Nothing is written. Generated files that differ (stale, or edited by hand), are missing, or
would be deleted (left over from definitions that no longer exist) are listed; exit 1 if any.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from . import emit, scaffold
from .sqlgen.relations import UnportableSQL
from .workspace import Workspace


@dataclass(frozen=True)
class Finding:
    status: str  # changed | edited | missing | extra
    path: str  # relative to the project root
    detail: str = ""


def _stats(old: str, new: str) -> str:
    a, b = old.splitlines(), new.splitlines()
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return f"+{added} -{removed} lines to match"


def findings(ws: Workspace, project, dialect: str) -> list[Finding]:
    """Every difference between the files `segc compile` would write and the ones on disk."""
    expected = {f"dbt_project/{rel}": text for rel, text in emit.render(project, dialect).items()}
    expected["dbt_project/dbt_project.yml"] = scaffold.dbt_project(project.settings.schema)
    expected |= {f"macros/{name}": text for name, text in scaffold.MACROS.items()}
    out = []
    for rel, text in sorted(expected.items()):
        path = ws.root / rel
        if not path.exists():
            out.append(Finding("missing", rel))
            continue
        current = path.read_text(encoding="utf-8", errors="replace")
        if current != text:
            header = text.splitlines()[0] if text else ""
            status = "edited" if header.startswith(("--", "#")) and not current.startswith(header) else "changed"
            out.append(Finding(status, rel, _stats(current, text)))
    for folder in emit.GENERATED_DIRS:
        base = ws.dbt_dir / folder
        for path in sorted(base.rglob("*")) if base.exists() else []:
            rel = "dbt_project/" + path.relative_to(ws.dbt_dir).as_posix()
            if path.is_file() and rel not in expected and emit.generated_by_segc(path):
                out.append(Finding("extra", rel, "segc compile deletes it"))
    if not (ws.dbt_dir / "profiles.yml").exists():
        out.append(Finding("missing", "dbt_project/profiles.yml", "segc compile writes the DuckDB profile"))
    return out


EXPLAIN = {
    "changed": "differs from what segc compile writes (stale, or edited by hand)",
    "edited": "its generated header is gone: edited by hand",
    "missing": "segc compile would write it",
    "extra": "no longer generated",
}


def command(args, load) -> int:
    ws = Workspace(Path(args.project).resolve())
    project = load(ws)
    if project is None:
        return 1
    try:
        _, _, dialect = scaffold.target_dialect(ws.dbt_dir, getattr(args, "target", None))
        found = findings(ws, project, dialect)
    except (scaffold.TargetError, UnportableSQL) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"ok: {ws.dbt_dir.name}/ is up to date with segments/ ({dialect})")
        return 0
    width = max(len(f.status) for f in found)
    print(f"{ws.dbt_dir.name}/ is not what `segc compile` writes from segments/ ({len(found)} file(s)):")
    for f in found:
        print(f"  {f.status:<{width}}  {f.path}  ({f.detail or EXPLAIN[f.status]})")
    print("run `segc compile` and commit the result; generated files are never edited by hand")
    return 1
