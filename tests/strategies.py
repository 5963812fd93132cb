"""Hypothesis strategies for the differential tests: a fixed small schema, adversarial data
(window edges, NULLs, orphans, ties, Polish letters, LIKE wildcards) and random rule trees.

Every value comes from a small pool so that collisions and boundary hits are common, and every
number is exactly representable (integers, .5, .25) so that sums are exact in any warehouse.
String ordering (gt/lt/between on strings) is never generated: it depends on the collation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from hypothesis import strategies as st

from reference import DEFAULT_RFM_SEGMENTS, Dataset, Schema, add_months, shift, to_datetime

AS_OF = datetime(2026, 3, 31, 12, 0, 0)

SOURCES = {
    "contacts": {
        "relation": "raw.contacts",
        "key": "contact_id",
        "columns": {
            "name": "string",
            "city": "string",
            "score_num": "number",
            "visits": "integer",
            "vip": "boolean",
            "birth_date": "date",
            "created_at": "timestamp",
            "tags": "list",
        },
    },
    "streams": {
        "events": {
            "relation": "raw.events",
            "contact_key": "contact_id",
            "timestamp": "occurred_at",
            "event_type": "event_type",
            "columns": {"url": "string", "campaign": "string", "amount": "number", "qty": "integer"},
        },
        "orders": {
            "relation": "raw.orders",
            "contact_key": "contact_id",
            "timestamp": "ordered_at",
            "columns": {"amount": "number", "status": "string"},
        },
    },
}
SCHEMA = Schema.from_yaml_sources(SOURCES)

# ------------------------------------------------------------------------------ value pools

DURATIONS = ("1h", "12h", "1d", "7d", "2w", "30d", "1mo", "3mo", "90d", "1y", "2y")
HALF_LIVES = ("5h", "12h", "1d", "7d", "2w", "30d")
EVENT_TYPES = ("page_view", "email_open", "email_click", "form_submit", "cart_add", "purchase")
TEXT = {  # data values per string column
    "name": ("Anna", "anna", "ANNA", "Łukasz", "łukasz", "Zoë", "x_y", "100%", ""),
    "city": ("Kraków", "KRAKÓW", "kraków", "Krakow", "Warszawa", "warszawa", "Gdańsk", ""),
    "url": ("/a", "/a/b", "/A", "/szkolenia/a", "/SZKOLENIA", "ab", "xy", "x1y", "/b?id=10", "/c%d", ""),
    "campaign": ("spring", "Spring", "SPRING", "summer_2026", "summerX2026", "x_y"),
    "status": ("paid", "PAID", "cancelled", "refunded"),
}
FRAGMENTS = {  # arguments of contains / icontains / starts_with / ends_with per string column
    "name": ("A", "a", "nn", "NA", "Ł", "ł", "ë", "_", "%", "x"),
    "city": ("Kra", "KRA", "kra", "ków", "KÓW", "ó", "szawa", "W", "w"),
    "url": ("/a", "/A", "szkolenia", "SZKOLENIA", "b", "y", "%", "_", "/c"),
    "campaign": ("spring", "Spr", "SPR", "summer_", "_", "X", "2026"),
    "status": ("paid", "PA", "cancel", "ed"),
}
PATTERNS = ("^/a", "b$", "x.*y", "[0-9]+", "^K", "ó", "^[A-Z]")
NUMBERS = (0, 0.1, 0.2, 0.25, 0.3, 0.5, 1, 1.5, 2.5, 10, -1)
INTEGERS = (0, 1, 2, 3, 10)
COUNTS = (0, 1, 2, 3)
YEARS = (0, 1, 25, 26, 30, 35, 36)
TAG_VALUES = ("a", "b", "vip", "A")
TAG_LISTS = ([], ["a"], ["a", "b"], ["b", None], ["vip", "a"], ["A"], [None])
SCORE_VALUES = (-5, 0, 0.8, 5, 10, 12.5, 25, 60)
POINTS = (-20, -5, 0.1, 0.7, 1, 2.5, 5, 10, 25)
MAX_KEY = 14  # contacts use keys 1..12; rows may also point at 13, 14 (orphans) or None

OPERATORS = {
    "string": ("eq", "ne", "in", "not_in", "contains", "icontains", "starts_with", "ends_with", "matches", "is_null"),
    "number": ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null"),
    "integer": ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null"),
    "boolean": ("eq", "ne", "is_null"),
    "date": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "within", "older_than", "age", "is_null"),
    "timestamp": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "within", "older_than", "age", "is_null"),
    "list": ("has", "has_any", "has_all", "is_null"),
}
ORDERING = ("eq", "ne", "gt", "gte", "lt", "lte", "between")


def edge_timestamps(as_of: datetime) -> list[datetime]:
    """as_of, one second after it, every window edge of DURATIONS ± 1s, and month boundaries."""
    second = timedelta(seconds=1)
    month_start = as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    points = {as_of, as_of - second, as_of + second, as_of.replace(hour=0, minute=0, second=0)}
    points |= {month_start, month_start - second, add_months(month_start, -1) - second}
    for duration in DURATIONS:
        edge = shift(as_of, duration, -1)
        points |= {edge - second, edge, edge + second}
    return sorted(points)


def edge_dates(as_of: datetime) -> list[date]:
    """as_of's date ± 1 day, its month-day in past years ± 1 day, Feb 28/29 and Mar 1 of leap years."""
    today = as_of.date()
    day = timedelta(days=1)
    points = {today, today - day, today + day, today.replace(day=1), today.replace(day=1) - day}
    for years in (1, 26, 36):
        anniversary = add_months(as_of, -12 * years).date()
        points |= {anniversary - day, anniversary, anniversary + day}
    for leap_year in (1996, 2000, 2024):
        points |= {date(leap_year, 2, 28), date(leap_year, 2, 29), date(leap_year, 3, 1)}
    return sorted(points)


