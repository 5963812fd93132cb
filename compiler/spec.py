"""The surface language: which keys each construct accepts and which operators fit which types.

Kept as plain tables so the parser, the JSON schema and the docs read the same source of truth.
"""

import re

# Use fullmatch: `$` also matches before a final newline.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION_RE = re.compile(r"^([1-9][0-9]*)(h|d|w|mo|y)$")

TOP_LEVEL = ("version", "settings", "sources", "segments", "scores", "lifecycles", "rfm", "syncs")
SETTINGS = ("check_sample_percent", "timezone", "incremental", "schema")
SOURCES = ("contacts", "streams")
CONTACTS = ("relation", "key", "key_type", "columns")
STREAM = ("relation", "contact_key", "timestamp", "event_type", "event_types", "columns")
META = ("description", "owner", "tags")
SEGMENT = ("name", "rule", "examples") + META
EXAMPLE = ("name", "contact", "as_of", "expect")  # plus one key per stream
SCORE = ("name", "rules", "decay", "min", "max", "grades") + META
SCORE_RULE = ("points", "when", "per_event", "cap")
GRADE = ("name", "gte", "lt")
LIFECYCLE = ("name", "stages", "default") + META
STAGE = ("name", "when")
RFM = ("name", "stream", "event", "where", "monetary", "within", "bins", "segments") + META
RFM_SEGMENT = ("name", "r", "f", "m")
SYNC = ("name", "segment", "destination", "identifier", "fields", "description", "owner")

AGGREGATES = ("count", "distinct", "sum", "avg", "min", "max", "first", "last")
EVENT = ("event", "stream", "where", "within", "not_followed_by") + AGGREGATES
FOLLOW = ("event", "stream", "where", "within")
CONDITION_FORMS = ("all", "any", "not", "attribute", "rfm", "score", "lifecycle", "segment", "event", "stream")

COMPARE = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in")
NUMERIC_COMPARE = COMPARE
TEXT_OPS = ("contains", "icontains", "starts_with", "ends_with", "matches")
TIME_OPS = ("within", "older_than", "age")
LIST_OPS = ("has", "has_any", "has_all")

OPERATORS_BY_TYPE = {
    "string": COMPARE + TEXT_OPS + ("is_null",),
    "number": COMPARE + ("is_null",),
    "integer": COMPARE + ("is_null",),
    "boolean": ("eq", "ne", "is_null"),
    "date": COMPARE + TIME_OPS + ("is_null",),
    "timestamp": COMPARE + TIME_OPS + ("is_null",),
    "list": LIST_OPS + ("is_null",),
}
ALL_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS_BY_TYPE.values() for op in ops))
NUMERIC_TYPES = ("number", "integer")

# Regular-expression syntax that DuckDB (RE2), PostgreSQL (ARE), Spark (Java) and Python do not
# all read the same way. Each entry: (pattern over the regex text, what it is).
_ESC = r"(?<!\\)(?:\\\\)*\\"  # an unescaped backslash
NON_PORTABLE_REGEX = (
    (re.compile(r"\(\?[=!]"), "lookahead"),
    (re.compile(r"\(\?<[=!]"), "lookbehind"),
    (re.compile(r"\(\?P?<[A-Za-z]"), "named group"),
    (re.compile(r"\(\?>"), "atomic group"),
    (re.compile(r"\(\?[a-zA-Z]+[:)]"), "inline flag"),
    (re.compile(_ESC + r"(?:[1-9]|k<)|\(\?P="), "backreference"),
    (re.compile(r"[*+?}]\+"), "possessive quantifier"),
    (re.compile(r"(?<!\\)\{,"), "quantifier without a lower bound"),
    (re.compile(_ESC + r"[wW]"), "word class"),  # ASCII-only in RE2 and Java, Unicode in PostgreSQL
    (re.compile(_ESC + r"[bB]"), "word boundary"),  # a backspace in PostgreSQL
    (re.compile(_ESC + r"[ZzAGQEhHRXKpP]"), "escape"),
    (re.compile(r"\[\[:"), "POSIX character class"),
)
