"""Hand-computed DuckDB execution tests for scores, lifecycles and RFM (SPEC §5–§7).

Every expected value below is worked out by hand from the spec and written as a literal (or as
the arithmetic that gives it). The shared plan must produce exactly these rows; segments that
refer to a score, lifecycle or RFM are also checked through the direct translation.

as_of is AS_OF = 2026-03-31 12:00:00 throughout.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness import assert_same, close
from reference import Result
from strategies import AS_OF
from test_operators import contact, event, order, project_result

SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)


def run(definitions, contacts, events=(), orders=()):
    """(shared-plan result, direct membership) for a whole project at AS_OF."""
    return project_result(definitions, contacts, {"events": events, "orders": orders})


def scores_of(definitions, contacts, events=(), orders=()) -> dict:
    return run(definitions, contacts, events, orders)[0].scores


def assert_scores(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (value, grade) in expected.items():
        assert close(got[key][0], value) and got[key][1] == grade, (key, got[key], (value, grade))


def score(name, rules, **options):
    return {"name": name, "rules": rules, **options}


def opens(points, **rule):
    return {"points": points, "when": {"event": "email_open"}, "per_event": True, **rule}


# ------------------------------------------------------------------------------ per_event, cap, clamp

SCORE_EVENTS = [
    event(1, AS_OF, "email_open"),
    event(1, AS_OF - 30 * DAY, "email_open"),
    event(1, AS_OF - 60 * DAY, "email_open"),
    event(1, AS_OF + SECOND, "email_open"),  # after as_of: ignored
    event(1, None, "email_open"),  # NULL timestamp: ignored
    event(13, AS_OF, "email_open"),  # orphan: ignored
    event(1, AS_OF - DAY, "form_submit"),
    event(1, AS_OF - 2 * DAY, "unsubscribe"),
    event(2, AS_OF - DAY, "email_open"),
    event(2, AS_OF - 2 * DAY, "email_open"),
    event(2, AS_OF - 3 * DAY, "email_open"),
    event(2, AS_OF - 30 * DAY, "form_submit"),
    event(4, AS_OF - DAY, "unsubscribe"),
    event(4, AS_OF - 40 * DAY, "unsubscribe"),
]
SCORE_CONTACTS = [contact(1), contact(2, vip=True), contact(3), contact(4, vip=False)]


@pytest.mark.parametrize("definition, expected", [
    # 10 per open, no decay: 1 has three valid opens, 2 has three
    (score("s", [opens(10)]), {1: 30, 2: 30, 3: 0, 4: 0}),
    (score("s", [opens(10, cap=25)]), {1: 25, 2: 25, 3: 0, 4: 0}),
    (score("s", [opens(10, cap=30)]), {1: 30, 2: 30, 3: 0, 4: 0}),  # exactly at the cap
    (score("s", [opens(2.5)]), {1: 7.5, 2: 7.5, 3: 0, 4: 0}),
    # negative per-event points, cap keeps the sign: 4 has two unsubscribes, -40 clipped to -30
    (score("s", [{"points": -20, "when": {"event": "unsubscribe"}, "per_event": True, "cap": 30}]),
     {1: -20, 2: 0, 3: 0, 4: -30}),
    # not per_event: the points once, however many rows; a cap above them does nothing
    (score("s", [{"points": -20, "when": {"event": "unsubscribe"}, "cap": 30}]), {1: -20, 2: 0, 3: 0, 4: -20}),
    (score("s", [{"points": 25, "when": {"event": "form_submit"}, "cap": 10}]), {1: 10, 2: 10, 3: 0, 4: 0}),
    (score("s", [{"points": -20, "when": {"event": "unsubscribe"}, "cap": 5}]), {1: -5, 2: 0, 3: 0, 4: -5}),
    # per_event on a stream without event names: one weight per row (2's open 3 days ago is on the edge)
    (score("s", [{"points": 3, "when": {"stream": "events", "within": "3d"}, "per_event": True}]),
     {1: 9, 2: 6, 3: 0, 4: 3}),
    # per_event with within: the open exactly 30 days ago is on the open edge
    (score("s", [{"points": 10, "when": {"event": "email_open", "within": "30d"}, "per_event": True}]),
     {1: 10, 2: 30, 3: 0, 4: 0}),
    # the sum, then the clamp: 1 = 30 + 25 - 20 = 35, 2 = 30 + 25 + 15 = 70 -> 50, 4 = -20 -> -5
    (score("s", [opens(10), {"points": 25, "when": {"event": "form_submit"}},
                 {"points": -20, "when": {"event": "unsubscribe"}},
                 {"points": 15, "when": {"attribute": "vip", "eq": True}}], min=-5, max=50),
     {1: 35, 2: 50, 3: 0, 4: -5}),
    (score("s", [{"points": -20, "when": {"event": "unsubscribe"}}], min=0), {1: 0, 2: 0, 3: 0, 4: 0}),
    (score("s", [{"points": 15, "when": {"attribute": "vip", "eq": True}}], min=5), {1: 5, 2: 15, 3: 5, 4: 5}),
    (score("s", [opens(10)], max=20), {1: 20, 2: 20, 3: 0, 4: 0}),
    # a rule on a NULL attribute: vip ne true holds for NULL (1, 3) and false (4)
    (score("s", [{"points": 1, "when": {"attribute": "vip", "ne": True}}]), {1: 1, 2: 0, 3: 1, 4: 1}),
], ids=lambda x: str(x)[:80])
def test_score_values(definition, expected):
    got = scores_of({"scores": [definition]}, SCORE_CONTACTS, SCORE_EVENTS)
    assert_scores(got, {(c, "s"): (v, None) for c, v in expected.items()})


# ------------------------------------------------------------------------------ decay

@pytest.mark.parametrize("half_life, age, weight", [
    ("30d", timedelta(0), 1.0),
    ("30d", 30 * DAY, 0.5),  # exactly one half-life
    ("30d", 60 * DAY, 0.25),
    ("30d", 90 * DAY, 0.125),
    ("30d", 15 * DAY, 0.5 ** 0.5),
    ("12h", DAY, 0.25),  # two half-lives of 12 hours
    ("36h", 36 * HOUR, 0.5),
    ("1d", 3 * DAY, 0.125),
    ("1w", 7 * DAY, 0.5),
    ("2w", 14 * DAY, 0.5),
    ("2w", 7 * DAY, 0.5 ** 0.5),
], ids=str)
def test_decay_weight(half_life, age, weight):
    events = [event(1, AS_OF - age, "email_open"), event(2, AS_OF - age, "email_open"),
              event(2, AS_OF - age, "email_open")]
    definition = score("s", [opens(8)], decay={"half_life": half_life})
    got = scores_of({"scores": [definition]}, [contact(1), contact(2), contact(3)], events)
    assert_scores(got, {(1, "s"): (8 * weight, None), (2, "s"): (16 * weight, None), (3, "s"): (0, None)})


@pytest.mark.parametrize("half_life", ["5h", "7h", "3d", "3w"])
def test_decay_by_whole_half_lives_lands_on_the_grade_boundary(half_life):
    """One half-life of 5h is 5/24 of a day, which is not exact in binary: the age is divided in seconds."""
    age = {"h": HOUR, "d": DAY, "w": 7 * DAY}[half_life[-1]] * int(half_life[:-1])
    definition = score("s", [opens(60)], decay={"half_life": half_life}, grades=[{"name": "hot", "gte": 30}])
    got = scores_of({"scores": [definition]}, [contact(1)], [event(1, AS_OF - age, "email_open")])
    assert got[(1, "s")][1] == "hot"


def test_decay_sums_weights_then_caps_and_spares_plain_rules():
    definitions = {"scores": [
        score("decayed", [opens(10)], decay={"half_life": "30d"}),  # 1: 10 × (1 + 0.5 + 0.25)
        score("capped", [opens(10, cap=12)], decay={"half_life": "30d"}),
        score("negative", [opens(-10, cap=12)], decay={"half_life": "30d"}),
        # a rule without per_event gives its points undecayed: 2's form_submit is 30 days old
        score("plain", [{"points": 25, "when": {"event": "form_submit"}}], decay={"half_life": "30d"}),
    ]}
    got = scores_of(definitions, SCORE_CONTACTS, SCORE_EVENTS)
    two = 10 * (0.5 ** (1 / 30) + 0.5 ** (2 / 30) + 0.5 ** (3 / 30))  # 2's opens 1, 2 and 3 days ago
    assert_scores(got, {
        (1, "decayed"): (17.5, None), (2, "decayed"): (two, None), (3, "decayed"): (0, None), (4, "decayed"): (0, None),
        (1, "capped"): (12, None), (2, "capped"): (12, None), (3, "capped"): (0, None), (4, "capped"): (0, None),
        (1, "negative"): (-12, None), (2, "negative"): (-12, None), (3, "negative"): (0, None),
        (4, "negative"): (0, None),
        (1, "plain"): (25, None), (2, "plain"): (25, None), (3, "plain"): (0, None), (4, "plain"): (0, None),
    })


def test_scores_with_different_decays_over_the_same_events():
    # one open exactly one day ago, one exactly 30 days ago, for contact 1 only
    events = [event(1, AS_OF - DAY, "email_open"), event(1, AS_OF - 30 * DAY, "email_open")]
    definitions = {"scores": [
        score("fast", [opens(8)], decay={"half_life": "1d"}),  # 8 × (0.5 + 0.5^30)
        score("slow", [opens(8)], decay={"half_life": "30d"}),  # 8 × (0.5^(1/30) + 0.5)
        score("flat", [opens(8)]),  # 16
    ]}
    got = scores_of(definitions, [contact(1), contact(2)], events)
    assert_scores(got, {
        (1, "fast"): (8 * (0.5 + 0.5 ** 30), None), (2, "fast"): (0, None),
        (1, "slow"): (8 * (0.5 ** (1 / 30) + 0.5), None), (2, "slow"): (0, None),
        (1, "flat"): (16, None), (2, "flat"): (0, None),
    })


def test_decay_with_within():
    # 1's opens: now (1) and 30 days ago (0.5, on the edge of within: 30d, so out); 2's: 1, 2, 3 days ago
    when = {"event": "email_open", "within": "30d"}
    definition = score("s", [{"points": 4, "when": when, "per_event": True}], decay={"half_life": "1d"})
    got = scores_of({"scores": [definition]}, SCORE_CONTACTS, SCORE_EVENTS)
    assert_scores(got, {(1, "s"): (4, None), (2, "s"): (4 * (0.5 + 0.25 + 0.125), None),
                        (3, "s"): (0, None), (4, "s"): (0, None)})


def test_per_event_with_where_and_event_list():
    events = [
        event(1, AS_OF - DAY, url="/szkolenia/a"),
        event(1, AS_OF - DAY, url="/SZKOLENIA/b"),
        event(1, AS_OF - DAY, "email_click", url="/szkolenia/c"),
        event(1, AS_OF - DAY, "email_open", url="/szkolenia/d"),
        event(1, AS_OF - DAY, url=None),
        event(2, AS_OF - 7 * DAY, url="/szkolenia/a"),  # on the edge of within: 7d
    ]
    when = {"event": ["page_view", "email_click"], "where": {"url": {"contains": "/szkolenia"}}, "within": "7d"}
    definition = score("s", [{"points": 5, "when": when, "per_event": True}])
    got = scores_of({"scores": [definition]}, [contact(1), contact(2)], events)
    assert_scores(got, {(1, "s"): (10, None), (2, "s"): (0, None)})


# ------------------------------------------------------------------------------ grades

VISITS_POINTS = [  # visits 0 -> 0, 1 -> 10, 2 -> 30, 3 -> 60, NULL -> 0; vip true -> -5 more
    {"points": 10, "when": {"attribute": "visits", "gte": 1}},
    {"points": 20, "when": {"attribute": "visits", "gte": 2}},
    {"points": 30, "when": {"attribute": "visits", "gte": 3}},
    {"points": -5, "when": {"attribute": "vip", "eq": True}},
]
GRADE_CONTACTS = [contact(1, visits=0), contact(2, visits=1), contact(3, visits=2), contact(4, visits=3),
                  contact(5), contact(6, visits=0, vip=True), contact(7, visits=3, vip=True)]
GRADE_VALUES = {1: 0, 2: 10, 3: 30, 4: 60, 5: 0, 6: -5, 7: 55}


@pytest.mark.parametrize("grades, expected", [
    # bounds are inclusive below (gte) and exclusive above (lt); a bare entry is the default
    ([{"name": "hot", "gte": 60}, {"name": "warm", "gte": 30}, {"name": "cold"}],
     {1: "cold", 2: "cold", 3: "warm", 4: "hot", 5: "cold", 6: "cold", 7: "warm"}),
    # no default: nothing matches -> NULL grade
    ([{"name": "hot", "gte": 30}, {"name": "warm", "gte": 10, "lt": 30}],
     {1: None, 2: "warm", 3: "hot", 4: "hot", 5: None, 6: None, 7: "hot"}),
    # first match wins, even when a later entry is narrower
    ([{"name": "any", "gte": 0}, {"name": "big", "gte": 30}],
     {1: "any", 2: "any", 3: "any", 4: "any", 5: "any", 6: None, 7: "any"}),
    ([{"name": "negative", "lt": 0}, {"name": "low", "lt": 10}, {"name": "rest"}],
     {1: "low", 2: "rest", 3: "rest", 4: "rest", 5: "low", 6: "negative", 7: "rest"}),
    ([{"name": "mid", "gte": 10, "lt": 55}],
     {1: None, 2: "mid", 3: "mid", 4: None, 5: None, 6: None, 7: None}),
], ids=str)
def test_grades(grades, expected):
    got = scores_of({"scores": [score("s", VISITS_POINTS, grades=grades)]}, GRADE_CONTACTS)
    assert_scores(got, {(c, "s"): (GRADE_VALUES[c], g) for c, g in expected.items()})


def test_fractional_grade_bounds():
    # 2.5 per open: 1 has three valid opens (7.5), 2 three (7.5); 5 per form_submit: 1 and 2 one each
    rules = [opens(2.5), {"points": 5, "when": {"event": "form_submit"}, "per_event": True}]
    grades = [{"name": "a", "gte": 12.5}, {"name": "b", "gte": 0.5, "lt": 12.5}]
    got = scores_of({"scores": [score("s", rules, grades=grades)]}, SCORE_CONTACTS, SCORE_EVENTS)
    assert_scores(got, {(1, "s"): (12.5, "a"), (2, "s"): (12.5, "a"), (3, "s"): (0, None), (4, "s"): (0, None)})


def test_grade_after_clamp():
    grades = [{"name": "top", "gte": 50}, {"name": "floor", "lt": 1}]
    got = scores_of({"scores": [score("s", VISITS_POINTS, grades=grades, min=0, max=50)]}, GRADE_CONTACTS)
    values = {1: 0, 2: 10, 3: 30, 4: 50, 5: 0, 6: 0, 7: 50}
    grade = {1: "floor", 2: None, 3: None, 4: "top", 5: "floor", 6: "floor", 7: "top"}
    assert_scores(got, {(c, "s"): (values[c], grade[c]) for c in values})


def test_score_conditions_in_segments():
    grades = [{"name": "hot", "gte": 30}, {"name": "warm", "gte": 10, "lt": 30}]
    definitions = {
        "scores": [score("s", VISITS_POINTS, grades=grades)],
        "segments": [
            {"name": "high", "rule": {"score": "s", "gte": 30}},
            {"name": "middle", "rule": {"score": "s", "gt": 0, "lt": 30}},
            {"name": "zero", "rule": {"score": "s", "eq": 0}},
            {"name": "graded", "rule": {"score": "s", "grade": ["hot", "warm"]}},
            {"name": "hot", "rule": {"score": "s", "grade": "hot"}},
            {"name": "not_hot", "rule": {"not": {"score": "s", "grade": "hot"}}},  # NULL grade included
        ],
    }
    shared, direct = run(definitions, GRADE_CONTACTS)
    # values: 1: 0, 2: 10, 3: 30, 4: 60, 5: 0, 6: -5, 7: 55
    expected = {(c, "high") for c in (3, 4, 7)} | {(2, "middle")} | {(1, "zero"), (5, "zero")} \
        | {(c, "graded") for c in (2, 3, 4, 7)} | {(c, "hot") for c in (3, 4, 7)} \
        | {(c, "not_hot") for c in (1, 2, 5, 6)}
    assert shared.membership == expected
    assert direct == expected


def test_scores_referring_to_segments_and_scores():
    definitions = {
        "segments": [{"name": "krk", "rule": {"attribute": "city", "icontains": "kraków"}}],
        "scores": [
            score("base", [{"points": 10, "when": {"segment": "krk"}}, opens(1)]),
            score("derived", [{"points": 100, "when": {"score": "base", "gte": 11}},
                              {"points": 1, "when": {"not": {"segment": "krk"}}}]),
        ],
    }
    contacts = [contact(1, city="KRAKÓW"), contact(2, city="Kraków"), contact(3)]
    events = [event(1, AS_OF - DAY, "email_open"), event(3, AS_OF - DAY, "email_open")]
    shared, direct = run(definitions, contacts, events)
    assert_scores(shared.scores, {
        (1, "base"): (11, None), (2, "base"): (10, None), (3, "base"): (1, None),
        (1, "derived"): (100, None), (2, "derived"): (0, None), (3, "derived"): (1, None),
    })
    assert shared.membership == direct == {(1, "krk"), (2, "krk")}


# ------------------------------------------------------------------------------ lifecycles


def test_lifecycle_first_match_and_default():
    orders = [order(1, AS_OF - DAY), order(1, AS_OF - 2 * DAY), order(1, AS_OF - 3 * DAY),
              order(2, AS_OF - DAY), order(5, AS_OF - 400 * DAY), order(5, AS_OF - 401 * DAY),
              order(5, AS_OF - 402 * DAY)]
    events = [event(1, AS_OF - DAY, "form_submit"), event(2, AS_OF - DAY, "form_submit"),
              event(3, AS_OF - 29 * DAY, "email_click"), event(4, AS_OF - 30 * DAY, "page_view"),
              event(6, AS_OF - DAY, "form_submit")]
    definitions = {
        "scores": [score("lead", [{"points": 60, "when": {"event": "form_submit"}}])],
        "lifecycles": [{"name": "journey", "default": "prospect", "stages": [
            {"name": "loyal", "when": {"stream": "orders", "within": "365d", "count": {"gte": 3}}},
            {"name": "customer", "when": {"stream": "orders"}},
            {"name": "ready_to_buy", "when": {"score": "lead", "gte": 60}},
            {"name": "engaged", "when": {"event": ["email_click", "page_view"], "within": "30d"}},
        ]}],
        "segments": [
            {"name": "buyers", "rule": {"lifecycle": "journey", "stage": ["loyal", "customer"]}},
            {"name": "prospects", "rule": {"lifecycle": "journey", "stage": "prospect"}},
            {"name": "not_loyal", "rule": {"not": {"lifecycle": "journey", "stage": "loyal"}}},
        ],
    }
    contacts = [contact(c) for c in range(1, 8)]
    shared, direct = run(definitions, contacts, events, orders)
    # 1: three orders in a year (also a customer, also ready): loyal wins; 2: one order: customer
    # (not ready_to_buy, which comes later); 3: click 29 days ago: engaged; 4: view exactly 30 days
    # ago is outside: prospect; 5: three old orders: customer; 6: form_submit: ready_to_buy; 7: nothing
    stages = {1: "loyal", 2: "customer", 3: "engaged", 4: "prospect", 5: "customer", 6: "ready_to_buy", 7: "prospect"}
    assert shared.lifecycle == {(c, "journey"): s for c, s in stages.items()}
    expected = {(1, "buyers"), (2, "buyers"), (5, "buyers"), (4, "prospects"), (7, "prospects")} \
        | {(c, "not_loyal") for c in (2, 3, 4, 5, 6, 7)}
    assert shared.membership == expected
    assert direct == expected


def test_lifecycle_stage_can_refer_to_a_segment():
    definitions = {
        "segments": [{"name": "vip", "rule": {"attribute": "vip", "eq": True}}],
        "lifecycles": [{"name": "tier", "default": "standard", "stages": [
            {"name": "gold", "when": {"all": [{"segment": "vip"}, {"attribute": "visits", "gte": 2}]}},
            {"name": "silver", "when": {"segment": "vip"}},
        ]}],
    }
    contacts = [contact(1, vip=True, visits=2), contact(2, vip=True), contact(3, vip=False, visits=5), contact(4)]
    shared, direct = run(definitions, contacts)
    assert shared.lifecycle == {(1, "tier"): "gold", (2, "tier"): "silver", (3, "tier"): "standard",
                                (4, "tier"): "standard"}
    assert shared.membership == direct == {(1, "vip"), (2, "vip")}


# ------------------------------------------------------------------------------ RFM
# Orders (status paid unless said): latest timestamp, count and amount sum per contact, by hand.
#   1: 100 at -1d-23h                                  -> recency 1, f 1, m 100
#   2: 50 at -1d-23h, NULL at -10d                     -> recency 1, f 2, m 50 (NULL as 0)
#   3: 10 at -30d+1h, 10 at -40d, 10 at -50d           -> recency 29 (29d 23h), f 3, m 30
#   4: 100 at -100d                                    -> recency 100, f 1, m 100
#   5: cancelled 1000 at -2d; 5 at -200d               -> without cancelled: recency 200, f 1, m 5
#   6: no orders                                       -> no RFM row
#   7: only a cancelled order at -3d                   -> no row once cancelled ones are filtered
#   8: NULL amount, NULL status at -300d               -> ne cancelled holds on NULL: recency 300, f 1, m 0
#   plus an order in the future, a NULL timestamp and an orphan, all ignored

RFM_ORDERS = [
    order(1, AS_OF - DAY - 23 * HOUR, 100),
    order(2, AS_OF - DAY - 23 * HOUR, 50), order(2, AS_OF - 10 * DAY, None),
    order(3, AS_OF - 30 * DAY + HOUR, 10), order(3, AS_OF - 40 * DAY, 10), order(3, AS_OF - 50 * DAY, 10),
    order(4, AS_OF - 100 * DAY, 100),
    order(5, AS_OF - 2 * DAY, 1000, "cancelled"), order(5, AS_OF - 200 * DAY, 5),
    order(7, AS_OF - 3 * DAY, 20, "cancelled"),
    order(8, AS_OF - 300 * DAY, None, None),
    order(1, AS_OF + SECOND, 1000), order(1, None, 1000), order(13, AS_OF - DAY, 1000),
]
RFM_CONTACTS = [contact(c) for c in range(1, 9)]
PAID = {"status": {"ne": "cancelled"}}
FACTS = {1: (1, 1, 100), 2: (1, 2, 50), 3: (29, 3, 30), 4: (100, 1, 100), 5: (200, 1, 5), 8: (300, 1, 0)}


def rfm_rows(facts: dict, scores: dict, segments: dict, name="rfm") -> dict:
    return {(c, name): {"recency_days": facts[c][0], "frequency": facts[c][1], "monetary": facts[c][2],
                        "r": r, "f": f, "m": m, "segment": segments[c]}
            for c, (r, f, m) in scores.items()}


def rfm_result(definition, orders=RFM_ORDERS, contacts=RFM_CONTACTS, events=()) -> Result:
    shared, _ = run({"rfm": [definition]}, contacts, events, orders)
    return shared


def test_rfm_five_bins_with_ties_and_the_default_segments():
    # six contacts. Recency (oldest first): 8, 5, 4, 3, then 1 = 2 tied -> cume 1/6 .. 4/6, 6/6
    #   r = ceil(5 × k/6): 1, 2, 3, 4, 5, 5
    # Frequency: 1, 4, 5, 8 have 1 (cume 4/6 -> 4), 2 has 2 (5/6 -> 5), 3 has 3 (6/6 -> 5)
    # Monetary: 8: 0 (1/6 -> 1), 5: 5 (2/6 -> 2), 3: 30 (3/6 -> 3), 2: 50 (4/6 -> 4), 1 = 4: 100 (6/6 -> 5)
    scores = {1: (5, 4, 5), 2: (5, 5, 4), 3: (4, 5, 3), 4: (3, 4, 5), 5: (2, 4, 2), 8: (1, 4, 1)}
    # default map: r 5 f 4-5 champions; r 3-4 f 4-5 loyal; r 1-2 f 3-4 at_risk
    segments = {1: "champions", 2: "champions", 3: "loyal", 4: "loyal", 5: "at_risk", 8: "at_risk"}
    expected = Result(rfm=rfm_rows(FACTS, scores, segments))
    got = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount", "bins": 5})
    assert_same(expected, got)


def test_rfm_bins_default_to_five():
    with_bins = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount", "bins": 5})
    default = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount"})
    assert_same(with_bins, default)


def test_rfm_two_bins_with_named_segments():
    # r = ceil(2 × k/6): 8: 1, 5: 1, 4: 1 (3/6), 3: 2, 1 = 2: 2
    # f: frequency 1 is 4/6 -> 2, so everyone is 2.   m: 0, 5, 30 -> 1 (<= 3/6); 50, 100 -> 2
    scores = {1: (2, 2, 2), 2: (2, 2, 2), 3: (2, 2, 1), 4: (1, 2, 2), 5: (1, 2, 1), 8: (1, 2, 1)}
    named = [{"name": "top", "r": [2, 2], "m": [2, 2]}, {"name": "recent", "r": [2, 2]}, {"name": "big", "m": [2, 2]}]
    segments = {1: "top", 2: "top", 3: "recent", 4: "big", 5: None, 8: None}  # no catch-all: NULL
    got = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount", "bins": 2,
                      "segments": named})
    assert_same(Result(rfm=rfm_rows(FACTS, scores, segments)), got)


def test_rfm_default_segments_with_two_bins():
    # same scores as above; with r, f <= 2 only hibernating (r 2, f 1-2) and lost (the rest) apply
    scores = {1: (2, 2, 2), 2: (2, 2, 2), 3: (2, 2, 1), 4: (1, 2, 2), 5: (1, 2, 1), 8: (1, 2, 1)}
    segments = {1: "hibernating", 2: "hibernating", 3: "hibernating", 4: "lost", 5: "lost", 8: "lost"}
    got = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount", "bins": 2})
    assert_same(Result(rfm=rfm_rows(FACTS, scores, segments)), got)


def test_rfm_without_where_counts_cancelled_orders():
    # 5 gains the cancelled order (latest -2d, f 2, m 1005); 7 gets a row (-3d, f 1, m 20)
    facts = {**FACTS, 5: (2, 2, 1005), 7: (3, 1, 20)}
    # seven contacts. Recency oldest first: 8 (-300d), 4 (-100d), 3 (-30d+1h), 7 (-3d), 5 (-2d), 1 = 2
    #   r = ceil(3 × k/7): 8: 1 (1/7), 4: 1 (2/7), 3: 2 (3/7), 7: 2 (4/7), 5: 3 (5/7), 1, 2: 3 (7/7)
    # Frequency: 1 for 1, 4, 7, 8 (4/7 -> 2); 2 for 2, 5 (6/7 -> 3); 3 for 3 (7/7 -> 3)
    # Monetary: 8: 0 (1/7 -> 1), 7: 20 (2/7 -> 1), 3: 30 (3/7 -> 2), 2: 50 (4/7 -> 2), 1 = 4: 100 (6/7 -> 3),
    #   5: 1005 (7/7 -> 3)
    scores = {1: (3, 2, 3), 2: (3, 3, 2), 3: (2, 3, 2), 4: (1, 2, 3), 5: (3, 3, 3), 7: (2, 2, 1), 8: (1, 2, 1)}
    named = [{"name": "best", "r": [3, 3], "f": [3, 3], "m": [3, 3]}, {"name": "others"}]
    segments = {c: "best" if c == 5 else "others" for c in scores}
    got = rfm_result({"name": "rfm", "stream": "orders", "monetary": "amount", "bins": 3, "segments": named})
    assert_same(Result(rfm=rfm_rows(facts, scores, segments)), got)


def test_rfm_within_the_stream():
    # within 150d keeps 1, 2 (both rows), 3, 4; drops 5 (-200d) and 8 (-300d)
    # r: 4 (1/4 -> 2), 3 (2/4 -> 3), 1 = 2 (4/4 -> 5)
    # f: 1, 4 have 1 (2/4 -> 3), 2 has 2 (3/4 -> 4), 3 has 3 (5)
    # m: 3: 30 (1/4 -> 2), 2: 50 (2/4 -> 3), 1 = 4: 100 (4/4 -> 5)
    scores = {1: (5, 3, 5), 2: (5, 4, 3), 3: (3, 5, 2), 4: (2, 3, 5)}
    # default map: 1 r5 f3 potential_loyalists; 2 r5 f4 champions; 3 r3 f5 loyal; 4 r2 f3 at_risk
    segments = {1: "potential_loyalists", 2: "champions", 3: "loyal", 4: "at_risk"}
    got = rfm_result({"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount", "within": "150d"})
    assert_same(Result(rfm=rfm_rows(FACTS, scores, segments)), got)


def test_rfm_recency_scores_the_timestamp_not_the_day_count():
    # 1 and 2 are both 1 whole day ago, but 1 is an hour more recent: different r with bins 2
    orders = [order(1, AS_OF - DAY - HOUR, 10), order(2, AS_OF - DAY - 2 * HOUR, 10),
              order(3, AS_OF - DAY, 10), order(3, AS_OF, 10)]
    facts = {1: (1, 1, 10), 2: (1, 1, 10), 3: (0, 2, 20)}
    # r: 2 (1/3 -> 1), 1 (2/3 -> 2), 3 (3/3 -> 2); f: 1, 2 (2/3 -> 2), 3 (2); m: 10 (2/3 -> 2), 20 (2)
    scores = {1: (2, 2, 2), 2: (1, 2, 2), 3: (2, 2, 2)}
    named = [{"name": "recent", "r": [2, 2]}, {"name": "other"}]
    got = rfm_result({"name": "rfm", "stream": "orders", "monetary": "amount", "bins": 2, "segments": named},
                     orders=orders, contacts=[contact(c) for c in (1, 2, 3)])
    assert_same(Result(rfm=rfm_rows(facts, scores, {1: "recent", 2: "other", 3: "recent"})), got)


def test_rfm_on_events_with_an_event_filter():
    events = [event(1, AS_OF - 2 * DAY, "purchase", amount=30), event(1, AS_OF - DAY, "page_view", amount=999),
              event(2, AS_OF - DAY, "purchase", amount=10), event(2, AS_OF - 5 * DAY, "purchase", amount=None),
              event(3, AS_OF - DAY, "page_view", amount=5)]
    facts = {1: (2, 1, 30), 2: (1, 2, 10)}
    # r: 1 (1/2 -> 1), 2 (2/2 -> 2); f: 1 (1/2 -> 1), 2 (2); m: 10 (1/2 -> 1), 30 (2)
    scores = {1: (1, 1, 2), 2: (2, 2, 1)}
    got = rfm_result({"name": "rfm", "stream": "events", "event": "purchase", "monetary": "amount", "bins": 2,
                      "segments": [{"name": "all"}]}, orders=(), contacts=[contact(c) for c in (1, 2, 3)],
                     events=events)
    assert_same(Result(rfm=rfm_rows(facts, scores, {1: "all", 2: "all"})), got)


def test_rfm_conditions_in_segments():
    definitions = {
        "rfm": [{"name": "rfm", "stream": "orders", "where": PAID, "monetary": "amount"}],
        "segments": [
            {"name": "champs", "rule": {"rfm": "rfm", "segment": "champions"}},
            {"name": "kept", "rule": {"rfm": "rfm", "segment": ["loyal", "at_risk"]}},
            {"name": "recent", "rule": {"rfm": "rfm", "r": {"gte": 4}}},
            {"name": "spenders", "rule": {"rfm": "rfm", "r": {"lte": 3}, "m": {"eq": 5}}},
            {"name": "no_rfm", "rule": {"not": {"rfm": "rfm", "f": {"gte": 1}}}},
            {"name": "not_recent", "rule": {"rfm": "rfm", "r": {"ne": 5}}},  # a non-buyer has no r: false
        ],
    }
    # scores as in test_rfm_five_bins_with_ties_and_the_default_segments; 6 and 7 have no RFM row
    # 1: (5, 4, 5) champions, 2: (5, 5, 4) champions, 3: (4, 5, 3) loyal, 4: (3, 4, 5) loyal,
    # 5: (2, 4, 2) at_risk, 8: (1, 4, 1) at_risk
    expected = {(1, "champs"), (2, "champs")} | {(c, "kept") for c in (3, 4, 5, 8)} \
        | {(c, "recent") for c in (1, 2, 3)} | {(4, "spenders")} | {(6, "no_rfm"), (7, "no_rfm")} \
        | {(c, "not_recent") for c in (3, 4, 5, 8)}
    shared, direct = run(definitions, RFM_CONTACTS, orders=RFM_ORDERS)
    assert shared.membership == expected
    assert direct == expected


@pytest.mark.parametrize("amounts, expected", [
    # (r, f, m); more bins than contacts: k/n of 1/2 and 2/2 give ceil(2.5) = 3 and 5
    ({1: [10], 2: [20]}, {1: (5, 5, 3), 2: (5, 5, 5)}),
    ({1: [10]}, {1: (5, 5, 5)}),  # alone: the top of every scale
    ({1: [None], 2: [None, None]}, {1: (5, 3, 5), 2: (5, 5, 5)}),  # all monetary 0: tied
], ids=str)
def test_rfm_few_contacts(amounts, expected):
    # every order at the same instant, so recency ties too: r is 5 for all
    orders = [order(c, AS_OF - DAY, a) for c, values in amounts.items() for a in values]
    facts = {c: (1, len(values), sum(a or 0 for a in values)) for c, values in amounts.items()}
    got = rfm_result({"name": "rfm", "stream": "orders", "monetary": "amount", "segments": [{"name": "x"}]},
                     orders=orders, contacts=[contact(c) for c in (1, 2, 3)])
    assert_same(Result(rfm=rfm_rows(facts, expected, {c: "x" for c in expected})), got)


def test_whole_project_with_references_across_kinds():
    """Segment -> score -> lifecycle -> segment, two RFMs side by side, a lifecycle stage on an RFM."""
    definitions = {
        "segments": [
            {"name": "krk", "rule": {"attribute": "city", "eq": "Kraków"}},
            {"name": "vip_stage", "rule": {"lifecycle": "journey", "stage": "vip"}},
            {"name": "big_spender", "rule": {"rfm": "spend", "m": {"eq": 2}}},
        ],
        "scores": [score("lead", [{"points": 50, "when": {"segment": "krk"}}, opens(10, cap=20)],
                         grades=[{"name": "hot", "gte": 60}, {"name": "cold"}])],
        "rfm": [
            {"name": "spend", "stream": "orders", "monetary": "amount", "bins": 2, "segments": [{"name": "any"}]},
            {"name": "paid_only", "stream": "orders", "where": {"status": {"eq": "paid"}}, "monetary": "amount",
             "bins": 2, "segments": [{"name": "top", "f": [2, 2]}, {"name": "rest"}]},
        ],
        "lifecycles": [{"name": "journey", "default": "prospect", "stages": [
            {"name": "vip", "when": {"rfm": "paid_only", "segment": "top"}},
            {"name": "hot_lead", "when": {"score": "lead", "grade": "hot"}},
        ]}],
    }
    contacts = [contact(1, city="Kraków"), contact(2, city="Kraków"), contact(3), contact(4)]
    events = [event(1, AS_OF - DAY, "email_open"), event(1, AS_OF - 2 * DAY, "email_open"),
              event(1, AS_OF - 3 * DAY, "email_open"), event(2, AS_OF - DAY, "email_open")]
    orders = [order(3, AS_OF - DAY, 10), order(3, AS_OF - 2 * DAY, 10), order(4, AS_OF - DAY, 100, "cancelled"),
              order(4, AS_OF - 3 * DAY, 1)]
    shared, direct = run(definitions, contacts, events, orders)
    # lead: 1: 50 + min(30, 20) = 70 hot; 2: 50 + 10 = 60 hot; 3, 4: 0 cold
    assert_scores(shared.scores, {(1, "lead"): (70, "hot"), (2, "lead"): (60, "hot"), (3, "lead"): (0, "cold"),
                                  (4, "lead"): (0, "cold")})
    # spend (all orders): 3: latest -1d, f 2, m 20; 4: latest -1d, f 2, m 101 -> r 2 2, f 2 2, m 1 2
    # paid_only: 3: latest -1d, f 2, m 20; 4: latest -3d, f 1, m 1 -> r 2 1, f 2 1, m 2 1
    assert shared.rfm == {
        (3, "spend"): {"recency_days": 1, "frequency": 2, "monetary": 20, "r": 2, "f": 2, "m": 1, "segment": "any"},
        (4, "spend"): {"recency_days": 1, "frequency": 2, "monetary": 101, "r": 2, "f": 2, "m": 2, "segment": "any"},
        (3, "paid_only"): {"recency_days": 1, "frequency": 2, "monetary": 20, "r": 2, "f": 2, "m": 2,
                           "segment": "top"},
        (4, "paid_only"): {"recency_days": 3, "frequency": 1, "monetary": 1, "r": 1, "f": 1, "m": 1,
                           "segment": "rest"},
    }
    assert shared.lifecycle == {(1, "journey"): "hot_lead", (2, "journey"): "hot_lead", (3, "journey"): "vip",
                                (4, "journey"): "prospect"}
    expected = {(1, "krk"), (2, "krk"), (3, "vip_stage"), (4, "big_spender")}
    assert shared.membership == expected
    assert direct == expected


def test_sums_of_numbers_do_not_depend_on_row_order():
    """As doubles, 0.1 + 0.2 + 0.3 is 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6: `number` values are summed
    exactly (DECIMAL(38, 9)), so two contacts with the same orders get the same sum, monetary and m score."""
    orders = [order(1, AS_OF - DAY, a) for a in (0.1, 0.2, 0.3)] + [order(2, AS_OF - DAY, a) for a in (0.3, 0.2, 0.1)]
    definitions = {
        "segments": [{"name": "at_most", "rule": {"stream": "orders", "sum": {"of": "amount", "lte": 0.6}}}],
        "rfm": [{"name": "rfm", "stream": "orders", "monetary": "amount", "bins": 2,
                 "segments": [{"name": "top", "m": [2, 2]}, {"name": "rest"}]}]}
    shared, direct = run(definitions, [contact(1), contact(2)], orders=orders)
    assert shared.membership == direct == {(1, "at_most"), (2, "at_most")}
    assert [(row["monetary"], row["m"], row["segment"]) for _, row in sorted(shared.rfm.items())] == \
        [(0.6, 2, "top"), (0.6, 2, "top")]
