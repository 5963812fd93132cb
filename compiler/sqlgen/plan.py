"""The shared plan: every definition of the project evaluated in one model, one scan per stream.

Shape of the generated query (one CTE per step):

    contacts       the contact rows (NULL keys dropped)
    <s>_rows       one pass over stream s: rows up to as_of, one boolean column per distinct
                   row filter used anywhere in the project (each predicate evaluated once)
    <s>_facts      per-contact aggregates of <s>_rows, one column per distinct aggregate
    <s>_values_<c>, <s>_distinct_<c>
                   distinct counts: the latest matching timestamp per (contact, value), then
                   one count per window
    follow_<a>_<b> for every not_followed_by between streams a and b, in one join: whether
                   the latest first-kind row is followed by a second-kind row
    segc_rfm_<n>_values, segc_rfm_<n>
                   RFM values and scores (window functions over the contacts with rows)
    base           the contacts LEFT JOIN every per-contact CTE above
    layer_<n>      segments, scores, grades and stages in dependency order: each layer only
                   reads columns computed by earlier layers or in base (layer_<n>_grades: the
                   grades of the scores computed in layer n)

Many segments therefore cost one scan per stream plus cheap per-contact boolean logic.
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from .. import ir
from ..graph import layers
from . import atoms
from .atoms import AS_OF, all_of, any_of
from .relations import joined, source_table

CID = "segc_cid"  # the contact key inside the plan; a contacts column may be called contact_id
TS = "segc_ts"
NUMBER = exp.DataType.build("DOUBLE")
RFM_COLUMNS = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")
# What the result columns of each kind are called in its published table (contact_scores, ...).
PUBLISHED_AS = {"score": ("value", "grade"), "lifecycle": ("stage",), "rfm": RFM_COLUMNS}


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def days_between(earlier: exp.Expression, later: exp.Expression, unit_seconds: int = 86400) -> exp.Expression:
    """Fractional days (or units of `unit_seconds`) from `earlier` to `later`, via epoch seconds (portable, no
    DATEDIFF), divided by a whole number of seconds so that whole units come out exact."""
    seconds = exp.Sub(this=exp.TimeToUnix(this=later), expression=exp.TimeToUnix(this=earlier))
    return exp.Div(this=exp.paren(seconds), expression=exp.Literal.number(f"{unit_seconds}.0"))


def decay_weight(ts: exp.Expression, half_life: ir.Duration) -> exp.Expression:
    """0.5 ^ (age / half-life) of a row at `ts`: the age in half-lives, exact for whole ones (5h is not a whole
    number of days in binary)."""
    return exp.Pow(this=exp.Literal.number("0.5"), expression=days_between(ts, AS_OF.copy(), half_life.seconds))


class StreamFacts:
    """The row filters and aggregates one stream must provide, deduplicated."""

    def __init__(self, stream: ir.Stream):
        self.stream = stream
        self.filters: dict[str, tuple[str, exp.Expression]] = {}
        self.aggs: dict[str, tuple[str, exp.Expression]] = {}
        self.values: set[str] = set()
        self.read = False  # whether any condition looks at this stream
        self.latest: dict[str, dict[str, tuple[str, exp.Expression, exp.Expression]]] = {}  # column -> latest ts
        self.distinct: dict[str, dict[str, tuple[str, exp.Expression]]] = {}  # column -> distinct counts
        self.reach: dict[str | None, set[ir.Duration | None]] = {}  # filter key -> windows it is read in
        self.edges: set[ir.Duration] = set()  # durations of first/last tests, measured back from as_of

    @property
    def rows_cte(self) -> str:
        return f"{self.stream.name}_rows"

    @property
    def facts_cte(self) -> str:
        return f"{self.stream.name}_facts"

    def row_condition(self, rows: ir.RowFilter, with_window: bool = True) -> exp.Expression:
        """A reference to the boolean column that holds `rows`' filter, plus its window.

        Only rows in `rows.within` are read through this filter (without the window, the caller
        bounds them itself): they are recorded so that rows no condition reads are never scanned.
        """
        self.read = True
        cond = row_filter_sql(self.stream, rows.events, rows.where, col)
        flag: exp.Expression = exp.true()
        key = None
        if cond is not None:
            key = cond.sql()
            if key not in self.filters:
                self.filters[key] = (f"segc_p{len(self.filters) + 1}", cond)
            flag = col(self.filters[key][0])
        self.reach.setdefault(key, set()).add(rows.within)
        if with_window and rows.within:
            flag = all_of(flag, atoms.window(col(TS), rows.within))
        return flag

    def aggregate(self, func: str, rows: ir.RowFilter, value: exp.Expression | None = None) -> exp.Column:
        """A per-contact aggregate over the matching rows, shared by every condition that asks."""
        cond = self.row_condition(rows)
        then = value if value is not None else exp.Literal.number(1)
        case = exp.Case(ifs=[exp.If(this=cond, true=then)])
        agg = exp.func(func, case)
        key = agg.sql()
        if key not in self.aggs:
            self.aggs[key] = (f"segc_{self.stream.name}_{len(self.aggs) + 1}", agg)
        return col(self.aggs[key][0])

    def distinct_count(self, rows: ir.RowFilter, column: str) -> exp.Column:
        """Distinct non-NULL values of `column` over the matching rows.

        Computed from one row per (contact, value) holding the value's latest matching timestamp:
        a value counts in a window exactly when that timestamp is in it. One GROUP BY serves every
        distinct count on the column, instead of a DISTINCT aggregate per window.
        """
        flag = self.row_condition(rows, with_window=False)
        self.value(column)
        latest = exp.Max(this=exp.Case(ifs=[exp.If(this=flag, true=col(TS))]))
        known = self.latest.setdefault(column, {})
        if latest.sql() not in known:
            known[latest.sql()] = (f"segc_latest_{len(known) + 1}", latest, flag)
        last = col(known[latest.sql()][0])
        seen = atoms.window(last, rows.within) if rows.within else atoms.is_not_null(last)
        count = exp.Count(this=exp.Case(ifs=[exp.If(this=seen, true=exp.Literal.number(1))]))
        counts = self.distinct.setdefault(column, {})
        if count.sql() not in counts:
            number = sum(map(len, self.distinct.values())) + 1
            counts[count.sql()] = (f"segc_{self.stream.name}_distinct_{number}", count)
        return col(counts[count.sql()][0])

    def value(self, column: str) -> exp.Column:
        if column == self.stream.timestamp:
            return col(TS)
        self.values.add(column)
        return col(f"segc_v_{column}")

    def needed(self) -> exp.Expression | None:
        """The rows some aggregate can read: any recorded filter within its widest window.

        Every aggregate only counts rows that pass its filter and window, so leaving the others
        out changes no result; with event histories longer than the windows, most rows go.
        None when some condition reads every row.
        """
        ts = col(self.stream.timestamp)
        terms = []
        for key, windows in self.reach.items():
            cond = self.filters[key][1].copy() if key is not None else None
            if None in windows:
                if cond is None:
                    return None
                terms.append(cond)
                continue
            bounds = any_of(*(atoms.window(ts.copy(), w) for w in widest(windows)))
            terms.append(all_of(cond, exp.paren(bounds)) if cond is not None else bounds)
        return exp.paren(any_of(*terms)) if terms else None

    def ctes(self, only: exp.Select | None = None) -> list[tuple[str, exp.Select]]:
        """The stream's CTEs; with `only` (a query of contact keys), for those contacts alone."""
        s = self.stream
        select = [col(s.contact_key).as_(CID, copy=False), col(s.timestamp).as_(TS, copy=False)]
        select += [col(c).as_(f"segc_v_{c}", copy=False) for c in sorted(self.values - {s.timestamp})]
        select += [cond.as_(alias, copy=False) for alias, cond in self.filters.values()]
        rows = (exp.select(*select).from_(source_table(s.name))
                .where(exp.LTE(this=col(s.timestamp), expression=AS_OF.copy()))
                .where(atoms.is_not_null(col(s.contact_key))))
        needed = self.needed()
        if needed is not None:
            rows = rows.where(needed, copy=False)
        if only is not None:
            rows = rows.where(exp.In(this=col(s.contact_key), query=only.subquery(copy=True)), copy=False)
        facts = (exp.select(col(CID), *(agg.as_(alias, copy=False) for alias, agg in self.aggs.values()))
                 .from_(self.rows_cte).group_by(col(CID)))
        out = [(self.rows_cte, rows), (self.facts_cte, facts)]
        for column, latest in sorted(self.latest.items()):
            value = self.value(column)
            per_value = (exp.select(col(CID), *(e.as_(alias, copy=False) for alias, e, _ in latest.values()))
                         .from_(self.rows_cte).where(atoms.is_not_null(value))
                         .group_by(col(CID), value.copy()))
            flags = [flag for _, _, flag in latest.values()]
            if not any(isinstance(f, exp.Boolean) for f in flags):  # only rows some count reads
                per_value = per_value.where(exp.paren(any_of(*(f.copy() for f in flags))), copy=False)
            counts = (exp.select(col(CID), *(e.as_(alias, copy=False) for alias, e in self.distinct[column].values()))
                      .from_(f"{self.stream.name}_values_{column}").group_by(col(CID)))
            out += [(f"{self.stream.name}_values_{column}", per_value), (f"{self.stream.name}_distinct_{column}", counts)]
        return out

    @property
    def joinable(self) -> list[str]:
        """The per-contact CTEs the base joins."""
        return [self.facts_cte] + [f"{self.stream.name}_distinct_{c}" for c in sorted(self.latest)]


