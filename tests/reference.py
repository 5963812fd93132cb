"""Reference evaluator for segc projects: the oracle of the differential tests.

It evaluates a parsed project (segments, scores, lifecycles, RFM) over in-memory rows, straight
from SPEC.md §2–§7 and the team's clarifications, one contact at a time. It shares no code with
the compiler and prefers being obviously right to being fast.

    >>> schema = Schema.from_yaml_sources({
    ...     "contacts": {"relation": "raw.contacts", "key": "id", "columns": {"city": "string"}},
    ...     "streams": {}})
    >>> data = Dataset(contacts=[{"id": 1, "city": "Kraków"}, {"id": 2, "city": None}], streams={})
    >>> project = {"segments": [{"name": "krk", "rule": {"attribute": "city", "icontains": "KRAK"}}]}
    >>> evaluate(project, schema, data, datetime(2026, 3, 31)).membership
    {(1, 'krk')}
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

DEFAULT_STREAM = "events"
AGGREGATES = ("count", "distinct", "sum", "avg", "min", "max", "first", "last")
DATE_TYPES = ("date", "timestamp")
REFERENCE_KEYS = ("all", "any", "not", "attribute", "segment", "score", "lifecycle", "rfm")

# The classic RFM map for 5 bins, first match wins. Every (r, f) cell of a 5x5 grid is named;
# `lost` is the catch-all (r = 1 with low frequency, and anything left when bins != 5).
DEFAULT_RFM_SEGMENTS = [
    {"name": "champions", "r": [5, 5], "f": [4, 5]},
    {"name": "loyal", "r": [3, 4], "f": [4, 5]},
    {"name": "potential_loyalists", "r": [4, 5], "f": [2, 3]},
    {"name": "new", "r": [5, 5], "f": [1, 1]},
    {"name": "promising", "r": [4, 4], "f": [1, 1]},
    {"name": "need_attention", "r": [3, 3], "f": [3, 3]},
    {"name": "about_to_sleep", "r": [3, 3], "f": [1, 2]},
    {"name": "cant_lose", "r": [1, 2], "f": [5, 5]},
    {"name": "at_risk", "r": [1, 2], "f": [3, 4]},
    {"name": "hibernating", "r": [2, 2], "f": [1, 2]},
    {"name": "lost"},
]


# --------------------------------------------------------------------------- data and schema


@dataclass
class StreamSchema:
    contact_key: str
    timestamp: str
    event_type: str | None
    columns: dict[str, str]
    relation: str | None = None

    def column_types(self) -> dict[str, str]:
        """Types of every column a `where` may name, the timestamp and event type included."""
        types = dict(self.columns)
        types[self.timestamp] = "timestamp"
        if self.event_type:
            types[self.event_type] = "string"
        return types


@dataclass
class Schema:
    key: str
    columns: dict[str, str]
    streams: dict[str, StreamSchema]
    relation: str | None = None

    @classmethod
    def from_yaml_sources(cls, sources: dict) -> Schema:
        """Build from the `sources:` mapping of SPEC §2."""
        contacts = sources["contacts"]
        streams = {
            name: StreamSchema(
                contact_key=s["contact_key"],
                timestamp=s["timestamp"],
                event_type=s.get("event_type"),
                columns=dict(s.get("columns") or {}),
                relation=s.get("relation"),
            )
            for name, s in (sources.get("streams") or {}).items()
        }
        return cls(contacts["key"], dict(contacts["columns"]), streams, contacts.get("relation"))


@dataclass
class Dataset:
    contacts: list[dict]
    streams: dict[str, list[dict]]


@dataclass
class Result:
    membership: set[tuple[Any, str]] = field(default_factory=set)
    scores: dict[tuple[Any, str], tuple[float, str | None]] = field(default_factory=dict)
    lifecycle: dict[tuple[Any, str], str] = field(default_factory=dict)
    rfm: dict[tuple[Any, str], dict] = field(default_factory=dict)


# --------------------------------------------------------------------------- time


DURATION = re.compile(r"^(\d+)(h|d|w|mo|y)$")
FIXED_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def to_datetime(value: Any) -> datetime | None:
    """Naive UTC datetime; a date is midnight of that day, an ISO string is parsed."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise TypeError(f"not a date or timestamp: {value!r}")


