"""`segc plan`: what a change under review does to the published tables, before it merges.

"Now" is what the warehouse published at its latest build. "After" is the working tree's
definitions evaluated by the shared plan (the same query as the dbt model segc_results) against
the same source tables at the *same as_of* as that build, so the comparison is like-for-like.
The evaluation lands in a TEMP table of a read-only connection: nothing is written to the
warehouse file, and the published schemas cannot be touched.

Which definitions changed:
- segments: the working tree's definition_hash against segment_catalog.definition_hash;
- scores, lifecycles, RFM: the catalog holds no hash for them, so each one is evaluated and
  compared with its published rows (a difference means the definition or the data behind it
  changed since the build). See docs/decisions.md, "Plan".
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import emit, ir
from .errors import CompileError
from .sqlgen.plan import RFM_COLUMNS, Plan, conditions, references
from .sqlgen.relations import render_plain
from .sqltext import definition_sql
from .timeutil import now_utc
from .workspace import KINDS, Workspace, published_tables, subset

SCRATCH = "segc_plan_results"  # TEMP table of the read-only connection
EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 3
PUBLISHED = {"segment": "segment_membership", "score": "contact_scores", "lifecycle": "contact_lifecycle",
             "rfm": "contact_rfm"}
TOLERANCE = "1e-9"  # relative, as in the rule tests: summation order may differ in the last bits


class PlanError(RuntimeError):
    """The warehouse can't be read (missing, locked) or the base revision can't be loaded."""


@dataclass
class Change:
    kind: str  # segment | score | lifecycle | rfm
    name: str
    change: str  # added | changed | removed
    reason: str
    before: int = 0  # segment members / score, lifecycle, RFM rows published now
    after: int = 0  # the same after the change
    entering: int = 0  # contacts gaining membership (segments) or an RFM row
    leaving: int = 0
    changed: int = 0  # scores: values or grades differ; lifecycles: stage; RFM: any column
    transitions: list[tuple[str, str, int]] = field(default_factory=list)  # (grade/stage before, after, contacts)
    sample_entering: list = field(default_factory=list)
    sample_leaving: list = field(default_factory=list)
    sample_changed: list = field(default_factory=list)
    mean_before: float | None = None  # scores
    mean_after: float | None = None
    upstream: list[str] = field(default_factory=list)  # "score lead_score": changed definitions it depends on
    syncs: list[str] = field(default_factory=list)  # syncs that send this segment to a destination
    sql_diff: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def affected(self) -> bool:
        """Whether any contact's published result would differ."""
        return bool(self.entering or self.leaving or self.changed)


@dataclass
class PlanReport:
    database: str
    as_of: datetime
    built: bool  # whether the warehouse has published tables to compare with
    changes: list[Change]
    unchanged: int
    notes: list[str] = field(default_factory=list)
    schema_moves_to: str | None = None  # settings.schema changes: the next build publishes there, from scratch

    @property
    def exit_code(self) -> int:
        return EXIT_CHANGES if self.changes or self.schema_moves_to else EXIT_NO_CHANGES


# -- the dependency graph ---------------------------------------------------------------------


def direct_dependencies(project: ir.Project) -> dict[tuple[str, str], set[tuple[str, str]]]:
    out = {}
    for key, d in project.definitions().items():
        out[key] = {ref for c in conditions(d) for ref in references(c)}
    return out


def upstream(project: ir.Project, key: tuple[str, str]) -> set[tuple[str, str]]:
    """Everything `key` depends on, transitively."""
    deps = direct_dependencies(project)
    seen: set = set()
    todo = list(deps.get(key, ()))
    while todo:
        k = todo.pop()
        if k not in seen:
            seen.add(k)
            todo += deps.get(k, ())
    return seen