def widest(windows: set[ir.Duration]) -> list[ir.Duration]:
    """The longest fixed-length window and the longest calendar one: together they cover all."""
    fixed = [w for w in windows if w.unit in ("h", "d", "w")]
    calendar = [w for w in windows if w.unit in ("mo", "y")]
    out = [max(fixed, key=lambda w: w.seconds)] if fixed else []
    return out + ([max(calendar, key=lambda w: w.amount * (12 if w.unit == "y" else 1))] if calendar else [])


def row_filter_sql(stream: ir.Stream, events, where, column) -> exp.Expression | None:
    """event_type IN (...) AND the where predicates, over columns named by `column(name)`."""
    parts = []
    if events:
        parts.append(atoms.compare(column(stream.event_type), "in", events))
    parts += [atoms.predicate(column(p.column), p) for p in where]
    return all_of(*parts) if parts else None


class Plan:
    """Compiles the whole project into the wide per-contact `results` query."""

    def __init__(self, project: ir.Project):
        self.project = project
        self.streams = {s.name: StreamFacts(s) for s in project.streams}
        self.follows: dict[tuple[str, str], dict[str, tuple[str, exp.Expression, exp.Expression]]] = {}
        self.index = {(kind, d.name): i + 1 for kind, defs in (
            ("segment", project.segments), ("score", project.scores), ("lifecycle", project.lifecycles),
            ("rfm", project.rfms)) for i, d in enumerate(defs)}

    def read_streams(self) -> list[StreamFacts]:
        """The streams some condition reads (known once the results have been built)."""
        return [f for f in self.streams.values() if f.read]

    # -- column names of the results -------------------------------------------------------

    def column(self, kind: str, name: str, part: str = "") -> str:
        return f"segc_{kind}_{self.index[(kind, name)]}{part}"

    def published_rows(self, kind: str, name: str) -> exp.Expression | None:
        """Which contacts a definition's published table holds (None: every contact)."""
        if kind == "segment":
            return exp.column(self.column("segment", name))  # its members
        if kind == "rfm":
            return atoms.is_not_null(exp.column(self.column("rfm", name, "_r")))  # the contacts with matching rows
        return None

    def outputs(self, kind: str, name: str) -> list[str]:
        """The result columns of one definition."""
        if kind == "score":
            return [self.column(kind, name), self.column(kind, name, "_grade")]
        if kind == "rfm":
            return [self.column(kind, name, f"_{c}") for c in RFM_COLUMNS]
        return [self.column(kind, name)]

    # -- conditions -------------------------------------------------------------------------

    def condition(self, c: ir.Condition) -> exp.Expression:
        if isinstance(c, ir.All):
            return all_of(*(self.condition(i) for i in c.items))
        if isinstance(c, ir.Any_):
            return any_of(*(self.condition(i) for i in c.items))
        if isinstance(c, ir.Not):
            return exp.Not(this=exp.paren(self.condition(c.item)))
        if isinstance(c, ir.Attribute):
            return atoms.predicate(col(c.predicate.column), c.predicate)
        if isinstance(c, ir.Event):
            return self.event(c)
        if isinstance(c, ir.SegmentRef):
            return col(self.column("segment", c.name))
        if isinstance(c, ir.ScoreRef):
            if c.grades:
                return atoms.compare(col(self.column("score", c.name, "_grade")), "in", c.grades)
            return atoms.compare_all(col(self.column("score", c.name)), c.tests)
        if isinstance(c, ir.LifecycleRef):
            return atoms.compare(col(self.column("lifecycle", c.name)), "in", c.stages)
        if isinstance(c, ir.RfmRef):
            if c.segments:
                return atoms.compare(col(self.column("rfm", c.name, "_segment")), "in", c.segments)
            return all_of(*(atoms.compare(col(self.column("rfm", c.name, f"_{k}")), t.op, t.value)
                              for k, t in c.tests))
        raise AssertionError(c)

    def event(self, c: ir.Event) -> exp.Expression:
        facts = self.streams[c.rows.stream]
        parts = []
        if c.aggregate is not None:
            parts.append(self.aggregate_test(facts, c.rows, c.aggregate))
        if c.not_followed_by is not None:
            last = facts.aggregate("MAX", c.rows, col(TS))
            followed = self.follow(last, c.rows.stream, c.not_followed_by, c.rows.within)
            parts.append(all_of(atoms.is_not_null(last),
                                  exp.Is(this=followed, expression=exp.Null())))
        return all_of(*parts)

    def aggregate_test(self, facts: StreamFacts, rows: ir.RowFilter, agg: ir.Aggregate) -> exp.Expression:
        if agg.kind in ("first", "last"):
            ts = facts.aggregate("MIN" if agg.kind == "first" else "MAX", rows, col(TS))
            facts.edges.update(t.value for t in agg.tests)
            return all_of(*(first_last_test(ts, t) for t in agg.tests))
        if agg.kind == "count":
            value = facts.aggregate("COUNT", rows)
        elif agg.kind == "distinct":
            value = facts.distinct_count(rows, agg.of)
        else:
            value = facts.value(agg.of)
            if agg.kind == "sum":
                value = atoms.summable(value, facts.stream.type_of(agg.of))
            value = facts.aggregate(agg.kind.upper(), rows, value)
        if agg.kind in ("count", "distinct", "sum"):
            value = exp.func("COALESCE", value, exp.Literal.number(0))
        return atoms.compare_all(value, agg.tests)

    def follow(self, last: exp.Column, stream: str, nfb: ir.NotFollowedBy,
               first_window: ir.Duration | None) -> exp.Column:
        """Whether a second-kind row follows the contact's latest first-kind row (within D of it).

        Every not_followed_by between the same two streams shares one join of the first stream's
        facts with the second stream's matching rows; identical patterns share one column.
        """
        second = self.streams[nfb.rows.stream]
        # second-kind rows count only after `last`, which is inside the first condition's window
        flag = second.row_condition(dataclasses.replace(nfb.rows, within=first_window), with_window=False)
        flag = flag.transform(lambda n: col(n.name, "r") if isinstance(n, exp.Column) else n)
        after = [flag, exp.GT(this=col(TS, "r"), expression=col(last.name, "f"))]
        if nfb.rows.within:
            after.append(exp.LTE(this=col(TS, "r"), expression=atoms.shift(col(last.name, "f"), nfb.rows.within, 1)))
        followed = exp.Max(this=exp.Case(ifs=[exp.If(this=all_of(*after), true=exp.Literal.number(1))]))
        pair = self.follows.setdefault((stream, second.stream.name), {})
        if followed.sql() not in pair:
            pair[followed.sql()] = (f"segc_follow_{sum(map(len, self.follows.values())) + 1}", followed, flag)
        return col(pair[followed.sql()][0])

    def follow_ctes(self) -> list[tuple[str, exp.Select]]:
        out = []
        for (first, second), columns in self.follows.items():
            on = exp.EQ(this=col(CID, "r"), expression=col(CID, "f"))
            query = (exp.select(col(CID, "f"), *(agg.as_(alias, copy=False) for alias, agg, _ in columns.values()))
                     .from_(exp.Table(this=exp.to_identifier(self.streams[first].facts_cte)).as_("f", copy=False))
                     .join(joined(exp.Table(this=exp.to_identifier(self.streams[second].rows_cte)).as_("r", copy=False),
                                  "inner", on=on))
                     .where(any_of(*(flag.copy() for _, _, flag in columns.values())))
                     .group_by(col(CID, "f")))
            out.append((f"follow_{first}_{second}", query))
        return out

    # -- definitions ------------------------------------------------------------------------

    def segment(self, s: ir.Segment) -> list[exp.Expression]:
        return [self.condition(s.rule).as_(self.column("segment", s.name))]

    def score(self, s: ir.Score) -> list[exp.Expression]:
        total = None
        for rule in s.rules:
            part = self.contribution(s, rule)
            total = part if total is None else exp.Add(this=total, expression=part)
        if s.max is not None:
            total = exp.func("LEAST", total, atoms.literal(float(s.max)))
        if s.min is not None:
            total = exp.func("GREATEST", total, atoms.literal(float(s.min)))
        value = exp.cast(total, NUMBER)
        name = self.column("score", s.name)
        return [value.as_(name, copy=False)]

    def grade(self, s: ir.Score) -> list[exp.Expression]:
        grade = grade_of(col(self.column("score", s.name)), s.grades)
        return [grade.as_(self.column("score", s.name, "_grade"))]

    def contribution(self, s: ir.Score, rule: ir.ScoreRule) -> exp.Expression:
        points = atoms.literal(float(rule.points))
        if rule.per_event:
            facts = self.streams[rule.when.rows.stream]
            weight = None
            if s.decay is not None:
                weight = decay_weight(col(TS), s.decay)
            counted = facts.aggregate("SUM" if weight is not None else "COUNT", rule.when.rows, weight)
            part = exp.Mul(this=points, expression=exp.func("COALESCE", counted, exp.Literal.number(0)))
        else:
            part = exp.Case(ifs=[exp.If(this=self.condition(rule.when), true=points)],
                            default=atoms.literal(0.0))
        if rule.cap is not None:
            bound = atoms.literal(float(rule.cap) if rule.points >= 0 else -float(rule.cap))
            part = exp.func("LEAST" if rule.points >= 0 else "GREATEST", part, bound)
        return exp.paren(part)

    def lifecycle(self, lc: ir.Lifecycle) -> list[exp.Expression]:
        ifs = [exp.If(this=self.condition(st.when), true=atoms.literal(st.name)) for st in lc.stages]
        return [exp.Case(ifs=ifs, default=atoms.literal(lc.default)).as_(self.column("lifecycle", lc.name))]

    def rfm(self, r: ir.Rfm) -> list[tuple[str, exp.Select]]:
        """Two CTEs: values and 1..bins scores (exact integer ceil of bins × cume_dist), then segments."""
        facts = self.streams[r.rows.stream]
        last = facts.aggregate("MAX", r.rows, col(TS))
        freq = facts.aggregate("COUNT", r.rows)
        money = facts.aggregate("SUM", r.rows, exp.func(
            "COALESCE", atoms.summable(facts.value(r.monetary), facts.stream.type_of(r.monetary)), exp.Literal.number(0)))
        n = exp.Window(this=exp.Count(this=exp.Star()))
        bins = exp.Literal.number(r.bins)

        def score(of: exp.Expression) -> exp.Expression:
            k = exp.Window(this=exp.Count(this=exp.Star()), order=exp.Order(expressions=[exp.Ordered(this=of, nulls_first=True)]))
            top = exp.Add(this=exp.Mul(this=bins.copy(), expression=k), expression=exp.Sub(this=n.copy(), expression=exp.Literal.number(1)))
            return exp.cast(exp.IntDiv(this=exp.paren(top), expression=n.copy()), "INT")

        name = self.column("rfm", r.name)
        recency = exp.cast(exp.Floor(this=days_between(last, AS_OF.copy())), "INT")
        values = (exp.select(col(CID, "c"), recency.as_("recency_days", copy=False), exp.cast(freq, "INT").as_("frequency", copy=False),
                             exp.cast(money, NUMBER).as_("monetary", copy=False), score(last).as_("r", copy=False), score(freq).as_("f", copy=False),
                             score(money).as_("m", copy=False))
                  .from_(exp.Table(this=exp.to_identifier("contacts")).as_("c", copy=False))
                  .join(joined(exp.Table(this=exp.to_identifier(facts.facts_cte)).as_("x", copy=False), "inner",
                               on=exp.EQ(this=col(CID, "c"), expression=col(CID, "x"))))
                  .where(exp.GT(this=freq, expression=exp.Literal.number(0))))
        ifs = [exp.If(this=rfm_segment_test(seg), true=atoms.literal(seg.name)) for seg in r.segments]
        out = [col(CID)] + [col(c).as_(f"{name}_{c}", copy=False) for c in RFM_COLUMNS[:-1]]
        out.append(exp.Case(ifs=ifs, default=exp.cast(exp.Null(), "VARCHAR")).as_(f"{name}_segment", copy=False))
        return [(f"{name}_values", values), (name, exp.select(*out).from_(f"{name}_values"))]

    # -- the whole query --------------------------------------------------------------------

    def results(self, only: exp.Select | None = None) -> exp.Select:
        """The wide per-contact results; with `only` (a query of contact keys), for those contacts alone."""
        p = self.project
        deps: dict[tuple, set] = {}
        for kind, defs in (("segment", p.segments), ("score", p.scores), ("lifecycle", p.lifecycles)):
            for d in defs:
                deps[(kind, d.name)] = {ref for c in conditions(d) for ref in references(c) if ref[0] != "rfm"}
        defs = p.definitions()
        layer_ctes = []
        for i, group in enumerate(layers(deps)):
            exprs = [e for key in group for e in getattr(self, key[0])(defs[key])]
            source = layer_ctes[-1][0] if layer_ctes else "base"
            layer_ctes.append((f"layer_{i + 1}", exp.select(exp.Star(), *exprs).from_(source, copy=False)))
            grades = [e for key in group if key[0] == "score" for e in self.grade(defs[key])]
            if grades:
                layer_ctes.append((f"layer_{i + 1}_grades", exp.select(exp.Star(), *grades).from_(f"layer_{i + 1}")))
        rfm_ctes = [cte for r in p.rfms for cte in self.rfm(r)]

        contact_cols = [col(p.contacts.key).as_(CID, copy=False)] + [col(c) for c, _ in p.contacts.columns]
        contacts = (exp.select(*contact_cols).from_(source_table("contacts"))
                    .where(atoms.is_not_null(col(p.contacts.key))))
        if only is not None:
            contacts = contacts.where(exp.In(this=col(p.contacts.key), query=only.subquery(copy=True)), copy=False)
        ctes = [("contacts", contacts)]
        used = self.read_streams()
        for f in used:
            ctes += f.ctes(only)
        follows = self.follow_ctes()
        ctes += follows + rfm_ctes
        base = exp.select(exp.Star()).from_("contacts")
        per_contact = [name for f in used for name in f.joinable] + [name for name, _ in follows] + \
            [self.column("rfm", r.name) for r in p.rfms]
        for name in per_contact:
            base = base.join(joined(exp.Table(this=exp.to_identifier(name)), "left", using=[CID]), copy=False)
        ctes.append(("base", base))
        ctes += layer_ctes
        last = ctes[-1][0]
        outputs = [col(CID).as_("contact_id", copy=False)] + [col(c) for kind, field in (("segment", p.segments), ("score", p.scores),
                                                           ("lifecycle", p.lifecycles), ("rfm", p.rfms))
                                for d in field for c in self.outputs(kind, d.name)]
        query = exp.select(*outputs).from_(last)
        for name, cte in ctes:
            query = query.with_(name, as_=cte, copy=False)
        return query