def parse_duration(text: str) -> tuple[int, str]:
    match = DURATION.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}")
    return int(match.group(1)), match.group(2)


def add_months(ts: datetime, months: int) -> datetime:
    """Calendar months, the day clamped to the target month's end (Mar 31 - 1mo = Feb 28)."""
    index = ts.year * 12 + ts.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return ts.replace(year=year, month=month, day=min(ts.day, calendar.monthrange(year, month)[1]))


def shift(ts: datetime, duration: str, sign: int) -> datetime:
    """ts + sign * duration; `mo` and `y` are calendar units."""
    n, unit = parse_duration(duration)
    if unit == "mo":
        return add_months(ts, sign * n)
    if unit == "y":
        return add_months(ts, sign * 12 * n)
    return ts + sign * n * FIXED_UNITS[unit]


def exact(number) -> Fraction:
    """A number as the exact decimal it is written as (0.1 is one tenth): the warehouse reads literals and sums
    `number` columns as decimals, so 0.1 + 0.2 is 0.3."""
    return Fraction(str(number))


def exact_sum(numbers) -> float:
    return float(sum(map(exact, numbers), Fraction(0)))


def half_life_days(duration: str) -> float:
    n, unit = parse_duration(duration)
    if unit not in FIXED_UNITS:
        raise ValueError(f"half_life must use h, d or w: {duration!r}")
    return n * FIXED_UNITS[unit] / timedelta(days=1)


def completed_years(born: datetime, as_of: datetime) -> int:
    """Whole years at as_of's date; a Feb-29 birthday is reached on Mar 1 in non-leap years."""
    before_birthday = (as_of.month, as_of.day) < (born.month, born.day)
    return as_of.year - born.year - before_birthday


# --------------------------------------------------------------------------- operators


COMPARISONS = {
    "eq": lambda v, a: v == a,
    "ne": lambda v, a: v != a,
    "gt": lambda v, a: v > a,
    "gte": lambda v, a: v >= a,
    "lt": lambda v, a: v < a,
    "lte": lambda v, a: v <= a,
    "between": lambda v, a: a[0] <= v <= a[1],
    "in": lambda v, a: v in a,
    "not_in": lambda v, a: v not in a,
}

TEXT_OPERATORS = {
    "contains": lambda v, a: a in v,
    "icontains": lambda v, a: a.lower() in v.lower(),
    "starts_with": lambda v, a: v.startswith(a),
    "ends_with": lambda v, a: v.endswith(a),
    "matches": lambda v, a: re.search(a, v) is not None,
}

LIST_OPERATORS = {
    "has": lambda items, a: a in items,
    "has_any": lambda items, a: any(x in items for x in a),
    "has_all": lambda items, a: all(x in items for x in a),
}


def check(value: Any, ops: dict, col_type: str, as_of: datetime) -> bool:
    """Every operator of the mapping holds for value (ANDed, two-valued, NULL rules of §3)."""
    return all(check_op(value, op, arg, col_type, as_of) for op, arg in ops.items())


def check_defined(value: Any, ops: dict, col_type: str, as_of: datetime) -> bool:
    """Comparisons on a derived value (aggregate, age, RFM score): all false when it is NULL."""
    return value is not None and check(value, ops, col_type, as_of)


