"""The change feed, history, per-build summary and sync tables.

The change feed is the only state: an append-only log of entered/exited rows. Which contacts
were members at the previous build is a replay of that log (each pair's latest change), so a
build that died half-way leaves nothing to repair: the next build diffs the current membership
against the last *recorded* state. History is derived from the log (and kept between builds where
the warehouse can replace rows by key).
"""

from __future__ import annotations

from sqlglot import exp

from .. import ir, naming
from . import atoms
from .atoms import AS_OF, LATEST_BUILD, NO_BUILD, all_of
from .relations import joined, ref_table, source_table, this_table

KEYS = ("contact_id", "segment")


def _latest_recorded() -> exp.Expression:
    """The latest as_of the model's own table holds."""
    return exp.func("COALESCE", exp.Subquery(this=exp.select(exp.func("MAX", exp.column("as_of"))).from_(this_table())),
                    atoms.literal(NO_BUILD))


def _on(left: str, right: str) -> exp.Expression:
    return all_of(*(exp.EQ(this=exp.column(k, left), expression=exp.column(k, right)) for k in KEYS))


def previous_members(fresh: exp.Expression) -> exp.Select:
    """Pairs whose latest recorded change is 'entered' (none unless `fresh`): one hash aggregate over the log,
    no sort (a pair never has two changes at one as_of: a build at an as_of already recorded adds nothing)."""
    def latest(change: str) -> exp.Expression:
        return exp.Max(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("change"), expression=atoms.literal(change)),
                                                 true=exp.column("as_of"))]))

    exited = latest("exited")
    return (exp.select(*KEYS).from_(this_table()).where(fresh).group_by(*KEYS)
            .having(exp.or_(exp.Is(this=exited, expression=exp.Null()),
                            exp.GT(this=latest("entered"), expression=exited.copy()))))


def changes(incremental: bool) -> exp.Expression:
    """entered = members now and not before; exited = members before and not now; only for a new as_of.

    Both sides come from one FULL JOIN of the current membership with the replayed previous one. The as_of
    test filters both inputs, so that a build at a recorded as_of reads nothing (the warehouse folds it). It
    compares with the latest recorded build (macro segc_latest_build), not the feed's latest row: a build
    that changed nothing is recorded only in the summary."""
    current = exp.select(*KEYS).from_(ref_table("segment_membership"))
    if incremental:
        fresh = exp.GT(this=exp.cast(AS_OF.copy(), "TIMESTAMP"), expression=LATEST_BUILD.copy())
        current = current.where(fresh.copy(), copy=False)
        diff = (exp.select(*(exp.func("COALESCE", exp.column(k, "c"), exp.column(k, "p")).as_(k, copy=False) for k in KEYS),
                           exp.Case(ifs=[exp.If(this=exp.Is(this=exp.column("contact_id", "p"), expression=exp.Null()),
                                                true=atoms.literal("entered"))],
                                    default=atoms.literal("exited")).as_("change", copy=False))
                .from_(current.subquery("c"))
                .join(joined(previous_members(fresh).subquery("p"), "full", on=_on("c", "p")))
                .where(exp.or_(*(exp.Is(this=exp.column("contact_id", side), expression=exp.Null()) for side in "cp"))))
    else:
        diff = current.select(atoms.literal("entered").as_("change", copy=False), copy=False)
    hashes = exp.select("segment", "definition_hash").from_(ref_table("segment_catalog"))
    return (exp.select(exp.column("contact_id", "d"), exp.column("segment", "d"), exp.column("change", "d"),
                       exp.cast(AS_OF.copy(), "TIMESTAMP").as_("as_of", copy=False), exp.column("definition_hash", "k"))
            .from_(diff.subquery("d"))
            .join(joined(hashes.subquery("k"), "left",
                         on=exp.EQ(this=exp.column("segment", "d"), expression=exp.column("segment", "k")))))


def _latest_kept_change() -> exp.Expression:
    """The latest change the kept history holds (an aggregate over it): every change is an interval's start
    or end."""
    return exp.func("MAX", exp.func("COALESCE", exp.column("valid_to"), exp.column("valid_from")))


def _reflected() -> exp.Expression:
    """_latest_kept_change() as a scalar subquery."""
    return exp.Subquery(this=exp.select(_latest_kept_change()).from_(this_table()))