def subset_of(project: ir.Project, keys: set[tuple[str, str]]) -> ir.Project:
    """The project reduced to `keys` and everything they depend on (no syncs)."""
    keep = {k for key in keys for k in subset_keys(project, key)}
    kept = {f: tuple(d for d in getattr(project, f) if (k, d.name) in keep) for k, f in KINDS}
    return dataclasses.replace(project, **kept, syncs=())


def subset_keys(project: ir.Project, key: tuple[str, str]) -> set[tuple[str, str]]:
    small = subset(project, *key)
    return set(small.definitions())


# -- the base revision (for the SQL diff) ------------------------------------------------------


def load_revision(root: Path, ref: str) -> ir.Project:
    """The definitions under segments/ at git revision `ref`, checked."""

    def git(*args) -> bytes:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True)
        except FileNotFoundError:
            raise PlanError("git is not installed") from None
        except subprocess.CalledProcessError as exc:
            raise PlanError(f"git {' '.join(args)}: {exc.stderr.decode(errors='replace').strip() or exc}") from None
        return done.stdout

    top = Path(git("rev-parse", "--show-toplevel").decode().strip())
    prefix = (root.resolve() / "segments").relative_to(top.resolve()).as_posix()
    names = [n for n in git("ls-tree", "-r", "--name-only", ref, "--", prefix).decode().splitlines()
             if n.endswith((".yml", ".yaml"))]
    with tempfile.TemporaryDirectory(prefix="segc-base-") as tmp:
        for name in names:
            target = Path(tmp) / "segments" / Path(name).relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(git("show", f"{ref}:{name}"))
        (Path(tmp) / "segments").mkdir(exist_ok=True)
        try:
            return Workspace(Path(tmp)).load()
        except CompileError as exc:
            raise PlanError(f"the definitions at {ref} do not validate ({len(exc.diagnostics)} error(s))") from None


def sql_diff(base: ir.Project | None, project: ir.Project, kind: str, name: str, as_of: datetime,
             base_label: str) -> str:
    """Unified diff of `segc sql NAME` at the base revision and in the working tree."""
    def sql(p):
        if p is None or (kind, name) not in p.definitions():
            return []
        return definition_sql(p, kind, name, "duckdb", as_of).splitlines(keepends=True)

    lines = difflib.unified_diff(sql(base), sql(project), f"{name}.sql ({base_label})", f"{name}.sql (working tree)")
    return "".join(lines) or f"-- the compiled SQL of {name} is the same as at {base_label}\n"


# -- evaluation --------------------------------------------------------------------------------


PUBLISHED_AT = ("segment_membership", "contact_scores", "contact_lifecycle", "contact_rfm", "segment_summary")
RECORDED_AT = ("segment_membership_changes", "segment_summary")  # what the next build compares its as_of with


def _latest_as_of(con, tables: dict[str, str], names=PUBLISHED_AT) -> datetime | None:
    parts = [f"select max(as_of) as a from {tables[t]}" for t in names if t in tables]
    if not parts:
        return None
    return con.execute(f"select max(a) from ({' union all '.join(parts)})").fetchone()[0]


def _published_names(con, tables: dict[str, str], kind: str) -> set[str]:
    table = PUBLISHED[kind]
    if table not in tables:
        return set()
    return {r[0] for r in con.execute(f"select distinct {kind} from {tables[table]}").fetchall()}


def _one(con, sql: str, params=()) -> object:
    return con.execute(sql, list(params)).fetchone()[0]


def _ids(con, sql: str, params, samples: int) -> list:
    return [r[0] for r in con.execute(f"{sql} order by 1 limit {int(samples)}", list(params)).fetchall()]


