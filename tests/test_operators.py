"""Hand-computed DuckDB execution tests for every operator and construct of SPEC §2–§4.

Each case is a rule, a few rows and the member ids worked out by hand from the spec. Both the
shared plan (the dbt model's SQL) and the direct translation (the dbt rule tests' SQL) run on
the same in-memory DuckDB and must give exactly that answer; every check also evaluates
`{not: rule}`, which must give exactly the other contacts (conditions are two-valued, so a NULL
never drops a contact from both sides).

Unless a case says otherwise, as_of is AS_OF = 2026-03-31 12:00:00.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

from compiler.errors import CompileError
from harness import SQL_TYPES, compile_project, direct_membership, load_tables, warehouse_result
from reference import Dataset
from strategies import AS_OF, SOURCES

SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
CONTACT_COLUMNS = tuple(SOURCES["contacts"]["columns"])
EVENT_COLUMNS = tuple(SOURCES["streams"]["events"]["columns"])


def contact(cid, **columns):
    return {"contact_id": cid, **dict.fromkeys(CONTACT_COLUMNS), **columns}


def event(cid, ts, event_type="page_view", **columns):
    return {"contact_id": cid, "occurred_at": ts, "event_type": event_type, **dict.fromkeys(EVENT_COLUMNS), **columns}


def order(cid, ts, amount=None, status="paid"):
    return {"contact_id": cid, "ordered_at": ts, "amount": amount, "status": status}


@functools.cache
def connection() -> duckdb.DuckDBPyConnection:
    """One in-memory database for all these tests: load_tables replaces every table it declares."""
    return duckdb.connect()


_loaded = {"rows": None}  # what the tables hold now: consecutive cases often share their rows


def project_result(definitions, contacts, streams: dict, as_of=AS_OF, sources=SOURCES):
    """(shared-plan result, direct-translation membership) of a whole project over the rows."""
    project = compile_project(definitions, sources)
    con = connection()
    rows = repr((sources, contacts, streams))
    if _loaded["rows"] != rows:
        load_tables(con, sources, Dataset(contacts=list(contacts), streams={n: list(r) for n, r in streams.items()}))
        _loaded["rows"] = rows
    return warehouse_result(con, project, as_of), direct_membership(con, project, as_of)


def members_both(rule, contacts, streams: dict, as_of=AS_OF, sources=SOURCES) -> dict[str, set]:
    """Member ids of `rule` and of `{not: rule}`, by the shared plan and by the direct translation."""
    definitions = {"segments": [{"name": "s", "rule": rule}, {"name": "not_s", "rule": {"not": rule}}]}
    shared, direct = project_result(definitions, contacts, streams, as_of, sources)
    found = {"shared": shared.membership, "direct": direct}
    return {f"{how}{suffix}": {c for c, name in members if name == segment}
            for how, members in found.items() for segment, suffix in (("s", ""), ("not_s", ", not"))}


def expectation(expected, contacts, key="contact_id") -> dict[str, set]:
    """`expected` members, and the rest of the contacts for the rule's `not` (two-valued logic)."""
    rest = {c[key] for c in contacts} - set(expected)
    return {"shared": set(expected), "direct": set(expected), "shared, not": rest, "direct, not": rest}


def check(rule, contacts, expected, events=(), orders=(), as_of=AS_OF):
    got = members_both(rule, contacts, {"events": events, "orders": orders}, as_of)
    assert got == expectation(expected, contacts)


def valued(column, values: dict):
    """Contacts whose only set column is `column`, from {contact_id: value}."""
    return [contact(cid, **{column: v}) for cid, v in values.items()]


# ------------------------------------------------------------------------------ attribute operators
# One table per column type; every table has a NULL row, so each case also shows the NULL rule:
# false for every operator except ne, not_in and is_null: true.

CITY = {1: "Kraków", 2: "KRAKÓW", 3: "kraków", 4: "Krakow", 5: "", 6: None}
NAME = {1: "a", 2: "b", 3: "c", 4: None, 5: "x_y", 6: "xay", 7: "100%", 8: "1000"}
SCORE_NUM = {1: -1, 2: 0, 3: 0.5, 4: 1.5, 5: 10, 6: None}
VISITS = {1: 0, 2: 1, 3: 2, 4: 3, 5: 10, 6: None}
VIP = {1: True, 2: False, 3: None}
BIRTH = {1: date(2026, 3, 30), 2: date(2026, 3, 31), 3: date(2026, 4, 1), 4: None}
CREATED = {1: AS_OF - SECOND, 2: AS_OF, 3: AS_OF + SECOND, 4: None, 5: datetime(2026, 3, 31)}
QUOTED = {1: "O'Brien", 2: "C:\\temp", 3: 'say "hi"', 4: "Łódź", 5: "ŁÓDŹ", 6: "Zoë", 7: None}
TAGS = {1: None, 2: [], 3: ["a", "b"], 4: ["b", None], 5: [None], 6: ["A"], 7: ["vip", "a"], 8: ["o'k", "Łódź"]}