def check_op(value: Any, op: str, arg: Any, col_type: str, as_of: datetime) -> bool:
    if op == "is_null":
        return (value is None) == arg
    if value is None:
        return op in ("ne", "not_in")
    if col_type in DATE_TYPES:
        value = to_datetime(value)
        if op == "within":
            return shift(as_of, arg, -1) < value <= as_of
        if op == "older_than":
            return value <= shift(as_of, arg, -1)
        if op == "age":
            return check_defined(completed_years(value, as_of), arg, "integer", as_of)
        arg = [to_datetime(a) for a in arg] if isinstance(arg, list) else to_datetime(arg)
    if op in COMPARISONS:
        return COMPARISONS[op](value, arg)
    if op in TEXT_OPERATORS:
        return TEXT_OPERATORS[op](value, arg)
    if op in LIST_OPERATORS:
        return LIST_OPERATORS[op]([x for x in value if x is not None], arg)
    raise ValueError(f"unknown operator {op!r}")


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- evaluation


def evaluate(project: dict, schema: Schema, data: Dataset, as_of: datetime) -> Result:
    """Every table of §9 that depends on the rules, for every contact, at as_of."""
    ev = _Evaluator(project, schema, data, as_of)
    result = Result()
    for contact in ev.contacts:
        for name in ev.defs["segment"]:
            if ev.member(name, contact):
                result.membership.add((contact, name))
        for name in ev.defs["score"]:
            result.scores[(contact, name)] = ev.score(name, contact)
        for name in ev.defs["lifecycle"]:
            result.lifecycle[(contact, name)] = ev.stage(name, contact)
    for name in ev.defs["rfm"]:
        for contact, row in ev.rfm(name).items():
            result.rfm[(contact, name)] = row
    return result