class Evaluator:
    def __init__(self, con, small: ir.Project | None, tables: dict[str, str], samples: int):
        self.con, self.tables, self.samples = con, tables, samples
        self.plan = Plan(small) if small is not None else None

    def column(self, kind: str, name: str, part: str = "") -> str:
        return self.plan.column(kind, name, part)

    def segment(self, change: Change) -> None:
        now = f"(select contact_id from {self.tables['segment_membership']} where segment = ?)" \
            if "segment_membership" in self.tables else "(select null as contact_id where false)"
        now_params = [change.name] if "segment_membership" in self.tables else []
        if change.change == "removed":
            after, after_params = "(select null as contact_id where false)", []
        else:
            after, after_params = f"(select contact_id from {SCRATCH} where {self.column('segment', change.name)})", []
        change.before = _one(self.con, f"select count(*) from {now}", now_params)
        change.after = _one(self.con, f"select count(*) from {after}", after_params)
        entering = f"select contact_id from {after} except select contact_id from {now}"
        leaving = f"select contact_id from {now} except select contact_id from {after}"
        change.entering = _one(self.con, f"select count(*) from ({entering})", after_params + now_params)
        change.leaving = _one(self.con, f"select count(*) from ({leaving})", now_params + after_params)
        change.sample_entering = _ids(self.con, entering, after_params + now_params, self.samples)
        change.sample_leaving = _ids(self.con, leaving, now_params + after_params, self.samples)

    def valued(self, kind: str, name: str, in_tree: bool) -> Change:
        """A score, lifecycle or RFM model: published rows against the evaluation, contact by contact."""
        if kind == "score":
            cols = {"value": self.column("score", name) if in_tree else None,
                    "grade": self.column("score", name, "_grade") if in_tree else None}
            label_col = "grade"
        elif kind == "lifecycle":
            cols = {"stage": self.column("lifecycle", name) if in_tree else None}
            label_col = "stage"
        else:
            cols = {p: self.column("rfm", name, f"_{p}") if in_tree else None for p in RFM_COLUMNS}
            label_col = "segment"
        names = list(cols)
        published = PUBLISHED[kind] in self.tables
        now = (f"select contact_id, {', '.join(names)} from {self.tables[PUBLISHED[kind]]} where {kind} = $name"
               if published else
               f"select null as contact_id, {', '.join('null as ' + n for n in names)} where false")
        if in_tree:
            where = f" where {cols['r']} is not null" if kind == "rfm" else ""
            after = f"select contact_id, {', '.join(f'{c} as {n}' for n, c in cols.items())} from {SCRATCH}{where}"
        else:
            after = f"select null as contact_id, {', '.join('null as ' + n for n in names)} where false"

        def differs(n: str) -> str:
            a, b = f"n.{n}", f"a.{n}"
            if n in ("value", "monetary"):
                return (f"coalesce(abs({a} - {b}) > {TOLERANCE} * greatest(1, abs({a})), "
                        f"{a} is distinct from {b})")
            return f"{a} is distinct from {b}"

        joined = (f"with n as ({now}), a as ({after}) select coalesce(n.contact_id, a.contact_id) as contact_id, "
                  f"n.contact_id is not null as was, a.contact_id is not null as is_, "
                  f"n.{label_col} as label_before, a.{label_col} as label_after, "
                  f"({' or '.join(differs(n) for n in names)}) as differs "
                  f"from n full join a on n.contact_id = a.contact_id")
        params = {"name": name} if published else {}
        con = self.con
        con.execute(f"create or replace temp table segc_plan_cmp as {joined}", params)
        before, after_n, entering, leaving, changed = con.execute(
            "select count(*) filter (where was), count(*) filter (where is_), count(*) filter (where is_ and not was), "
            "count(*) filter (where was and not is_), count(*) filter (where was and is_ and differs) "
            "from segc_plan_cmp").fetchone()
        change = Change(kind, name, "", "", before=before, after=after_n, entering=entering, leaving=leaving,
                        changed=changed)
        change.transitions = [tuple(r) for r in con.execute(
            "select coalesce(label_before, '(none)'), coalesce(label_after, '(none)'), count(*) from segc_plan_cmp "
            "where was and is_ and label_before is distinct from label_after group by all "
            "order by 3 desc, 1, 2 limit 8").fetchall()]
        change.sample_entering = _ids(con, "select contact_id from segc_plan_cmp where is_ and not was", [], self.samples)
        change.sample_leaving = _ids(con, "select contact_id from segc_plan_cmp where was and not is_", [], self.samples)
        change.sample_changed = _ids(con, "select contact_id from segc_plan_cmp where was and is_ and differs", [],
                                     self.samples)
        if kind == "score":
            if published:
                change.mean_before = con.execute(f"select avg(value) from ({now})", params).fetchone()[0]
            if in_tree:
                change.mean_after = con.execute(f"select avg(value) from ({after})").fetchone()[0]
        con.execute("drop table segc_plan_cmp")
        return change


