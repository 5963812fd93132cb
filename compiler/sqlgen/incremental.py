"""Incremental builds: recompute only the contacts whose inputs changed since the previous build.

A contact's results depend only on its contact row, its own stream rows and as_of. Between the
previous build (as_of T0, kept in `segc_state`) and this one (T1) they can change only for contacts

- with a stream row in (T0, T1] (newly counted), or in (T0 − D, T1 − D] for a duration D that some
  result measures back from as_of (a row leaving a window, a first/last timestamp crossing an edge);
- whose contact row was added or deleted, or changed in a column some condition reads (one hash
  per contact, in `segc_contact_hashes`);
- for whom an attribute test on time (`within`, `older_than`, `age`) differs between T0 and T1.

`segc_changed` lists them; `segc_members` deletes their rows and inserts their recomputed ones.
The previous state is only trusted when it is complete, comes from the same compiled definitions,
is not later than T1, and no stream has gained or lost rows at or before T0 (late data); otherwise
`segc_changed` holds one NULL key, which means "every contact".

What the next build compares with (the contact hashes, the stream counts) is taken first, in
`segc_contacts_now` and `segc_streams_now`, before anything reads the sources: a source that changes
during the build then differs from it, so the next build recomputes what this one may have missed.
"""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from ..spec import TIME_OPS
from . import atoms
from .atoms import AS_OF, PREVIOUS_AS_OF, all_of, any_of
from .plan import CID, Plan, conditions, leaves, references, row_filters
from .relations import joined, ref_table, sibling_table, source_table

STATE = "segc_state"
HASHES = "segc_contact_hashes"
CONTACTS_NOW = "segc_contacts_now"
STREAMS_NOW = "segc_streams_now"


def previous_as_of() -> exp.Expression:
    """T0, the as_of of the previous build (a literal read from the state table when the model runs)."""
    return PREVIOUS_AS_OF.copy()


def at_previous(tree: exp.Expression) -> exp.Expression:
    """`tree` evaluated at the previous build's as_of instead of this one's."""
    return tree.transform(lambda n: previous_as_of() if n == AS_OF else n)


def _reached(project: ir.Project):
    """Every condition and definition the segments' membership depends on, transitively."""
    defs = project.definitions()
    todo, seen, reached = [s.rule for s in project.segments], set(), []
    while todo:
        c = todo.pop()
        reached.append(c)
        for kind, name in references(c):
            if (kind, name) in seen or kind == "segment":
                continue
            seen.add((kind, name))
            todo += conditions(defs[(kind, name)])
    return reached, [defs[key] for key in sorted(seen)]


def blockers(project: ir.Project) -> list[str]:
    """Why the membership cannot be maintained per contact (empty when it can)."""
    reached, defs = _reached(project)
    reasons = [f"it depends on RFM '{d.name}', whose scores rank all contacts together"
               for d in defs if isinstance(d, ir.Rfm)]
    reasons += [f"it depends on score '{d.name}', which decays with time" for d in defs
                if isinstance(d, ir.Score) and d.decay is not None]
    reasons += [f"a 'where' on '{p.column}' of stream '{r.stream}' compares with as_of"
                for r in (r for cond in reached for r in row_filters(cond)) for p in r.where if p.op in TIME_OPS]
    return sorted(set(reasons))


def contact_hashes(project: ir.Project) -> exp.Select:
    """One hash per contact of the columns the membership reads (an edit there changes it). Edits to
    other columns change no membership and recompute nothing."""
    key = project.contacts.key
    reached, _ = _reached(project)
    read = {a.predicate.column for c in reached for a in leaves(c) if isinstance(a, ir.Attribute)}
    columns = [exp.column(key)] + [exp.column(c) for c, _ in project.contacts.columns if c in read and c != key]
    return (exp.select(exp.column(key).as_(CID, copy=False), exp.Anonymous(this="HASH", expressions=columns)
                       .as_("segc_hash", copy=False))
            .from_(source_table("contacts")).where(atoms.is_not_null(exp.column(key))))


def _counted(stream: ir.Stream, until: exp.Expression) -> exp.Select:
    """How many rows of `stream` count at instant `until`."""
    return (exp.select(exp.Count(this=exp.Star())).from_(source_table(stream.name))
            .where(all_of(exp.LTE(this=exp.column(stream.timestamp), expression=until),
                          atoms.is_not_null(exp.column(stream.contact_key)))))


def stream_counts(plan: Plan) -> exp.Select:
    """This as_of and each stream's row count at it (one row), taken before the build reads the streams."""
    counts = [exp.Subquery(this=_counted(f.stream, AS_OF.copy())).as_(f"rows_{f.stream.name}", copy=False)
              for f in plan.read_streams()]
    return exp.select(exp.cast(AS_OF.copy(), "TIMESTAMP").as_("as_of", copy=False), *counts)