ATTRIBUTE_CASES = [
    # string
    ("city", CITY, {"eq": "Kraków"}, {1}),
    ("city", CITY, {"eq": ""}, {5}),
    ("city", CITY, {"ne": "Kraków"}, {2, 3, 4, 5, 6}),
    ("city", CITY, {"in": ["Kraków", "Krakow"]}, {1, 4}),
    ("city", CITY, {"not_in": ["Kraków", "Krakow"]}, {2, 3, 5, 6}),
    ("city", CITY, {"contains": "ków"}, {1, 3}),
    ("city", CITY, {"contains": "KÓW"}, {2}),
    ("city", CITY, {"contains": "rak"}, {1, 3, 4}),
    ("city", CITY, {"icontains": "KÓW"}, {1, 2, 3}),
    ("city", CITY, {"icontains": "kraków"}, {1, 2, 3}),
    ("city", CITY, {"icontains": "RAKO"}, {4}),
    ("city", CITY, {"starts_with": "Kra"}, {1, 4}),
    ("city", CITY, {"starts_with": "kra"}, {3}),
    ("city", CITY, {"ends_with": "ów"}, {1, 3}),
    ("city", CITY, {"ends_with": "ÓW"}, {2}),
    ("city", CITY, {"matches": "^K"}, {1, 2, 4}),
    ("city", CITY, {"matches": "ó"}, {1, 3}),  # search, not full match
    ("city", CITY, {"matches": "ow$"}, {4}),
    ("city", CITY, {"matches": "^$"}, {5}),
    ("city", CITY, {"contains": ""}, {1, 2, 3, 4, 5}),  # the empty string is in every string
    ("city", CITY, {"starts_with": ""}, {1, 2, 3, 4, 5}),
    ("city", CITY, {"matches": ""}, {1, 2, 3, 4, 5}),
    ("city", CITY, {"is_null": True}, {6}),
    ("city", CITY, {"is_null": False}, {1, 2, 3, 4, 5}),
    ("city", CITY, {"starts_with": "K", "ends_with": "w"}, {1, 4}),
    ("city", CITY, {"ne": "Kraków", "icontains": "kraków"}, {2, 3}),
    ("name", NAME, {"gt": "a", "lt": "c"}, {2}),
    ("name", NAME, {"gte": "b", "lte": "c"}, {2, 3}),
    ("name", NAME, {"between": ["a", "b"]}, {1, 2}),
    ("name", NAME, {"contains": "_"}, {5}),  # no LIKE wildcards
    ("name", NAME, {"starts_with": "x_"}, {5}),
    ("name", NAME, {"ends_with": "%"}, {7}),
    ("name", NAME, {"contains": "0%"}, {7}),
    ("name", NAME, {"icontains": "_Y"}, {5}),
    ("name", NAME, {"matches": "x.y"}, {5, 6}),
    ("name", NAME, {"matches": "^[0-9]+$"}, {8}),
    ("name", NAME, {"matches": "^1|y$"}, {5, 6, 7, 8}),
    # values reach SQL as literals: quotes and backslashes are data, Polish letters fold case
    ("name", QUOTED, {"eq": "O'Brien"}, {1}),
    ("name", QUOTED, {"in": ["O'Brien", 'say "hi"']}, {1, 3}),
    ("name", QUOTED, {"contains": "'"}, {1}),
    ("name", QUOTED, {"contains": "\\"}, {2}),
    ("name", QUOTED, {"starts_with": "C:\\t"}, {2}),
    ("name", QUOTED, {"ends_with": '"'}, {3}),
    ("name", QUOTED, {"matches": "\\\\temp"}, {2}),
    ("name", QUOTED, {"matches": "[ ]"}, {3}),
    ("name", QUOTED, {"icontains": "łódź"}, {4, 5}),
    ("name", QUOTED, {"icontains": "ŁÓD"}, {4, 5}),
    ("name", QUOTED, {"contains": "Łó"}, {4}),
    ("name", QUOTED, {"ne": "ŁÓDŹ"}, {1, 2, 3, 4, 6, 7}),
    ("name", QUOTED, {"matches": "^Łód.$"}, {4}),  # one character, however many bytes
    ("name", QUOTED, {"matches": "^.{4}$"}, {4, 5}),
    # number
    ("score_num", SCORE_NUM, {"eq": 0.5}, {3}),
    ("score_num", SCORE_NUM, {"eq": 10}, {5}),
    ("score_num", SCORE_NUM, {"ne": 0.5}, {1, 2, 4, 5, 6}),
    ("score_num", SCORE_NUM, {"in": [0, 10]}, {2, 5}),
    ("score_num", SCORE_NUM, {"not_in": [0, 10]}, {1, 3, 4, 6}),
    ("score_num", SCORE_NUM, {"gt": 0.5}, {4, 5}),
    ("score_num", SCORE_NUM, {"gte": 0.5}, {3, 4, 5}),
    ("score_num", SCORE_NUM, {"lt": 0.5}, {1, 2}),
    ("score_num", SCORE_NUM, {"lte": 0.5}, {1, 2, 3}),
    ("score_num", SCORE_NUM, {"between": [0, 1.5]}, {2, 3, 4}),
    ("score_num", SCORE_NUM, {"between": [-1, -1]}, {1}),
    ("score_num", SCORE_NUM, {"is_null": True}, {6}),
    ("score_num", SCORE_NUM, {"is_null": False}, {1, 2, 3, 4, 5}),
    ("score_num", SCORE_NUM, {"gte": 0, "ne": 0.5}, {2, 4, 5}),
    # integer
    ("visits", VISITS, {"eq": 0}, {1}),
    ("visits", VISITS, {"ne": 0}, {2, 3, 4, 5, 6}),
    ("visits", VISITS, {"in": [1, 3]}, {2, 4}),
    ("visits", VISITS, {"not_in": [1, 3]}, {1, 3, 5, 6}),
    ("visits", VISITS, {"gt": 2}, {4, 5}),
    ("visits", VISITS, {"gte": 2}, {3, 4, 5}),
    ("visits", VISITS, {"lt": 2}, {1, 2}),
    ("visits", VISITS, {"lte": 2}, {1, 2, 3}),
    ("visits", VISITS, {"between": [1, 3]}, {2, 3, 4}),
    ("visits", VISITS, {"is_null": True}, {6}),
    ("visits", VISITS, {"is_null": False}, {1, 2, 3, 4, 5}),
    ("visits", VISITS, {"gt": 0, "lt": 10}, {2, 3, 4}),
    # boolean
    ("vip", VIP, {"eq": True}, {1}),
    ("vip", VIP, {"eq": False}, {2}),
    ("vip", VIP, {"ne": True}, {2, 3}),
    ("vip", VIP, {"ne": False}, {1, 3}),
    ("vip", VIP, {"is_null": True}, {3}),
    ("vip", VIP, {"is_null": False}, {1, 2}),
    # date
    ("birth_date", BIRTH, {"eq": date(2026, 3, 31)}, {2}),
    ("birth_date", BIRTH, {"ne": date(2026, 3, 31)}, {1, 3, 4}),
    ("birth_date", BIRTH, {"in": [date(2026, 3, 30), date(2026, 4, 1)]}, {1, 3}),
    ("birth_date", BIRTH, {"not_in": [date(2026, 3, 30), date(2026, 4, 1)]}, {2, 4}),
    ("birth_date", BIRTH, {"gt": date(2026, 3, 31)}, {3}),
    ("birth_date", BIRTH, {"gte": date(2026, 3, 31)}, {2, 3}),
    ("birth_date", BIRTH, {"lt": date(2026, 3, 31)}, {1}),
    ("birth_date", BIRTH, {"lte": date(2026, 3, 31)}, {1, 2}),
    ("birth_date", BIRTH, {"between": [date(2026, 3, 30), date(2026, 3, 31)]}, {1, 2}),
    ("birth_date", BIRTH, {"is_null": True}, {4}),
    ("birth_date", BIRTH, {"is_null": False}, {1, 2, 3}),
    # timestamp (5 is midnight of as_of's day; a date literal compares as midnight)
    ("created_at", CREATED, {"eq": AS_OF}, {2}),
    ("created_at", CREATED, {"ne": AS_OF}, {1, 3, 4, 5}),
    ("created_at", CREATED, {"in": [AS_OF - SECOND, AS_OF + SECOND]}, {1, 3}),
    ("created_at", CREATED, {"not_in": [AS_OF - SECOND, AS_OF + SECOND]}, {2, 4, 5}),
    ("created_at", CREATED, {"gt": AS_OF}, {3}),
    ("created_at", CREATED, {"gte": AS_OF}, {2, 3}),
    ("created_at", CREATED, {"lt": AS_OF}, {1, 5}),
    ("created_at", CREATED, {"lte": AS_OF}, {1, 2, 5}),
    ("created_at", CREATED, {"between": [AS_OF - SECOND, AS_OF]}, {1, 2}),
    ("created_at", CREATED, {"eq": date(2026, 3, 31)}, {5}),
    ("created_at", CREATED, {"gt": date(2026, 3, 31)}, {1, 2, 3}),
    ("created_at", CREATED, {"between": [date(2026, 3, 30), date(2026, 3, 31)]}, {5}),
    ("created_at", CREATED, {"is_null": True}, {4}),
    ("created_at", CREATED, {"is_null": False}, {1, 2, 3, 5}),
    # list (NULL elements are never matched; case-sensitive)
    ("tags", TAGS, {"has": "a"}, {3, 7}),
    ("tags", TAGS, {"has": "A"}, {6}),
    ("tags", TAGS, {"has": "b"}, {3, 4}),
    ("tags", TAGS, {"has_any": ["a", "vip"]}, {3, 7}),
    ("tags", TAGS, {"has_any": ["A", "b"]}, {3, 4, 6}),
    ("tags", TAGS, {"has_all": ["a", "b"]}, {3}),
    ("tags", TAGS, {"has_all": ["b"]}, {3, 4}),
    ("tags", TAGS, {"has_all": ["vip", "a"]}, {7}),
    ("tags", TAGS, {"has_all": ["a", "b", "vip"]}, set()),
    ("tags", TAGS, {"has": "o'k"}, {8}),
    ("tags", TAGS, {"has": "łódź"}, set()),
    ("tags", TAGS, {"has_any": ["Łódź", "A"]}, {6, 8}),
    ("tags", TAGS, {"is_null": True}, {1}),
    ("tags", TAGS, {"is_null": False}, {2, 3, 4, 5, 6, 7, 8}),
]