def compute(project: ir.Project, database: Path, *, schema: str = "segments", samples: int = 5,
            base: ir.Project | None = None, base_label: str = "HEAD", with_sql: bool = False) -> PlanReport:
    """Compare the working tree's definitions with the latest build in `database` (DuckDB), whose published
    tables are in `schema`."""
    import duckdb

    if not database.exists():
        raise PlanError(f"no warehouse at {database}: run `segc build` (or `segc demo`) first")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as exc:
        raise PlanError(f"cannot open {database} read-only: {exc}") from None
    try:
        return _compute(con, project, database, schema, samples, base, base_label, with_sql)
    except duckdb.Error as exc:  # e.g. a column the branch declares that the warehouse does not have yet
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlanError(f"the warehouse cannot evaluate the definitions: {first}") from None
    finally:
        con.close()


def _compute(con, project, database, schema, samples, base, base_label, with_sql) -> PlanReport:
    tables = published_tables(con, schema)
    latest = _latest_as_of(con, tables)
    notes = []
    if latest is None:
        as_of = now_utc()
        notes.append(f"no build recorded in {database.name}: every definition is new; evaluated at {as_of}")
    else:
        as_of = latest
        recorded = _latest_as_of(con, tables, RECORDED_AT)
        if recorded is not None and recorded != latest:
            notes.append(f"the latest recorded build is at {recorded}: the published tables come from a build at "
                         f"{latest} that stopped before recording it, and the next build records its own as_of")
    hashes = emit.definition_hashes(project)
    catalog = dict(con.execute(f"select segment, definition_hash from {tables['segment_catalog']}").fetchall()) \
        if "segment_catalog" in tables else {}
    tree = project.definitions()

    # segments: by definition hash
    pending: list[Change] = []
    for s in project.segments:
        old = catalog.get(s.name)
        if old is None:
            pending.append(Change("segment", s.name, "added", "not in the catalog of the latest build"))
        elif old != hashes[("segment", s.name)]:
            pending.append(Change("segment", s.name, "changed", "definition hash differs from the latest build"))
    for name in sorted(set(catalog) - {s.name for s in project.segments}):
        pending.append(Change("segment", name, "removed", "in the latest build, no longer defined"))

    # what to evaluate: the added/changed segments and every score, lifecycle and RFM model
    evaluate = {("segment", c.name) for c in pending if c.change != "removed"}
    evaluate |= {k for k in tree if k[0] != "segment"}
    small = subset_of(project, evaluate) if evaluate else None
    if small is not None:
        sql = render_plain(Plan(small).results(), small, "duckdb", as_of, schema)
        con.execute(f"create or replace temp table {SCRATCH} as {sql}")
    ev = Evaluator(con, small, tables, samples)

    changes: list[Change] = []
    for c in pending:
        ev.segment(c)
        changes.append(c)
    unchanged = len(project.segments) - sum(c.change != "removed" for c in pending)
    for kind, plural in KINDS[1:]:
        published = _published_names(con, tables, kind)
        for d in getattr(project, plural):
            c = ev.valued(kind, d.name, True)
            if d.name not in published:
                c.change, c.reason = "added", f"no rows in {schema}.{PUBLISHED[kind]}"
            elif c.affected:
                c.change, c.reason = "changed", (f"differs from {schema}.{PUBLISHED[kind]}: the definition, "
                                                 f"or the source rows up to as_of, changed since the build")
            else:
                unchanged += 1
                continue
            changes.append(c)
        for name in sorted(published - {d.name for d in getattr(project, plural)}):
            c = ev.valued(kind, name, False)
            c.change, c.reason = "removed", f"in {schema}.{PUBLISHED[kind]}, no longer defined"
            changes.append(c)
    if small is not None:
        con.execute(f"drop table {SCRATCH}")

    changed_keys = {(c.kind, c.name) for c in changes}
    for c in changes:
        if c.change != "removed":
            c.upstream = sorted(f"{k} {n}" for k, n in upstream(project, (c.kind, c.name)) & changed_keys)
        c.syncs = [f"{y.name} ({y.destination})" for y in project.syncs if c.kind == "segment" and y.segment == c.name]
        if with_sql:
            c.sql_diff = sql_diff(base, project, c.kind, c.name, as_of, base_label)
    order = {"segment": 0, "score": 1, "lifecycle": 2, "rfm": 3}
    changes.sort(key=lambda c: (order[c.kind], c.name))
    if any(c.upstream for c in changes):
        notes.append("a definition's hash includes the hashes of what it references, so a change upstream "
                     "also shows on the definitions that depend on it")
    return PlanReport(str(database), as_of, latest is not None, changes, unchanged, notes)


