"""`segc schema`: a JSON Schema (draft-07) of the definition language, for editors and CI.

Built from the tables in `spec.py` (the keys of each construct, the operators by column type, the
aggregates, the name and duration patterns), so it lists exactly what the parser accepts. What
needs the sources to check (does this column exist, which type has it, does this segment exist)
is left to `segc validate`: the schema gives completion, hover documentation and the obvious
mistakes (unknown keys, misspelt operators, bad durations) while typing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import ir, spec

SCHEMA_ID = "https://segc.dev/schema/segments.json"
DURATION_EXAMPLES = ["30d", "24h", "2w", "6mo", "1y"]


def _pattern(rx) -> str:
    return rx.pattern


NAME = {"type": "string", "pattern": _pattern(spec.NAME_RE),
        "description": "A name: lower case letters, digits and _, starting with a letter (at most 63 characters)."}
IDENT = {"type": "string", "pattern": _pattern(spec.IDENT_RE), "description": "A column name (a SQL identifier)."}
DURATION = {"type": "string", "pattern": _pattern(spec.DURATION_RE), "examples": DURATION_EXAMPLES,
            "description": "A whole number and a unit: h hours, d days, w weeks, mo calendar months, y calendar years."}
SCALAR = {"type": ["string", "number", "boolean"]}
NAMES_ONE_OR_MANY = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}

# -- descriptions of every key, by construct (tests check that each key of spec.py has one) -------

OPERATOR_DOCS = {
    "eq": "Equal to the value.",
    "ne": "Not equal to the value (true on NULL: a missing value is 'not equal').",
    "gt": "Greater than.", "gte": "Greater than or equal to.", "lt": "Less than.", "lte": "Less than or equal to.",
    "between": "Between [low, high], both included.",
    "in": "Equal to one of the values.",
    "not_in": "Equal to none of the values (true on NULL).",
    "contains": "Contains the text (literal: % and _ are ordinary characters).",
    "icontains": "Contains the text, ignoring case.",
    "starts_with": "Starts with the text.", "ends_with": "Ends with the text.",
    "matches": "Matches the regular expression somewhere (a portable subset: no lookaround, backreferences, \\w, \\b...).",
    "is_null": "true: the value is missing; false: it is present.",
    "within": "The date/timestamp is in (as_of - D, as_of].",
    "older_than": "The date/timestamp is at or before as_of - D.",
    "age": "Whole completed years from the date to as_of, compared, e.g. {between: [35, 45]}.",
    "has": "The list column contains the value.",
    "has_any": "The list column contains at least one of the values.",
    "has_all": "The list column contains every value.",
}
AGGREGATE_DOCS = {
    "count": "Number of matching rows, compared, e.g. {gte: 3}. Default: {gte: 1}.",
    "distinct": "Number of distinct non-NULL values of a column, e.g. {of: product_id, gte: 2}.",
    "sum": "Sum of a numeric column over the matching rows (0 without rows), e.g. {of: amount, gte: 1000}.",
    "avg": "Average of a numeric column (false without rows).",
    "min": "Smallest value of a numeric column (false without rows).",
    "max": "Largest value of a numeric column (false without rows).",
    "first": "The earliest matching timestamp: {within: D} or {older_than: D}.",
    "last": "The latest matching timestamp: {within: D} or {older_than: D}.",
}
DOCS = {
    "top": {
        "version": "The language version: 1.",
        "settings": "Project-wide options (declared in at most one file).",
        "sources": "The warehouse tables segc reads (declared once for the whole project).",
        "segments": "Audiences: contacts for whom a rule holds.",
        "scores": "Lead scores: points from rules, optionally decaying, clamped and graded.",
        "lifecycles": "Customer-journey stages: the first stage whose condition holds.",
        "rfm": "Recency / frequency / monetary scoring of a stream, with named cells.",
        "syncs": "Reverse-ETL feeds of a segment's members to a destination.",
    },
    "settings": {
        "check_sample_percent": "Share of contacts (1-100) the rule-recomputation tests check (default 100).",
        "timezone": "IANA zone of the sources' wall-clock timestamps, e.g. Europe/Warsaw (default UTC).",
        "incremental": "Recompute only the contacts whose data changed since the last build (DuckDB; default false).",
        "schema": "The schema of the published tables (default segments); segc's own tables go in <schema>_internal.",
    },
    "sources": {"contacts": "The entity: exactly one row per contact.",
                "streams": "Time-stamped facts about contacts, by name (events, orders, ...)."},
    "contacts": {
        "relation": "schema.table (or database.schema.table) in the warehouse.",
        "key": "The column identifying a contact.",
        "key_type": "The key's warehouse type (e.g. bigint): published tables then get dbt model contracts.",
        "columns": "name: type of each column rules may use.",
    },
    "stream": {
        "relation": "schema.table (or database.schema.table) in the warehouse.",
        "contact_key": "The column holding the contact key.",
        "timestamp": "The column holding when it happened (UTC unless settings.timezone says otherwise).",
        "event_type": "The column naming the event (what `event:` matches); optional.",
        "event_types": "The known event names; when given, every `event:` must be one of them. Optional.",
        "columns": "name: type of each column conditions may filter or aggregate on.",
    },
    "meta": {"description": "What it means, for the catalog and the docs.", "owner": "Who maintains it.",
             "tags": "Labels, e.g. [email, acquisition]."},
    "segment": {"name": "Unique segment name.", "rule": "The condition a member satisfies.",
                "examples": "Rule unit tests: a contact and its rows, and whether it is a member (dbt unit tests)."},
    "example": {"name": "Example name (unique in the segment).",
                "contact": "The contact's column values (column: value).",
                "as_of": "The evaluation instant of the example (default 2026-01-01T00:00:00).",
                "expect": "member or not_member."},
    "score": {"name": "Unique score name.", "rules": "Each rule adds points when its condition holds.",
              "decay": "{half_life: D}: per-event points halve every D (h, d or w).",
              "min": "The score is clamped to at least this.", "max": "The score is clamped to at most this.",
              "grades": "Named bands; the first that holds wins; an entry without bounds is the default."},
    "score_rule": {"points": "Points added when `when` holds (may be negative).",
                   "when": "The condition.",
                   "per_event": "Add the points once per matching event (when is one event condition without an "
                                "aggregate).",
                   "cap": "Clip the rule's contribution to at most this in absolute value."},
    "grade": {"name": "Grade name.", "gte": "Lower bound (included).", "lt": "Upper bound (excluded)."},
    "lifecycle": {"name": "Unique lifecycle name.", "stages": "Stages in priority order: the first that holds wins.",
                  "default": "The stage of contacts matching no stage."},
    "stage": {"name": "Stage name.", "when": "The condition."},
    "rfm": {"name": "Unique RFM model name.", "stream": "The stream to score (e.g. orders).",
            "event": "Only rows with these event types.", "where": "Only rows matching these column filters.",
            "monetary": "The numeric column summed for M.", "within": "Only rows in (as_of - D, as_of].",
            "bins": "Number of score bins, 2-100 (default 5).",
            "segments": "Named cells by r/f/m ranges; the first that holds wins (default: a standard set)."},
    "rfm_segment": {"name": "Cell name.", "r": "[low, high] recency score range, inclusive.",
                    "f": "[low, high] frequency score range.", "m": "[low, high] monetary score range."},
    "sync": {"name": "Unique sync name.", "segment": "The segment whose members are sent.",
             "destination": "A label for the destination (e.g. mailchimp); it becomes a dbt exposure.",
             "identifier": "The contacts column identifying a member at the destination (e.g. email).",
             "fields": "Extra contacts columns to send.", "description": "What the sync is for.",
             "owner": "Who maintains it."},
    "event": {"event": "Event type(s) the rows must have (the stream's event_type column).",
              "stream": "The stream (default: events).", "where": "Column filters on the rows.",
              "within": "Only rows in (as_of - D, as_of].",
              "not_followed_by": "The latest matching row has no row of this kind after it (within D of it).",
              **AGGREGATE_DOCS},
    "follow": {"event": "Event type(s) of the follow-up.", "stream": "Its stream (default: the same).",
               "where": "Column filters on the follow-up.", "within": "Only follow-ups within D of the first row."},
    "form": {"all": "Every condition holds.", "any": "At least one condition holds.", "not": "The condition does not hold.",
             "attribute": "A contacts column, with one or more operators (ANDed).",
             "segment": "Member of another segment.", "score": "A score's value (gte: 50) or grade (grade: hot).",
             "lifecycle": "A lifecycle's current stage.", "rfm": "An RFM model's cell (segment:) or r / f / m scores.",
             "event": "Facts in a stream: event types, filters, a window and an aggregate.",
             "stream": "Facts in a stream (the events stream when omitted)."},
}


def _props(keys, construct: str, schemas: dict) -> dict:
    out = {}
    for key in keys:
        entry = dict(schemas.get(key, {}))
        doc = DOCS.get(construct, {}).get(key) or DOCS["meta"].get(key)
        if doc:
            entry["description"] = doc
        out[key] = entry
    return out


def _obj(keys, construct: str, schemas: dict, required=(), **extra) -> dict:
    out = {"type": "object", "properties": _props(keys, construct, schemas), "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out | extra


def _ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


def _operator_value(op: str) -> dict:
    if op == "is_null":
        return {"type": "boolean"}
    if op in ("within", "older_than"):
        return _ref("duration")
    if op == "age":
        return _ref("integer_comparison")
    if op == "between":
        return {"type": "array", "items": SCALAR, "minItems": 2, "maxItems": 2}
    if op in ("in", "not_in", "has_any", "has_all"):
        return {"type": "array", "items": SCALAR, "minItems": 1}
    if op in spec.TEXT_OPS or op == "has":
        return {"type": "string"}
    return SCALAR


def _operators() -> dict:
    props = {}
    for op in spec.ALL_OPERATORS:
        types = [t for t, ops in spec.OPERATORS_BY_TYPE.items() if op in ops]
        props[op] = _operator_value(op) | {"description": f"{OPERATOR_DOCS.get(op, '')} Column types: "
                                                          f"{', '.join(types)}.".strip()}
    return props


def _comparison(integer: bool) -> dict:
    number = {"type": "integer" if integer else "number"}
    schemas = {op: number for op in spec.NUMERIC_COMPARE}
    schemas["between"] = {"type": "array", "items": number, "minItems": 2, "maxItems": 2}
    schemas["in"] = schemas["not_in"] = {"type": "array", "items": number, "minItems": 1}
    props = {op: dict(s, description=OPERATOR_DOCS[op]) for op, s in schemas.items()}
    return {"type": "object", "properties": props, "additionalProperties": False, "minProperties": 1,
            "examples": [{"gte": 2}, {"between": [35, 45]}]}


def schema() -> dict:
    """The JSON Schema (draft-07) of one definitions file."""
    ops = _operators()
    where = {"type": "object", "propertyNames": IDENT, "examples": [{"url": {"contains": "/pricing"}}],
             "description": "column: {operator: value}, all ANDed.",
             "additionalProperties": {"type": "object", "properties": ops, "additionalProperties": False,
                                      "minProperties": 1}}
    aggregate_of = {"type": "object", "properties": {"of": IDENT | {"description": "The column aggregated."},
                                                     **_comparison(False)["properties"]},
                    "required": ["of"], "additionalProperties": False}
    first_last = _obj(("within", "older_than"), "x", {"within": _ref("duration"), "older_than": _ref("duration")},
                      minProperties=1)
    first_last["properties"]["within"]["description"] = "The timestamp is in (as_of - D, as_of]."
    first_last["properties"]["older_than"]["description"] = "The timestamp is at or before as_of - D."
    row_keys = {"event": NAMES_ONE_OR_MANY, "stream": NAME, "where": _ref("where"), "within": _ref("duration")}
    event_schemas = row_keys | {"not_followed_by": _ref("follow"), "count": _ref("comparison"),
                                "distinct": aggregate_of, "sum": aggregate_of, "avg": aggregate_of,
                                "min": aggregate_of, "max": aggregate_of, "first": first_last, "last": first_last}
    forms = {
        "all": _obj(("all",), "form", {"all": {"type": "array", "items": _ref("condition"), "minItems": 1}}, ("all",)),
        "any": _obj(("any",), "form", {"any": {"type": "array", "items": _ref("condition"), "minItems": 1}}, ("any",)),
        "not": _obj(("not",), "form", {"not": _ref("condition")}, ("not",)),
        "attribute": {"type": "object", "required": ["attribute"], "additionalProperties": False, "minProperties": 2,
                      "properties": {"attribute": IDENT | {"description": DOCS["form"]["attribute"]}, **ops}},
        "segment": _obj(("segment",), "form", {"segment": NAME}, ("segment",)),
        "score": {"type": "object", "required": ["score"], "additionalProperties": False, "minProperties": 2,
                  "properties": {"score": NAME | {"description": DOCS["form"]["score"]},
                                 "grade": NAMES_ONE_OR_MANY | {"description": "The grade(s) the score has."},
                                 **_comparison(False)["properties"]}},
        "lifecycle": _obj(("lifecycle", "stage"), "form", {
            "lifecycle": NAME, "stage": NAMES_ONE_OR_MANY | {"description": "The stage(s) the contact is at."}},
            ("lifecycle", "stage")),
        "rfm": _obj(("rfm", "segment", "r", "f", "m"), "rfm_condition", {
            "rfm": NAME | {"description": DOCS["form"]["rfm"]},
            "segment": NAMES_ONE_OR_MANY | {"description": "The RFM cell(s) the contact is in."},
            "r": _ref("integer_comparison") | {"description": "Recency score, compared."},
            "f": _ref("integer_comparison") | {"description": "Frequency score, compared."},
            "m": _ref("integer_comparison") | {"description": "Monetary score, compared."}}, ("rfm",),
            minProperties=2),
        "event": _obj(spec.EVENT, "event", event_schemas, anyOf=[{"required": ["event"]}, {"required": ["stream"]}]),
    }
    condition = {"description": "A condition, one of: " + "; ".join(
                     f"{k} ({DOCS['form'][k].rstrip('.').lower()})" for k in forms) + ".",
                 "anyOf": [dict(forms[f], title=f) for f in forms],
                 "examples": [{"event": "page_view", "within": "30d", "count": {"gte": 2}},
                              {"attribute": "country", "eq": "PL"},
                              {"all": [{"segment": "big_spenders"}, {"not": {"stream": "orders", "within": "90d"}}]}]}

    example_row = {"type": "object", "description": "One row: column values, plus ago: D (before as_of) or at: "
                   "TIMESTAMP.", "properties": {
                       "ago": _ref("duration") | {"description": "When: this long before the example's as_of."},
                       "at": {"type": "string", "description": "When: a timestamp, e.g. 2025-12-24T10:00:00."}},
                   "additionalProperties": SCALAR | {"type": ["string", "number", "boolean", "array", "null"]}}
    example = _obj(spec.EXAMPLE, "example", {
        "name": NAME, "contact": {"type": "object", "propertyNames": IDENT},
        "as_of": {"type": "string", "examples": ["2026-01-01T00:00:00"]},
        "expect": {"enum": ["member", "not_member"]}}, ("name", "expect"))
    example["additionalProperties"] = {"type": "array", "items": example_row,
                                       "description": "Rows of the stream with this name."}
    meta = {"description": {"type": "string"}, "owner": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}}
    segment = _obj(spec.SEGMENT, "segment", meta | {"name": NAME, "rule": _ref("condition"),
                                                    "examples": {"type": "array", "items": example}},
                   ("name", "rule"))
    grade = _obj(spec.GRADE, "grade", {"name": NAME, "gte": {"type": "number"}, "lt": {"type": "number"}}, ("name",))
    score_rule = _obj(spec.SCORE_RULE, "score_rule", {
        "points": {"type": "number"}, "when": _ref("condition"), "per_event": {"type": "boolean"},
        "cap": {"type": "number", "minimum": 0}}, ("points", "when"))
    score = _obj(spec.SCORE, "score", meta | {
        "name": NAME, "rules": {"type": "array", "items": score_rule, "minItems": 1},
        "decay": _obj(("half_life",), "x", {"half_life": {"type": "string", "pattern": r"^[1-9][0-9]*(h|d|w)$",
                                                          "description": "Points halve every D: h, d or w."}},
                      ("half_life",)),
        "min": {"type": "number"}, "max": {"type": "number"},
        "grades": {"type": "array", "items": grade}}, ("name", "rules"))
    stage = _obj(spec.STAGE, "stage", {"name": NAME, "when": _ref("condition")}, ("name", "when"))
    lifecycle = _obj(spec.LIFECYCLE, "lifecycle", meta | {
        "name": NAME, "stages": {"type": "array", "items": stage, "minItems": 1}, "default": NAME},
        ("name", "stages", "default"))
    bin_range = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 100}, "minItems": 2,
                 "maxItems": 2, "examples": [[4, 5]]}
    rfm_segment = _obj(spec.RFM_SEGMENT, "rfm_segment", {"name": NAME, "r": bin_range, "f": bin_range, "m": bin_range},
                       ("name",))
    rfm = _obj(spec.RFM, "rfm", meta | row_keys | {
        "monetary": IDENT, "bins": {"type": "integer", "minimum": 2, "maximum": 100, "default": 5},
        "segments": {"type": "array", "items": rfm_segment, "minItems": 1}}, ("name", "stream", "monetary"))
    sync = _obj(spec.SYNC, "sync", {
        "name": NAME, "segment": NAME, "destination": {"type": "string", "examples": ["mailchimp", "hubspot"]},
        "identifier": IDENT, "fields": {"anyOf": [IDENT, {"type": "array", "items": IDENT}]},
        "description": {"type": "string"}, "owner": {"type": "string"}}, ("name", "segment", "destination", "identifier"))
    relation = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){1,2}$",
                "examples": ["raw.contacts"]}
    columns = {"type": "object", "propertyNames": IDENT, "additionalProperties": {"enum": list(ir.TYPES)},
               "examples": [{"email": "string", "birth_date": "date", "tags": "list"}]}
    contacts = _obj(spec.CONTACTS, "contacts", {"relation": relation, "key": IDENT, "key_type": IDENT,
                                                 "columns": columns}, ("relation", "key"))
    stream = _obj(spec.STREAM, "stream", {"relation": relation, "contact_key": IDENT, "timestamp": IDENT,
                                           "event_type": IDENT, "columns": columns,
                                           "event_types": {"type": "array", "items": {"type": "string"},
                                                           "minItems": 1, "examples": [["page_view", "purchase"]]}},
                  ("relation", "contact_key", "timestamp"))
    sources = _obj(spec.SOURCES, "sources", {"contacts": contacts, "streams": {
        "type": "object", "propertyNames": NAME, "additionalProperties": stream}}, ("contacts",))
    settings = _obj(spec.SETTINGS, "settings", {
        "check_sample_percent": {"type": "integer", "minimum": 1, "maximum": 100},
        "timezone": {"type": "string", "examples": ["UTC", "Europe/Warsaw"]},
        "incremental": {"type": "boolean"},
        "schema": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,49}$", "examples": ["segments"]}})
    top_schemas = {"version": {"const": 1}, "settings": settings, "sources": sources,
                   "segments": {"type": "array", "items": segment}, "scores": {"type": "array", "items": score},
                   "lifecycles": {"type": "array", "items": lifecycle}, "rfm": {"type": "array", "items": rfm},
                   "syncs": {"type": "array", "items": sync}}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "segc definitions",
        "description": "A segc definitions file (segments/*.yml). Every file may hold any of these sections; "
                       "`sources` is declared once per project. Generated by `segc schema`.",
        "definitions": {"condition": condition, "where": where, "follow": _obj(spec.FOLLOW, "follow", row_keys),
                        "duration": DURATION, "comparison": _comparison(False),
                        "integer_comparison": _comparison(True)},
        **_obj(spec.TOP_LEVEL, "top", top_schemas),
    }


def command(args) -> int:
    text = json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text, end="")
    return 0