def _case_id(case) -> str:
    column, _, ops, _ = case
    return f"{column}-" + "-".join(f"{k}={v}" for k, v in ops.items())


@pytest.mark.parametrize("column, values, ops, expected", ATTRIBUTE_CASES, ids=map(_case_id, ATTRIBUTE_CASES))
def test_attribute_operator(column, values, ops, expected):
    check({"attribute": column, **ops}, valued(column, values), expected)


# ------------------------------------------------------------------------------ where operators
# The same operators on stream columns: a row passes or not, and a contact is a member when one
# of its rows passes. A NULL-valued row passes ne / not_in / is_null: true only; contact 9 has no
# rows at all and is never a member, whatever the operator.

WHERE_ROWS = [
    event(1, AS_OF - DAY, url="/szkolenia/a", campaign="spring", amount=10, qty=1),
    event(2, AS_OF - DAY, url="/SZKOLENIA", campaign="Spring", amount=0.5, qty=3),
    event(3, AS_OF - DAY, "email_open", url="/b?id=10", campaign="summer_2026", amount=-1, qty=0),
    event(4, AS_OF - DAY, None, url=None, campaign=None, amount=None, qty=None),
    event(5, AS_OF - DAY + SECOND, url="/c%d", campaign="summerX2026", amount=2.5, qty=10),
]
WHERE_CONTACTS = [contact(c) for c in (1, 2, 3, 4, 5, 9)]

WHERE_CASES = [
    ({"url": {"eq": "/SZKOLENIA"}}, {2}),
    ({"url": {"ne": "/SZKOLENIA"}}, {1, 3, 4, 5}),
    ({"url": {"in": ["/szkolenia/a", "/c%d"]}}, {1, 5}),
    ({"url": {"not_in": ["/szkolenia/a", "/c%d"]}}, {2, 3, 4}),
    ({"url": {"contains": "/szkolenia"}}, {1}),
    ({"url": {"icontains": "/szkolenia"}}, {1, 2}),
    ({"url": {"contains": "%"}}, {5}),
    ({"url": {"starts_with": "/b?"}}, {3}),
    ({"url": {"ends_with": "/a"}}, {1}),
    ({"url": {"matches": "[0-9]+"}}, {3}),
    ({"url": {"is_null": True}}, {4}),
    ({"url": {"is_null": False}}, {1, 2, 3, 5}),
    ({"campaign": {"contains": "summer_"}}, {3}),
    ({"campaign": {"icontains": "SPR"}}, {1, 2}),
    ({"amount": {"eq": 0.5}}, {2}),
    ({"amount": {"ne": 0.5}}, {1, 3, 4, 5}),
    ({"amount": {"in": [10, -1]}}, {1, 3}),
    ({"amount": {"not_in": [10, -1]}}, {2, 4, 5}),
    ({"amount": {"gt": 0.5}}, {1, 5}),
    ({"amount": {"gte": 0.5}}, {1, 2, 5}),
    ({"amount": {"lt": 0.5}}, {3}),
    ({"amount": {"lte": 0.5}}, {2, 3}),
    ({"amount": {"between": [0, 2.5]}}, {2, 5}),
    ({"amount": {"is_null": True}}, {4}),
    ({"qty": {"eq": 0}}, {3}),
    ({"qty": {"ne": 0}}, {1, 2, 4, 5}),
    ({"qty": {"between": [1, 3]}}, {1, 2}),
    ({"qty": {"not_in": [1, 3]}}, {3, 4, 5}),
    ({"event_type": {"eq": "page_view"}}, {1, 2, 5}),
    ({"event_type": {"ne": "page_view"}}, {3, 4}),
    ({"event_type": {"is_null": True}}, {4}),
    ({"occurred_at": {"gt": AS_OF - DAY}}, {5}),
    ({"occurred_at": {"within": "1d"}}, {5}),
    ({"occurred_at": {"older_than": "1d"}}, {1, 2, 3, 4}),
    # several columns and several operators: all must hold on the same row
    ({"url": {"icontains": "szkolenia"}, "campaign": {"eq": "spring"}}, {1}),
    ({"amount": {"gt": 0, "lt": 10}, "qty": {"ne": 10}}, {2}),
]


@pytest.mark.parametrize("where, expected", WHERE_CASES, ids=[str(w) for w, _ in WHERE_CASES])
def test_where_operator(where, expected):
    check({"stream": "events", "where": where}, WHERE_CONTACTS, expected, WHERE_ROWS)


# A stream with a column of every type, under other key and column names than the defaults.
TYPED_SOURCES = {
    "contacts": {"relation": "crm.people", "key": "pid", "columns": {"nick": "string"}},
    "streams": {"events": {"relation": "crm.sessions", "contact_key": "person", "timestamp": "started",
                           "columns": {"device": "string", "pages": "integer", "revenue": "number",
                                       "mobile": "boolean", "day": "date", "seen_at": "timestamp",
                                       "labels": "list"}}},
}
TYPED_ROWS = [  # one row per contact, started a day ago; 4 is all NULL; 5 has no rows
    {"person": 1, "started": AS_OF - DAY, "device": "iPhone", "pages": 3, "revenue": 2.5, "mobile": True,
     "day": date(2026, 3, 30), "seen_at": AS_OF - HOUR, "labels": ["a", "b"]},
    {"person": 2, "started": AS_OF - DAY, "device": "Pixel", "pages": 1, "revenue": 0, "mobile": False,
     "day": date(2026, 3, 29), "seen_at": AS_OF - 2 * DAY, "labels": ["b", None]},
    {"person": 3, "started": AS_OF - DAY, "device": "", "pages": 0, "revenue": -1, "mobile": True,
     "day": date(2026, 3, 31), "seen_at": AS_OF + HOUR, "labels": []},
    {"person": 4, "started": AS_OF - DAY, "device": None, "pages": None, "revenue": None, "mobile": None,
     "day": None, "seen_at": None, "labels": None},
]


@pytest.mark.parametrize("where, expected", [
    ({"mobile": {"eq": True}}, {1, 3}),
    ({"mobile": {"eq": False}}, {2}),
    ({"mobile": {"ne": True}}, {2, 4}),
    ({"mobile": {"is_null": True}}, {4}),
    ({"day": {"eq": date(2026, 3, 30)}}, {1}),
    ({"day": {"ne": date(2026, 3, 30)}}, {2, 3, 4}),
    ({"day": {"gte": date(2026, 3, 30)}}, {1, 3}),
    ({"day": {"between": [date(2026, 3, 29), date(2026, 3, 30)]}}, {1, 2}),
    ({"day": {"within": "1d"}}, {3}),  # midnight of Mar 30 is before as_of − 1d
    ({"day": {"within": "2d"}}, {1, 3}),
    ({"day": {"older_than": "1d"}}, {1, 2}),
    ({"day": {"not_in": [date(2026, 3, 31)]}}, {1, 2, 4}),
    ({"seen_at": {"within": "1d"}}, {1}),  # 3's is after as_of
    ({"seen_at": {"older_than": "1d"}}, {2}),
    ({"seen_at": {"lt": AS_OF}}, {1, 2}),
    ({"seen_at": {"is_null": False}}, {1, 2, 3}),
    ({"labels": {"has": "b"}}, {1, 2}),
    ({"labels": {"has_all": ["a", "b"]}}, {1}),
    ({"labels": {"has_any": ["a", "z"]}}, {1}),
    ({"labels": {"is_null": True}}, {4}),
    ({"device": {"icontains": "IPHONE"}}, {1}),
    ({"device": {"not_in": ["iPhone", "Pixel"]}}, {3, 4}),
    ({"pages": {"gte": 1}}, {1, 2}),
    ({"pages": {"ne": 3}}, {2, 3, 4}),
    ({"revenue": {"lte": 0}}, {2, 3}),
    ({"revenue": {"not_in": [0]}}, {1, 3, 4}),
], ids=str)
def test_where_on_every_column_type(where, expected):
    contacts = [{"pid": c, "nick": None} for c in (1, 2, 3, 4, 5)]
    got = members_both({"stream": "events", "where": where}, contacts, {"events": TYPED_ROWS}, sources=TYPED_SOURCES)
    assert got == expectation(expected, contacts, "pid")