# -- rendering ---------------------------------------------------------------------------------

SIGN = {"added": "+", "changed": "~", "removed": "-"}


def _n(v) -> str:
    return format(v, ",") if isinstance(v, int) else str(v)


def _ids_text(ids: list) -> str:
    return ", ".join(map(str, ids))


def _summary(report: PlanReport) -> str:
    if not report.changes:
        return "no changes"
    counts = {k: sum(c.change == k for c in report.changes) for k in ("added", "changed", "removed")}
    return (f"{len(report.changes)} change(s): " + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            + f"; {report.unchanged} unchanged")


def _detail_lines(c: Change) -> list[str]:
    """The body of one change, shared by the text and markdown renderings."""
    lines = []
    if c.kind == "segment":
        lines.append(f"members   {_n(c.before)} -> {_n(c.after)}   (+{_n(c.entering)} entering, -{_n(c.leaving)} leaving)")
        if c.change == "changed" and not c.affected:
            lines.append("no contact enters or leaves at this as_of")
    else:
        unit = "rows" if c.kind == "rfm" else "contacts"
        lines.append(f"{unit:<9} {_n(c.before)} -> {_n(c.after)}" +
                     (f"   (+{_n(c.entering)} new, -{_n(c.leaving)} gone)" if c.entering or c.leaving else ""))
        what = {"score": "values or grades", "lifecycle": "stages", "rfm": "values or segments"}[c.kind]
        if c.change == "changed":
            lines.append(f"changed   {_n(c.changed)} contacts' {what}")
        if c.mean_before is not None or c.mean_after is not None:
            fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            lines.append(f"mean      {fmt(c.mean_before)} -> {fmt(c.mean_after)}")
        if c.transitions:
            lines.append("moves     " + ", ".join(f"{a} -> {b}: {_n(n)}" for a, b, n in c.transitions))
    for label, ids in (("entering", c.sample_entering), ("leaving", c.sample_leaving), ("changed", c.sample_changed)):
        if ids:
            lines.append(f"{label:<9} e.g. {_ids_text(ids)}")
    if c.syncs and c.affected:
        lines.append(f"syncs     {', '.join(c.syncs)} will send these changes")
    if c.upstream:
        lines.append(f"note      depends on {', '.join(c.upstream)}, which changed too: "
                     f"this may come from upstream")
    return lines


