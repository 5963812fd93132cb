"""Where a segc project keeps things, and loading its definitions into checked IR."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from . import ir
from .errors import CompileError, did_you_mean
from .loader import load_dir
from .parse import parse
from .sqlgen.plan import conditions, references


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def segments_dir(self) -> Path:
        return self.root / "segments"

    @property
    def dbt_dir(self) -> Path:
        return self.root / "dbt_project"

    def published_schema(self, project: ir.Project | None = None) -> str:
        """The schema the warehouse was last compiled to publish into; before a compile (or when dbt_project.yml
        cannot tell), settings.schema of `project`, the definitions already loaded (else they are loaded)."""
        from .scaffold import compiled_schema
        return compiled_schema(self.dbt_dir) or (project.settings.schema if project else self.defined_schema)

    @property
    def defined_schema(self) -> str:
        """settings.schema of the definitions (`segments` when they cannot be loaded)."""
        try:
            return self.load().settings.schema
        except (CompileError, FileNotFoundError):
            return ir.Settings.schema

    @property
    def default_database(self) -> Path:
        return self.root / "warehouse.duckdb"

    def load(self) -> ir.Project:
        """Parse and check every definition file; raises CompileError with all diagnostics."""
        if not self.segments_dir.is_dir():
            raise FileNotFoundError(f"no segments/ folder in {self.root} (run `segc init {self.root}`)")
        docs, problems = load_dir(self.segments_dir, self.root)
        try:
            project = parse(docs)
        except CompileError as exc:
            raise CompileError(problems + exc.diagnostics) from None
        if problems:
            raise CompileError(problems)
        return project


KINDS = (("segment", "segments"), ("score", "scores"), ("lifecycle", "lifecycles"), ("rfm", "rfms"))


def find(project: ir.Project, name: str, kind: str | None = None):
    """(kind, definition) of the definition called `name`, segments first, or of that `kind` only."""
    for k, field in KINDS:
        for d in getattr(project, field):
            if d.name == name and kind in (None, k):
                return k, d
    return None, None


def not_found(project: ir.Project, name: str, kind: str | None = None) -> str:
    """The error for a NAME that `find` does not know, with a "did you mean"."""
    names = [n for k, n in project.definitions() if kind in (None, k)]
    hint = did_you_mean(name, names)
    what = kind or "segment, score, lifecycle or rfm"
    return f"error: no {what} named '{name}'" + (f" ({hint})" if hint else "")


def subset(project: ir.Project, kind: str, name: str) -> ir.Project:
    """The project reduced to one definition and everything it depends on."""
    keep: set[tuple[str, str]] = set()
    todo = [(kind, name)]
    while todo:
        key = todo.pop()
        if key in keep:
            continue
        keep.add(key)
        d = project.definitions()[key]
        todo += [ref for c in conditions(d) for ref in references(c)]
    kept = {f: tuple(d for d in getattr(project, f) if (k, d.name) in keep) for k, f in KINDS}
    return dataclasses.replace(project, **kept, syncs=())


def published_tables(con, schema: str) -> dict[str, str]:
    """The tables of `schema` in a DuckDB warehouse, each with its name qualified by the database (a schema
    may share its name with a database attached there)."""
    database = con.execute("select current_database()").fetchone()[0]
    rows = con.execute("select table_name from information_schema.tables where table_catalog = ? and table_schema = ?",
                       [database, schema]).fetchall()
    return {name: f'"{database}"."{schema}"."{name}"' for (name,) in rows}