def test_where_columns_must_hold_on_the_same_row():
    events = [
        event(1, AS_OF - DAY, url="/szkolenia/a", campaign="spring"),
        event(2, AS_OF - DAY, url="/szkolenia/a", campaign="summer_2026"),
        event(2, AS_OF - DAY, url="/b", campaign="spring"),
        event(3, AS_OF - DAY, url=None, campaign="spring"),
    ]
    where = {"url": {"starts_with": "/szkolenia"}, "campaign": {"eq": "spring"}}
    check({"event": "page_view", "where": where}, [contact(c) for c in (1, 2, 3, 4)], {1}, events)


# ------------------------------------------------------------------------------ within / older_than on attributes
# (as_of, D, as_of − D by hand). Rows: one second outside the window, exactly on its open edge,
# one second inside, as_of itself, one second after as_of, NULL.

EDGES = [
    (AS_OF, "1h", datetime(2026, 3, 31, 11)),
    (AS_OF, "12h", datetime(2026, 3, 31, 0)),
    (AS_OF, "1d", datetime(2026, 3, 30, 12)),
    (AS_OF, "90d", datetime(2025, 12, 31, 12)),
    (AS_OF, "2w", datetime(2026, 3, 17, 12)),
    (AS_OF, "1mo", datetime(2026, 2, 28, 12)),  # Mar 31 − 1 month clamps to Feb 28
    (AS_OF, "3mo", datetime(2025, 12, 31, 12)),
    (AS_OF, "13mo", datetime(2025, 2, 28, 12)),
    (AS_OF, "1y", datetime(2025, 3, 31, 12)),
    (datetime(2028, 3, 31, 8), "1mo", datetime(2028, 2, 29, 8)),  # leap February
    (datetime(2028, 2, 29, 8), "1y", datetime(2027, 2, 28, 8)),  # leap day − 1 year
    (datetime(2028, 2, 29, 8), "4y", datetime(2024, 2, 29, 8)),
    (datetime(2026, 1, 1, 0, 30), "1h", datetime(2025, 12, 31, 23, 30)),  # across the year
]
EDGE_IDS = [f"{as_of:%Y-%m-%dT%H}-{d}" for as_of, d, _ in EDGES]


def edge_contacts(as_of, edge):
    return valued("created_at", {1: edge - SECOND, 2: edge, 3: edge + SECOND, 4: as_of, 5: as_of + SECOND, 6: None})


@pytest.mark.parametrize("as_of, duration, edge", EDGES, ids=EDGE_IDS)
def test_attribute_within_edges(as_of, duration, edge):
    contacts = edge_contacts(as_of, edge)
    check({"attribute": "created_at", "within": duration}, contacts, {3, 4}, as_of=as_of)


@pytest.mark.parametrize("as_of, duration, edge", EDGES, ids=EDGE_IDS)
def test_attribute_older_than_edges(as_of, duration, edge):
    contacts = edge_contacts(as_of, edge)
    check({"attribute": "created_at", "older_than": duration}, contacts, {1, 2}, as_of=as_of)


@pytest.mark.parametrize("ops, expected", [
    # a date is midnight: Mar 30 00:00 <= as_of − 1d = Mar 30 12:00 < Mar 31 00:00 <= as_of
    ({"within": "1d"}, {2}),
    ({"older_than": "1d"}, {1}),
    ({"within": "12h"}, set()),  # Mar 31 00:00 is exactly as_of − 12h: outside
    ({"within": "13h"}, {2}),
    ({"older_than": "12h"}, {1, 2}),
    ({"within": "2d"}, {1, 2}),  # Apr 1 is after as_of: never within
    ({"older_than": "1mo"}, set()),
], ids=str)
def test_date_within_and_older_than(ops, expected):
    check({"attribute": "birth_date", **ops}, valued("birth_date", BIRTH), expected)


def test_microsecond_edges():
    as_of = datetime(2026, 3, 31, 12, 0, 0, 500)
    micro = timedelta(microseconds=1)
    edge = datetime(2026, 3, 30, 12, 0, 0, 500)
    contacts = valued("created_at", {1: edge, 2: edge + micro, 3: as_of, 4: as_of + micro})
    events = [event(1, edge), event(2, edge + micro), event(3, as_of), event(4, as_of + micro)]
    check({"attribute": "created_at", "within": "1d"}, contacts, {2, 3}, as_of=as_of)
    check({"attribute": "created_at", "older_than": "1d"}, contacts, {1}, as_of=as_of)
    check({"event": "page_view", "within": "1d"}, contacts, {2, 3}, events, as_of=as_of)


def test_dates_at_a_midnight_as_of():
    as_of = datetime(2026, 3, 31)
    contacts = valued("birth_date", {1: date(2026, 3, 30), 2: date(2026, 3, 31), 3: date(2026, 4, 1), 4: None})
    check({"attribute": "birth_date", "within": "1d"}, contacts, {2}, as_of=as_of)  # Mar 30 is the open edge
    check({"attribute": "birth_date", "older_than": "1d"}, contacts, {1}, as_of=as_of)
    check({"attribute": "birth_date", "older_than": "1h"}, contacts, {1}, as_of=as_of)


# ------------------------------------------------------------------------------ age

BIRTHDAYS = {
    1: date(1990, 3, 31),  # birthday today: 36
    2: date(1990, 3, 30),  # yesterday: 36
    3: date(1990, 4, 1),  # tomorrow: still 35
    4: None,
    5: date(2000, 2, 29),  # 26
    6: date(2026, 3, 31),  # born today: 0
    7: date(2026, 4, 1),  # born after as_of: -1, matches nothing below
}


@pytest.mark.parametrize("ops, expected", [
    ({"eq": 36}, {1, 2}),
    ({"eq": 35}, {3}),
    ({"gte": 36}, {1, 2}),
    ({"gt": 35}, {1, 2}),
    ({"lt": 36}, {3, 5, 6, 7}),
    ({"ne": 36}, {3, 5, 6, 7}),  # NULL age is false, even for ne
    ({"between": [26, 35]}, {3, 5}),
    ({"in": [0, 26]}, {5, 6}),
    ({"not_in": [0, 26]}, {1, 2, 3, 7}),
    ({"eq": 0}, {6}),
    ({"gte": 0, "lt": 30}, {5, 6}),
], ids=str)
def test_age(ops, expected):
    check({"attribute": "birth_date", "age": ops}, valued("birth_date", BIRTHDAYS), expected)