def history(since_kept: bool = False) -> exp.Select:
    """One row per membership interval: valid_from an entered change, valid_to the next exit (NULL = open).

    With `since_kept`, only the pairs with changes after the latest one the kept table holds, all their
    intervals: the model replaces those pairs' rows (delete+insert by pair), so a build costs what changed,
    not the whole feed. `history_kept_in_step` says when the kept table can be trusted for that.
    """
    feed = ref_table("segment_membership_changes")
    following = exp.Window(this=exp.func("LEAD", exp.column("as_of", "f")),
                           partition_by=[exp.column(k, "f") for k in KEYS],
                           order=exp.Order(expressions=[exp.Ordered(this=exp.column("as_of", "f"))]))
    paired = exp.select(*(exp.column(k, "f") for k in KEYS), exp.column("change", "f"),
                        exp.column("as_of", "f").as_("valid_from", copy=False), following.as_("valid_to", copy=False)
                        ).from_(feed.as_("f", copy=False))
    if since_kept:
        newer = exp.GT(this=exp.column("as_of"), expression=exp.func("COALESCE", _reflected(), atoms.literal(NO_BUILD)))
        pairs = exp.select(*KEYS).distinct().from_(ref_table("segment_membership_changes")).where(newer)
        paired = paired.join(joined(pairs.subquery("n"), "inner", on=_on("f", "n")), copy=False)
    return (exp.select(*KEYS, "valid_from", "valid_to").from_(paired.subquery("paired"))
            .where(exp.EQ(this=exp.column("change"), expression=atoms.literal("entered"))))


def history_kept_in_step() -> exp.Select:
    """One row when the kept history holds exactly the feed's changes up to its latest one: as many
    intervals as 'entered' changes until then, starting at the feed's first build (a feed rebuilt by
    --rebuild-history under a build that then failed fails this, and the history is derived again).
    Reads the kept table once and the feed once: one aggregate row of the first, crossed with the second."""
    kept = exp.select(exp.Count(this=exp.Star()).as_("n", copy=False),
                      exp.func("MIN", exp.column("valid_from")).as_("first_kept", copy=False),
                      _latest_kept_change().as_("reflected", copy=False)).from_(this_table())
    entered = exp.Count(this=exp.Case(ifs=[exp.If(
        this=all_of(exp.EQ(this=exp.column("change", "f"), expression=atoms.literal("entered")),
                    exp.LTE(this=exp.column("as_of", "f"), expression=exp.column("reflected", "k"))),
        true=exp.Literal.number(1))]))
    return (exp.select(exp.Literal.number(1)).from_(kept.subquery("k"))
            .join(joined(ref_table("segment_membership_changes").as_("f", copy=False), "cross"))
            .group_by(*(exp.column(c, "k") for c in ("n", "first_kept", "reflected")))
            .having(all_of(exp.EQ(this=exp.column("n", "k"), expression=entered),
                           exp.EQ(this=exp.column("first_kept", "k"),
                                  expression=exp.func("MIN", exp.column("as_of", "f"))))))


def summary(incremental: bool) -> exp.Select:
    """Per build and segment: members, entered, exited. The segments are the defined ones and those with changes in
    this build, so a removed segment's exits are counted in the build that removes it."""
    def count(table: str, extra=None) -> exp.Select:
        query = exp.select("segment", exp.func("COUNT", exp.Star()).as_("n", copy=False)).from_(ref_table(table)).group_by("segment")
        return query.where(extra) if extra is not None else query

    at_build = exp.EQ(this=exp.column("as_of"), expression=exp.cast(AS_OF.copy(), "TIMESTAMP"))
    parts = {"members": count("segment_membership"),
             "entered": count("segment_membership_changes", all_of(at_build, exp.EQ(
                 this=exp.column("change"), expression=atoms.literal("entered")))),
             "exited": count("segment_membership_changes", all_of(at_build.copy(), exp.EQ(
                 this=exp.column("change"), expression=atoms.literal("exited"))))}
    query = exp.select(exp.column("segment", "c"), *(
        exp.cast(exp.func("COALESCE", exp.column("n", k), exp.Literal.number(0)), "BIGINT").as_(k, copy=False) for k in parts),
        exp.cast(AS_OF.copy(), "TIMESTAMP").as_("as_of", copy=False)).from_(
        exp.union(exp.select("segment").from_(ref_table("segment_catalog")),
                  exp.select("segment").from_(ref_table("segment_membership_changes")).where(at_build.copy()),
                  distinct=True).subquery("c"))
    for k, sub in parts.items():
        on = exp.EQ(this=exp.column("segment", "c"), expression=exp.column("segment", k))
        query = query.join(joined(sub.subquery(k), "left", on=on))
    if incremental:
        query = query.where(exp.GT(this=exp.cast(AS_OF.copy(), "TIMESTAMP"), expression=_latest_recorded()))
    return query