def first_last_test(ts: exp.Expression, test: ir.Comparison) -> exp.Expression:
    """`first`/`last` within D (timestamp in the window) or older_than D; NULL (no rows) is false."""
    if test.op == "within":
        cond = atoms.window(ts, test.value)
    else:
        cond = exp.LTE(this=ts, expression=atoms.shift(AS_OF.copy(), test.value, -1))
    return atoms.null_as(cond, False)


def rfm_segment_test(seg: ir.RfmSegment) -> exp.Expression:
    """r, f and m within the segment's inclusive ranges; an entry without ranges matches all."""
    parts = [exp.Between(this=col(k), low=exp.Literal.number(rng[0]), high=exp.Literal.number(rng[1]))
             for k in "rfm" if (rng := getattr(seg, k))]
    return all_of(*parts) if parts else exp.true()


def grade_test(value: exp.Expression, g: ir.Grade) -> exp.Expression:
    parts = []
    if g.gte is not None:
        parts.append(exp.GTE(this=value.copy(), expression=atoms.literal(float(g.gte))))
    if g.lt is not None:
        parts.append(exp.LT(this=value.copy(), expression=atoms.literal(float(g.lt))))
    return all_of(*parts) if parts else exp.true()


def grade_of(value: exp.Expression, grades: tuple[ir.Grade, ...]) -> exp.Expression:
    """The name of the first grade whose bounds hold for `value`; NULL when none does."""
    none = exp.cast(exp.Null(), "VARCHAR")
    ifs = [exp.If(this=grade_test(value, g), true=atoms.literal(g.name)) for g in grades]
    return exp.Case(ifs=ifs, default=none) if ifs else none