def nullable(pool) -> st.SearchStrategy:
    return st.sampled_from((None, *pool))


# ------------------------------------------------------------------------------ data


@st.composite
def datasets(draw, as_of: datetime = AS_OF) -> Dataset:
    stamps, dates = edge_timestamps(as_of), edge_dates(as_of)
    keys = draw(st.lists(st.integers(1, 12), unique=True, min_size=draw(st.integers(0, 12)), max_size=12))
    contact = st.fixed_dictionaries(
        {
            "name": nullable(TEXT["name"]),
            "city": nullable(TEXT["city"]),
            "score_num": nullable(NUMBERS),
            "visits": nullable(INTEGERS),
            "vip": nullable((True, False)),
            "birth_date": nullable(dates),
            "created_at": nullable(stamps),
            "tags": nullable(TAG_LISTS).map(lambda tags: None if tags is None else list(tags)),
        }
    )
    contacts = [{"contact_id": key, **draw(contact)} for key in keys]
    # mostly real contacts, so that each has several rows; sometimes NULL or an orphan key
    contact_ref = st.one_of(st.sampled_from(keys), nullable(range(1, MAX_KEY + 1))) if keys else nullable(range(1, MAX_KEY + 1))
    event = st.fixed_dictionaries(
        {
            "contact_id": contact_ref,
            "occurred_at": nullable(stamps),
            "event_type": nullable(EVENT_TYPES),
            "url": nullable(TEXT["url"]),
            "campaign": nullable(TEXT["campaign"]),
            "amount": nullable(NUMBERS),
            "qty": nullable(INTEGERS),
        }
    )
    order = st.fixed_dictionaries(
        {
            "contact_id": contact_ref,
            "ordered_at": nullable(stamps),
            "amount": nullable(NUMBERS),
            "status": nullable(TEXT["status"]),
        }
    )
    return Dataset(
        contacts=contacts,
        streams={
            "events": draw(st.lists(event, min_size=draw(st.integers(0, 40)), max_size=40)),
            "orders": draw(st.lists(order, min_size=draw(st.integers(0, 40)), max_size=40)),
        },
    )


# ------------------------------------------------------------------------------ conditions


def scalars(col_type: str, column: str, as_of: datetime) -> st.SearchStrategy:
    """Comparison values of a column's type, as YAML would load them."""
    if col_type == "string":
        return st.sampled_from(TEXT[column])
    if col_type == "number":
        return st.sampled_from(NUMBERS)
    if col_type == "integer":
        return st.sampled_from(INTEGERS)
    if col_type == "boolean":
        return st.booleans()
    if col_type == "date":
        return st.sampled_from(edge_dates(as_of))
    if col_type == "timestamp":  # a YAML date literal compares as midnight
        return st.sampled_from(edge_timestamps(as_of) + [as_of.date(), as_of.date() - timedelta(days=1)])
    raise ValueError(col_type)