class _Evaluator:
    def __init__(self, project: dict, schema: Schema, data: Dataset, as_of: datetime):
        self.schema = schema
        self.as_of = to_datetime(as_of)
        self.defs = {
            kind: _by_name(project.get(section) or [], kind)
            for kind, section in (
                ("segment", "segments"),
                ("score", "scores"),
                ("lifecycle", "lifecycles"),
                ("rfm", "rfm"),
            )
        }
        self.contacts: dict[Any, dict] = {}
        for row in data.contacts:
            key = row[schema.key]
            if key in self.contacts:
                raise ValueError(f"duplicate contact key {key!r}")
            self.contacts[key] = row
        self.rows = {name: self._valid_rows(name, data.streams.get(name, [])) for name in schema.streams}
        self.cache: dict[tuple, Any] = {}
        self.active: set[tuple] = set()
        self.rfm_cache: dict[str, dict] = {}

    def _valid_rows(self, stream: str, rows: list[dict]) -> dict[Any, list[tuple[datetime, dict]]]:
        """Rows that count at all (§2, §3), as (timestamp, row) grouped by contact."""
        s = self.schema.streams[stream]
        grouped: dict[Any, list] = {}
        for row in rows:
            contact, ts = row.get(s.contact_key), to_datetime(row.get(s.timestamp))
            if contact is None or ts is None or contact not in self.contacts or ts > self.as_of:
                continue
            grouped.setdefault(contact, []).append((ts, row))
        return grouped

    def _memo(self, kind: str, name: str, contact: Any, compute) -> Any:
        key = (kind, name, contact)
        if key not in self.cache:
            if key in self.active:
                raise ValueError(f"reference cycle through {kind} {name!r}")
            self.active.add(key)
            self.cache[key] = compute()
            self.active.discard(key)
        return self.cache[key]

    # ----------------------------------------------------------------- conditions

    def condition(self, cond: dict, c: Any) -> bool:
        if "all" in cond:
            return all(self.condition(x, c) for x in cond["all"])
        if "any" in cond:
            return any(self.condition(x, c) for x in cond["any"])
        if "not" in cond:
            return not self.condition(cond["not"], c)
        if "attribute" in cond:
            column = cond["attribute"]
            ops = {k: v for k, v in cond.items() if k != "attribute"}
            return check(self.contacts[c].get(column), ops, self.schema.columns[column], self.as_of)
        if "rfm" in cond:  # before "segment": {rfm: NAME, segment: X} names an RFM segment
            return self._rfm_condition(cond, c)
        if "segment" in cond:
            return self.member(cond["segment"], c)
        if "score" in cond:
            value, grade = self.score(cond["score"], c)
            ops = {k: v for k, v in cond.items() if k not in ("score", "grade")}
            grade_ok = "grade" not in cond or grade in as_list(cond["grade"])
            return grade_ok and check(value, ops, "number", self.as_of)
        if "lifecycle" in cond:
            return self.stage(cond["lifecycle"], c) in as_list(cond["stage"])
        return self._event_condition(cond, c)

    def _rfm_condition(self, cond: dict, c: Any) -> bool:
        row = self.rfm(cond["rfm"]).get(c)
        if row is None:
            return False
        if "segment" in cond and row["segment"] not in as_list(cond["segment"]):
            return False
        return all(check(row[k], cond[k], "integer", self.as_of) for k in ("r", "f", "m") if k in cond)

    def _event_condition(self, cond: dict, c: Any) -> bool:
        stream = cond.get("stream", DEFAULT_STREAM)
        rows = self.matching_rows(stream, c, cond.get("event"), cond.get("where"), cond.get("within"))
        given = [k for k in AGGREGATES if k in cond]
        if len(given) > 1:
            raise ValueError(f"at most one aggregate per event condition, got {given}")
        agg = given[0] if given else "count"
        holds = self._aggregate(agg, cond.get(agg, {"gte": 1}), stream, rows)
        if "not_followed_by" in cond:
            holds = holds and self._not_followed(cond["not_followed_by"], stream, rows, c)
        return holds

    def matching_rows(self, stream, c, event=None, where=None, within=None) -> list[tuple[datetime, dict]]:
        """The contact's valid rows of the stream passing the event, where and within filters."""
        s = self.schema.streams[stream]
        if event is not None and not s.event_type:
            raise ValueError(f"stream {stream!r} has no event_type column")
        types = s.column_types()
        since = shift(self.as_of, within, -1) if within is not None else None
        return [
            (ts, row)
            for ts, row in self.rows[stream].get(c, [])
            if (event is None or row.get(s.event_type) in as_list(event))
            and (since is None or ts > since)
            and all(check(row.get(col), ops, types[col], self.as_of) for col, ops in (where or {}).items())
        ]

    def _aggregate(self, agg: str, spec: dict, stream: str, rows: list) -> bool:
        ops = {k: v for k, v in spec.items() if k != "of"}
        if agg == "count":
            return check(len(rows), ops, "integer", self.as_of)
        if agg in ("first", "last"):
            stamps = [ts for ts, _ in rows]
            value = (min if agg == "first" else max)(stamps, default=None)
            return check_defined(value, ops, "timestamp", self.as_of)
        column = spec["of"]
        col_type = self.schema.streams[stream].column_types()[column]
        values = [row[column] for _, row in rows if row.get(column) is not None]
        if col_type in DATE_TYPES:
            values = [to_datetime(v) for v in values]
        if agg == "distinct":
            return check(len(set(values)), ops, "integer", self.as_of)
        if agg == "sum":
            return check(exact_sum(values), ops, "number", self.as_of)
        if agg == "avg":
            value = sum(values) / len(values) if values else None
            return check_defined(value, ops, "number", self.as_of)
        value = (min if agg == "min" else max)(values, default=None)
        return check_defined(value, ops, col_type, self.as_of)

    def _not_followed(self, spec: dict, first_stream: str, first_rows: list, c: Any) -> bool:
        """The latest first-kind row has no second-kind row strictly after it (within D of it)."""
        if not first_rows:
            return False
        latest = max(ts for ts, _ in first_rows)
        until = shift(latest, spec["within"], +1) if "within" in spec else self.as_of
        stream = spec.get("stream", first_stream)
        followers = self.matching_rows(stream, c, spec.get("event"), spec.get("where"))
        return not any(latest < ts <= until for ts, _ in followers)

    # ----------------------------------------------------------------- named definitions

    def member(self, name: str, c: Any) -> bool:
        return self._memo("segment", name, c, lambda: self.condition(self.defs["segment"][name]["rule"], c))

    def stage(self, name: str, c: Any) -> str:
        lifecycle = self.defs["lifecycle"][name]

        def compute():
            stages = (s["name"] for s in lifecycle["stages"] if self.condition(s["when"], c))
            return next(stages, lifecycle.get("default"))

        return self._memo("lifecycle", name, c, compute)

    def score(self, name: str, c: Any) -> tuple[float, str | None]:
        return self._memo("score", name, c, lambda: self._compute_score(self.defs["score"][name], c))

    def _compute_score(self, score: dict, c: Any) -> tuple[float, str | None]:
        decay = score.get("decay")
        total = Fraction(0)
        for rule in score["rules"]:
            contribution = self._rule_points(rule, decay, c)
            if "cap" in rule:
                contribution = max(-rule["cap"], min(rule["cap"], contribution))
            total += contribution
        if "min" in score:
            total = max(total, score["min"])
        if "max" in score:
            total = min(total, score["max"])
        total = float(total)
        grades = (
            g["name"]
            for g in score.get("grades") or []
            if ("gte" not in g or total >= g["gte"]) and ("lt" not in g or total < g["lt"])
        )
        return total, next(grades, None)

    def _rule_points(self, rule: dict, decay: dict | None, c: Any) -> float:
        when = rule["when"]
        if not rule.get("per_event"):
            return exact(rule["points"]) if self.condition(when, c) else 0
        if any(k in when for k in REFERENCE_KEYS + AGGREGATES + ("not_followed_by",)):
            raise ValueError("per_event needs one event condition without aggregate or not_followed_by")
        stream = when.get("stream", DEFAULT_STREAM)
        rows = self.matching_rows(stream, c, when.get("event"), when.get("where"), when.get("within"))
        if decay is None:
            return exact(rule["points"]) * len(rows)
        half_life = half_life_days(decay["half_life"])
        return rule["points"] * sum(0.5 ** ((self.as_of - ts).total_seconds() / 86400 / half_life) for ts, _ in rows)

    def rfm(self, name: str) -> dict[Any, dict]:
        if name not in self.rfm_cache:
            self.rfm_cache[name] = self._compute_rfm(self.defs["rfm"][name])
        return self.rfm_cache[name]

    def _compute_rfm(self, rfm: dict) -> dict[Any, dict]:
        """§7: recency/frequency/monetary per contact with rows, then ceil(bins × cume_dist)."""
        facts = {}
        for c in self.contacts:
            rows = self.matching_rows(rfm["stream"], c, rfm.get("event"), rfm.get("where"), rfm.get("within"))
            if rows:
                money = sum(exact(row.get(rfm["monetary"]) or 0) for _, row in rows)
                facts[c] = (max(ts for ts, _ in rows), len(rows), money)
        bins, n = rfm.get("bins", 5), len(facts)
        columns = list(zip(*facts.values()))  # latest, frequency, monetary

        def binned(values: tuple, x: Any) -> int:
            return math.ceil(Fraction(bins * sum(1 for v in values if v <= x), n))

        segments = rfm.get("segments") or DEFAULT_RFM_SEGMENTS
        result = {}
        for c, (latest, frequency, monetary) in facts.items():
            scores = {"r": binned(columns[0], latest), "f": binned(columns[1], frequency), "m": binned(columns[2], monetary)}
            segment = next(
                (
                    s["name"]
                    for s in segments
                    if all(s[k][0] <= v <= s[k][1] for k, v in scores.items() if k in s)
                ),
                None,
            )
            result[c] = {
                "recency_days": (self.as_of - latest) // timedelta(days=1),
                "frequency": frequency,
                "monetary": float(monetary),
                **scores,
                "segment": segment,
            }
        return result


def _by_name(definitions: list[dict], kind: str) -> dict[str, dict]:
    named: dict[str, dict] = {}
    for d in definitions:
        if d["name"] in named:
            raise ValueError(f"duplicate {kind} name {d['name']!r}")
        named[d["name"]] = d
    return named
