"""Check the loaded YAML and build the IR, collecting every diagnostic on the way.

`parse(docs)` never stops at the first problem: each construct is checked, problems are
recorded with the position of the offending node, and a construct that cannot be built is
skipped (its builder returns None) so that checking goes on. Only a project without any
diagnostic becomes IR. A bug in a check becomes an SEG000 diagnostic, never a traceback.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from . import ir, naming, spec
from .errors import CompileError, Diagnostic, SourceLocation, closest, did_you_mean
from .graph import check_cycles
from .loader import Doc
from .timeutil import shift

EXAMPLE_AS_OF = datetime(2026, 1, 1)
_MISSING = object()
# The longest duration, 1000 years in each unit: a window any timestamp arithmetic can take.
MAX_DURATION = {"h": 1000 * 8766, "d": 1000 * 366, "w": 1000 * 52, "mo": 1000 * 12, "y": 1000}
KINDS = (("segment", "segments"), ("score", "scores"), ("lifecycle", "lifecycles"), ("rfm", "rfm"), ("sync", "syncs"))
FORM_KEYS = {"rfm": ("segment",), "event": ("stream",)}  # other forms' keys a form takes: {rfm: x, segment: y}
AGGREGATE_EXAMPLES = {"count": "{gte: 2}", "first": "{within: 30d}", "last": "{older_than: 90d}"}
TYPE_ALIASES = {"str": "string", "text": "string", "varchar": "string", "int": "integer", "bigint": "integer",
                "float": "number", "double": "number", "decimal": "number", "numeric": "number", "bool": "boolean",
                "datetime": "timestamp", "array": "list"}
UNIT_WORDS = {"h": "h", "hour": "h", "hr": "h", "d": "d", "day": "d", "w": "w", "week": "w", "wk": "w",
              "m": "mo", "mo": "mo", "month": "mo", "mth": "mo", "y": "y", "year": "y", "yr": "y"}
QUOTED = {"a number": r"-?[0-9]+(\.[0-9]+)?", "an integer": r"-?[0-9]+", "true or false": r"true|false"}
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,49}")  # settings.schema: the same name in every warehouse, unquoted
SYSTEM_SCHEMAS = re.compile(r"information_schema|pg_.*|temp|system|memory")  # the warehouses' own
RESERVED_PREFIX = "segc_"  # segc's columns and placeholders
SYNC_NAME_MAX = 63 - len("sync__changes")  # PostgreSQL's 63-character names, for sync_<name>_changes
ONE_VALUE_OPS = {"eq": "in", "ne": "not_in", "has": "has_any or has_all"}  # given a list: what was meant


@dataclass(frozen=True)
class Node:
    """A value inside a document, with its path so its position can be reported."""

    doc: Doc
    path: tuple
    value: object

    @property
    def loc(self) -> SourceLocation:
        return self.doc.loc(self.path)

    def key_loc(self, key) -> SourceLocation:
        return self.doc.loc(self.path + (key,), key=True)

    def child(self, key) -> Node:
        return Node(self.doc, self.path + (key,), self.value[key])

    def get(self, key) -> Node | None:
        return self.child(key) if isinstance(self.value, dict) and key in self.value else None

    def items(self):
        return [self.child(i) for i in range(len(self.value))] if isinstance(self.value, list) else []

    @property
    def raw(self) -> str:
        return self.doc.raw.get(self.path, str(self.value))

    @property
    def described(self) -> str:
        """The value as a message names it: `a list`, `null`, `'text'`, or a scalar as written."""
        if self.value is None or isinstance(self.value, (dict, list)):
            return "null" if self.value is None else f"a {_kind(self.value)}"
        return f"'{self.value}'" if isinstance(self.value, str) else self.raw


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return {dict: "mapping", list: "list", str: "string"}.get(type(value), type(value).__name__)


def _suggest(name, known, what: str) -> str | None:
    """'did you mean' the closest known name, else the known names when there are few."""
    known = [k for k in known if isinstance(k, str)]
    return did_you_mean(name, known) or (f"{what}: {', '.join(known) or 'none'}" if len(known) <= 12 else None)


def _name_hint(name: str, kind: str = "") -> str:
    longest = SYNC_NAME_MAX if kind == "sync" else 63
    fixed = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    fixed = fixed.removeprefix(RESERVED_PREFIX)[:longest].strip("_")
    return f"use lowercase letters, digits and _, starting with a letter, at most {longest} characters" + (
        f", e.g. '{fixed}'" if spec.NAME_RE.fullmatch(fixed) else "")


class Parser:
    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.diagnostics: list[Diagnostic] = []
        self.muted: set[str] = set()  # codes whose real cause is reported elsewhere (unreadable file, no sources)
        self.refs: list[tuple[tuple[str, str], tuple[str, str], SourceLocation]] = []
        self.names: dict[str, dict[str, SourceLocation]] = {kind: {} for kind, _ in KINDS}
        self.grades: dict[str, list[str]] = {}
        self.stages: dict[str, list[str]] = {}
        self.rfm_segments: dict[str, list[str]] = {}
        self.contacts: ir.Contacts | None = None
        self.streams: dict[str, ir.Stream] = {}
        self.relations: dict[str, tuple[str, str, SourceLocation]] = {}  # lowercase -> (reader, as written, where)
        self.schema_rejected = False  # settings.schema was given and refused: no check against it
        self.owner: tuple[str, str | None] = ("", None)  # the definition whose conditions are being parsed

    # -- reporting and shapes ----------------------------------------------------------------

    def error(self, code: str, message: str, loc: SourceLocation, hint: str | None = None) -> None:
        if code not in self.muted:
            self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def guarded(self, node: Node, check, *args):
        """Run one check; a bug in it becomes a diagnostic at the node instead of a traceback."""
        try:
            return check(node, *args)
        except Exception as exc:  # noqa: BLE001 - reported, with the other diagnostics
            self.error("SEG000", f"internal error while checking this: {type(exc).__name__}: {exc}", node.loc,
                       "a bug in segc; please report it with this file")
            return None

    def wrong_type(self, node: Node, what: str, expected: str, hint: str | None = None) -> None:
        """A value of the wrong type, naming YAML 1.1's implicit conversions when they bit."""
        kind = _kind(node.value)
        if expected == "a string" and kind in ("boolean", "number", "date", "timestamp"):
            self.error("SEG006", f"{what} must be a string, but YAML read {node.raw} as a {kind}", node.loc,
                       f'quote it: "{node.raw}"')
            return
        if hint is None and node.value is None and expected.startswith(("a mapping", "a list")):
            hint = "nothing is written here: indent the entries under the key"
        elif hint is None and expected == "a list" and isinstance(node.value, dict):
            hint = "start each item with '- '"
        elif hint is None and isinstance(node.value, str) and re.fullmatch(QUOTED.get(expected, "(?!)"), node.value):
            hint = "remove the quotes"
        self.error("SEG005", f"{what} must be {expected}, got {node.described}", node.loc, hint)

    def mapping(self, node: Node, allowed, required=(), what="entry") -> bool:
        """Check that `node` is a mapping with only `allowed` keys and all `required` ones."""
        if not isinstance(node.value, dict):
            self.wrong_type(node, what, "a mapping")
            return False
        guessed = set()  # a misspelt required key is reported once, as unknown
        for key in (k for k in node.value if k not in allowed):
            guessed.add(closest(key, allowed))
            self.error("SEG003", f"unknown key '{key}' in {what}", node.key_loc(key),
                       did_you_mean(key, allowed) or f"expected one of: {', '.join(allowed)}")
        missing = [key for key in required if key not in node.value]
        for key in (k for k in missing if k not in guessed):
            self.error("SEG004", f"{what} is missing required key '{key}'", node.loc)
        return not missing

    def string(self, node: Node | None, what: str, default=_MISSING) -> str | None:
        if node is None:
            return None if default is _MISSING else default
        if isinstance(node.value, str):
            return node.value
        self.wrong_type(node, what, "a string")
        return None

    def name(self, node: Node | None, kind: str, seen: dict | None = None) -> str | None:
        """A name; registered in `seen` (name -> location) when given, to catch duplicates."""
        value = self.string(node, f"{kind} name")
        if value is None:
            return None
        if not spec.NAME_RE.fullmatch(value):
            shown = f"'{value}'" if value.isprintable() else repr(value)  # 'abc\n', not a line break
            self.error("SEG008", f"invalid {kind} name {shown}", node.loc, _name_hint(value, kind))
            return None
        unprefixed = value.removeprefix(RESERVED_PREFIX).strip("_") or kind
        if self.segcs_own(value, f"{kind} name", node.loc, f"for example '{unprefixed}'"):
            return None
        if seen is not None:
            if value in seen:
                self.error("SEG009", f"duplicate {kind} name '{value}'", node.loc, f"first defined at {seen[value]}")
                return None
            seen[value] = node.loc
        return value

    def items(self, node: Node, what: str, empty_ok=False) -> list[Node] | None:
        if not isinstance(node.value, list):
            self.wrong_type(node, what, "a list")
            return None
        if not node.value and not empty_ok:
            self.error("SEG007", f"{what} must not be empty", node.loc)
            return None
        return node.items()

    def each(self, node: Node, key: str, build, empty_ok=False) -> tuple | None:
        """Build every item of the list at `key`, checking all; None if any failed, () if absent."""
        if key not in node.value:
            return ()
        items = self.items(node.child(key), f"'{key}'", empty_ok)
        built = [build(i) for i in items or ()]
        return None if items is None or any(b is None for b in built) else tuple(built)

    def strings(self, node: Node, what: str, empty_ok=False) -> list[Node] | None:
        """One string or a list of strings, as nodes; None after reporting a problem."""
        listed = isinstance(node.value, list)
        items = self.items(node, what, empty_ok) if listed else [node]
        good = [i for i in items or () if self.string(i, f"an item of {what}" if listed else what) is not None]
        return good if items is not None and len(good) == len(items) else None

    def duration(self, node: Node, what="duration", units=("h", "d", "w", "mo", "y")) -> ir.Duration | None:
        match = spec.DURATION_RE.fullmatch(node.value) if isinstance(node.value, str) else None
        if match and match.group(2) in units:
            amount, unit = int(match.group(1)), match.group(2)
            if amount <= MAX_DURATION[unit]:
                return ir.Duration(amount, unit)
            self.error("SEG010", f"{what} {node.described} is too long", node.loc,
                       f"at most 1000 years: {MAX_DURATION[unit]}{unit}")
            return None
        hint = f"write a positive whole number and one of {', '.join(units[:-1])} or {units[-1]}, e.g. 90d"
        meant = re.fullmatch(r"\s*0*([1-9][0-9]*)\s*([a-z]*?)s?\s*", str(node.value).lower())
        if meant and not meant[2]:
            hint = f"add a unit, e.g. {meant[1]}d"
        elif meant and UNIT_WORDS.get(meant[2]) in units:
            hint = f"write {meant[1]}{UNIT_WORDS[meant[2]]}"
        self.error("SEG010", f"invalid {what} {node.described}", node.loc, hint)
        return None

    def number(self, node: Node, what: str, integer=False) -> float | int | None:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int if integer else (int, float)):
            self.wrong_type(node, what, "an integer" if integer else "a number")
            return None
        if not math.isfinite(v):
            self.error("SEG005", f"{what} must be a finite number, got {node.raw}", node.loc)
            return None
        return v

    def meta(self, node: Node, tags=True) -> dict:
        out = {"description": self.string(node.get("description"), "'description'", "") or "",
               "owner": self.string(node.get("owner"), "'owner'")}
        if tags:
            found = self.strings(node.child("tags"), "'tags'", empty_ok=True) if "tags" in node.value else ()
            for tag in found or ():
                if "," in tag.value:
                    apart = ", ".join(t.strip() for t in tag.value.split(",") if t.strip())
                    self.error("SEG008", f"invalid tag '{tag.value}': a tag cannot contain ','", tag.loc,
                               f"segment_catalog.tags separates the tags with commas; list them one by one: {apart}")
            out["tags"] = tuple(t.value for t in found or ())
        return out

    # -- sources -----------------------------------------------------------------------------

    def identifier(self, node: Node | None, what: str, dotted: bool = False) -> str | None:
        value = self.string(node, what)
        if value is None:
            return None
        parts = value.split(".") if dotted else [value]
        if not all(spec.IDENT_RE.fullmatch(p) for p in parts) or (dotted and not 2 <= len(parts) <= 3):
            shape = "schema.table" if dotted else "a SQL identifier: letters, digits and _, not starting with a digit"
            self.error("SEG008", f"invalid {what} '{value}'", node.loc, f"expected {shape}")
            return None
        if not dotted and self.segcs_own(value, what, node.loc, "rename the column in a view over the table"):
            return None
        return value

    def segcs_own(self, value: str, what: str, loc: SourceLocation, hint: str) -> bool:
        """Whether `value` starts with segc_, the prefix of segc's own columns and placeholders (reported)."""
        if value.lower().startswith(RESERVED_PREFIX):
            self.error("SEG008", f"invalid {what} '{value}': names starting with {RESERVED_PREFIX} are segc's own", loc, hint)
            return True
        return False

    def relation(self, node: Node | None, reader: str) -> str | None:
        """A source's `schema.table`; each relation is read by one source (dbt names a source for its table)."""
        value = self.identifier(node, "relation", dotted=True)
        if value is None:
            return None
        first = self.relations.get(value.lower())
        if first is not None:
            apart = ("read the table through a view for the stream" if first[0] == "contacts" else
                     "declare one stream per relation and tell its rows apart with 'event' or 'where'")
            self.error("SEG009", f"relation '{value}' is read by {first[0]} too", node.loc, f"first at {first[2]}; {apart}")
            return None
        self.relations[value.lower()] = (reader, value, node.loc)
        return value

    def columns(self, node: Node | None) -> tuple[tuple[str, str], ...]:
        """`name: type` pairs; the well-formed ones, so that uses of the others are still checked."""
        if node is None:
            return ()
        if not isinstance(node.value, dict):
            self.wrong_type(node, "'columns'", "a mapping of name: type")
            return ()
        out = []
        for key in node.value:
            if not spec.IDENT_RE.fullmatch(key):
                self.error("SEG008", f"invalid column name '{key}'", node.key_loc(key),
                           "column names are SQL identifiers: letters, digits and _, not starting with a digit")
                continue
            if self.segcs_own(key, "column name", node.key_loc(key), "rename the column in a view over the table"):
                continue
            child = node.child(key)
            typ = self.string(child, f"type of column '{key}'")
            if typ is not None and typ not in ir.TYPES:
                alias = TYPE_ALIASES.get(typ.lower())
                self.error("SEG005", f"unknown type '{typ}' for column '{key}'", child.loc,
                           f"did you mean '{alias}'?" if alias else _suggest(typ, ir.TYPES, "types"))
            elif typ is not None:
                out.append((key, typ))
        return tuple(out)

    def sources(self, node: Node) -> None:
        """Contacts and streams. Each is registered even when partly wrong (that is reported),
        so that the conditions using it are still checked."""
        self.mapping(node, spec.SOURCES, ("contacts",), "sources")
        c = node.get("contacts")
        if c is not None:
            self.mapping(c, spec.CONTACTS, ("relation", "key"), "contacts")
            if isinstance(c.value, dict):
                key_type = self.identifier(c.get("key_type"), "key_type") if c.get("key_type") else None
                self.contacts = ir.Contacts(self.relation(c.get("relation"), "contacts"),
                                            self.identifier(c.get("key"), "key column"), self.columns(c.get("columns")),
                                            key_type and key_type.lower())
        streams = node.get("streams")
        if streams is None:
            return
        if not isinstance(streams.value, dict):
            self.wrong_type(streams, "'streams'", "a mapping of name: stream")
            return
        for name in streams.value:
            s = streams.child(name)
            if not spec.NAME_RE.fullmatch(name):
                self.error("SEG008", f"invalid stream name '{name}'", streams.key_loc(name), _name_hint(name))
            elif name == "contacts":
                self.error("SEG008", "a stream cannot be named 'contacts': that name is the contacts source's",
                           streams.key_loc(name), "name it for what its rows are, e.g. events or orders")
            self.mapping(s, spec.STREAM, ("relation", "contact_key", "timestamp"), f"stream '{name}'")
            if not isinstance(s.value, dict):
                continue
            fields = [self.relation(s.get("relation"), f"stream '{name}'")]
            fields += [self.identifier(s.get(k), k) for k in ("contact_key", "timestamp")]
            # a wrong event_type column is reported: keep 'event' usable on the stream meanwhile
            event_type = self.identifier(s.get("event_type"), "event_type column") or (
                "?" if "event_type" in s.value else None)
            self.streams[name] = ir.Stream(name, *fields, event_type, self.columns(s.get("columns")),
                                           self.event_types(s, event_type))

    def event_types(self, stream: Node, event_type: str | None) -> tuple[str, ...]:
        """The optional vocabulary of event names that `event` is checked against."""
        node = stream.get("event_types")
        if node is None:
            return ()
        if event_type is None:
            self.error("SEG104", "'event_types' needs an event_type column", stream.key_loc("event_types"),
                       "declare event_type, or remove event_types")
            return ()
        names = self.strings(node, "'event_types'")
        return tuple(sorted({n.value for n in names})) if names else ()

    # -- values ------------------------------------------------------------------------------

    def typed_value(self, node: Node, typ: str, what: str):
        """A YAML scalar converted to the column's type, or None after reporting why not."""
        if typ in ("string", "list"):
            return self.string(node, what)
        if typ in spec.NUMERIC_TYPES:
            return self.number(node, what, integer=(typ == "integer"))
        if typ == "boolean":
            if isinstance(node.value, bool):
                return node.value
            self.wrong_type(node, what, "true or false")
            return None
        parsed = _parse_time(node.value, typ)
        if parsed is None:
            example = "2026-01-31" if typ == "date" else "2026-01-31T08:00:00"
            self.error("SEG005", f"{what} must be a {typ}, got {node.described}", node.loc, f"e.g. {example}")
        return parsed

    def predicate_ops(self, node: Node, column: str, typ: str, skip=()) -> tuple[ir.Predicate, ...] | None:
        """The operators of one column mapping: `{eq: x, ne: y}` (several ops are ANDed)."""
        allowed = spec.OPERATORS_BY_TYPE[typ]
        takes = f"{typ} columns take: {', '.join(allowed)}"
        ops = [op for op in node.value if op not in skip]
        if not ops:
            self.error("SEG004", f"no operator given for column '{column}'", node.loc, takes)
            return None
        preds = []
        for op in ops:
            if op not in allowed:
                if op in spec.ALL_OPERATORS:
                    self.error("SEG104", f"operator '{op}' does not apply to {typ} column '{column}'",
                               node.key_loc(op), takes)
                else:
                    self.error("SEG003", f"unknown operator '{op}'", node.key_loc(op),
                               did_you_mean(op, allowed) or takes)
                preds.append(None)
                continue
            value = self.op_value(node.child(op), op, typ, f"on {typ} column '{column}'")
            preds.append(None if value is None else ir.Predicate(column, typ, op, value))
        return None if any(p is None for p in preds) else tuple(preds)

    def op_value(self, node: Node, op: str, typ: str, target: str):
        """The typed value of one operator; `target` says what it applies to, for messages."""
        what = f"'{op}' {target}"
        if op == "is_null":
            if isinstance(node.value, bool):
                return node.value
            self.wrong_type(node, what, "true or false")
            return None
        if node.value is None:
            self.error("SEG005", f"{what} has no value", node.loc, "to test for a missing value write is_null: true")
            return None
        if op in ("within", "older_than"):
            return self.duration(node)
        if op == "age":
            return self.comparisons(node, what, integer=True)
        if op in ("in", "not_in", "has_any", "has_all", "between"):
            items = self.items(node, what)
            values = [self.typed_value(i, typ, f"item of {what}") for i in items or ()]
            if items is None or any(v is None for v in values):
                return None
            if op == "between" and len(values) != 2:
                self.error("SEG005", f"{what} takes [low, high], got {len(values)} value(s)", node.loc)
                return None
            if op == "between" and values[0] > values[1]:
                low, high = (i.raw for i in items)
                self.error("SEG114", f"{what}: low bound {low} is above high bound {high}", node.loc,
                           f"write [{high}, {low}]")
                return None
            return tuple(values)
        if isinstance(node.value, list) and op in ONE_VALUE_OPS:
            self.error("SEG005", f"{what} takes one value, got a list", node.loc,
                       f"to match any of several values use {ONE_VALUE_OPS[op]}")
            return None
        value = self.typed_value(node, typ, what)
        return self.regex(node, value) if op == "matches" and value is not None else value

    def regex(self, node: Node, pattern: str) -> str | None:
        """A search pattern every target warehouse reads the same way."""
        found = [f"{what} '{m.group(0)}'" for rx, what in spec.NON_PORTABLE_REGEX for m in [rx.search(pattern)] if m]
        if found:
            self.error("SEG107", f"regular expression uses {', '.join(found)}, which DuckDB, PostgreSQL and Spark "
                       "do not read alike", node.loc, "use only classes, anchors, groups, alternation and quantifiers")
            return None
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error("SEG106", f"invalid regular expression: {exc.msg} at position {exc.pos}", node.loc)
            return None
        return pattern

    def comparisons(self, node: Node, what: str, integer=False, skip=()) -> tuple[ir.Comparison, ...] | None:
        """`{gte: 2, lt: 5}` on a computed number; None after reporting a problem."""
        if not isinstance(node.value, dict):
            self.wrong_type(node, what, "a mapping of comparisons like {gte: 1}")
            return None
        ops = [op for op in node.value if op not in skip]
        if not ops:
            self.error("SEG004", f"{what} needs a comparison such as gte: 1", node.loc,
                       f"one of {', '.join(spec.NUMERIC_COMPARE)}")
            return None
        out = []
        for op in ops:
            if op not in spec.NUMERIC_COMPARE:
                self.error("SEG003", f"unknown comparison '{op}' in {what}", node.key_loc(op),
                           did_you_mean(op, spec.NUMERIC_COMPARE) or f"one of {', '.join(spec.NUMERIC_COMPARE)}")
                out.append(None)
                continue
            value = self.op_value(node.child(op), op, "integer" if integer else "number", f"in {what}")
            out.append(None if value is None else ir.Comparison(op, value))
        return None if any(c is None for c in out) else tuple(out)

    # -- conditions --------------------------------------------------------------------------

    def condition(self, node: Node) -> ir.Condition | None:
        v = node.value
        if not isinstance(v, dict):
            hint = "combine conditions with all: [...] or any: [...]" if isinstance(v, list) else None
            self.wrong_type(node, "a condition", "a mapping", hint)
            return None
        forms = [f for f in spec.CONDITION_FORMS if f in v]
        if not forms:
            columns = [c for c, _ in self.contacts.columns] if self.contacts else []
            guess = next(filter(None, (did_you_mean(k, spec.CONDITION_FORMS) for k in v)), None) or next(
                (f"for a contact column write {{attribute: {k}, eq: ...}}" for k in v if k in columns), None)
            self.error("SEG111", "not a condition: it needs one of " + ", ".join(spec.CONDITION_FORMS), node.loc, guess)
            return None
        form = forms[0]
        extra = [f for f in forms[1:] if f not in FORM_KEYS.get(form, ())]
        if extra:
            self.error("SEG111", f"a condition has one form, but this one has '{form}' and '{extra[0]}'",
                       node.key_loc(extra[0]), "combine conditions with all: [...] or any: [...]")
            return None
        if form in ("all", "any"):
            self.mapping(node, (form,), (), f"'{form}' condition")
            items = self.items(node.child(form), f"'{form}'")
            parts = [self.condition(i) for i in items or ()]
            if items is None or any(p is None for p in parts):
                return None
            return (ir.All if form == "all" else ir.Any_)(tuple(parts))
        if form == "not":
            self.mapping(node, ("not",), (), "'not' condition")
            inner = self.condition(node.child("not"))
            return ir.Not(inner) if inner is not None else None
        return getattr(self, f"cond_{'event' if form == 'stream' else form}")(node)

    def cond_attribute(self, node: Node):
        column = self.string(node.child("attribute"), "'attribute'")
        if column is None or self.contacts is None:
            return None
        typ = self.contacts.type_of(column)
        if typ is None:
            self.error("SEG102", f"unknown column '{column}' in contacts", node.child("attribute").loc,
                       _suggest(column, [c for c, _ in self.contacts.columns], "declared columns"))
            return None
        preds = self.predicate_ops(node, column, typ, skip=("attribute",))
        if preds is None:
            return None
        parts = tuple(ir.Attribute(p) for p in preds)
        return parts[0] if len(parts) == 1 else ir.All(parts)

    def row_filter(self, node: Node, default_stream: str, what: str) -> tuple[ir.Stream | None, ir.RowFilter | None]:
        """The stream a condition (or an RFM) reads, and its rows: None after reporting a problem."""
        events = self.strings(node.child("event"), "'event'") if "event" in node.value else []
        within = self.duration(node.child("within")) if "within" in node.value else None
        named = node.get("stream")
        name = self.string(named, "'stream'") if named else default_stream
        stream = self.streams.get(name) if name is not None else None
        if stream is None:
            if named and name is not None:
                self.error("SEG101", f"unknown stream '{name}'", named.loc,
                           _suggest(name, self.streams, "declared streams"))
            elif name is not None:
                self.error("SEG101", f"{what} needs 'stream': there is no stream named '{default_stream}'", node.loc,
                           _suggest(default_stream, self.streams, "declared streams"))
            return None, None
        if "event" in node.value and stream.event_type is None:
            self.error("SEG104", f"stream '{stream.name}' has no event_type column, so 'event' does not apply",
                       node.key_loc("event"), "filter with 'where' instead, or declare event_type")
            events = None
        for event in events or ():
            if stream.event_types and event.value not in stream.event_types:
                self.error("SEG115", f"unknown event '{event.value}' in stream '{stream.name}'", event.loc,
                           _suggest(event.value, stream.event_types, "its event_types"))
        where = self.where(node.get("where"), stream)
        if events is None or where is None or ("within" in node.value and within is None):
            return stream, None
        return stream, ir.RowFilter(stream.name, tuple(sorted({e.value for e in events})), where, within)

    def where(self, node: Node | None, stream: ir.Stream) -> tuple[ir.Predicate, ...] | None:
        if node is None:
            return ()
        if not isinstance(node.value, dict):
            self.wrong_type(node, "'where'", "a mapping of column: {operator: value}")
            return None
        preds: list = []
        for column in node.value:
            child = node.child(column)
            typ = stream.type_of(column)
            if typ is None:
                self.error("SEG102", f"unknown column '{column}' in stream '{stream.name}'", node.key_loc(column),
                           _suggest(column, [c for c, _ in stream.columns], "declared columns"))
                preds.append(None)
            elif not isinstance(child.value, dict):
                example = f"e.g. {column}: {{eq: {child.raw}}}" if not isinstance(child.value, list) else None
                self.wrong_type(child, f"where '{column}'", "a mapping of operators", example)
                preds.append(None)
            else:
                preds.extend(self.predicate_ops(child, column, typ) or [None])
        return None if any(p is None for p in preds) else tuple(preds)

    def cond_event(self, node: Node):
        self.mapping(node, spec.EVENT, (), "event condition")
        stream, rows = self.row_filter(node, "events", "event condition")
        aggs = [k for k in spec.AGGREGATES if k in node.value]
        if len(aggs) > 1:
            self.error("SEG005", f"an event condition takes one aggregate, got {', '.join(aggs)}",
                       node.key_loc(aggs[1]), "combine several with all: [...]")
        agg = self.aggregate(node.child(aggs[0]), aggs[0], stream) if aggs and stream else None
        follow = None
        if "not_followed_by" in node.value:
            second = node.child("not_followed_by")
            if self.mapping(second, spec.FOLLOW, (), "not_followed_by") and stream:
                follow_rows = self.row_filter(second, stream.name, "not_followed_by")[1]
                follow = ir.NotFollowedBy(follow_rows) if follow_rows else None
            if follow is None:
                return None
        if rows is None or len(aggs) > 1 or (aggs and agg is None):
            return None
        if not aggs:
            agg = None if follow else ir.Aggregate("count", None, (ir.Comparison("gte", 1),))
        return ir.Event(rows, agg, follow)

    def aggregate(self, node: Node, kind: str, stream: ir.Stream) -> ir.Aggregate | None:
        example = AGGREGATE_EXAMPLES.get(kind, "{of: amount, gte: 100}")
        if not isinstance(node.value, dict):
            self.wrong_type(node, f"'{kind}'", f"a mapping like {example}")
            return None
        if kind in ("first", "last"):
            self.mapping(node, ("within", "older_than"), (), f"'{kind}'")
            tests = [ir.Comparison(op, self.duration(node.child(op)))
                     for op in ("within", "older_than") if op in node.value]
            if not tests:
                self.error("SEG004", f"'{kind}' needs within or older_than", node.loc, f"e.g. {kind}: {example}")
            return ir.Aggregate(kind, None, tuple(tests)) if tests and all(t.value for t in tests) else None
        of = None
        if kind == "count" and "of" in node.value:
            self.error("SEG003", "'count' counts rows and takes no 'of'", node.key_loc("of"),
                       "to count distinct values write distinct: {of: COLUMN, gte: 2}")
        elif kind != "count" and "of" not in node.value:
            self.error("SEG004", f"'{kind}' needs 'of: COLUMN'", node.loc, f"e.g. {kind}: {example}")
        elif kind != "count":
            of = self.aggregated_column(node.child("of"), kind, stream)
        tests = self.comparisons(node, f"'{kind}'", skip=("of",))
        if tests is None or (of is None) == (kind != "count") or (kind == "count" and "of" in node.value):
            return None
        return ir.Aggregate(kind, of, tests)

    def aggregated_column(self, node: Node, kind: str, stream: ir.Stream) -> str | None:
        of = self.string(node, "'of'")
        typ = stream.type_of(of) if of is not None else None
        numeric = [c for c, t in stream.columns if t in spec.NUMERIC_TYPES]
        if of is not None and typ is None:
            self.error("SEG102", f"unknown column '{of}' in stream '{stream.name}'", node.loc,
                       _suggest(of, [c for c, _ in stream.columns], "declared columns"))
        elif typ is not None and kind != "distinct" and typ not in spec.NUMERIC_TYPES:
            self.error("SEG108", f"'{kind}' needs a numeric column, but '{of}' is {typ}", node.loc,
                       _suggest(of, numeric, f"numeric columns of '{stream.name}'"))
        elif kind == "distinct" and typ == "list":
            self.error("SEG108", f"'distinct' cannot count list column '{of}'", node.loc)
        else:
            return of
        return None

    def reference(self, node: Node, kind: str) -> str | None:
        """A name of another definition; records the dependency edge for the cycle check."""
        child = node.child(kind)
        name = self.string(child, f"'{kind}'")
        if name is None:
            return None
        if name not in self.names[kind]:
            plural = dict(KINDS)[kind]
            self.error("SEG103", f"unknown {kind} '{name}'", child.loc,
                       _suggest(name, self.names[kind], f"declared {plural}"))
            return None
        if self.owner[1]:
            self.refs.append((self.owner, (kind, name), child.loc))
        return name

    def members(self, node: Node, key: str, known: list[str], owner: str) -> tuple[str, ...] | None:
        """`grade: hot` / `stage: [a, b]`: names of entries of another definition."""
        items = self.strings(node.child(key), f"'{key}'")
        bad = [i for i in items or () if i.value not in known]
        for i in bad:
            self.error("SEG103", f"{owner} has no {key} '{i.value}'", i.loc, _suggest(i.value, known, f"its {key}s"))
        return tuple(i.value for i in items) if items and not bad else None

    def cond_segment(self, node: Node):
        self.mapping(node, ("segment",), (), "segment condition")
        name = self.reference(node, "segment")
        return ir.SegmentRef(name) if name else None

    def cond_score(self, node: Node):
        name = self.reference(node, "score")
        if "grade" in node.value:
            self.mapping(node, ("score", "grade"), (), "score condition")
            grades = self.members(node, "grade", self.grades.get(name, []), f"score '{name}'") if name else None
            return ir.ScoreRef(name, grades=grades) if name and grades else None
        if len(node.value) == 1:
            self.error("SEG004", "score condition needs a comparison such as gte: 50, or grade: NAME", node.loc)
            return None
        tests = self.comparisons(node, "score condition", skip=("score",))
        return ir.ScoreRef(name, tests=tests) if name and tests else None

    def cond_lifecycle(self, node: Node):
        self.mapping(node, ("lifecycle", "stage"), ("stage",), "lifecycle condition")
        name = self.reference(node, "lifecycle")
        if not name or "stage" not in node.value:
            return None
        stages = self.members(node, "stage", self.stages.get(name, []), f"lifecycle '{name}'")
        return ir.LifecycleRef(name, stages) if stages else None

    def cond_rfm(self, node: Node):
        self.mapping(node, ("rfm", "segment", "r", "f", "m"), (), "rfm condition")
        name = self.reference(node, "rfm")
        letters = [k for k in "rfm" if k in node.value]
        if "segment" in node.value and letters:
            self.error("SEG111", "an rfm condition takes 'segment' or r, f, m, not both", node.key_loc(letters[0]),
                       "combine conditions with all: [...]")
            return None
        if "segment" in node.value:
            segs = self.members(node, "segment", self.rfm_segments.get(name, []), f"rfm '{name}'") if name else None
            return ir.RfmRef(name, segments=segs) if segs else None
        if not letters:
            self.error("SEG004", "rfm condition needs 'segment' or one of r, f, m", node.loc,
                       "e.g. {rfm: NAME, segment: champions} or {rfm: NAME, r: {gte: 4}}")
            return None
        tests = [(k, self.comparisons(node.child(k), f"rfm '{k}'", integer=True)) for k in letters]
        if not name or any(t is None for _, t in tests):
            return None
        return ir.RfmRef(name, tests=tuple((k, c) for k, cs in tests for c in cs))

    # -- definitions -------------------------------------------------------------------------

    def definitions(self) -> dict[str, list[Node]]:
        """The entries of every file's segments, scores, ... lists, by key."""
        out: dict[str, list[Node]] = {key: [] for _, key in KINDS}
        for doc in self.docs:
            for kind, key in KINDS:
                if not isinstance(doc.data, dict) or doc.data.get(key) is None:
                    continue
                for item in self.items(Node(doc, (key,), doc.data[key]), f"'{key}'", empty_ok=True) or ():
                    if isinstance(item.value, dict):
                        out[key].append(item)
                    else:
                        self.wrong_type(item, f"a {kind}", "a mapping")
        return out

    def register_names(self, defs: dict[str, list[Node]]) -> list[tuple[str, str, Node, str | None]]:
        """First pass: every name, so references can be checked in any order across files."""
        named = []
        for kind, key in KINDS:
            for node in defs[key]:
                name = self.name(node.get("name"), kind, self.names[kind])
                named.append((kind, key, node, name))
                if name and kind == "score":
                    self.grades[name] = _entry_names(node.value.get("grades"))
                if name and kind == "lifecycle":
                    default = node.value.get("default")
                    self.stages[name] = _entry_names(node.value.get("stages")) + (
                        [default] if isinstance(default, str) else [])
                if name and kind == "rfm":
                    segs = node.value.get("segments")
                    self.rfm_segments[name] = _entry_names(segs) if segs is not None else [
                        s.name for s in DEFAULT_RFM_SEGMENTS]
        return named

    def unreachable(self, node: Node, key: str, entries: tuple, bounds, what: str) -> None:
        """First match wins: an entry after one without bounds can never match."""
        catch_all = next((i for i, e in enumerate(entries) if all(getattr(e, b) is None for b in bounds)), len(entries))
        if catch_all < len(entries) - 1:
            later, default = entries[catch_all + 1].name, entries[catch_all].name
            self.error("SEG112", f"{what} '{later}' can never match: '{default}' before it has no bounds",
                       node.child(key).child(catch_all + 1).loc, f"first match wins: put '{default}' last")

    def segment(self, node: Node, name: str | None) -> ir.Segment | None:
        self.mapping(node, spec.SEGMENT, ("name", "rule"), "segment")
        self.owner = ("segment", name)
        meta = self.meta(node)
        rule = self.condition(node.child("rule")) if "rule" in node.value else None
        seen: dict = {}
        examples = self.each(node, "examples", lambda e: self.example(e, seen), empty_ok=True)
        if name and rule and examples is not None:
            return ir.Segment(name, rule, examples=examples, location=node.loc, **meta)
        return None

    def example(self, node: Node, seen: dict) -> ir.Example | None:
        self.mapping(node, spec.EXAMPLE + tuple(self.streams), ("name", "expect"), "example")
        if not isinstance(node.value, dict):
            return None
        name = self.name(node.get("name"), "example", seen)
        said = node.get("expect")
        if said is not None and isinstance(said.value, bool):  # `expect: true`
            self.error("SEG005", f"'expect' must be member or not_member, but YAML read {said.raw} as a boolean",
                       said.loc, f"write {'member' if said.value else 'not_member'}")
            said = None
        expect = self.string(said, "'expect'")
        if expect is not None and expect not in ("member", "not_member"):
            self.error("SEG005", f"'expect' must be member or not_member, got '{expect}'", node.child("expect").loc,
                       did_you_mean(expect, ("member", "not_member")))
        as_of = EXAMPLE_AS_OF
        if "as_of" in node.value:
            as_of = self.typed_value(node.child("as_of"), "timestamp", "'as_of'")
        contact = self.example_values(node.get("contact"), dict(self.contacts.columns) if self.contacts else {},
                                      "contacts", "example contact")
        rows, ok = [], True
        for stream in self.streams.values():
            if stream.name in node.value:
                items = self.items(node.child(stream.name), f"'{stream.name}'", empty_ok=True)
                rows += [self.example_row(r, stream, as_of or EXAMPLE_AS_OF) for r in items or ()]
                ok = ok and items is not None
        if name and expect in ("member", "not_member") and as_of and contact is not None and ok and all(rows):
            return ir.Example(name, as_of, contact, tuple(rows), expect == "member")
        return None

    def example_values(self, node: Node | None, types: dict, source: str, what: str, skip=()):
        """An example's column values, typed, as sorted (column, value) pairs; None after a problem."""
        if node is None:
            return ()
        if not isinstance(node.value, dict):
            self.wrong_type(node, what, "a mapping of column: value")
            return None
        values = {}
        for column in node.value:
            if column in skip:
                continue
            if column not in types:
                self.error("SEG102", f"unknown column '{column}' in {source}", node.key_loc(column),
                           _suggest(column, [*types, *skip], "expected"))
                values[column] = _MISSING
            else:
                values[column] = self.example_value(node.child(column), types[column], column)
        return None if any(v is _MISSING for v in values.values()) else tuple(sorted(values.items()))

    def example_value(self, node: Node, typ: str, column: str):
        if node.value is None:
            return None
        if typ == "list":
            items = self.items(node, f"'{column}'", empty_ok=True)
            values = [self.string(i, f"item of '{column}'") for i in items or ()]
            return _MISSING if items is None or None in values else tuple(values)
        value = self.typed_value(node, typ, f"'{column}'")
        return _MISSING if value is None else value

    def example_row(self, node: Node, stream: ir.Stream, as_of: datetime) -> ir.ExampleRow | None:
        types = dict(stream.columns) | ({stream.event_type: "string"} if stream.event_type else {})
        values = self.example_values(node, types, f"stream '{stream.name}'", f"example row of '{stream.name}'",
                                     skip=("ago", "at"))
        if not isinstance(node.value, dict):
            return None
        if "ago" in node.value and "at" in node.value:
            self.error("SEG005", "an example row takes 'ago' or 'at', not both", node.key_loc("at"))
            return None
        if "ago" in node.value:
            ago = self.duration(node.child("ago"))
            return ir.ExampleRow(stream.name, shift(as_of, ago, -1), values) if ago and values is not None else None
        if "at" in node.value:
            at = self.typed_value(node.child("at"), "timestamp", "'at'")
            return ir.ExampleRow(stream.name, at, values) if at and values is not None else None
        self.error("SEG004", "an example row needs 'ago' (e.g. 2d) or 'at' (a timestamp)", node.loc)
        return None

    def score(self, node: Node, name: str | None) -> ir.Score | None:
        self.mapping(node, spec.SCORE, ("name", "rules"), "score")
        self.owner = ("score", name)
        meta = self.meta(node)
        rules = self.each(node, "rules", self.score_rule)
        decay = None
        if "decay" in node.value and self.mapping(node.child("decay"), ("half_life",), ("half_life",), "'decay'"):
            decay = self.duration(node.child("decay").child("half_life"), "half-life", units=("h", "d", "w"))
        bounds = {k: self.number(node.child(k), f"'{k}'") for k in ("min", "max") if k in node.value}
        if len(bounds) == 2 and None not in bounds.values() and bounds["min"] > bounds["max"]:
            self.error("SEG114", f"'min' {bounds['min']} is above 'max' {bounds['max']}", node.child("min").loc)
            bounds["min"] = None
        seen: dict = {}
        grades = self.each(node, "grades", lambda g: self.grade(g, seen), empty_ok=True)
        if grades:
            self.unreachable(node, "grades", grades, ("gte", "lt"), "grade")
        if name and rules and grades is not None and None not in bounds.values() and (
                decay or "decay" not in node.value):
            return ir.Score(name, rules, decay, bounds.get("min"), bounds.get("max"), grades, location=node.loc, **meta)
        return None

    def score_rule(self, node: Node) -> ir.ScoreRule | None:
        self.mapping(node, spec.SCORE_RULE, ("points", "when"), "score rule")
        if not isinstance(node.value, dict):
            return None
        points = self.number(node.child("points"), "'points'") if "points" in node.value else None
        when = self.condition(node.child("when")) if "when" in node.value else None
        per_event = node.value.get("per_event", False)
        if not isinstance(per_event, bool):
            self.wrong_type(node.child("per_event"), "'per_event'", "true or false")
            per_event = None
        elif per_event and when is not None:
            extra = next((k for k in spec.AGGREGATES + ("not_followed_by",) if k in node.value["when"]), None)
            if not isinstance(when, ir.Event):
                self.error("SEG113", "per_event needs 'when' to be one event condition", node.key_loc("per_event"),
                           "per_event adds the points once per matching event")
                per_event = None
            elif extra:
                self.error("SEG113", f"per_event cannot be combined with '{extra}' in 'when'",
                           node.key_loc("per_event"), "per_event adds the points once per matching event")
                per_event = None
        cap = self.number(node.child("cap"), "'cap'") if "cap" in node.value else None
        if cap is not None and cap < 0:
            self.error("SEG114", f"'cap' must not be negative, got {cap}", node.child("cap").loc,
                       "cap limits the contribution's size, keeping its sign")
        if points is None or when is None or per_event is None or ("cap" in node.value and (cap is None or cap < 0)):
            return None
        return ir.ScoreRule(points, when, per_event, cap)

    def grade(self, node: Node, seen: dict) -> ir.Grade | None:
        self.mapping(node, spec.GRADE, ("name",), "grade")
        if not isinstance(node.value, dict):
            return None
        name = self.name(node.get("name"), "grade", seen)
        bounds = {k: self.number(node.child(k), f"'{k}'") for k in ("gte", "lt") if k in node.value}
        if len(bounds) == 2 and None not in bounds.values() and bounds["gte"] >= bounds["lt"]:
            self.error("SEG114", f"grade can never match: 'gte' {bounds['gte']} is not below 'lt' {bounds['lt']}",
                       node.child("lt").loc)
            return None
        return ir.Grade(name, **bounds) if name and None not in bounds.values() else None

    def lifecycle(self, node: Node, name: str | None) -> ir.Lifecycle | None:
        self.mapping(node, spec.LIFECYCLE, ("name", "stages", "default"), "lifecycle")
        self.owner = ("lifecycle", name)
        meta = self.meta(node)
        seen: dict = {}
        stages = self.each(node, "stages", lambda s: self.stage(s, seen))
        default = self.name(node.get("default"), "stage")
        if default in seen:
            self.error("SEG009", f"default stage '{default}' is also a stage", node.child("default").loc,
                       f"first defined at {seen[default]}")
            default = None
        if name and stages and default:
            return ir.Lifecycle(name, stages, default, location=node.loc, **meta)
        return None

    def stage(self, node: Node, seen: dict) -> ir.Stage | None:
        self.mapping(node, spec.STAGE, ("name", "when"), "stage")
        if not isinstance(node.value, dict):
            return None
        name = self.name(node.get("name"), "stage", seen)
        when = self.condition(node.child("when")) if "when" in node.value else None
        return ir.Stage(name, when) if name and when else None

    def rfm(self, node: Node, name: str | None) -> ir.Rfm | None:
        self.mapping(node, spec.RFM, ("name", "stream", "monetary"), "rfm")
        self.owner = ("rfm", name)
        meta = self.meta(node)
        stream, rows = self.row_filter(node, "orders", "rfm") if "stream" in node.value else (None, None)
        monetary = self.string(node.get("monetary"), "'monetary'")
        if stream and monetary is not None and stream.type_of(monetary) not in spec.NUMERIC_TYPES:
            typ = stream.type_of(monetary)
            numeric = [c for c, t in stream.columns if t in spec.NUMERIC_TYPES]
            self.error("SEG108" if typ else "SEG102",
                       f"monetary column '{monetary}' is {typ}, not a number" if typ else
                       f"unknown column '{monetary}' in stream '{stream.name}'",
                       node.child("monetary").loc, _suggest(monetary, numeric, f"numeric columns of '{stream.name}'"))
            monetary = None
        bins = self.number(node.child("bins"), "'bins'", integer=True) if "bins" in node.value else 5
        if bins is not None and not 2 <= bins <= 100:
            self.error("SEG114", f"'bins' must be between 2 and 100, got {bins}", node.child("bins").loc)
            bins = None
        segments = DEFAULT_RFM_SEGMENTS
        if "segments" in node.value:
            seen: dict = {}
            segments = self.each(node, "segments", lambda s: self.rfm_segment(s, bins or 5, seen))
            if segments:
                self.unreachable(node, "segments", segments, "rfm", "rfm segment")
        if name and rows and monetary and bins and segments:
            return ir.Rfm(name, rows, monetary, bins, segments, location=node.loc, **meta)
        return None

    def rfm_segment(self, node: Node, bins: int, seen: dict) -> ir.RfmSegment | None:
        self.mapping(node, spec.RFM_SEGMENT, ("name",), "rfm segment")
        if not isinstance(node.value, dict):
            return None
        name = self.name(node.get("name"), "rfm segment", seen)
        ranges, ok = {}, True
        for k in (k for k in "rfm" if k in node.value):
            pair = node.value[k]
            if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)):
                self.error("SEG005", f"'{k}' must be [low, high], two whole numbers, got {node.child(k).described}",
                           node.child(k).loc, f"e.g. {k}: [1, {bins}]")
                ok = False
            elif not 1 <= pair[0] <= pair[1] <= bins:
                self.error("SEG114", f"'{k}' must be [low, high] with 1 <= low <= high <= {bins}, "
                           f"got [{pair[0]}, {pair[1]}]", node.child(k).loc)
                ok = False
            else:
                ranges[k] = tuple(pair)
        return ir.RfmSegment(name, **ranges) if name and ok else None

    def sync(self, node: Node, name: str | None) -> ir.Sync | None:
        self.mapping(node, spec.SYNC, ("name", "segment", "destination", "identifier"), "sync")
        if name is not None and len(name) > SYNC_NAME_MAX:
            self.error("SEG008", f"sync name '{name}' is too long: at most {SYNC_NAME_MAX} characters",
                       node.child("name").loc, f"its table sync_{name}_changes must fit PostgreSQL's 63 characters")
            name = None
        self.owner = ("sync", name)
        meta = self.meta(node, tags=False)
        segment = self.reference(node, "segment") if "segment" in node.value else None
        destination = self.string(node.get("destination"), "'destination'")
        columns = [self.contacts.key] + [c for c, _ in self.contacts.columns] if self.contacts else []
        fields = self.strings(node.child("fields"), "'fields'", empty_ok=True) if "fields" in node.value else []
        picked, seen = [], {}
        for item in ([node.child("identifier")] if "identifier" in node.value else []) + (fields or []):
            column = self.string(item, "'identifier'")
            if column is not None and column not in columns:
                self.error("SEG102", f"unknown column '{column}' in contacts", item.loc,
                           _suggest(column, columns, "declared columns"))
                column = None
            elif column in seen:
                self.error("SEG009", f"column '{column}' is listed twice in the sync", item.loc, f"first at {seen[column]}")
                column = None
            elif column in naming.SYNC_CHANGE_COLUMNS:
                self.error("SEG009", f"column '{column}' would be in the sync's change table twice: it adds its own",
                           item.loc, "leave it out of fields")
                column = None
            elif column is not None:
                seen[column] = item.loc
            picked.append(column)
        if name and segment and destination and picked and None not in picked and fields is not None:
            return ir.Sync(name, segment, destination, picked[0], tuple(picked[1:]), location=node.loc, **meta)
        return None

    def run(self) -> ir.Project:
        incomplete = any(d.broken for d in self.docs)
        if incomplete:
            self.muted.add("SEG103")  # what an unreadable file declares looks unknown: its error says why
        source_nodes, settings_nodes = [], []
        for doc in self.docs:
            if doc.data is None:
                continue
            root = Node(doc, (), doc.data)
            if not self.mapping(root, spec.TOP_LEVEL, (), "a definitions file"):
                continue
            version = doc.data.get("version", 1)
            if type(version) is not int or version != 1:
                version = root.child("version")
                self.error("SEG011", f"unsupported version {version.described}", version.loc,
                           "this segc reads version: 1")
            if "sources" in doc.data:
                source_nodes.append(root.child("sources"))
            if "settings" in doc.data:
                settings_nodes.append(root.child("settings"))
        if not self.docs:
            self.error("SEG004", "no definitions: no *.yml or *.yaml file in segments/", SourceLocation("segments", 1, 1),
                       "run segc init, or add definition files")
        elif not source_nodes and not incomplete:
            self.error("SEG004", "no 'sources' declared", self.docs[0].loc(()),
                       "declare contacts and streams once, see segc init")
        for extra in source_nodes[1:]:
            self.error("SEG009", "'sources' is declared more than once", extra.doc.loc(("sources",), key=True),
                       f"first declared at {source_nodes[0].doc.loc(('sources',), key=True)}")
        if source_nodes:
            self.guarded(source_nodes[0], self.sources)
        if self.contacts is None:
            self.muted |= {"SEG101", "SEG102"}  # nothing to check names against: the sources error says why
        built: dict[str, list] = {key: [] for _, key in KINDS}
        for kind, key, node, name in self.register_names(self.definitions()):
            built[key].append(self.guarded(node, getattr(self, kind), name))
        self.diagnostics.extend(check_cycles(self.refs))
        self.diagnostics.extend(naming.collisions((kind, d) for kind, key in KINDS for d in built[key] if d is not None))
        settings = self.settings(settings_nodes)
        self.sources_apart(settings.schema)
        if self.diagnostics or self.contacts is None or incomplete:
            raise CompileError(self.diagnostics)
        by_name = {k: tuple(sorted(v, key=lambda d: d.name)) for k, v in built.items()}
        return ir.Project(self.contacts, tuple(sorted(self.streams.values(), key=lambda s: s.name)),
                          by_name["segments"], by_name["scores"], by_name["lifecycles"], by_name["rfm"],
                          by_name["syncs"], settings)

    def settings(self, nodes: list[Node]) -> ir.Settings:
        """The `settings:` section: optional, declared in at most one file."""
        for extra in nodes[1:]:
            self.error("SEG009", "'settings' is declared more than once", extra.doc.loc(("settings",), key=True),
                       f"first declared at {nodes[0].doc.loc(('settings',), key=True)}")
        if not nodes or not self.mapping(nodes[0], spec.SETTINGS, (), "settings"):
            return ir.Settings()
        node, values = nodes[0], {}
        sample = node.get("check_sample_percent")
        if sample is not None:
            percent = self.number(sample, "check_sample_percent", integer=True)
            if percent is not None and not 1 <= percent <= 100:
                self.error("SEG114", "check_sample_percent must be between 1 and 100", sample.loc)
            elif percent is not None:
                values["check_sample_percent"] = percent
        zone = node.get("timezone")
        if zone is not None and self.string(zone, "timezone") is not None:
            if _known_zone(zone.value):
                values["timezone"] = zone.value
            else:
                self.error("SEG010", f"unknown timezone '{zone.value}'", zone.loc,
                           did_you_mean(zone.value, sorted(z for z in _zones() if _known_zone(z))) or "an IANA name such as Europe/Warsaw or UTC")
        incremental = node.get("incremental")
        if incremental is not None and not isinstance(incremental.value, bool):
            self.wrong_type(incremental, "'incremental'", "true or false")
        elif incremental is not None:
            values["incremental"] = incremental.value
        schema = node.get("schema")
        self.schema_rejected = schema is not None  # until it is accepted below
        if schema is not None and self.string(schema, "schema") is not None:
            if not SCHEMA_NAME.fullmatch(schema.value):
                fixed = re.sub(r"[^a-z0-9_]+", "_", schema.value.lower()).strip("_")[:50]
                self.error("SEG116", f"schema '{schema.value}' is not a lowercase SQL name: letters a-z, digits and "
                           "underscores, starting with a letter or underscore, at most 50 characters", schema.loc,
                           f"for example {fixed if SCHEMA_NAME.fullmatch(fixed) else 'marketing_segments'}")
            elif SYSTEM_SCHEMAS.fullmatch(schema.value):
                self.error("SEG116", f"schema '{schema.value}' is the warehouse's own", schema.loc,
                           "for example marketing_segments")
            else:
                values["schema"], self.schema_rejected = schema.value, False
        return ir.Settings(**values)

    def sources_apart(self, schema: str) -> None:
        """No source in the schemas segc writes: a build replaces the tables there. A relation naming its database
        is left alone: segc writes into the target's database, which the definitions do not know."""
        if self.schema_rejected:
            return
        for relation, (reader, written, loc) in self.relations.items():
            parts = relation.split(".")
            if len(parts) == 2 and parts[0] in (schema, f"{schema}_internal"):
                self.error("SEG116", f"the relation of {reader}, '{written}', is in schema '{written.split('.')[0]}', "
                           "where segc writes its tables: a build could replace it", loc,
                           "keep the sources in another schema, or set settings.schema to another name")