def render_text(report: PlanReport) -> str:
    out = [f"plan against {report.database}: latest build {report.as_of}" if report.built
           else f"plan against {report.database}: nothing built yet",
           "the working tree's definitions evaluated at that as_of on the same source tables", ""]
    for c in report.changes:
        out.append(f"{SIGN[c.change]} {c.label} ({c.change}: {c.reason})")
        out += ["    " + line for line in _detail_lines(c)]
        if c.sql_diff:
            out += ["    " + line for line in c.sql_diff.rstrip("\n").splitlines()]
        out.append("")
    out += [f"note: {n}" for n in report.notes]
    out.append(_summary(report))
    return "\n".join(out) + "\n"


def render_markdown(report: PlanReport) -> str:
    out = [f"### segc plan: {_summary(report)}", ""]
    if report.built:
        out.append(f"Compared with the latest build (as_of **{report.as_of}**) in `{Path(report.database).name}`: "
                   f"the definitions of this branch were evaluated at the same as_of on the same source tables, "
                   f"without touching the published tables.")
    else:
        out.append(f"Nothing is built in `{Path(report.database).name}` yet: every definition is new.")
    out.append("")
    segments = [c for c in report.changes if c.kind == "segment"]
    others = [c for c in report.changes if c.kind != "segment"]
    if segments:
        out += ["| | segment | members now | after | entering | leaving |", "|---|---|--:|--:|--:|--:|"]
        for c in segments:
            out.append(f"| {c.change} | `{c.name}` | {_n(c.before)} | {_n(c.after)} | +{_n(c.entering)} | "
                       f"-{_n(c.leaving)} |")
        out.append("")
    if others:
        out += ["| | definition | rows now | after | changed | main moves |", "|---|---|--:|--:|--:|---|"]
        for c in others:
            moves = ", ".join(f"{a} → {b}: {_n(n)}" for a, b, n in c.transitions[:3])
            out.append(f"| {c.change} | {c.kind} `{c.name}` | {_n(c.before)} | {_n(c.after)} | {_n(c.changed)} | "
                       f"{moves} |")
        out.append("")
    for c in report.changes:
        out.append(f"<details><summary>{SIGN[c.change]} {c.kind} <code>{c.name}</code>: {c.change}</summary>")
        out += ["", f"_{c.reason}_", "", "```", *_detail_lines(c), "```"]
        if c.sql_diff:
            out += ["", "```diff", c.sql_diff.rstrip("\n"), "```"]
        out += ["", "</details>", ""]
    out += [f"> {n}" for n in report.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def render_json(report: PlanReport) -> str:
    data = {"database": report.database, "as_of": report.as_of.isoformat(sep=" "), "built": report.built,
            "summary": _summary(report), "unchanged": report.unchanged, "notes": report.notes,
            "schema_moves_to": report.schema_moves_to,
            "changes": [dataclasses.asdict(c) | {"affected": c.affected} for c in report.changes]}
    return json.dumps(data, indent=2, default=str) + "\n"


RENDER = {"text": render_text, "markdown": render_markdown, "json": render_json}


def command(args, load) -> int:
    """`segc plan`: `load(ws)` gives the checked project or None after printing the diagnostics."""
    import sys

    ws = Workspace(Path(args.project).resolve())
    project = load(ws)
    if project is None:
        return EXIT_ERROR
    database = Path(args.database) if args.database else ws.default_database
    base, with_sql = None, args.sql
    if args.sql:
        try:
            base = load_revision(ws.root, args.base)
        except PlanError as exc:
            print(f"warning: no SQL diff against {args.base}: {exc}", file=sys.stderr)
            with_sql = False
    schema = ws.published_schema(project)
    try:
        report = compute(project, database, schema=schema, samples=args.samples, base=base,
                         base_label=args.base, with_sql=with_sql)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if project.settings.schema != schema:
        report.schema_moves_to = project.settings.schema
        report.notes.append(f"settings.schema moves the published tables from {schema} to {project.settings.schema}: "
                            f"the next build starts a new history there (every member enters), and {schema} stays "
                            "as it is")
    text = RENDER[args.format](report)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return report.exit_code