@pytest.mark.parametrize("born, as_of, years", [
    (date(2000, 2, 29), datetime(2027, 2, 28, 23, 59, 59), 26),  # not reached in a common year...
    (date(2000, 2, 29), datetime(2027, 3, 1), 27),  # ...until Mar 1
    (date(2000, 2, 29), datetime(2028, 2, 28, 12), 27),
    (date(2000, 2, 29), datetime(2028, 2, 29), 28),
    (date(2000, 2, 28), datetime(2028, 2, 29), 28),
    (date(2000, 3, 1), datetime(2028, 2, 29, 23), 27),
    (date(1999, 12, 31), datetime(2026, 1, 1), 26),
    (date(2000, 1, 1), datetime(2025, 12, 31, 23, 59, 59), 25),
], ids=str)
def test_age_leap_day_and_year_ends(born, as_of, years):
    contacts = [contact(1, birth_date=born)]
    check({"attribute": "birth_date", "age": {"eq": years}}, contacts, {1}, as_of=as_of)
    check({"attribute": "birth_date", "age": {"eq": years + 1}}, contacts, set(), as_of=as_of)


def test_age_of_a_timestamp_column():
    contacts = valued("created_at", {1: datetime(1990, 3, 31, 6), 2: datetime(1990, 4, 1, 6), 3: None})
    check({"attribute": "created_at", "age": {"eq": 36}}, contacts, {1})
    check({"attribute": "created_at", "age": {"eq": 35}}, contacts, {2})


# ------------------------------------------------------------------------------ event conditions

NAMED_EVENTS = [
    event(1, AS_OF - DAY, "page_view"),
    event(2, AS_OF - DAY, "email_open"),
    event(4, AS_OF - DAY, None),  # a row without an event type
    event(5, AS_OF - DAY, "Page_View"),  # names match exactly
]
NAMED_CONTACTS = [contact(c) for c in (1, 2, 3, 4, 5)]


@pytest.mark.parametrize("rule, expected", [
    ({"event": "page_view"}, {1}),
    ({"event": ["page_view"]}, {1}),
    ({"event": ["page_view", "email_open"]}, {1, 2}),
    ({"event": "form_submit"}, set()),
    ({"event": "page_view", "stream": "events"}, {1}),
    ({"stream": "events"}, {1, 2, 4, 5}),  # no event: any row of the stream
    ({"stream": "events", "count": {"eq": 0}}, {3}),
    ({"event": ["page_view", "email_open"], "count": {"lt": 1}}, {3, 4, 5}),
    ({"not": {"event": "page_view"}}, {2, 3, 4, 5}),
], ids=str)
def test_event_names(rule, expected):
    check(rule, NAMED_CONTACTS, expected, NAMED_EVENTS)


def test_orders_stream_is_not_the_default():
    orders = [order(1, AS_OF - DAY, 5), order(2, AS_OF - DAY, 7, status="cancelled")]
    events = [event(3, AS_OF - DAY)]
    contacts = [contact(c) for c in (1, 2, 3)]
    check({"stream": "orders"}, contacts, {1, 2}, events, orders)
    check({"stream": "orders", "where": {"status": {"ne": "cancelled"}}}, contacts, {1}, events, orders)
    check({"stream": "events"}, contacts, {3}, events, orders)
    check({"stream": "orders", "sum": {"of": "amount", "gte": 7}}, contacts, {2}, events, orders)
    check({"stream": "orders", "where": {"status": {"eq": "paid"}}, "count": {"lt": 1}}, contacts, {2, 3},
          events, orders)


@pytest.mark.parametrize("as_of, duration, edge", EDGES, ids=EDGE_IDS)
def test_event_within_edges(as_of, duration, edge):
    events = [
        event(1, edge - SECOND), event(2, edge), event(3, edge + SECOND),
        event(4, as_of), event(5, as_of + SECOND), event(6, None),
    ]
    contacts = [contact(c) for c in range(1, 8)]
    check({"event": "page_view", "within": duration}, contacts, {3, 4}, events, as_of=as_of)
    check({"event": "page_view"}, contacts, {1, 2, 3, 4}, events, as_of=as_of)  # nothing after as_of
    check({"event": "page_view", "within": duration, "count": {"eq": 0}}, contacts, {1, 2, 5, 6, 7}, events,
          as_of=as_of)


@pytest.mark.parametrize("as_of, duration, edge", EDGES, ids=EDGE_IDS)
def test_first_and_last_edges(as_of, duration, edge):
    """first/last compare the earliest/latest timestamp with the same edges as attributes."""
    at = {1: edge - SECOND, 2: edge, 3: edge + SECOND, 4: as_of}
    events = [event(c, ts) for c, ts in at.items()] + [event(c, as_of + SECOND) for c in (1, 2, 3, 4, 5)]
    events += [event(c, edge - 400 * DAY, "email_open") for c in (1, 2, 3, 4, 5)]  # other event: not matched
    contacts = [contact(c) for c in (1, 2, 3, 4, 5, 6)]  # 5: only a future row, 6: no rows
    for agg in ("first", "last"):
        check({"event": "page_view", agg: {"within": duration}}, contacts, {3, 4}, events, as_of=as_of)
        check({"event": "page_view", agg: {"older_than": duration}}, contacts, {1, 2}, events, as_of=as_of)


def test_ignored_rows():
    """NULL contact keys, orphan keys (13), NULL timestamps and future rows never count."""
    events = [
        event(None, AS_OF - HOUR),
        event(13, AS_OF - HOUR),
        event(1, None),
        event(1, AS_OF + SECOND),
        event(2, AS_OF - HOUR),
    ]
    contacts = [contact(1), contact(2)]
    check({"stream": "events"}, contacts, {2}, events)
    check({"event": "page_view", "count": {"eq": 0}}, contacts, {1}, events)
    check({"event": "page_view", "count": {"eq": 1}}, contacts, {2}, events)
    check({"event": "page_view", "last": {"within": "1d"}}, contacts, {2}, events)
    check({"event": "page_view", "first": {"older_than": "1h"}}, contacts, {2}, events)


def test_ignored_order_rows():
    orders = [order(None, AS_OF - HOUR, 5), order(13, AS_OF - HOUR, 5), order(1, None, 5),
              order(1, AS_OF + HOUR, 5), order(2, AS_OF - HOUR, 5)]
    contacts = [contact(1), contact(2)]
    check({"stream": "orders"}, contacts, {2}, orders=orders)
    check({"stream": "orders", "sum": {"of": "amount", "eq": 0}}, contacts, {1}, orders=orders)


@pytest.mark.parametrize("rule, expected", [
    ({"stream": "orders", "count": {"eq": 0}}, {1, 2}),
    ({"stream": "orders", "sum": {"of": "amount", "eq": 0}}, {1, 2}),
    ({"stream": "orders", "distinct": {"of": "status", "lt": 1}}, {1, 2}),
    ({"stream": "orders", "avg": {"of": "amount", "ne": 1}}, set()),
    ({"stream": "orders", "last": {"older_than": "1d"}}, set()),
    ({"stream": "orders"}, set()),
    ({"not": {"stream": "orders", "max": {"of": "amount", "gt": 0}}}, {1, 2}),
    ({"event": "cart_add", "not_followed_by": {"stream": "orders"}}, set()),
], ids=str)
def test_empty_streams(rule, expected):
    check(rule, [contact(1), contact(2)], expected)


# ------------------------------------------------------------------------------ aggregates