def state(plan: Plan, fingerprint: str) -> exp.Select:
    """The row a later build resumes from: this as_of, the definitions, and each stream's row count."""
    select = [exp.column("as_of"), atoms.literal(fingerprint).as_("fingerprint", copy=False),
              exp.true().as_("complete", copy=False)]
    return exp.select(*select, *(exp.column(f"rows_{f.stream.name}") for f in plan.read_streams())) \
        .from_(ref_table(STREAMS_NOW))


def resumable(plan: Plan, fingerprint: str) -> exp.Select:
    """One row when the previous build's state can be trusted for this one (see the module doc)."""
    tests = [exp.column("complete"), exp.EQ(this=exp.column("fingerprint"), expression=atoms.literal(fingerprint)),
             exp.LTE(this=exp.column("as_of"), expression=AS_OF.copy())]
    tests += [exp.EQ(this=exp.column(f"rows_{f.stream.name}"),
                     expression=exp.Subquery(this=_counted(f.stream, exp.column("as_of", STATE))))
              for f in plan.read_streams()]
    return exp.select(exp.Literal.number(1)).from_(sibling_table(STATE).as_(STATE, copy=False)).where(all_of(*tests))


def _read_by(f, keys) -> exp.Expression | None:
    """Whether a row passes one of the row filters `keys` (None: every row is read)."""
    if None in keys:
        return None
    return exp.paren(any_of(*(f.filters[k][1].copy() for k in sorted(keys))))


def _moved_rows(f) -> exp.Select:
    """Keys of the stream's rows that some result reads and that entered (T0, T1] or crossed an edge: are
    between T0 − D and T1 − D for a filter read within D, or for a first/last test of D. The edges are taken in
    either order: a calendar edge can move back (T0 = Mar 29 23:00 and T1 = Mar 30 01:00 give Feb 28 23:00 and
    Feb 28 01:00 for 1mo, the day clamped to the month's last), and then rows come back into the window."""
    s, ts = f.stream, exp.column(f.stream.timestamp)
    moved = [all_of(exp.GT(this=ts, expression=previous_as_of()), *filter(None, [_read_by(f, f.reach)]))]
    windows = {d for ds in f.reach.values() for d in ds if d} | f.edges
    for d in sorted(windows, key=str):
        edges = [atoms.shift(previous_as_of(), d, -1), atoms.shift(AS_OF.copy(), d, -1)]
        crossed = all_of(exp.GT(this=ts.copy(), expression=exp.func("LEAST", *edges)),
                         exp.LTE(this=ts.copy(), expression=exp.func("GREATEST", *(e.copy() for e in edges))))
        readers = None if d in f.edges else _read_by(f, {k for k, ds in f.reach.items() if d in ds})
        moved.append(all_of(crossed, readers) if readers is not None else crossed)
    return (exp.select(exp.column(s.contact_key).as_(CID, copy=False)).from_(source_table(s.name))
            .where(all_of(exp.LTE(this=ts.copy(), expression=AS_OF.copy()),
                          atoms.is_not_null(exp.column(s.contact_key)), exp.paren(any_of(*moved)))))


def changed(project: ir.Project, plan: Plan) -> exp.Select:
    """The contacts whose results may differ from the previous build's (see the module doc)."""
    parts = [_moved_rows(f) for f in plan.read_streams()]
    on = exp.EQ(this=exp.column(CID, "c"), expression=exp.column(CID, "h"))
    parts.append(exp.select(exp.func("COALESCE", exp.column(CID, "c"), exp.column(CID, "h")).as_(CID, copy=False))
                 .from_(ref_table(CONTACTS_NOW).as_("c", copy=False))
                 .join(joined(sibling_table(HASHES).as_("h", copy=False), "full", on=on))
                 .where(exp.NullSafeNEQ(this=exp.column("segc_hash", "c"), expression=exp.column("segc_hash", "h"))))
    reached, _ = _reached(project)
    timed = {a.predicate for c in reached for a in leaves(c)
             if isinstance(a, ir.Attribute) and a.predicate.op in TIME_OPS}
    values = [atoms.predicate(exp.column(p.column), p) for p in sorted(timed, key=repr) if p.op != "age"]
    values += [atoms.age_years(exp.column(c)) for c in sorted({p.column for p in timed if p.op == "age"})]
    if values:  # a test on an age can only change where the age does
        flips = [exp.NullSafeNEQ(this=v, expression=at_previous(v.copy())) for v in values]
        key = project.contacts.key
        parts.append(exp.select(exp.column(key).as_(CID, copy=False)).from_(source_table("contacts"))
                     .where(all_of(atoms.is_not_null(exp.column(key)), exp.paren(any_of(*flips)))))
    return exp.union(*parts, distinct=True, copy=False) if len(parts) > 1 else parts[0]


def everything(project: ir.Project) -> exp.Expression:
    """The marker for "recompute every contact": one NULL key (typed like the contacts key)."""
    key = project.contacts.key
    none = exp.select(exp.column(key).as_(CID, copy=False)).from_(source_table("contacts")).where(exp.false())
    return exp.union(none, exp.select(exp.Null().as_(CID, copy=False)), distinct=False)