def conditions(d) -> list[ir.Condition]:
    """The conditions a definition evaluates: a segment's rule, a score's rules, a lifecycle's stages."""
    if isinstance(d, ir.Segment):
        return [d.rule]
    if isinstance(d, ir.Score):
        return [r.when for r in d.rules]
    if isinstance(d, ir.Lifecycle):
        return [s.when for s in d.stages]
    return []


def leaves(c: ir.Condition):
    """The conditions under `all`, `any` and `not`: attributes, events and references."""
    if isinstance(c, (ir.All, ir.Any_)):
        for i in c.items:
            yield from leaves(i)
    elif isinstance(c, ir.Not):
        yield from leaves(c.item)
    else:
        yield c


def row_filters(c: ir.Condition):
    """The row filters under a condition: each event's rows, and its not_followed_by's."""
    for leaf in leaves(c):
        if isinstance(leaf, ir.Event):
            yield leaf.rows
            if leaf.not_followed_by is not None:
                yield leaf.not_followed_by.rows


REFERENCE_KINDS = {ir.SegmentRef: "segment", ir.ScoreRef: "score", ir.LifecycleRef: "lifecycle", ir.RfmRef: "rfm"}


def references(c: ir.Condition):
    """(kind, name) of every definition a condition refers to."""
    for leaf in leaves(c):
        if type(leaf) in REFERENCE_KINDS:
            yield REFERENCE_KINDS[type(leaf)], leaf.name