AGG_EVENTS = [
    event(1, AS_OF - 5 * DAY, amount=1, qty=2, url="/a"),
    event(1, AS_OF - 2 * DAY, amount=2.5, qty=None, url="/a"),
    event(1, AS_OF - DAY, amount=None, qty=5, url=None),
    event(1, AS_OF - HOUR, "email_open", amount=100, qty=100, url="/z"),  # another event type
    event(2, AS_OF - 3 * DAY, amount=None, qty=None, url=None),  # only NULL values
    event(4, AS_OF - 10 * DAY, amount=4, qty=4, url="/c"),
    event(4, AS_OF + SECOND, amount=-100, qty=-100, url="/d"),  # after as_of: ignored
    event(4, None, amount=-100, qty=-100, url="/e"),  # NULL timestamp: ignored
]
AGG_CONTACTS = [contact(c) for c in (1, 2, 3, 4)]  # 3 has no rows
# page_view rows per contact: 1: amounts 1, 2.5, NULL (urls /a, /a, NULL; qty 2, NULL, 5; -5d, -2d, -1d)
#                             2: amount NULL (url NULL, -3d)   3: none   4: amount 4 (url /c, qty 4, -10d)

AGGREGATE_CASES = [
    ({"count": {"eq": 3}}, {1}),
    ({"count": {"eq": 1}}, {2, 4}),
    ({"count": {"gte": 1}}, {1, 2, 4}),
    ({"count": {"lt": 1}}, {3}),
    ({"count": {"eq": 0}}, {3}),
    ({"count": {"ne": 1}}, {1, 3}),
    ({"count": {"gte": 2, "lt": 4}}, {1}),
    ({"count": {"between": [0, 1]}}, {2, 3, 4}),
    ({"count": {"in": [0, 3]}}, {1, 3}),
    ({"distinct": {"of": "url", "eq": 1}}, {1, 4}),  # /a twice and a NULL: one value
    ({"distinct": {"of": "url", "eq": 0}}, {2, 3}),  # only NULLs, or no rows: 0
    ({"distinct": {"of": "url", "lt": 1}}, {2, 3}),
    ({"distinct": {"of": "amount", "eq": 2}}, {1}),
    ({"distinct": {"of": "qty", "gte": 1}}, {1, 4}),
    ({"sum": {"of": "amount", "eq": 3.5}}, {1}),
    ({"sum": {"of": "amount", "eq": 0}}, {2, 3}),  # all NULL or empty: 0
    ({"sum": {"of": "amount", "lt": 1}}, {2, 3}),
    ({"sum": {"of": "amount", "gt": 3}}, {1, 4}),
    ({"sum": {"of": "qty", "eq": 7}}, {1}),
    ({"avg": {"of": "amount", "eq": 1.75}}, {1}),  # NULLs are not zeros
    ({"avg": {"of": "amount", "lt": 100}}, {1, 4}),  # NULL average: false
    ({"avg": {"of": "amount", "ne": 5}}, {1, 4}),
    ({"avg": {"of": "qty", "eq": 3.5}}, {1}),
    ({"min": {"of": "amount", "eq": 1}}, {1}),
    ({"min": {"of": "amount", "lte": 100}}, {1, 4}),
    ({"min": {"of": "amount", "ne": 1}}, {4}),
    ({"max": {"of": "amount", "eq": 2.5}}, {1}),
    ({"max": {"of": "amount", "gte": -100}}, {1, 4}),
    ({"max": {"of": "qty", "eq": 5}}, {1}),
    ({"first": {"older_than": "5d"}}, {1, 4}),  # 1: first at exactly as_of − 5d
    ({"first": {"older_than": "6d"}}, {4}),
    ({"first": {"within": "5d"}}, {2}),
    ({"first": {"within": "6d"}}, {1, 2}),
    ({"first": {"within": "30d", "older_than": "4d"}}, {1, 4}),
    ({"last": {"within": "1d"}}, set()),  # 1: last at exactly as_of − 1d is on the open edge
    ({"last": {"within": "2d"}}, {1}),
    ({"last": {"older_than": "2d"}}, {2, 4}),
    ({"last": {"older_than": "1d"}}, {1, 2, 4}),
]


@pytest.mark.parametrize("aggregate, expected", AGGREGATE_CASES, ids=[str(a) for a, _ in AGGREGATE_CASES])
def test_aggregate(aggregate, expected):
    check({"event": "page_view", **aggregate}, AGG_CONTACTS, expected, AGG_EVENTS)


@pytest.mark.parametrize("rule, expected", [
    ({"event": "page_view", "within": "3d", "sum": {"of": "amount", "eq": 2.5}}, {1}),
    ({"event": "page_view", "within": "3d", "count": {"eq": 0}}, {2, 3, 4}),  # 2's row is at the edge
    ({"event": "page_view", "within": "2d", "avg": {"of": "amount", "eq": 2.5}}, set()),  # -2d is out
    ({"event": "page_view", "within": "3d", "avg": {"of": "amount", "eq": 2.5}}, {1}),
    ({"event": "page_view", "where": {"url": {"eq": "/a"}}, "count": {"eq": 2}}, {1}),
    ({"event": "page_view", "where": {"url": {"ne": "/a"}}, "count": {"eq": 1}}, {1, 2, 4}),
    ({"event": "page_view", "where": {"amount": {"is_null": True}}, "distinct": {"of": "url", "eq": 0}},
     {1, 2, 3, 4}),
    ({"event": ["page_view", "email_open"], "count": {"eq": 4}}, {1}),
    ({"event": ["page_view", "email_open"], "max": {"of": "amount", "eq": 100}}, {1}),
    ({"stream": "events", "last": {"within": "2h"}}, {1}),
    ({"event": "email_open", "min": {"of": "amount", "gt": 0}}, {1}),
], ids=str)
def test_aggregate_with_filters(rule, expected):
    check(rule, AGG_CONTACTS, expected, AGG_EVENTS)


def test_a_distinct_value_counts_in_the_windows_of_its_latest_row():
    """Also when a wider window of the same filter keeps the value's older rows in the scan."""
    definitions = {"segments": [
        {"name": "varied", "rule": {"event": "page_view", "within": "7d", "distinct": {"of": "url", "gte": 1}}},
        {"name": "visited", "rule": {"event": "page_view", "within": "30d"}}]}
    events = [event(1, AS_OF - 20 * DAY, url="/a"), event(1, AS_OF - DAY, url="/a"), event(2, AS_OF - 20 * DAY, url="/a")]
    shared, direct = project_result(definitions, [contact(1), contact(2)], {"events": events, "orders": []})
    assert shared.membership == direct == {(1, "varied"), (1, "visited"), (2, "visited")}


# ------------------------------------------------------------------------------ not_followed_by

FOLLOW_EVENTS = [
    event(1, AS_OF - 2 * DAY, "cart_add"), event(1, AS_OF - DAY, "purchase"),  # followed
    event(2, AS_OF - 3 * DAY, "purchase"), event(2, AS_OF - 2 * DAY, "cart_add"),  # purchase before
    event(3, AS_OF - DAY, "cart_add"), event(3, AS_OF - DAY, "purchase"),  # same instant: not after
    event(4, AS_OF - DAY, "purchase"),  # no cart at all
    event(5, AS_OF - 2 * DAY, "cart_add"), event(5, AS_OF + SECOND, "purchase"),  # after as_of
    event(6, AS_OF - 5 * DAY, "cart_add"), event(6, AS_OF - 3 * DAY, "purchase"),
    event(6, AS_OF - 2 * DAY, "cart_add"),  # only the latest cart counts
    event(7, AS_OF - 3 * DAY, "cart_add"), event(7, AS_OF - DAY, "purchase"),  # 2 days later
    event(8, AS_OF - 3 * DAY, "cart_add"), event(8, AS_OF - 2 * DAY, "purchase"),  # exactly 1 day later
    event(9, AS_OF - 3 * DAY, "cart_add"), event(9, AS_OF - 2 * DAY + SECOND, "purchase"),  # 1d + 1s later
    event(10, AS_OF - 3 * DAY, "cart_add"), event(10, None, "purchase"), event(None, AS_OF, "purchase"),
    event(11, AS_OF - 3 * DAY, "cart_add"), event(11, AS_OF - 2 * DAY, "purchase", url="/cancelled"),
    event(13, AS_OF - HOUR, "cart_add"), event(13, AS_OF + HOUR, "purchase"),  # within 1d, but after as_of
]
FOLLOW_CONTACTS = [contact(c) for c in range(1, 14)]  # 12 has no events