@st.composite
def comparisons(draw, values: st.SearchStrategy, operators=ORDERING) -> dict:
    """{OP: v, ...} with one or two distinct operators."""
    ops = draw(st.lists(st.sampled_from(operators), min_size=1, max_size=2, unique=True))
    return {op: draw(bounds(values) if op == "between" else values) for op in ops}


def bounds(values: st.SearchStrategy) -> st.SearchStrategy:
    """[low, high] for between (a reversed pair is a validation error, not an empty range)."""
    def key(v):
        return to_datetime(v) if isinstance(v, (date, str)) else v
    return st.lists(values, min_size=2, max_size=2).map(lambda pair: sorted(pair, key=key))


def argument(op: str, col_type: str, column: str, as_of: datetime) -> st.SearchStrategy:
    if op == "is_null":
        return st.booleans()
    if op in ("within", "older_than"):
        return st.sampled_from(DURATIONS)
    if op == "age":
        return comparisons(st.sampled_from(YEARS))
    if op == "has":
        return st.sampled_from(TAG_VALUES)
    if op in ("has_any", "has_all"):
        return st.lists(st.sampled_from(TAG_VALUES), min_size=1, max_size=3, unique=True)
    if op == "matches":
        return st.sampled_from(PATTERNS)
    if op in ("contains", "icontains", "starts_with", "ends_with"):
        return st.sampled_from(FRAGMENTS[column])
    values = scalars(col_type, column, as_of)
    if op in ("in", "not_in"):
        return st.lists(values, min_size=1, max_size=3, unique=True)
    if op == "between":
        return bounds(values)
    return values


@st.composite
def operator_maps(draw, column: str, col_type: str, as_of: datetime) -> dict:
    ops = draw(st.lists(st.sampled_from(OPERATORS[col_type]), min_size=1, max_size=2, unique=True))
    return {op: draw(argument(op, col_type, column, as_of)) for op in ops}


@st.composite
def attribute_conditions(draw, as_of: datetime = AS_OF) -> dict:
    column = draw(st.sampled_from(sorted(SCHEMA.columns)))
    return {"attribute": column, **draw(operator_maps(column, SCHEMA.columns[column], as_of))}


@st.composite
def where_maps(draw, stream: str, as_of: datetime) -> dict:
    columns = SCHEMA.streams[stream].columns
    chosen = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, max_size=2, unique=True))
    return {col: draw(operator_maps(col, columns[col], as_of)) for col in chosen}


@st.composite
def aggregates(draw, stream: str) -> tuple[str, dict]:
    columns = SCHEMA.streams[stream].columns
    numeric = sorted(c for c, t in columns.items() if t in ("number", "integer"))
    name = draw(st.sampled_from(("count", "distinct", "sum", "avg", "min", "max", "first", "last")))
    if name == "count":
        return name, draw(comparisons(st.sampled_from(COUNTS)))
    if name == "distinct":
        return name, {"of": draw(st.sampled_from(sorted(columns))), **draw(comparisons(st.sampled_from(COUNTS)))}
    if name in ("first", "last"):
        return name, draw(comparisons(st.sampled_from(DURATIONS), operators=("within", "older_than")))
    return name, {"of": draw(st.sampled_from(numeric)), **draw(comparisons(st.sampled_from(NUMBERS)))}


@st.composite
def event_filters(draw, stream: str, default_stream: str, as_of: datetime) -> dict:
    """event / stream / where of one stream; names the stream unless it is the default and
    an event is named (so the condition is never a bare `within`)."""
    cond = {}
    if SCHEMA.streams[stream].event_type and draw(st.booleans()):
        cond["event"] = draw(st.one_of(
            st.sampled_from(EVENT_TYPES),
            st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=3, unique=True),
        ))
    if "event" not in cond or stream != default_stream or draw(st.booleans()):
        cond["stream"] = stream
    if draw(st.booleans()):
        cond["where"] = draw(where_maps(stream, as_of))
    return cond


