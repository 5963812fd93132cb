"""`segc show NAME`: one definition with what the warehouse knows about it.

The definition as written (with its comments), its owner and tags, its size and a sample at the
latest build, the trend over the last builds (segments), what it depends on and what depends on
it, and its SQL (the query `segc sql` prints). Works without a warehouse too: then only the
definition, the dependencies and the SQL are shown.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from sqlglot import exp

from . import emit, ir
from .review import direct_dependencies
from .sqltext import definition_sql
from .timeutil import now_utc
from .workspace import Workspace, find, not_found, published_tables

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    low, high = min(values), max(values)
    return "".join(SPARKS[(v - low) * (len(SPARKS) - 1) // (high - low) if high > low else 0] for v in values)


def source_text(root: Path, location) -> str | None:
    """The YAML entry as written: from its first line down to the next line indented less."""
    if location is None:
        return None
    try:
        lines = (root / location.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start, col = location.line - 1, location.col - 1
    out = [lines[start]]
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip(" ")) < col:
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return textwrap.dedent("\n".join(out))


def dependents(project: ir.Project, key: tuple[str, str]) -> list[str]:
    """Definitions and syncs that refer to `key` directly."""
    out = [f"{k} {n}" for (k, n), deps in direct_dependencies(project).items() if key in deps]
    out += [f"sync {s.name} -> {s.destination}" for s in project.syncs if key == ("segment", s.segment)]
    return sorted(out)


def _contacts(con, project: ir.Project) -> int | None:
    """Contacts with a key in the contacts source (counting segc_results would re-run it when it is a view)."""
    import duckdb

    key = exp.column(project.contacts.key)
    query = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(project.contacts.relation)).where(
        exp.Not(this=exp.Is(this=key, expression=exp.Null())))
    try:
        return con.execute(query.sql("duckdb")).fetchone()[0]
    except duckdb.Error:
        return None


def _warehouse(database: Path, schema: str, project: ir.Project, kind: str, name: str, samples: int,
               builds: int) -> dict | None:
    import duckdb

    if not database.exists():
        return None
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as exc:
        return {"error": str(exc)}
    try:
        tables = published_tables(con, schema)
        info: dict = {}
        table = {"segment": "segment_membership", "score": "contact_scores", "lifecycle": "contact_lifecycle",
                 "rfm": "contact_rfm"}[kind]
        if table not in tables:
            return {"built": False}
        info["as_of"] = con.execute(f"select max(as_of) from {tables[table]}").fetchone()[0]
        info["contacts"] = _contacts(con, project)
        where = f"from {tables[table]} where {kind} = ?"
        info["rows"] = con.execute(f"select count(*) {where}", [name]).fetchone()[0]
        info["built"] = info["rows"] > 0 or (kind == "segment" and "segment_catalog" in tables and con.execute(
            f"select count(*) from {tables['segment_catalog']} where segment = ?", [name]).fetchone()[0] > 0)
        if kind == "segment":
            info["sample"] = [r[0] for r in con.execute(
                f"select contact_id {where} order by contact_id limit {int(samples)}", [name]).fetchall()]
            if "segment_catalog" in tables:
                row = con.execute(f"select definition_hash from {tables['segment_catalog']} where segment = ?",
                                  [name]).fetchone()
                info["hash"] = row[0] if row else None
            if "segment_summary" in tables:
                info["builds"] = [list(r) for r in con.execute(
                    f"select as_of, members, entered, exited from (select * from {tables['segment_summary']} "
                    "where segment = ? order by as_of desc limit ?) order by as_of", [name, builds]).fetchall()]
        else:
            label = {"score": "grade", "lifecycle": "stage", "rfm": "segment"}[kind]
            info["distribution"] = [list(r) for r in con.execute(
                f"select coalesce({label}, '(none)'), count(*) {where} group by all order by 2 desc, 1",
                [name]).fetchall()]
            if kind == "score":
                info["mean"] = con.execute(f"select avg(value) {where}", [name]).fetchone()[0]
                info["sample"] = [list(r) for r in con.execute(
                    f"select contact_id, value, grade {where} order by value desc, contact_id limit {int(samples)}",
                    [name]).fetchall()]
            else:
                cols = "contact_id, stage" if kind == "lifecycle" else "contact_id, r, f, m, segment"
                info["sample"] = [list(r) for r in con.execute(
                    f"select {cols} {where} order by contact_id limit {int(samples)}", [name]).fetchall()]
        return info
    finally:
        con.close()


def describe(ws: Workspace, project: ir.Project, name: str, database: Path, *, samples: int = 5, builds: int = 10,
             with_sql: bool = True, dialect: str = "duckdb", kind: str | None = None) -> dict:
    kind, d = find(project, name, kind)
    key = (kind, name)
    info = {"kind": kind, "name": name, "description": d.description, "owner": d.owner, "tags": list(d.tags),
            "location": str(d.location) if d.location else None, "source": source_text(ws.root, d.location),
            "definition_hash": emit.definition_hashes(project)[key],
            "depends_on": sorted(f"{k} {n}" for k, n in direct_dependencies(project)[key]),
            "used_by": dependents(project, key), "database": str(database),
            "warehouse": _warehouse(database, ws.published_schema(project), project, kind, name, samples, builds)}
    if with_sql:
        wh = info["warehouse"] or {}
        as_of = wh.get("as_of") or now_utc()
        info["sql_as_of"] = as_of
        info["sql"] = definition_sql(project, kind, name, dialect, as_of)
    return info


def render_text(info: dict) -> str:
    out = [f"{info['kind']} {info['name']}"]
    if info["description"]:
        out.append(f"  {info['description']}")
    meta = [f"owner: {info['owner'] or '-'}"] + ([f"tags: {', '.join(info['tags'])}"] if info["tags"] else [])
    out.append("  " + "   ".join(meta))
    if info["location"]:
        out.append(f"  defined at {info['location']}")
    if info["source"]:
        out += ["", "definition"] + ["  " + line for line in info["source"].splitlines()]
    out += ["", f"in the warehouse ({Path(info['database']).name})"]
    wh = info["warehouse"]
    if wh is None:
        out.append("  no warehouse: run `segc build` (or `segc demo`)")
    elif "error" in wh:
        out.append(f"  cannot read it: {wh['error']}")
    elif not wh.get("built"):
        out.append("  not built yet: `segc plan` shows what building it would give")
    else:
        out.append(f"  latest build  {wh['as_of']}")
        total = wh.get("contacts")
        share = f" ({wh['rows'] / total:.1%} of {total:,} contacts)" if total and info["kind"] == "segment" else ""
        unit = {"segment": "members", "rfm": "rows"}.get(info["kind"], "contacts")
        out.append(f"  {unit:<13} {wh['rows']:,}{share}")
        if info["kind"] == "segment" and wh.get("hash"):
            same = wh["hash"] == info["definition_hash"]
            out.append(f"  definition    {'same as' if same else 'CHANGED since'} the latest build"
                       + ("" if same else ": `segc plan` shows the effect"))
        if wh.get("mean") is not None:
            out.append(f"  mean value    {wh['mean']:.2f}")
        if wh.get("distribution"):
            out.append("  breakdown     " + ", ".join(f"{label} {n:,}" for label, n in wh["distribution"]))
        if wh.get("sample"):
            if info["kind"] == "segment":
                out.append(f"  sample        {', '.join(map(str, wh['sample']))}")
            else:
                heading = {"score": "top contacts", "lifecycle": "sample", "rfm": "sample"}[info["kind"]]
                out.append(f"  {heading:<13} " + "; ".join(
                    " ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) for row in wh["sample"]))
        if wh.get("builds"):
            out.append(f"  last {len(wh['builds'])} build(s)  {sparkline([b[1] for b in wh['builds']])}")
            out.append(f"    {'as_of':<19}  {'members':>9}  {'entered':>8}  {'exited':>7}")
            for as_of, members, entered, exited in wh["builds"]:
                out.append(f"    {str(as_of):<19}  {members:>9,}  {'+' + format(entered, ','):>8}  "
                           f"{'-' + format(exited, ','):>7}")
        elif info["kind"] != "segment":
            out.append("  (the build history is recorded for segments only)")
    out += ["", "depends on"] + [f"  {d}" for d in info["depends_on"] or ["(only the sources)"]]
    out += ["", "used by"] + [f"  {d}" for d in info["used_by"] or ["(nothing)"]]
    if info.get("sql"):
        out += ["", f"sql (as_of {info['sql_as_of']}; the query `segc sql {info['name']}` prints)", "",
                info["sql"].rstrip("\n")]
    return "\n".join(out) + "\n"


def command(args, load) -> int:
    ws = Workspace(Path(args.project).resolve())
    project = load(ws)
    if project is None:
        return 1
    kind, _ = find(project, args.name, args.kind)
    if kind is None:
        print(not_found(project, args.name, args.kind), file=sys.stderr)
        return 1
    database = Path(args.database) if args.database else ws.default_database
    info = describe(ws, project, args.name, database, samples=args.samples, builds=args.builds,
                    with_sql=not args.no_sql, dialect=args.dialect, kind=kind)
    if args.format == "json":
        print(json.dumps(info, indent=2, default=str))
    else:
        print(render_text(info), end="")
    return 0