@pytest.mark.parametrize("rule, expected", [
    ({"event": "cart_add", "not_followed_by": {"event": "purchase"}}, {2, 3, 5, 6, 10, 13}),
    # within 1d of the cart: a purchase exactly 1 day later still counts, 1d + 1s later does not
    ({"event": "cart_add", "not_followed_by": {"event": "purchase", "within": "1d"}},
     {2, 3, 5, 6, 7, 9, 10, 13}),
    ({"event": "cart_add", "not_followed_by": {"event": "purchase", "within": "24h"}},
     {2, 3, 5, 6, 7, 9, 10, 13}),
    ({"event": "cart_add", "not_followed_by": {"event": "purchase", "within": "2d"}}, {2, 3, 5, 6, 10, 13}),
    ({"event": "cart_add", "not_followed_by": {"event": "purchase", "where": {"url": {"is_null": True}}}},
     {2, 3, 5, 6, 10, 11, 13}),
    ({"event": "cart_add", "not_followed_by": {"event": ["email_open", "purchase"]}}, {2, 3, 5, 6, 10, 13}),
    # no event named: any row of the stream follows, the cart rows themselves are not strictly after
    ({"event": "cart_add", "not_followed_by": {"stream": "events"}}, {2, 3, 5, 6, 10, 13}),
    # the same kind twice: the latest cart is never followed by a later cart
    ({"event": "cart_add", "not_followed_by": {"event": "cart_add"}}, {1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13}),
    ({"event": "cart_add", "within": "2d", "not_followed_by": {"event": "purchase"}}, {3, 13}),
    ({"event": "cart_add", "count": {"gte": 2}, "not_followed_by": {"event": "purchase"}}, {6}),
    ({"not": {"event": "cart_add", "not_followed_by": {"event": "purchase"}}}, {1, 4, 7, 8, 9, 11, 12}),
], ids=str)
def test_not_followed_by(rule, expected):
    check(rule, FOLLOW_CONTACTS, expected, FOLLOW_EVENTS)


def test_not_followed_by_on_another_stream():
    events = [event(c, datetime(2026, 1, 31, 10), "cart_add") for c in (1, 2, 3, 4, 5)]
    orders = [
        order(1, datetime(2026, 2, 28, 10)),  # exactly 1 calendar month after Jan 31 (clamped)
        order(2, datetime(2026, 2, 28, 10, 0, 1)),  # one second later
        order(3, datetime(2026, 1, 31, 10)),  # same instant
        order(4, datetime(2026, 2, 1), status="cancelled"),
        # 5: no order
    ]
    contacts = [contact(c) for c in (1, 2, 3, 4, 5, 6)]
    check({"event": "cart_add", "not_followed_by": {"stream": "orders"}}, contacts, {3, 5}, events, orders)
    check({"event": "cart_add", "not_followed_by": {"stream": "orders", "within": "1mo"}}, contacts,
          {2, 3, 5}, events, orders)
    check({"event": "cart_add", "not_followed_by": {"stream": "orders", "where": {"status": {"eq": "paid"}}}},
          contacts, {3, 4, 5}, events, orders)


def test_order_not_followed_by_an_event():
    orders = [order(1, AS_OF - 5 * DAY, 10), order(2, AS_OF - 5 * DAY, 10), order(3, AS_OF - 5 * DAY, 10)]
    events = [event(1, AS_OF - 4 * DAY, "review"), event(2, AS_OF - 4 * DAY, "page_view"),
              event(3, AS_OF - 6 * DAY, "review")]
    rule = {"stream": "orders", "not_followed_by": {"stream": "events", "event": "review", "within": "2d"}}
    check(rule, [contact(c) for c in (1, 2, 3, 4)], {2, 3}, events, orders)


def test_not_followed_by_stream_defaults_to_the_first_kind():
    """The follow-up's stream is the first kind's: here orders, where status rows follow."""
    orders = [
        order(1, AS_OF - 3 * DAY, 10, "cart"), order(1, AS_OF - 2 * DAY, 10, "paid"),
        order(2, AS_OF - 3 * DAY, 10, "cart"),
    ]
    events = [event(2, AS_OF - DAY, "paid")]  # an event named like the status is irrelevant
    rule = {"stream": "orders", "where": {"status": {"eq": "cart"}},
            "not_followed_by": {"where": {"status": {"eq": "paid"}}}}
    check(rule, [contact(1), contact(2), contact(3)], {2}, events, orders)


# ------------------------------------------------------------------------------ combinators and references


def test_all_any_not_with_nulls():
    contacts = [contact(1, city="Kraków", visits=3), contact(2, city=None, visits=3), contact(3)]
    krk = {"attribute": "city", "eq": "Kraków"}
    busy = {"attribute": "visits", "gte": 1}
    check({"all": [krk, busy]}, contacts, {1})
    check({"any": [krk, busy]}, contacts, {1, 2})
    check({"not": {"all": [krk, busy]}}, contacts, {2, 3})
    check({"not": {"any": [krk, busy]}}, contacts, {3})
    check({"all": [{"not": krk}, busy]}, contacts, {2})
    check({"not": {"not": krk}}, contacts, {1})
    check({"any": [{"not": krk}, {"not": busy}]}, contacts, {2, 3})


def test_segment_references():
    definitions = {"segments": [
        {"name": "not_krk", "rule": {"not": {"segment": "krk"}}},  # refers to a later definition
        {"name": "krk", "rule": {"attribute": "city", "eq": "Kraków"}},
        {"name": "krk_active", "rule": {"all": [{"segment": "krk"}, {"event": "page_view", "within": "7d"}]}},
        {"name": "either", "rule": {"any": [{"segment": "krk_active"}, {"segment": "not_krk"}]}},
        {"name": "chain", "rule": {"segment": "either"}},
    ]}
    contacts = [contact(1, city="Kraków"), contact(2, city="Kraków"), contact(3, city=None), contact(4, city="Gdańsk")]
    events = [event(1, AS_OF - DAY), event(3, AS_OF - DAY)]
    expected = {
        (1, "krk"), (2, "krk"),
        (3, "not_krk"), (4, "not_krk"),
        (1, "krk_active"),
        (1, "either"), (3, "either"), (4, "either"),
        (1, "chain"), (3, "chain"), (4, "chain"),
    }
    shared, direct = project_result(definitions, contacts, {"events": events})
    assert shared.membership == expected
    assert direct == expected


def test_many_segments_in_one_plan():
    """Every aggregate and not_followed_by case at once: the shared plan deduplicates filters and
    aggregates across segments, and must still answer each one as if it were alone."""
    cases = AGGREGATE_CASES + [({"not": {"event": "page_view", **a}}, {1, 2, 3, 4} - e) for a, e in AGGREGATE_CASES]
    segments = [{"name": f"agg_{i}", "rule": {"event": "page_view", **a} if "not" not in a else a}
                for i, (a, _) in enumerate(cases)]
    expected = {(c, f"agg_{i}") for i, (_, e) in enumerate(cases) for c in e}
    shared, direct = project_result({"segments": segments}, AGG_CONTACTS, {"events": AGG_EVENTS})
    assert shared.membership == expected
    assert direct == expected