@st.composite
def event_conditions(draw, as_of: datetime = AS_OF, plain: bool = False) -> dict:
    """An event condition; `plain` ones have no aggregate and no not_followed_by (per_event)."""
    stream = draw(st.sampled_from(("events", "events", "orders")))
    cond = draw(event_filters(stream, "events", as_of))
    if draw(st.booleans()):
        cond["within"] = draw(st.sampled_from(DURATIONS))
    if not plain and draw(st.booleans()):
        name, spec = draw(aggregates(stream))
        cond[name] = spec
    if not plain and draw(st.integers(0, 3)) == 0:
        # the second kind's stream defaults to the first's
        follower = draw(event_filters(draw(st.sampled_from(("events", "orders"))), stream, as_of))
        if draw(st.booleans()):
            follower["within"] = draw(st.sampled_from(DURATIONS))
        cond["not_followed_by"] = follower
    return cond


@st.composite
def shared_filter_projects(draw, as_of: datetime = AS_OF) -> dict:
    """Segments that all read one row filter, in different windows and aggregates, some as the
    first kind of a not_followed_by: the plan evaluates the filter once and reads each stream
    only within the widest window a filter is used in, which must change no result."""
    stream = draw(st.sampled_from(("events", "orders")))
    base = draw(event_filters(stream, "events", as_of))
    segments = []
    for i in range(draw(st.integers(2, 4))):
        cond = dict(base)
        if i == 0 or draw(st.booleans()):
            cond["within"] = draw(st.sampled_from(DURATIONS))
        kind = draw(st.sampled_from(("aggregate", "follow", "plain")))
        if kind == "aggregate":
            name, spec = draw(aggregates(stream))
            cond[name] = spec
        elif kind == "follow":
            cond["not_followed_by"] = draw(event_filters(draw(st.sampled_from(("events", "orders"))), stream, as_of))
        segments.append({"name": f"seg_{i}", "rule": draw(st.sampled_from((cond, {"not": cond})))})
    return {"version": 1, "sources": SOURCES, "segments": segments}


@lru_cache(maxsize=None)
def conditions(depth: int = 2, as_of: datetime = AS_OF) -> st.SearchStrategy:
    """Random condition trees without references to named definitions."""
    leaves = st.one_of(attribute_conditions(as_of), event_conditions(as_of))
    if depth <= 0:
        return leaves
    inner = conditions(depth - 1, as_of)
    return st.one_of(
        leaves,
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
        inner.map(lambda c: {"not": c}),
    )


# ------------------------------------------------------------------------------ projects


@st.composite
def rules(draw, refs: tuple, as_of: datetime, depth: int = 2, force_ref: bool = False) -> dict:
    """A condition, possibly combined with a reference drawn from `refs`."""
    cond = draw(conditions(depth, as_of))
    if not refs or not (force_ref or draw(st.booleans())):
        return cond
    ref = draw(st.one_of(*refs))
    shape = draw(st.sampled_from(("all", "any", "not", "alone")))
    if shape == "alone":
        return ref
    if shape == "not":
        return {"not": ref}
    return {shape: draw(st.permutations([cond, ref]))}


@st.composite
def grade_lists(draw) -> list[dict]:
    hot = {"name": "hot", "gte": draw(st.sampled_from((10, 25, 60)))}
    warm = {"name": "warm", "gte": draw(st.sampled_from((0, 5)))}
    if draw(st.booleans()):
        warm["lt"] = hot["gte"]
    grades = [hot, warm]
    if draw(st.booleans()):
        grades.append({"name": "negative", "lt": 0})
    if draw(st.booleans()):
        grades.append({"name": "cold"})
    return grades


@st.composite
def score_definitions(draw, name: str, refs: tuple, as_of: datetime) -> dict:
    score_rules = []
    for _ in range(draw(st.integers(1, 4))):
        rule = {"points": draw(st.sampled_from(POINTS))}
        if draw(st.booleans()):
            rule["when"] = draw(event_conditions(as_of, plain=True))
            rule["per_event"] = True
        else:
            rule["when"] = draw(rules(refs, as_of, depth=1))
        if draw(st.booleans()):
            rule["cap"] = draw(st.sampled_from((5, 12, 30)))
        score_rules.append(rule)
    score = {"name": name, "rules": score_rules}
    if draw(st.booleans()):
        score["decay"] = {"half_life": draw(st.sampled_from(HALF_LIVES))}
    if draw(st.booleans()):
        score["min"] = draw(st.sampled_from((0, -10)))
    if draw(st.booleans()):
        score["max"] = draw(st.sampled_from((20, 100)))
    if draw(st.booleans()):
        score["grades"] = draw(grade_lists())
    return score


