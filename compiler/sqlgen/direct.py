"""A direct, unoptimized translation of each rule: one aggregate query per event condition.

This is what an analyst would write by hand, one definition at a time: each event condition
aggregates its own rows per contact (a GROUP BY, LEFT JOINed to the contacts), and nothing is
shared between conditions. It shares none of the plan's structure (deduplication, layers, joins),
which is the point: the generated dbt tests compare the shared plan's tables against it, and the
benchmark uses it as the naive baseline. It does share the atomic predicates and a few small
expressions with `plan.py` (row filters, first/last and grade tests, RFM segment ranges), so
those are checked by the differential tests against the reference evaluator instead.
"""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from . import atoms
from .atoms import AS_OF, all_of, any_of
from .plan import RFM_COLUMNS, days_between, decay_weight, first_last_test, grade_of, rfm_segment_test, row_filter_sql
from .relations import joined, ref_table, source_table

C = "c"  # alias of the contact row being evaluated


class Direct:
    def __init__(self, project: ir.Project, published_refs: bool = False, sample_percent: int = 100):
        """With `published_refs`, a reference reads the referenced definition's published table
        (itself checked by its own test) instead of recomputing it inline. `sample_percent` < 100
        restricts the recomputation to a deterministic sample of contacts (by a hash of the key)."""
        self.project = project
        self.published_refs = published_refs
        self.sample_percent = sample_percent
        self.defs = project.definitions()
        self.aliases = 0
        self.joins: list[exp.Join] = []  # the per-contact aggregates the next per_contact() joins

    def anew(self) -> Direct:
        """This translation with its aliases numbered from 1 again, for the next rule test: each test reads alone,
        and adding a definition renames nothing in the tests of the others."""
        self.aliases = 0
        return self

    def _alias(self) -> str:
        self.aliases += 1
        return f"s{self.aliases}"

    def rows(self, rows: ir.RowFilter, alias: str, after: exp.Expression | None = None,
             until: exp.Expression | None = None, correlated: bool = True) -> exp.Select:
        """FROM stream WHERE ts <= as_of and the row filter holds [and the contact is c]."""
        stream = self.project.stream(rows.stream)

        def column(name: str) -> exp.Column:
            return exp.column(name, table=alias)

        ts = column(stream.timestamp)
        conds = [exp.LTE(this=ts, expression=AS_OF.copy())]
        if correlated:
            conds.append(exp.EQ(this=column(stream.contact_key), expression=exp.column(self.project.contacts.key, table=C)))
        filt = row_filter_sql(stream, rows.events, rows.where, column)
        if filt is not None:
            conds.append(filt)
        if rows.within:
            conds.append(atoms.window(ts.copy(), rows.within))
        if after is not None:
            conds.append(exp.GT(this=ts.copy(), expression=after))
        if until is not None:
            conds.append(exp.LTE(this=ts.copy(), expression=until))
        return exp.select().from_(source_table(rows.stream).as_(alias, copy=False), copy=False).where(all_of(*conds), copy=False)

    def latest(self, rows: ir.RowFilter, alias: str) -> exp.Select:
        """contact_id, last_at: each contact's latest matching row up to as_of (uncorrelated, GROUP BY)."""
        stream = self.project.stream(rows.stream)
        key, ts = exp.column(stream.contact_key, table=alias), exp.column(stream.timestamp, table=alias)
        return (self.rows(rows, alias, correlated=False)
                .select(key.as_("contact_id"), exp.Max(this=ts).as_("last_at"), copy=False)
                .group_by(key.copy(), copy=False))

    def scalar(self, rows: ir.RowFilter, agg: exp.Expression) -> exp.Expression:
        """Contact c's `agg` over its matching rows: a GROUP BY of the stream that per_contact() LEFT JOINs.
        Without rows COUNT is 0 and the other aggregates NULL, as in a correlated subquery."""
        alias, table = self._alias(), self._alias()
        stream = self.project.stream(rows.stream)
        agg = agg.transform(lambda n: exp.column(n.name, table=alias)
                            if isinstance(n, exp.Column) and not n.table and n.name != AS_OF.name else n)
        agg = agg.transform(lambda n: exp.column(stream.timestamp, table=alias)
                            if isinstance(n, exp.Column) and n.name == "segc_ts" else n)
        key = exp.column(stream.contact_key, table=alias)
        grouped = (self.rows(rows, alias, correlated=False)
                   .select(key.as_("contact_id"), agg.as_("value", copy=False), copy=False).group_by(key.copy(), copy=False))
        on = exp.EQ(this=exp.column("contact_id", table), expression=exp.column(self.project.contacts.key, C))
        self.joins.append(joined(grouped.subquery(table, copy=False), "left", on=on))
        value = exp.column("value", table)
        return exp.func("COALESCE", value, exp.Literal.number(0)) if isinstance(agg, exp.Count) else value

    def condition(self, c: ir.Condition) -> exp.Expression:
        if isinstance(c, ir.All):
            return all_of(*(self.condition(i) for i in c.items))
        if isinstance(c, ir.Any_):
            return any_of(*(self.condition(i) for i in c.items))
        if isinstance(c, ir.Not):
            return exp.Not(this=exp.paren(self.condition(c.item)))
        if isinstance(c, ir.Attribute):
            return atoms.predicate(exp.column(c.predicate.column, table=C), c.predicate)
        if isinstance(c, ir.Event):
            return self.event(c)
        if isinstance(c, ir.SegmentRef):
            if self.published_refs:
                return exp.Exists(this=self.published("segment_membership", "segment", c.name))
            return self.condition(self.defs[("segment", c.name)].rule)
        if isinstance(c, ir.ScoreRef):
            score = self.defs[("score", c.name)]
            if c.grades:
                grade = self.published_value("contact_scores", "score", c.name, "grade") \
                    if self.published_refs else self.grade(score)
                return atoms.compare(grade, "in", c.grades)
            value = self.published_value("contact_scores", "score", c.name, "value") \
                if self.published_refs else self.score(score)
            return atoms.compare_all(value, c.tests)
        if isinstance(c, ir.LifecycleRef):
            stage = self.published_value("contact_lifecycle", "lifecycle", c.name, "stage") \
                if self.published_refs else self.lifecycle(self.defs[("lifecycle", c.name)])
            return atoms.compare(stage, "in", c.stages)
        if isinstance(c, ir.RfmRef):
            values = {k: self.published_value("contact_rfm", "rfm", c.name, k) for k in RFM_COLUMNS} \
                if self.published_refs else self.rfm(self.defs[("rfm", c.name)])
            if c.segments:
                return atoms.compare(values["segment"], "in", c.segments)
            return all_of(*(atoms.compare(values[k], t.op, t.value) for k, t in c.tests))
        raise AssertionError(c)

    def published(self, model: str, kind: str, name: str, column: str | None = None) -> exp.Select:
        """SELECT column (or 1) FROM the published model's row for contact c and definition `name`."""
        alias = self._alias()
        value = exp.column(column, alias) if column else exp.Literal.number(1)
        match = all_of(exp.EQ(this=exp.column("contact_id", alias), expression=exp.column(self.project.contacts.key, C)),
                       exp.EQ(this=exp.column(kind, alias), expression=atoms.literal(name)))
        return exp.select(value, copy=False).from_(ref_table(model).as_(alias, copy=False), copy=False).where(
            match, copy=False)

    def published_value(self, model: str, kind: str, name: str, column: str) -> exp.Expression:
        return exp.Subquery(this=self.published(model, kind, name, column))

    def event(self, c: ir.Event) -> exp.Expression:
        parts = []
        agg = c.aggregate
        if agg is not None and agg.kind in ("first", "last"):
            ts = self.scalar(c.rows, exp.func("MIN" if agg.kind == "first" else "MAX", exp.column("segc_ts")))
            parts += [first_last_test(ts, t) for t in agg.tests]
        elif agg is not None:
            func = {"count": "COUNT", "distinct": "COUNT"}.get(agg.kind, agg.kind.upper())
            arg = exp.Star() if agg.kind == "count" else exp.column(agg.of)
            if agg.kind == "distinct":
                arg = exp.Distinct(expressions=[arg])
            if agg.kind == "sum":
                arg = atoms.summable(arg, self.project.stream(c.rows.stream).type_of(agg.of))
            value = self.scalar(c.rows, exp.func(func, arg))
            if agg.kind == "sum":
                value = exp.func("COALESCE", value, exp.Literal.number(0))
            parts.append(atoms.compare_all(value, agg.tests))
        if c.not_followed_by is not None:
            last = self.scalar(c.rows, exp.func("MAX", exp.column("segc_ts")))
            second = c.not_followed_by.rows
            # The latest first-kind row per contact is an uncorrelated derived table joined inside the
            # EXISTS, so the EXISTS correlates with the contact one level deep only: Spark cannot resolve
            # an outer reference two levels up (a scalar subquery on `c` inside the EXISTS).
            latest, follow = self._alias(), self._alias()
            last_at = exp.column("last_at", table=latest)
            until = atoms.shift(last_at.copy(), second.within, 1) if second.within else None
            plain = ir.RowFilter(second.stream, second.events, second.where)
            key = exp.column(self.project.stream(second.stream).contact_key, table=follow)
            followed = exp.Exists(this=self.rows(plain, follow, after=last_at.copy(), until=until)
                                  .join(joined(self.latest(c.rows, self._alias()).subquery(latest), "inner",
                                                on=exp.EQ(this=exp.column("contact_id", latest), expression=key)))
                                  .select(exp.Literal.number(1)))
            parts.append(all_of(atoms.is_not_null(last), exp.Not(this=followed)))
        return all_of(*parts)

    def score(self, s: ir.Score) -> exp.Expression:
        total = None
        for rule in s.rules:
            if rule.per_event:
                weight = exp.Literal.number(1)
                if s.decay is not None:
                    weight = decay_weight(exp.column("segc_ts"), s.decay)
                summed = exp.func("COALESCE", self.scalar(rule.when.rows, exp.func("SUM", weight)),
                                  exp.Literal.number(0))
                part = exp.Mul(this=atoms.literal(float(rule.points)), expression=summed)
            else:
                part = exp.Case(ifs=[exp.If(this=self.condition(rule.when), true=atoms.literal(float(rule.points)))],
                                default=atoms.literal(0.0))
            if rule.cap is not None:
                cap = float(rule.cap)
                part = exp.func("LEAST", part, atoms.literal(cap)) if rule.points >= 0 else \
                    exp.func("GREATEST", part, atoms.literal(-cap))
            total = exp.paren(part) if total is None else exp.Add(this=total, expression=exp.paren(part))
        if s.max is not None:
            total = exp.func("LEAST", total, atoms.literal(float(s.max)))
        if s.min is not None:
            total = exp.func("GREATEST", total, atoms.literal(float(s.min)))
        return exp.cast(total, "DOUBLE")

    def grade(self, s: ir.Score) -> exp.Expression:
        return grade_of(self.score(s), s.grades)

    def lifecycle(self, lc: ir.Lifecycle) -> exp.Expression:
        ifs = [exp.If(this=self.condition(st.when), true=atoms.literal(st.name)) for st in lc.stages]
        return exp.Case(ifs=ifs, default=atoms.literal(lc.default))

    def rfm_query(self, r: ir.Rfm) -> exp.Select:
        """RFM per contact with rows: a GROUP BY, then each score by counting contacts at or below."""
        stream = self.project.stream(r.rows.stream)
        alias = self._alias()
        ts = exp.column(stream.timestamp, table=alias)
        money = exp.func("COALESCE", atoms.summable(exp.column(r.monetary, table=alias), stream.type_of(r.monetary)),
                         exp.Literal.number(0))
        per = (self.rows(r.rows, alias)
               .select(exp.column(self.project.contacts.key, table=C).as_("contact_id", copy=False),
                       exp.func("MAX", ts).as_("last_at", copy=False), exp.func("COUNT", exp.Star()).as_("frequency", copy=False),
                       exp.func("SUM", money).as_("monetary", copy=False))
               .join(joined(source_table("contacts").as_(C, copy=False), "cross"))
               .group_by(exp.column(self.project.contacts.key, table=C)))
        n = exp.Subquery(this=exp.select(exp.func("COUNT", exp.Star())).from_(per.subquery("n")))

        def bins_score(of: str) -> exp.Expression:
            at_most = (exp.select(exp.func("COUNT", exp.Star())).from_(per.subquery("q"))
                       .where(exp.LTE(this=exp.column(of, "q"), expression=exp.column(of, "p"))))
            top = exp.Add(this=exp.Mul(this=exp.Literal.number(r.bins), expression=exp.Subquery(this=at_most)),
                          expression=exp.Sub(this=n.copy(), expression=exp.Literal.number(1)))
            return exp.IntDiv(this=exp.paren(top), expression=n.copy())

        scores = (exp.select(exp.column("contact_id", "p"),
                             exp.Floor(this=days_between(exp.column("last_at", "p"), AS_OF.copy())).as_("recency_days", copy=False),
                             exp.column("frequency", "p"), exp.column("monetary", "p"),
                             bins_score("last_at").as_("r", copy=False), bins_score("frequency").as_("f", copy=False),
                             bins_score("monetary").as_("m", copy=False))
                  .from_(per.subquery("p")))
        ifs = [exp.If(this=rfm_segment_test(seg), true=atoms.literal(seg.name)) for seg in r.segments]
        return exp.select(exp.Star(), exp.Case(ifs=ifs).as_("segment", copy=False)).from_(scores.subquery("s"))

    def rfm(self, r: ir.Rfm) -> dict[str, exp.Expression]:
        """Scalar subqueries: contact c's RFM values (NULL without rows)."""
        alias = self._alias()
        match = exp.EQ(this=exp.column("contact_id", alias), expression=exp.column(self.project.contacts.key, table=C))
        return {k: exp.Subquery(this=exp.select(exp.column(k, alias)).from_(self.rfm_query(r).subquery(alias))
                                .where(match.copy()))
                for k in RFM_COLUMNS}

    def in_sample(self, key: exp.Expression) -> exp.Expression | None:
        """Whether a contact key falls in the sample: the first byte of md5(key), portable everywhere."""
        if self.sample_percent >= 100:
            return None
        threshold = format(round(self.sample_percent * 256 / 100), "02x")
        first_byte = exp.Substring(this=exp.MD5(this=exp.cast(key, "VARCHAR")), start=exp.Literal.number(1),
                                   length=exp.Literal.number(2))
        return exp.LT(this=first_byte, expression=exp.Literal.string(threshold))

    def per_contact(self, value: exp.Expression) -> exp.Select:
        """SELECT contact_id, value FROM contacts c, joined to the aggregates `value` reads [WHERE in the sample]."""
        sample = self.in_sample(exp.column(self.project.contacts.key, table=C))
        key = exp.column(self.project.contacts.key, table=C)
        query = (exp.select(key.as_("contact_id", copy=False), value.as_("expected", copy=False), copy=False)
                 .from_(source_table("contacts").as_(C, copy=False), copy=False)
                 .where(atoms.is_not_null(key.copy()), copy=False))
        for join in self.joins:
            query = query.join(join, copy=False)
        self.joins = []
        return query.where(sample, copy=False) if sample is not None else query
