"""The frozen, typed intermediate representation: what the definitions mean, names resolved.

Everything downstream (SQL generation, dbt emission, hashing) reads only these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Union

from .errors import SourceLocation

TYPES = ("string", "number", "integer", "boolean", "date", "timestamp", "list")


@dataclass(frozen=True)
class Duration:
    """`90d`, `6mo`: hours/days/weeks are fixed lengths, months and years are calendar units."""

    amount: int
    unit: str  # h | d | w | mo | y

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def seconds(self) -> int:
        """Length in seconds for fixed units (used by decay half-lives)."""
        return self.amount * {"h": 3600, "d": 86400, "w": 604800}[self.unit]


@dataclass(frozen=True)
class Predicate:
    """One operator applied to one column: `city: {eq: Kraków}`.

    `value` is already typed: a str/int/float/bool/date/datetime, a tuple for list operators,
    a Duration for within/older_than, a (op, value) pair for age, a bool for is_null.
    """

    column: str
    type: str
    op: str
    value: object


@dataclass(frozen=True)
class Comparison:
    """`gte: 3` applied to a computed number (aggregate, score, RFM value)."""

    op: str  # eq ne gt gte lt lte between in not_in
    value: object


@dataclass(frozen=True)
class RowFilter:
    """Which rows of a stream a condition looks at."""

    stream: str
    events: tuple[str, ...] = ()
    where: tuple[Predicate, ...] = ()
    within: Duration | None = None


@dataclass(frozen=True)
class Aggregate:
    kind: str  # count | distinct | sum | avg | min | max | first | last
    of: str | None
    tests: tuple[Comparison, ...]  # for first/last: Comparison('within'|'older_than', Duration)


@dataclass(frozen=True)
class NotFollowedBy:
    rows: RowFilter  # the second kind; its `within` is measured from the first kind's latest row


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Any_:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class Attribute:
    predicate: Predicate


@dataclass(frozen=True)
class Event:
    rows: RowFilter
    aggregate: Aggregate | None  # None only with not_followed_by
    not_followed_by: NotFollowedBy | None = None


@dataclass(frozen=True)
class SegmentRef:
    name: str


@dataclass(frozen=True)
class ScoreRef:
    name: str
    tests: tuple[Comparison, ...] = ()
    grades: tuple[str, ...] = ()


@dataclass(frozen=True)
class LifecycleRef:
    name: str
    stages: tuple[str, ...]


@dataclass(frozen=True)
class RfmRef:
    name: str
    segments: tuple[str, ...] = ()
    tests: tuple[tuple[str, Comparison], ...] = ()  # ('r'|'f'|'m', comparison)


Condition = Union[All, Any_, Not, Attribute, Event, SegmentRef, ScoreRef, LifecycleRef, RfmRef]


@dataclass(frozen=True)
class Contacts:
    relation: str
    key: str
    columns: tuple[tuple[str, str], ...]  # (name, type)
    key_type: str | None = None  # the warehouse type of the key (e.g. bigint): enables model contracts

    def type_of(self, column: str) -> str | None:
        return dict(self.columns).get(column)


@dataclass(frozen=True)
class Stream:
    name: str
    relation: str
    contact_key: str
    timestamp: str
    event_type: str | None
    columns: tuple[tuple[str, str], ...]
    event_types: tuple[str, ...] = ()  # the known event names, when declared: `event` must use one

    def type_of(self, column: str) -> str | None:
        """Type of a column `where` can filter on: the declared ones, the timestamp and the event type."""
        builtin = {self.timestamp: "timestamp"} | ({self.event_type: "string"} if self.event_type else {})
        return dict(self.columns).get(column) or builtin.get(column)


@dataclass(frozen=True)
class ExampleRow:
    stream: str
    at: datetime
    values: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Example:
    name: str
    as_of: datetime
    contact: tuple[tuple[str, object], ...]
    rows: tuple[ExampleRow, ...]
    member: bool


@dataclass(frozen=True)
class Segment:
    name: str
    rule: Condition
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ScoreRule:
    points: float
    when: Condition
    per_event: bool = False
    cap: float | None = None


@dataclass(frozen=True)
class Grade:
    name: str
    gte: float | None = None
    lt: float | None = None


@dataclass(frozen=True)
class Score:
    name: str
    rules: tuple[ScoreRule, ...]
    decay: Duration | None = None
    min: float | None = None
    max: float | None = None
    grades: tuple[Grade, ...] = ()
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Stage:
    name: str
    when: Condition


@dataclass(frozen=True)
class Lifecycle:
    name: str
    stages: tuple[Stage, ...]
    default: str
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RfmSegment:
    name: str
    r: tuple[int, int] | None = None
    f: tuple[int, int] | None = None
    m: tuple[int, int] | None = None


@dataclass(frozen=True)
class Rfm:
    name: str
    rows: RowFilter
    monetary: str
    bins: int
    segments: tuple[RfmSegment, ...]
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Sync:
    name: str
    segment: str
    destination: str
    identifier: str
    fields: tuple[str, ...]
    description: str = ""
    owner: str | None = None
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Settings:
    """Project-wide options (the `settings:` section, declared at most once)."""

    check_sample_percent: int = 100  # share of contacts the rule-recomputation tests check
    timezone: str = "UTC"  # IANA zone of the sources' wall-clock timestamps (read as UTC after conversion)
    incremental: bool = False  # builds recompute only the contacts whose inputs changed (DuckDB)
    schema: str = "segments"  # where the published tables land; segc's own tables go in <schema>_internal


@dataclass(frozen=True)
class Project:
    contacts: Contacts
    streams: tuple[Stream, ...]
    segments: tuple[Segment, ...] = ()
    scores: tuple[Score, ...] = ()
    lifecycles: tuple[Lifecycle, ...] = ()
    rfms: tuple[Rfm, ...] = ()
    syncs: tuple[Sync, ...] = ()
    settings: Settings = Settings()

    def stream(self, name: str) -> Stream:
        return next(s for s in self.streams if s.name == name)

    def definitions(self) -> dict[tuple[str, str], Segment | Score | Lifecycle | Rfm]:
        """Every definition by (kind, name), kind one of segment, score, lifecycle, rfm."""
        return {("segment", d.name): d for d in self.segments} | {("score", d.name): d for d in self.scores} \
            | {("lifecycle", d.name): d for d in self.lifecycles} | {("rfm", d.name): d for d in self.rfms}