def test_same_stream_different_windows_in_one_rule():
    events = [event(1, AS_OF - 3 * DAY), event(2, AS_OF - 3 * DAY), event(2, AS_OF - HOUR),
              event(3, AS_OF - 10 * DAY)]
    rule = {"all": [{"event": "page_view", "within": "7d"}, {"not": {"event": "page_view", "within": "1d"}}]}
    check(rule, [contact(c) for c in (1, 2, 3, 4)], {1}, events)
    rule = {"any": [{"event": "page_view", "within": "1d", "count": {"eq": 1}},
                    {"event": "page_view", "within": "30d", "count": {"eq": 1}}]}
    check(rule, [contact(c) for c in (1, 2, 3, 4)], {1, 2, 3}, events)


def test_rows_outside_every_window_are_skipped_exactly():
    """The plan reads only rows some condition can count; the second kind of not_followed_by is
    bounded by the first kind's window, not by its own (here a purchase 3 days old still follows)."""
    events = [event(1, AS_OF - 5 * DAY, "cart_add"), event(1, AS_OF - 3 * DAY, "purchase"),
              event(2, AS_OF - 5 * DAY, "cart_add"), event(2, AS_OF - 12 * HOUR, "purchase"),
              event(3, AS_OF - 5 * DAY, "cart_add"), event(4, AS_OF - 30 * DAY, "purchase")]
    rule = {"any": [{"event": "cart_add", "within": "7d", "not_followed_by": {"event": "purchase"}},
                    {"event": "purchase", "within": "1d"}]}
    check(rule, [contact(c) for c in (1, 2, 3, 4)], {2, 3}, events)
    rule = {"any": [{"event": "purchase", "within": "1mo"}, {"event": "purchase", "within": "2d"}]}
    check(rule, [contact(c) for c in (1, 2, 3, 4)], {1, 2, 4}, events)


# Columns and relations named by SQL keywords, in mixed case: the generated SQL must quote them.
KEYWORD_SOURCES = {
    "contacts": {"relation": "raw.user", "key": "id", "columns": {
        "group": "string", "date": "date", "order": "integer", "FirstName": "string", "select": "list"}},
    "streams": {"events": {"relation": "raw.order", "contact_key": "user", "timestamp": "timestamp",
                           "event_type": "type", "columns": {"value": "number", "from": "string", "limit": "integer"}}},
}


def load_quoted(con, sources: dict, contacts: list[dict], rows: list[dict]) -> None:
    """Like harness.load_tables, with every identifier quoted (the harness writes them bare)."""
    c, s = sources["contacts"], sources["streams"]["events"]
    for relation, columns, data in (
        (c["relation"], {c["key"]: "integer", **c["columns"]}, contacts),
        (s["relation"], {s["contact_key"]: "integer", s["timestamp"]: "timestamp", s["event_type"]: "string",
                         **s["columns"]}, rows),
    ):
        schema, table = relation.split(".")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE OR REPLACE TABLE "{schema}"."{table}" ('
                    + ", ".join(f'"{name}" {SQL_TYPES[typ]}' for name, typ in columns.items()) + ")")
        con.executemany(f'INSERT INTO "{schema}"."{table}" VALUES ({", ".join("?" for _ in columns)})',
                        [[row.get(name) for name in columns] for row in data])


def test_keyword_and_mixed_case_identifiers():
    rules = {
        "group": {"attribute": "group", "eq": "a"},
        "date": {"attribute": "date", "older_than": "1d"},
        "order": {"attribute": "order", "gte": 1},
        "first_name": {"attribute": "FirstName", "icontains": "ANN"},
        "select": {"attribute": "select", "has": "a"},
        "from_value": {"event": "buy", "where": {"from": {"eq": "web"}}, "sum": {"of": "value", "gte": 1}},
        "limit": {"event": "buy", "max": {"of": "limit", "eq": 3}, "not_followed_by": {"event": "refund"}},
        "timestamp": {"stream": "events", "where": {"timestamp": {"within": "2d"}}, "distinct": {"of": "type", "eq": 1}},
    }
    contacts = [{"id": 1, "group": "a", "date": date(2020, 1, 1), "order": 2, "FirstName": "Ann", "select": ["a"]},
                {"id": 2}]
    rows = [{"user": 1, "timestamp": AS_OF - DAY, "type": "buy", "value": 2.0, "from": "web", "limit": 3},
            {"user": 2, "timestamp": AS_OF - 3 * DAY, "type": "buy", "value": 0.5, "from": "app", "limit": 1}]
    project = compile_project({"segments": [{"name": n, "rule": r} for n, r in rules.items()]}, KEYWORD_SOURCES)
    con = connection()
    load_quoted(con, KEYWORD_SOURCES, contacts, rows)
    expected = {(1, name) for name in rules}
    assert warehouse_result(con, project, AS_OF).membership == expected
    assert direct_membership(con, project, AS_OF) == expected


# ------------------------------------------------------------------------------ literal and regex traps
# Each case expects what SPEC.md (and the reference evaluator) say. Rejecting the construct at
# compile time with a clear message is right too, so a CompileError passes these tests.


def check_or_rejected(rule, contacts, expected, streams=None, sources=SOURCES):
    try:
        got = members_both(rule, contacts, streams or {"events": (), "orders": ()}, sources=sources)
    except CompileError:
        return
    assert got == expectation(expected, contacts, sources["contacts"]["key"])


PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize("value", [datetime(2026, 3, 31, 12, tzinfo=PLUS_TWO), "2026-03-31T12:00:00+02:00"], ids=str)
def test_timestamp_literal_with_an_offset_is_converted_to_utc(value):
    """Timestamps are UTC: 12:00+02:00 is the row stored at 10:00 (the offset used to be dropped)."""
    contacts = valued("created_at", {1: datetime(2026, 3, 31, 10), 2: datetime(2026, 3, 31, 12), 3: None})
    check_or_rejected({"attribute": "created_at", "eq": value}, contacts, {1})
    check_or_rejected({"attribute": "created_at", "lt": value}, contacts, set())


@pytest.mark.parametrize("ops, expected", [
    ({"eq": datetime(2026, 3, 30, 12)}, set()),
    ({"lt": datetime(2026, 3, 30, 12)}, {1}),
    ({"ne": datetime(2026, 3, 30, 12)}, {1, 2, 3}),
], ids=str)
def test_date_column_with_a_timestamp_literal(ops, expected):
    """A date is midnight, never equal to noon (the literal used to be truncated to its date)."""
    contacts = valued("birth_date", {1: date(2026, 3, 30), 2: date(2026, 3, 31), 3: None})
    check_or_rejected({"attribute": "birth_date", **ops}, contacts, expected)


def test_word_class_on_polish_letters():
    r"""`\w` is Unicode in PostgreSQL and Python but ASCII in DuckDB and Spark (it used to drop Łódź)."""
    check_or_rejected({"attribute": "name", "matches": r"^\w+$"}, valued("name", QUOTED), {4, 5, 6})


# ------------------------------------------------------------------------------ once-broken cases


def test_contacts_column_named_contact_id_under_another_key():
    sources = {"contacts": {"relation": "crm.people", "key": "pid", "columns": {"contact_id": "integer"}},
               "streams": {}}
    contacts = [{"pid": 1, "contact_id": 100}, {"pid": 100, "contact_id": 5}, {"pid": 3, "contact_id": None}]
    check_or_rejected({"attribute": "contact_id", "eq": 100}, contacts, {1}, streams={}, sources=sources)