def _sync_rows(project: ir.Project, sync: ir.Sync, members: exp.Select, extra=()) -> exp.Select:
    """Members joined to contacts: identifier, fields; NULL identifiers dropped, one row per identifier."""
    key = project.contacts.key
    columns = [sync.identifier, *sync.fields]
    ranked = (exp.select(*(exp.column(c, "c").as_(c, copy=False) for c in columns), *extra, exp.Window(
        this=exp.func("ROW_NUMBER"), partition_by=[exp.column(sync.identifier, "c")],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column(key, "c"))])).as_("segc_rank", copy=False))
        .from_(members.subquery("m"))
        .join(joined(source_table("contacts").as_("c", copy=False), "inner", on=exp.EQ(this=exp.column(key, "c"),
                                                         expression=exp.column("contact_id", "m"))))
        .where(atoms.is_not_null(exp.column(sync.identifier, "c"))))
    return (exp.select(*map(exp.column, columns), *(e.alias_or_name for e in extra)).from_(ranked.subquery("ranked"))
            .where(exp.EQ(this=exp.column("segc_rank"), expression=exp.Literal.number(1))))


def _of_segment(sync: ir.Sync) -> exp.Expression:
    return exp.EQ(this=exp.column("segment"), expression=atoms.literal(sync.segment))


def sync_members(project: ir.Project, sync: ir.Sync) -> exp.Select:
    members = exp.select("contact_id").from_(ref_table("segment_membership")).where(_of_segment(sync))
    return _sync_rows(project, sync, members)


def sync_changes(project: ir.Project, sync: ir.Sync) -> exp.Query:
    """The identifiers that entered or left the sync's audience at the latest recorded build (none if it changed
    nothing): the identifiers of the members now against those of the members before it (its entries taken out,
    its exits put back), so an identifier that another member still holds stays. The identifiers now are the
    mirror's (`sync_<name>`), read rather than derived again."""
    latest = exp.Subquery(this=exp.select(exp.func("MAX", exp.column("as_of"))).from_(ref_table("segment_summary")))
    changed = (exp.select("contact_id", "change").from_(ref_table("segment_membership_changes")).where(_of_segment(sync))
               .where(exp.EQ(this=exp.column("as_of"), expression=latest.copy())))

    def of(table: str, change: str | None = None) -> exp.Select:
        query = exp.select("contact_id").from_(table)
        return query.where(exp.EQ(this=exp.column("change"), expression=atoms.literal(change))) if change else query

    entered = exp.Not(this=exp.In(this=exp.column("contact_id"), query=of("changed_members", "entered").subquery()))
    before = exp.union(of("members_now").where(entered), of("changed_members", "exited"), distinct=False)

    def only_in(side: str, other: str, change: str) -> exp.Select:
        held = exp.select(exp.column(sync.identifier)).from_(other)
        return (exp.select(*(exp.column(c) for c in (sync.identifier, *sync.fields)),
                           atoms.literal(change).as_("change", copy=False),
                           exp.cast(latest.copy(), "TIMESTAMP").as_("as_of", copy=False))
                .from_(side).where(exp.Not(this=exp.In(this=exp.column(sync.identifier), query=held.subquery()))))

    query = exp.union(only_in("held_now", "held_before", "entered"), only_in("held_before", "held_now", "exited"),
                      distinct=False)
    ctes = [("members_now", exp.select("contact_id").from_(ref_table("segment_membership")).where(_of_segment(sync))),
            ("changed_members", changed), ("members_before", before),
            ("held_now", exp.select(*map(exp.column, (sync.identifier, *sync.fields)))
             .from_(ref_table(naming.sync_models(sync.name)[0]))),
            ("held_before", _sync_rows(project, sync, of("members_before")))]
    for name, cte in ctes:
        query = query.with_(name, as_=cte, copy=False)
    return query


def sync_null_identifiers(project: ir.Project, sync: ir.Sync) -> exp.Select:
    """Members the sync leaves out because their identifier is NULL (a warning, not an error)."""
    key = project.contacts.key
    return (exp.select(exp.column("contact_id", "m"))
            .from_(exp.select("contact_id").from_(ref_table("segment_membership")).where(_of_segment(sync)).subquery("m"))
            .join(joined(source_table("contacts").as_("c", copy=False), "inner", on=exp.EQ(this=exp.column(key, "c"),
                                                             expression=exp.column("contact_id", "m"))))
            .where(exp.Is(this=exp.column(sync.identifier, "c"), expression=exp.Null())))