@functools.cache
def _zones() -> frozenset[str]:
    """The installed IANA zones, read once (reading them walks the tz database: 25 ms a call)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def _known_zone(name: str) -> bool:
    """An IANA zone name every warehouse knows (not a fixed offset or a POSIX rule)."""
    return "/" in name and name in _zones() or name == "UTC"


def _entry_names(entries) -> list[str]:
    """Names of a list's entries, read before the entries are checked (for references to them)."""
    return [e["name"] for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)] \
        if isinstance(entries, list) else []


def _parse_time(value, typ: str):
    """A date or naive-UTC timestamp from a YAML date/timestamp or ISO text; None when it is neither."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if typ == "date" else datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):  # a date column is not compared with a time of day
        return None if typ == "date" else value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value if typ == "date" else datetime.combine(value, time())
    return None


# The classic RFM map for 5 bins (first match wins); every (r, f) cell of the 5x5 grid is named.
DEFAULT_RFM_SEGMENTS = (
    ir.RfmSegment("champions", r=(5, 5), f=(4, 5)),
    ir.RfmSegment("loyal", r=(3, 4), f=(4, 5)),
    ir.RfmSegment("potential_loyalists", r=(4, 5), f=(2, 3)),
    ir.RfmSegment("new", r=(5, 5), f=(1, 1)),
    ir.RfmSegment("promising", r=(4, 4), f=(1, 1)),
    ir.RfmSegment("need_attention", r=(3, 3), f=(3, 3)),
    ir.RfmSegment("about_to_sleep", r=(3, 3), f=(1, 2)),
    ir.RfmSegment("cant_lose", r=(1, 2), f=(5, 5)),
    ir.RfmSegment("at_risk", r=(1, 2), f=(3, 4)),
    ir.RfmSegment("hibernating", r=(2, 2), f=(1, 2)),
    ir.RfmSegment("lost"),
)


def parse(docs: list[Doc]) -> ir.Project:
    """Checked IR for the documents, or CompileError carrying every diagnostic."""
    parser = Parser(docs)
    try:
        return parser.run()
    except CompileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug outside the guarded checks: still a diagnostic
        loc = docs[0].loc(()) if docs else SourceLocation("segments", 1, 1)
        raise CompileError(parser.diagnostics + [Diagnostic(
            "SEG000", f"internal error while checking: {type(exc).__name__}: {exc}", loc,
            "a bug in segc; please report it with these files")]) from exc
