"""Hand-computed cases for the reference evaluator, so the oracle itself is trusted."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from reference import Dataset, Schema, completed_years, evaluate, shift
from strategies import AS_OF, SCHEMA, SOURCES, datasets, projects

DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
EVENT_COLUMNS = ("url", "campaign", "amount", "qty")


def contact(cid, **columns):
    return {"contact_id": cid, **dict.fromkeys(SCHEMA.columns), **columns}


def event(cid, ts, event_type="page_view", **columns):
    return {"contact_id": cid, "occurred_at": ts, "event_type": event_type, **dict.fromkeys(EVENT_COLUMNS), **columns}


def order(cid, ts, amount=None, status="paid"):
    return {"contact_id": cid, "ordered_at": ts, "amount": amount, "status": status}


def run(project, contacts, events=(), orders=(), as_of=AS_OF):
    data = Dataset(contacts=list(contacts), streams={"events": list(events), "orders": list(orders)})
    return evaluate(project, SCHEMA, data, as_of)


def members(rule, contacts, events=(), orders=(), as_of=AS_OF):
    result = run({"segments": [{"name": "s", "rule": rule}]}, contacts, events, orders, as_of)
    return {cid for cid, _ in result.membership}


def ids(*cids):
    return [contact(c) for c in cids]


# ------------------------------------------------------------------------------ schema, time


def test_schema_from_sources():
    schema = Schema.from_yaml_sources(SOURCES)
    assert schema.key == "contact_id"
    assert schema.columns["tags"] == "list"
    assert schema.streams["events"].event_type == "event_type"
    assert schema.streams["orders"].event_type is None
    assert schema.streams["orders"].timestamp == "ordered_at"
    assert schema.streams["orders"].columns == {"amount": "number", "status": "string"}


def test_calendar_arithmetic_clamps_to_month_end():
    assert shift(datetime(2026, 3, 31, 12), "1mo", -1) == datetime(2026, 2, 28, 12)
    assert shift(datetime(2026, 1, 31), "1mo", +1) == datetime(2026, 2, 28)
    assert shift(datetime(2026, 3, 31), "13mo", -1) == datetime(2025, 2, 28)
    assert shift(datetime(2028, 2, 29, 8), "1y", -1) == datetime(2027, 2, 28, 8)
    assert shift(datetime(2026, 3, 31), "2w", -1) == datetime(2026, 3, 17)
    assert shift(datetime(2026, 3, 31), "36h", -1) == datetime(2026, 3, 29, 12)


def test_completed_years_and_feb_29():
    born = datetime(2000, 2, 29)
    assert completed_years(born, datetime(2027, 2, 28, 23)) == 26
    assert completed_years(born, datetime(2027, 3, 1)) == 27
    assert completed_years(born, datetime(2028, 2, 28)) == 27
    assert completed_years(born, datetime(2028, 2, 29)) == 28


# ------------------------------------------------------------------------------ windows


def test_event_within_window_edges():
    events = [
        event(1, AS_OF - DAY),  # exactly on the open edge: out
        event(2, AS_OF - DAY + SECOND),
        event(3, AS_OF),  # as_of itself: in
        event(4, AS_OF + SECOND),  # the future never counts
        event(5, AS_OF - DAY - SECOND),
    ]
    assert members({"event": "page_view", "within": "1d"}, ids(1, 2, 3, 4, 5), events) == {2, 3}
    assert members({"event": "page_view"}, ids(1, 2, 3, 4, 5), events) == {1, 2, 3, 5}


def test_within_calendar_month():
    events = [event(1, datetime(2026, 2, 28, 12)), event(2, datetime(2026, 2, 28, 12, 0, 1))]
    assert members({"event": "page_view", "within": "1mo"}, ids(1, 2), events) == {2}


def test_attribute_within_and_older_than_edges():
    contacts = [
        contact(1, created_at=AS_OF - DAY),
        contact(2, created_at=AS_OF - DAY + SECOND),
        contact(3, created_at=None),
        contact(4, created_at=AS_OF + SECOND),
    ]
    assert members({"attribute": "created_at", "older_than": "1d"}, contacts) == {1}
    assert members({"attribute": "created_at", "within": "1d"}, contacts) == {2}
    assert members({"not": {"attribute": "created_at", "within": "1d"}}, contacts) == {1, 3, 4}


def test_date_compares_as_midnight():
    contacts = [contact(1, birth_date=date(2026, 3, 31), created_at=datetime(2026, 3, 31))]
    # midnight of Mar 31 is exactly as_of - 12h: outside (as_of - 12h, as_of], inside 13h
    assert members({"attribute": "birth_date", "within": "12h"}, contacts) == set()
    assert members({"attribute": "birth_date", "within": "13h"}, contacts) == {1}
    assert members({"attribute": "created_at", "eq": date(2026, 3, 31)}, contacts) == {1}
    assert members({"attribute": "created_at", "lt": "2026-03-31T00:00:01"}, contacts) == {1}


# ------------------------------------------------------------------------------ attributes


def test_null_is_false_except_ne_not_in_is_null():
    contacts = [contact(1, city="Kraków", visits=3), contact(2)]
    assert members({"attribute": "city", "eq": "Kraków"}, contacts) == {1}
    assert members({"attribute": "city", "ne": "Kraków"}, contacts) == {2}
    assert members({"attribute": "city", "ne": "Gdańsk"}, contacts) == {1, 2}
    assert members({"attribute": "city", "in": ["Kraków"]}, contacts) == {1}
    assert members({"attribute": "city", "not_in": ["Kraków"]}, contacts) == {2}
    assert members({"attribute": "city", "is_null": True}, contacts) == {2}
    assert members({"attribute": "city", "is_null": False}, contacts) == {1}
    assert members({"attribute": "city", "contains": "K"}, contacts) == {1}
    assert members({"not": {"attribute": "city", "contains": "K"}}, contacts) == {2}
    assert members({"attribute": "visits", "lte": 100}, contacts) == {1}
    assert members({"attribute": "visits", "between": [3, 3]}, contacts) == {1}
    assert members({"attribute": "visits", "gte": 0, "lt": 3}, contacts) == set()


def test_string_operators_and_case():
    contacts = [
        contact(1, city="Kraków"),
        contact(2, city="KRAKÓW"),
        contact(3, city="kraków"),
        contact(4, city="Krakow"),
        contact(5, city="", name="x_y"),
        contact(6, name="xay"),
    ]
    assert members({"attribute": "city", "contains": "ków"}, contacts) == {1, 3}
    assert members({"attribute": "city", "icontains": "KÓW"}, contacts) == {1, 2, 3}
    assert members({"attribute": "city", "starts_with": "Kra"}, contacts) == {1, 4}
    assert members({"attribute": "city", "ends_with": "ów"}, contacts) == {1, 3}
    assert members({"attribute": "city", "matches": "^K"}, contacts) == {1, 2, 4}
    assert members({"attribute": "city", "eq": "kraków"}, contacts) == {3}
    assert members({"attribute": "name", "contains": "_"}, contacts) == {5}  # no LIKE wildcard
    assert members({"attribute": "name", "matches": "x.*y"}, contacts) == {5, 6}


def test_list_operators():
    contacts = [
        contact(1, tags=None),
        contact(2, tags=[]),
        contact(3, tags=["a", "b"]),
        contact(4, tags=["b", None]),
        contact(5, tags=[None]),
    ]
    assert members({"attribute": "tags", "has": "a"}, contacts) == {3}
    assert members({"attribute": "tags", "has_any": ["a", "vip"]}, contacts) == {3}
    assert members({"attribute": "tags", "has_all": ["a", "b"]}, contacts) == {3}
    assert members({"attribute": "tags", "has_all": ["b"]}, contacts) == {3, 4}
    assert members({"attribute": "tags", "is_null": True}, contacts) == {1}
    assert members({"not": {"attribute": "tags", "has": "a"}}, contacts) == {1, 2, 4, 5}


def test_age_with_birthdays():
    contacts = [
        contact(1, birth_date=date(1990, 3, 31)),  # birthday today: 36
        contact(2, birth_date=date(1990, 4, 1)),  # tomorrow: still 35
        contact(3, birth_date=date(1990, 3, 30)),  # 36
        contact(4),
    ]
    assert members({"attribute": "birth_date", "age": {"gte": 36}}, contacts) == {1, 3}
    assert members({"attribute": "birth_date", "age": {"eq": 35}}, contacts) == {2}
    assert members({"attribute": "birth_date", "age": {"ne": 36}}, contacts) == {2}  # NULL age: false
    leap = [contact(1, birth_date=date(2000, 2, 29))]
    rule = {"attribute": "birth_date", "age": {"eq": 27}}
    assert members(rule, leap, as_of=datetime(2027, 2, 28, 23, 59)) == set()
    assert members(rule, leap, as_of=datetime(2027, 3, 1)) == {1}


# ------------------------------------------------------------------------------ events


def test_ignored_rows():
    events = [
        event(None, AS_OF - HOUR),
        event(13, AS_OF - HOUR),  # orphan
        event(1, None),
        event(2, AS_OF - HOUR, event_type=None),
    ]
    assert members({"stream": "events"}, ids(1, 2), events) == {2}
    assert members({"event": "page_view"}, ids(1, 2), events) == set()
    assert members({"stream": "events", "count": {"eq": 0}}, ids(1, 2), events) == {1}


def test_aggregates_over_rows():
    events = [
        event(1, AS_OF - 5 * DAY, amount=1, url="/a"),
        event(1, AS_OF - 2 * DAY, amount=2.5, url="/a"),
        event(1, AS_OF - DAY, amount=None, url="/b"),
        event(1, AS_OF - HOUR, "email_open", amount=100),
    ]
    c = ids(1)
    pv = {"event": "page_view"}
    assert members({**pv, "count": {"gte": 2, "lt": 4}}, c, events) == {1}
    assert members({**pv, "count": {"gte": 2, "lt": 3}}, c, events) == set()
    assert members({**pv, "distinct": {"of": "url", "eq": 2}}, c, events) == {1}
    assert members({**pv, "sum": {"of": "amount", "eq": 3.5}}, c, events) == {1}
    assert members({**pv, "avg": {"of": "amount", "eq": 1.75}}, c, events) == {1}
    assert members({**pv, "min": {"of": "amount", "eq": 1}}, c, events) == {1}
    assert members({**pv, "max": {"of": "amount", "eq": 2.5}}, c, events) == {1}
    assert members({**pv, "first": {"older_than": "5d"}}, c, events) == {1}
    assert members({**pv, "first": {"older_than": "6d"}}, c, events) == set()
    assert members({**pv, "last": {"within": "1d"}}, c, events) == set()  # -1d is on the edge
    assert members({**pv, "within": "3d", "sum": {"of": "amount", "eq": 2.5}}, c, events) == {1}
    assert members({**pv, "where": {"url": {"eq": "/a"}}, "count": {"eq": 2}}, c, events) == {1}
    assert members({"event": ["page_view", "email_open"], "count": {"eq": 4}}, c, events) == {1}


def test_empty_aggregates():
    events = [event(2, AS_OF - 3 * DAY, amount=None, url=None)]
    c = ids(1, 2)
    pv = {"event": "page_view"}
    assert members({**pv, "count": {"eq": 0}}, c, events) == {1}
    assert members({**pv, "sum": {"of": "amount", "eq": 0}}, c, events) == {1, 2}  # all NULL: 0
    assert members({**pv, "distinct": {"of": "url", "eq": 0}}, c, events) == {1, 2}
    assert members({**pv, "avg": {"of": "amount", "lt": 100}}, c, events) == set()
    assert members({**pv, "avg": {"of": "amount", "ne": 5}}, c, events) == set()
    assert members({**pv, "min": {"of": "amount", "lte": 100}}, c, events) == set()
    assert members({**pv, "max": {"of": "amount", "gte": -100}}, c, events) == set()
    assert members({**pv, "first": {"older_than": "1d"}}, c, events) == {2}
    assert members({**pv, "last": {"within": "1y"}}, c, events) == {2}
    assert members({"not": {**pv, "avg": {"of": "amount", "gte": 0}}}, c, events) == {1, 2}


def test_not_followed_by():
    events = [
        event(1, AS_OF - 2 * DAY, "cart_add"), event(1, AS_OF - DAY, "purchase"),  # followed
        event(2, AS_OF - 3 * DAY, "purchase"), event(2, AS_OF - 2 * DAY, "cart_add"),
        event(3, AS_OF - DAY, "cart_add"), event(3, AS_OF - DAY, "purchase"),  # same instant
        event(4, AS_OF - DAY, "purchase"),  # no cart at all
        event(5, AS_OF - 2 * DAY, "cart_add"), event(5, AS_OF + SECOND, "purchase"),  # future
        event(6, AS_OF - 5 * DAY, "cart_add"), event(6, AS_OF - 3 * DAY, "purchase"),
        event(6, AS_OF - 2 * DAY, "cart_add"),  # the latest cart counts
        event(7, AS_OF - 3 * DAY, "cart_add"), event(7, AS_OF - DAY, "purchase"),
    ]
    c = ids(1, 2, 3, 4, 5, 6, 7)
    rule = {"event": "cart_add", "not_followed_by": {"event": "purchase"}}
    assert members(rule, c, events) == {2, 3, 5, 6}
    within = {"event": "cart_add", "not_followed_by": {"event": "purchase", "within": "1d"}}
    assert members(within, c, events) == {2, 3, 5, 6, 7}  # 1: purchase exactly 1d later counts
    recent = {"event": "cart_add", "within": "2d", "not_followed_by": {"event": "purchase"}}
    assert members(recent, c, events) == {3}  # the first kind is filtered by within first
    twice = {"event": "cart_add", "count": {"gte": 2}, "not_followed_by": {"event": "purchase"}}
    assert members(twice, c, events) == {6}


def test_not_followed_by_other_stream_and_calendar_within():
    events = [event(1, datetime(2026, 1, 31, 10), "cart_add"), event(2, datetime(2026, 1, 31, 10), "cart_add")]
    orders = [order(1, datetime(2026, 2, 28, 10)), order(2, datetime(2026, 2, 28, 10, 0, 1))]
    rule = {"event": "cart_add", "not_followed_by": {"stream": "orders", "within": "1mo"}}
    assert members(rule, ids(1, 2), events, orders) == {2}
    rule = {"event": "cart_add", "not_followed_by": {"stream": "orders", "where": {"status": {"eq": "x"}}}}
    assert members(rule, ids(1, 2), events, orders) == {1, 2}


# ------------------------------------------------------------------------------ references


def test_segment_references_and_cycles():
    project = {
        "segments": [
            {"name": "krk", "rule": {"attribute": "city", "eq": "Kraków"}},
            {"name": "not_krk", "rule": {"not": {"segment": "krk"}}},
        ]
    }
    result = run(project, [contact(1, city="Kraków"), contact(2)])
    assert result.membership == {(1, "krk"), (2, "not_krk")}
    cycle = {"segments": [{"name": "a", "rule": {"segment": "b"}}, {"name": "b", "rule": {"segment": "a"}}]}
    with pytest.raises(ValueError, match="cycle"):
        run(cycle, ids(1))


# ------------------------------------------------------------------------------ scores


def test_score_per_event_decay_cap_clamp_grades():
    events = [
        event(1, AS_OF, "email_open"),
        event(1, AS_OF - 30 * DAY, "email_open"),
        event(1, AS_OF - 60 * DAY, "email_open"),
        event(1, AS_OF - DAY, "form_submit"),
        event(2, AS_OF - 5 * DAY, "form_submit"),
    ]
    opens = {"event": "email_open"}
    grades = [{"name": "hot", "gte": 20}, {"name": "warm", "gte": 10, "lt": 20}, {"name": "cold"}]
    project = {
        "scores": [
            {"name": "decayed", "rules": [{"points": 10, "when": opens, "per_event": True}],
             "decay": {"half_life": "30d"}, "grades": grades},  # 10 * (1 + 0.5 + 0.25)
            {"name": "capped", "rules": [{"points": 10, "when": opens, "per_event": True, "cap": 12}],
             "decay": {"half_life": "30d"}, "grades": grades},
            {"name": "plain", "rules": [  # no decay: 10 per open; a rule without per_event: just points
                {"points": 10, "when": opens, "per_event": True},
                {"points": 25, "when": {"event": "form_submit"}},
            ], "max": 50, "grades": grades},
            {"name": "negative", "rules": [{"points": -10, "when": opens, "per_event": True, "cap": 12}],
             "min": -5, "grades": [{"name": "hot", "gte": 20}, {"name": "warm", "gte": 0}]},
            {"name": "hours", "rules": [{"points": 8, "when": {"event": "form_submit"}, "per_event": True}],
             "decay": {"half_life": "12h"}},  # 1 day old = two half-lives
        ]
    }
    scores = run(project, ids(1, 2, 3), events).scores
    assert scores[(1, "decayed")] == (17.5, "warm")
    assert scores[(1, "capped")] == (12.0, "warm")
    assert scores[(1, "plain")] == (50.0, "hot")  # 30 + 25, clamped to 50
    assert scores[(2, "plain")] == (25.0, "hot")
    assert scores[(1, "negative")] == (-5.0, None)  # -30 capped to -12, clamped to -5; no grade
    assert scores[(3, "negative")] == (0.0, "warm")
    assert scores[(1, "hours")] == (2.0, None)
    assert scores[(2, "hours")][0] == pytest.approx(8 * 0.5**10)
    assert scores[(3, "decayed")] == (0.0, "cold")


def test_score_and_grade_conditions():
    events = [event(1, AS_OF - DAY, "form_submit")]
    project = {
        "scores": [{"name": "s", "rules": [{"points": 25, "when": {"event": "form_submit"}}],
                    "grades": [{"name": "hot", "gte": 20}]}],
        "segments": [
            {"name": "high", "rule": {"score": "s", "gte": 25}},
            {"name": "mid", "rule": {"score": "s", "gt": 0, "lt": 25}},
            {"name": "hot", "rule": {"score": "s", "grade": ["hot", "warm"]}},
            {"name": "ungraded", "rule": {"not": {"score": "s", "grade": "hot"}}},
        ],
    }
    assert run(project, ids(1, 2), events).membership == {(1, "high"), (1, "hot"), (2, "ungraded")}


def test_per_event_rejects_aggregates():
    project = {"scores": [{"name": "s", "rules": [
        {"points": 1, "when": {"event": "page_view", "count": {"gte": 2}}, "per_event": True}]}]}
    with pytest.raises(ValueError, match="per_event"):
        run(project, ids(1))


# ------------------------------------------------------------------------------ lifecycles


def test_lifecycle_first_match_and_default():
    orders = [order(1, AS_OF - DAY), order(1, AS_OF - 2 * DAY), order(1, AS_OF - 3 * DAY), order(2, AS_OF - DAY)]
    events = [event(3, AS_OF - DAY), event(2, AS_OF - DAY)]
    project = {
        "lifecycles": [{"name": "journey", "default": "prospect", "stages": [
            {"name": "loyal", "when": {"stream": "orders", "within": "365d", "count": {"gte": 3}}},
            {"name": "customer", "when": {"stream": "orders"}},
            {"name": "engaged", "when": {"event": ["email_click", "page_view"], "within": "30d"}},
        ]}],
        "segments": [{"name": "buyers", "rule": {"lifecycle": "journey", "stage": ["loyal", "customer"]}}],
    }
    result = run(project, ids(1, 2, 3, 4), events, orders)
    assert result.lifecycle == {
        (1, "journey"): "loyal",
        (2, "journey"): "customer",
        (3, "journey"): "engaged",
        (4, "journey"): "prospect",
    }
    assert result.membership == {(1, "buyers"), (2, "buyers")}


# ------------------------------------------------------------------------------ RFM


RFM_ORDERS = [
    order(1, AS_OF - DAY, 10), order(1, AS_OF - 5 * DAY, None), order(1, AS_OF - 10 * DAY, 5),
    order(2, AS_OF - DAY, 20), order(2, AS_OF + SECOND, 1000),  # the future is ignored
    order(3, AS_OF - 10 * DAY, 15), order(3, AS_OF - HOUR, 100, status="cancelled"),
    order(4, AS_OF - 36 * HOUR, 1), order(4, AS_OF - 30 * DAY, 1),
    order(5, AS_OF - DAY, 50, status="cancelled"),  # only cancelled: no RFM row
    order(13, AS_OF - DAY, 7), order(None, AS_OF - DAY, 7),  # orphan and NULL keys
]
RFM = {"name": "rfm", "stream": "orders", "where": {"status": {"ne": "cancelled"}}, "monetary": "amount", "bins": 5}


def test_rfm_with_ties_and_default_segments():
    result = run({"rfm": [RFM]}, ids(1, 2, 3, 4, 5, 6), orders=RFM_ORDERS)
    # latest asc: 3 (-10d) < 4 (-36h) < 1 = 2 (-1d)  -> cume 1/4, 2/4, 4/4 -> r 2, 3, 5, 5
    # frequency:  2 = 3 (1) < 4 (2) < 1 (3)          -> cume 2/4, 3/4, 4/4 -> f 3, 3, 4, 5
    # monetary:   4 (2) < 1 = 3 (15) < 2 (20)        -> cume 1/4, 3/4, 4/4 -> m 2, 4, 4, 5
    assert result.rfm == {
        (1, "rfm"): {"recency_days": 1, "frequency": 3, "monetary": 15, "r": 5, "f": 5, "m": 4, "segment": "champions"},
        (2, "rfm"): {"recency_days": 1, "frequency": 1, "monetary": 20, "r": 5, "f": 3, "m": 5,
                     "segment": "potential_loyalists"},
        (3, "rfm"): {"recency_days": 10, "frequency": 1, "monetary": 15, "r": 2, "f": 3, "m": 4, "segment": "at_risk"},
        (4, "rfm"): {"recency_days": 1, "frequency": 2, "monetary": 2, "r": 3, "f": 4, "m": 2, "segment": "loyal"},
    }


def test_rfm_custom_segments_window_and_conditions():
    segments = [{"name": "big", "m": [5, 5]}, {"name": "recent", "r": [5, 5]}]
    rfm = {**RFM, "segments": segments}
    project = {
        "rfm": [rfm],
        "segments": [
            {"name": "recent", "rule": {"rfm": "rfm", "segment": "recent"}},
            {"name": "mid", "rule": {"rfm": "rfm", "r": {"gte": 3}, "f": {"lt": 5}}},
            {"name": "no_r", "rule": {"rfm": "rfm", "r": {"ne": 100}}},
        ],
    }
    result = run(project, ids(1, 2, 3, 4, 5), orders=RFM_ORDERS)
    assert {c: row["segment"] for (c, _), row in result.rfm.items()} == {1: "recent", 2: "big", 3: None, 4: None}
    assert result.membership == {(1, "recent"), (2, "mid"), (4, "mid")} | {(c, "no_r") for c in (1, 2, 3, 4)}
    # within 7d keeps 1 (-1d, -5d), 2 (-1d), 4 (-36h); 3 drops out, 1 and 2 tie on recency
    windowed = run({"rfm": [{**rfm, "within": "7d", "bins": 3}]}, ids(1, 2, 3, 4), orders=RFM_ORDERS).rfm
    assert {c: (row["frequency"], row["r"], row["f"]) for (c, _), row in windowed.items()} == {
        1: (2, 3, 3), 2: (1, 3, 2), 4: (1, 1, 2)}


# ------------------------------------------------------------------------------ the strategies


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(projects(), datasets())
def test_random_projects_evaluate_completely(project, data):
    result = evaluate(project, SCHEMA, data, AS_OF)
    contacts = {c["contact_id"] for c in data.contacts}
    scores = [s["name"] for s in project.get("scores", [])]
    lifecycles = [lc["name"] for lc in project.get("lifecycles", [])]
    assert set(result.scores) == {(c, s) for c in contacts for s in scores}
    assert set(result.lifecycle) == {(c, lc) for c in contacts for lc in lifecycles}
    for (c, _), row in result.rfm.items():
        bins = project["rfm"][0]["bins"]
        assert c in contacts and all(1 <= row[k] <= bins for k in "rfm") and row["frequency"] >= 1