def one_or_many(names: list[str]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(names), st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))


def score_references(score: dict) -> st.SearchStrategy:
    value = comparisons(st.sampled_from(SCORE_VALUES)).map(lambda ops: {"score": score["name"], **ops})
    if not score.get("grades"):
        return value
    grade = one_or_many([g["name"] for g in score["grades"]]).map(lambda g: {"score": score["name"], "grade": g})
    return st.one_of(value, grade)


@st.composite
def rfm_definitions(draw, name: str = "rfm_orders") -> dict:
    bins = draw(st.integers(2, 5))
    rfm = {"name": name, "stream": "orders", "monetary": "amount", "bins": bins}
    if draw(st.booleans()):
        rfm["where"] = draw(st.sampled_from((
            {"status": {"ne": "cancelled"}},
            {"amount": {"gt": 0}},
            {"status": {"in": ["paid", "PAID"]}},
        )))
    if draw(st.booleans()):
        rfm["within"] = draw(st.sampled_from(("30d", "3mo", "1y")))
    if draw(st.booleans()):
        segments = []
        for i in range(draw(st.integers(1, 3))):
            segment = {"name": f"rs_{i}"}
            for letter in draw(st.lists(st.sampled_from("rfm"), min_size=1, max_size=3, unique=True)):
                lo = draw(st.integers(1, bins))
                segment[letter] = [lo, draw(st.integers(lo, bins))]
            segments.append(segment)
        if draw(st.booleans()):
            segments.append({"name": "rs_other"})
        rfm["segments"] = segments
    return rfm


def rfm_references(rfm: dict) -> st.SearchStrategy:
    names = [s["name"] for s in rfm.get("segments") or DEFAULT_RFM_SEGMENTS]
    by_segment = one_or_many(names).map(lambda s: {"rfm": rfm["name"], "segment": s})

    @st.composite
    def by_scores(draw):
        letters = draw(st.lists(st.sampled_from("rfm"), min_size=1, max_size=3, unique=True))
        values = st.integers(1, rfm["bins"])
        return {"rfm": rfm["name"], **{k: draw(comparisons(values)) for k in letters}}

    return st.one_of(by_segment, by_scores())


@st.composite
def lifecycle_definitions(draw, name: str, refs: tuple, as_of: datetime) -> dict:
    names = draw(st.lists(st.sampled_from(("loyal", "customer", "ready", "engaged")), min_size=1, max_size=4, unique=True))
    stages = [{"name": stage, "when": draw(rules(refs, as_of, depth=1))} for stage in names]
    return {"name": name, "stages": stages, "default": "prospect"}


def lifecycle_references(lifecycle: dict) -> st.SearchStrategy:
    names = [s["name"] for s in lifecycle["stages"]] + [lifecycle["default"]]
    return one_or_many(names).map(lambda s: {"lifecycle": lifecycle["name"], "stage": s})


@st.composite
def projects(draw, as_of: datetime = AS_OF) -> dict:
    """Segments may reference earlier segments; scores reference segments (and earlier scores);
    the lifecycle references all of those and the RFM; a last segment may reference anything."""
    project = {"version": 1, "sources": SOURCES, "segments": []}
    refs: list[st.SearchStrategy] = []
    for i in range(draw(st.integers(1, 4))):
        project["segments"].append({"name": f"seg_{i}", "rule": draw(rules(tuple(refs), as_of))})
        refs.append(st.just({"segment": f"seg_{i}"}))
    late_refs = []
    for i in range(draw(st.integers(0, 2))):
        score = draw(score_definitions(f"score_{i}", tuple(refs + late_refs), as_of))
        project.setdefault("scores", []).append(score)
        late_refs.append(score_references(score))
    if draw(st.booleans()):
        rfm = draw(rfm_definitions())
        project["rfm"] = [rfm]
        late_refs.append(rfm_references(rfm))
    if draw(st.booleans()):
        lifecycle = draw(lifecycle_definitions("journey", tuple(refs + late_refs), as_of))
        project["lifecycles"] = [lifecycle]
        late_refs.append(lifecycle_references(lifecycle))
    if late_refs and draw(st.booleans()):
        rule = draw(rules(tuple(late_refs), as_of, depth=1, force_ref=True))
        project["segments"].append({"name": "seg_top", "rule": rule})
    return project
