"""Check the loaded YAML and build the IR, collecting every diagnostic on the way.

`parse(docs)` never stops at the first problem: each construct is checked, problems are
recorded with the position of the offending node, and a construct that cannot be built is
skipped so that checking goes on. Only a project without any diagnostic becomes IR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from . import ir, spec
from .errors import CompileError, Diagnostic, SourceLocation, did_you_mean
from .graph import check_cycles
from .loader import Doc
from .timeutil import shift

EXAMPLE_AS_OF = datetime(2026, 1, 1)
_MISSING = object()


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


class Parser:
    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.diagnostics: list[Diagnostic] = []
        self.refs: list[tuple[tuple[str, str], tuple[str, str], SourceLocation]] = []
        self.names: dict[str, dict[str, SourceLocation]] = {
            k: {} for k in ("segment", "score", "lifecycle", "rfm", "sync")}
        self.grades: dict[str, list[str]] = {}
        self.stages: dict[str, list[str]] = {}
        self.rfm_segments: dict[str, list[str]] = {}
        self.contacts: ir.Contacts | None = None
        self.streams: dict[str, ir.Stream] = {}
        self.owner: tuple[str, str] = ("", "")  # the definition whose conditions are being parsed

    # -- reporting ---------------------------------------------------------------------------

    def error(self, code: str, message: str, loc: SourceLocation, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, loc, hint))

    def mapping(self, node: Node, allowed, required=(), what="entry") -> bool:
        """Check that `node` is a mapping with only `allowed` keys and all `required` ones."""
        if not isinstance(node.value, dict):
            self.error("SEG005", f"{what} must be a mapping, got {_kind(node.value)}", node.loc)
            return False
        for key in node.value:
            if key not in allowed:
                self.error("SEG003", f"unknown key '{key}' in {what}", node.key_loc(key),
                           did_you_mean(key, allowed))
        for key in required:
            if key not in node.value:
                self.error("SEG004", f"{what} is missing required key '{key}'", node.loc)
        return all(key in node.value for key in required)

    def string(self, node: Node | None, what: str, default=_MISSING) -> str | None:
        if node is None:
            return None if default is _MISSING else default
        if isinstance(node.value, str):
            return node.value
        self.type_trap(node, what, "a string")
        return None

    def type_trap(self, node: Node, what: str, expected: str) -> None:
        """Report a value of the wrong type, naming YAML 1.1's implicit conversions when they bit."""
        kind = _kind(node.value)
        hint = None
        if expected == "a string" and kind in ("boolean", "number", "date", "timestamp"):
            hint = f'quote it: "{node.raw}"'
            message = f"{what} must be a string, but YAML read {node.raw} as a {kind}"
        else:
            message = f"{what} must be {expected}, got {kind}"
        self.error("SEG005" if hint is None else "SEG006", message, node.loc, hint)

    def name(self, node: Node | None, kind: str, register: bool = True) -> str | None:
        if node is None:
            return None
        value = self.string(node, f"{kind} name")
        if value is None:
            return None
        if not spec.NAME_RE.match(value):
            self.error("SEG008", f"invalid {kind} name '{value}'", node.loc,
                       "use lowercase letters, digits and _, starting with a letter (at most 63)")
            return None
        if register:
            seen = self.names[kind]
            if value in seen:
                self.error("SEG009", f"duplicate {kind} name '{value}'", node.loc,
                           f"first defined at {seen[value]}")
                return None
            seen[value] = node.loc
        return value

    def nonempty_list(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node.value, list):
            self.error("SEG005", f"{what} must be a list, got {_kind(node.value)}", node.loc)
            return None
        if not node.value:
            self.error("SEG007", f"{what} must not be empty", node.loc)
            return None
        return node.items()

    def one_or_many(self, node: Node, what: str) -> tuple[str, ...]:
        items = node.items() if isinstance(node.value, list) else [node]
        if isinstance(node.value, list) and not items:
            self.error("SEG007", f"{what} must not be empty", node.loc)
        return tuple(v for v in (self.string(i, what) for i in items) if v is not None)

    def duration(self, node: Node, what="duration", units=("h", "d", "w", "mo", "y")) -> ir.Duration | None:
        match = spec.DURATION_RE.match(node.value) if isinstance(node.value, str) else None
        if not match or match.group(2) not in units:
            self.error("SEG010", f"invalid {what} {node.raw!r}", node.loc,
                       f"write a positive integer and a unit ({', '.join(units)}), e.g. 90d")
            return None
        return ir.Duration(int(match.group(1)), match.group(2))

    def number(self, node: Node, what: str, integer=False) -> float | int | None:
        ok = isinstance(node.value, int) if integer else isinstance(node.value, (int, float))
        if ok and not isinstance(node.value, bool):
            return node.value
        self.type_trap(node, what, "an integer" if integer else "a number")
        return None

    def meta(self, node: Node) -> dict:
        tags = node.get("tags")
        return {
            "description": self.string(node.get("description"), "description", "") or "",
            "owner": self.string(node.get("owner"), "owner"),
            "tags": self.one_or_many(tags, "tags") if tags is not None else (),
        }

    # -- sources -----------------------------------------------------------------------------

    def identifier(self, node: Node | None, what: str, dotted: bool = False) -> str | None:
        value = self.string(node, what)
        if value is None:
            return None
        parts = value.split(".") if dotted else [value]
        if not all(spec.IDENT_RE.match(p) for p in parts) or (dotted and not 2 <= len(parts) <= 3):
            shape = "schema.table" if dotted else "a SQL identifier (letters, digits, _)"
            self.error("SEG008", f"invalid {what} '{value}'", node.loc, f"expected {shape}")
            return None
        return value

    def columns(self, node: Node | None) -> tuple[tuple[str, str], ...]:
        if node is None:
            return ()
        if not isinstance(node.value, dict):
            self.error("SEG005", f"columns must be a mapping of name: type, got {_kind(node.value)}", node.loc)
            return ()
        out = []
        for key in node.value:
            if not isinstance(key, str) or not spec.IDENT_RE.match(key):
                self.error("SEG008", f"invalid column name '{key}'", node.key_loc(key))
                continue
            child = node.child(key)
            typ = self.string(child, f"type of column '{key}'")
            if typ is not None and typ not in ir.TYPES:
                self.error("SEG005", f"unknown type '{typ}' for column '{key}'", child.loc,
                           did_you_mean(typ, ir.TYPES) or f"one of {', '.join(ir.TYPES)}")
            elif typ is not None:
                out.append((key, typ))
        return tuple(out)

    def sources(self, node: Node) -> None:
        if not self.mapping(node, spec.SOURCES, ("contacts",), "sources"):
            return
        c = node.child("contacts")
        if self.mapping(c, spec.CONTACTS, ("relation", "key"), "contacts"):
            relation = self.identifier(c.child("relation"), "relation", dotted=True)
            key = self.identifier(c.child("key"), "key column")
            columns = self.columns(c.get("columns"))
            if relation and key:
                self.contacts = ir.Contacts(relation, key, columns)
        streams = node.get("streams")
        if streams is None:
            return
        if not isinstance(streams.value, dict):
            self.error("SEG005", f"streams must be a mapping, got {_kind(streams.value)}", streams.loc)
            return
        for name in streams.value:
            s = streams.child(name)
            if not isinstance(name, str) or not spec.NAME_RE.match(name):
                self.error("SEG008", f"invalid stream name '{name}'", streams.key_loc(name))
                continue
            if not self.mapping(s, spec.STREAM, ("relation", "contact_key", "timestamp"), f"stream '{name}'"):
                continue
            fields = [self.identifier(s.child(k), k, dotted=(k == "relation"))
                      for k in ("relation", "contact_key", "timestamp")]
            event_type = self.identifier(s.get("event_type"), "event_type column") if s.get("event_type") else None
            columns = self.columns(s.get("columns"))
            if all(fields):
                self.streams[name] = ir.Stream(name, *fields, event_type, columns)

    # -- values ------------------------------------------------------------------------------

    def typed_value(self, node: Node, typ: str, what: str):
        """A YAML scalar converted to the column's type, or None after reporting why not."""
        v = node.value
        if typ == "string" or typ == "list":
            return self.string(node, what)
        if typ in spec.NUMERIC_TYPES:
            return self.number(node, what, integer=(typ == "integer"))
        if typ == "boolean":
            if isinstance(v, bool):
                return v
            self.type_trap(node, what, "true or false")
            return None
        if typ in ("date", "timestamp"):
            parsed = _parse_time(v, typ)
            if parsed is None:
                example = "2026-01-31" if typ == "date" else "2026-01-31T08:00:00"
                self.error("SEG005", f"{what} must be a {typ}, got {node.raw!r}", node.loc, f"e.g. {example}")
            return parsed
        raise AssertionError(typ)

    def predicate_ops(self, node: Node, column: str, typ: str, skip=()) -> list[ir.Predicate]:
        """The operators of one column mapping: `{eq: x, ne: y}` (several ops are ANDed)."""
        preds = []
        allowed = spec.OPERATORS_BY_TYPE[typ]
        for op in node.value:
            if op in skip:
                continue
            child = node.child(op)
            if op not in allowed:
                if op in spec.ALL_OPERATORS:
                    self.error("SEG104", f"operator '{op}' is not valid for {typ} column '{column}'",
                               node.key_loc(op), f"{typ} columns take: {', '.join(allowed)}")
                else:
                    self.error("SEG003", f"unknown operator '{op}'", node.key_loc(op),
                               did_you_mean(op, allowed) or f"{typ} columns take: {', '.join(allowed)}")
                continue
            value = self.op_value(child, op, typ, column)
            if value is not None:
                preds.append(ir.Predicate(column, typ, op, value))
        if not preds and not any(op not in skip for op in node.value):
            self.error("SEG004", f"no operator given for column '{column}'", node.loc,
                       f"e.g. {{eq: ...}}; {typ} columns take: {', '.join(allowed)}")
        return preds

    def op_value(self, node: Node, op: str, typ: str, column: str):
        what = f"value of '{op}' on {typ} column '{column}'"
        if op == "is_null":
            if isinstance(node.value, bool):
                return node.value
            self.type_trap(node, what, "true or false")
            return None
        if op in ("within", "older_than"):
            return self.duration(node)
        if op == "age":
            tests = self.comparisons(node, "age", integer=True)
            return tests or None
        if op in ("in", "not_in", "has_any", "has_all", "between"):
            items = self.nonempty_list(node, f"'{op}' list")
            if items is None:
                return None
            values = [self.typed_value(i, typ, f"item of '{op}' on {typ} column '{column}'") for i in items]
            if any(v is None for v in values):
                return None
            if op == "between":
                if len(values) != 2:
                    self.error("SEG005", "'between' takes exactly two values [low, high]", node.loc)
                    return None
                if values[0] > values[1]:
                    self.error("SEG114", f"'between' low bound {values[0]} is above high bound {values[1]}",
                               node.loc, "write [low, high]")
                    return None
            return tuple(values)
        value = self.typed_value(node, typ, what)
        if op == "matches" and value is not None:
            return self.regex(node, value)
        return value

    def regex(self, node: Node, pattern: str) -> str | None:
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error("SEG106", f"invalid regular expression: {exc.msg}", node.loc)
            return None
        for found, what in spec.NON_PORTABLE_REGEX:
            if found.search(pattern):
                self.error("SEG107", f"non-portable regular expression: {what} "
                           f"'{found.search(pattern).group(0)}' is read differently by DuckDB, PostgreSQL and Spark",
                           node.loc, "use plain classes, anchors, groups, alternation and quantifiers")
                return None
        return pattern

    def comparisons(self, node: Node, what: str, integer=False, skip=()) -> tuple[ir.Comparison, ...]:
        """`{gte: 2, lt: 5}` on a computed number."""
        if not isinstance(node.value, dict):
            self.error("SEG005", f"{what} must be a mapping of comparisons like {{gte: 1}}, "
                       f"got {_kind(node.value)}", node.loc)
            return ()
        out = []
        allowed = spec.NUMERIC_COMPARE
        for op in node.value:
            if op in skip:
                continue
            if op not in allowed:
                self.error("SEG003", f"unknown comparison '{op}' in {what}", node.key_loc(op),
                           did_you_mean(op, allowed + tuple(skip)) or f"one of {', '.join(allowed)}")
                continue
            child = node.child(op)
            value = self.op_value(child, op, "integer" if integer else "number", what)
            if value is not None:
                out.append(ir.Comparison(op, value))
        if not out and not any(op not in skip for op in node.value):
            self.error("SEG004", f"{what} needs a comparison such as gte", node.loc)
        return tuple(out)

    # -- conditions --------------------------------------------------------------------------

    def condition(self, node: Node) -> ir.Condition | None:
        v = node.value
        if not isinstance(v, dict):
            self.error("SEG005", f"a condition must be a mapping, got {_kind(v)}", node.loc)
            return None
        forms = [f for f in spec.CONDITION_FORMS if f in v]
        if not forms:
            first = next(iter(v), "")
            self.error("SEG111", "not a condition: expected one of " + ", ".join(spec.CONDITION_FORMS),
                       node.loc, did_you_mean(first, spec.CONDITION_FORMS))
            return None
        form = forms[0]
        if form in ("all", "any"):
            self.mapping(node, (form,), (), f"'{form}' condition")
            items = self.nonempty_list(node.child(form), f"'{form}'")
            if items is None:
                return None
            parts = [self.condition(i) for i in items]
            if any(p is None for p in parts):
                return None
            return (ir.All if form == "all" else ir.Any_)(tuple(parts))
        if form == "not":
            self.mapping(node, ("not",), (), "'not' condition")
            inner = self.condition(node.child("not"))
            return ir.Not(inner) if inner is not None else None
        return getattr(self, f"cond_{'event' if form == 'stream' else form}")(node)

    def cond_attribute(self, node: Node):
        column = self.string(node.child("attribute"), "attribute")
        if column is None or self.contacts is None:
            return None
        typ = self.contacts.type_of(column)
        if typ is None:
            known = [c for c, _ in self.contacts.columns]
            self.error("SEG102", f"unknown column '{column}' in contacts", node.child("attribute").loc,
                       did_you_mean(column, known) or f"declared columns: {', '.join(known)}")
            return None
        preds = self.predicate_ops(node, column, typ, skip=("attribute",))
        if not preds or len(preds) != len(node.value) - 1:
            return None
        parts = tuple(ir.Attribute(p) for p in preds)
        return parts[0] if len(parts) == 1 else ir.All(parts)

    def stream_of(self, node: Node | None, default: str = "events") -> ir.Stream | None:
        name = default if node is None else self.string(node, "stream")
        if name is None:
            return None
        if name not in self.streams:
            loc = node.loc if node is not None else None
            if loc is None:
                return None  # the default stream is absent: reported by the caller
            self.error("SEG101", f"unknown stream '{name}'", loc,
                       did_you_mean(name, self.streams) or f"declared streams: {', '.join(self.streams) or 'none'}")
            return None
        return self.streams[name]

    def row_filter(self, node: Node, default_stream: str, what: str) -> ir.RowFilter | None:
        stream = self.stream_of(node.get("stream"), default_stream)
        if stream is None:
            if node.get("stream") is None:
                self.error("SEG101", f"{what} needs 'stream': there is no stream named '{default_stream}'", node.loc,
                           f"declared streams: {', '.join(self.streams) or 'none'}")
            return None
        events = ()
        if node.get("event") is not None:
            events = self.one_or_many(node.child("event"), "event")
            if stream.event_type is None:
                self.error("SEG104", f"stream '{stream.name}' has no event_type column, so 'event' cannot be used",
                           node.key_loc("event"), "filter with 'where' instead, or declare event_type")
                return None
        where = self.where(node.get("where"), stream)
        within = self.duration(node.child("within")) if node.get("within") is not None else None
        if where is None or (node.get("within") is not None and within is None):
            return None
        return ir.RowFilter(stream.name, tuple(sorted(set(events))), where, within)

    def where(self, node: Node | None, stream: ir.Stream) -> tuple[ir.Predicate, ...] | None:
        if node is None:
            return ()
        if not isinstance(node.value, dict):
            self.error("SEG005", f"where must be a mapping of column: {{op: value}}, got {_kind(node.value)}", node.loc)
            return None
        preds, ok = [], True
        for column in node.value:
            child = node.child(column)
            typ = stream.type_of(column)
            if typ is None:
                known = [c for c, _ in stream.columns]
                self.error("SEG102", f"unknown column '{column}' in stream '{stream.name}'", node.key_loc(column),
                           did_you_mean(column, known) or f"declared columns: {', '.join(known) or 'none'}")
                ok = False
                continue
            if not isinstance(child.value, dict):
                self.error("SEG005", f"where '{column}' must be a mapping of operators, got {_kind(child.value)}",
                           child.loc, f"e.g. {column}: {{eq: ...}}")
                ok = False
                continue
            found = self.predicate_ops(child, column, typ)
            ok = ok and len(found) == len(child.value)
            preds.extend(found)
        return tuple(preds) if ok else None

    def cond_event(self, node: Node):
        self.mapping(node, spec.EVENT, (), "event condition")
        rows = self.row_filter(node, "events", "event condition")
        aggs = [k for k in spec.AGGREGATES if k in node.value]
        if len(aggs) > 1:
            self.error("SEG005", f"an event condition takes one aggregate, got {', '.join(aggs)}",
                       node.key_loc(aggs[1]), "combine several with 'all'")
            return None
        follow = None
        if node.get("not_followed_by") is not None:
            f = node.child("not_followed_by")
            if self.mapping(f, spec.FOLLOW, (), "not_followed_by") and rows is not None:
                second = self.row_filter(f, rows.stream, "not_followed_by")
                follow = ir.NotFollowedBy(second) if second else None
            if follow is None:
                return None
        if rows is None:
            return None
        if not aggs:
            default = None if follow else ir.Aggregate("count", None, (ir.Comparison("gte", 1),))
            return ir.Event(rows, default, follow)
        agg = self.aggregate(node.child(aggs[0]), aggs[0], self.streams[rows.stream])
        return ir.Event(rows, agg, follow) if agg else None

    def aggregate(self, node: Node, kind: str, stream: ir.Stream) -> ir.Aggregate | None:
        if kind in ("first", "last"):
            if not self.mapping(node, ("within", "older_than"), (), f"'{kind}'"):
                return None
            tests = [ir.Comparison(op, self.duration(node.child(op))) for op in ("within", "older_than")
                     if op in node.value]
            if not node.value:
                self.error("SEG004", f"'{kind}' needs within or older_than", node.loc)
            if not tests or any(t.value is None for t in tests):
                return None
            return ir.Aggregate(kind, None, tuple(tests))
        of = None
        if kind != "count":
            if not isinstance(node.value, dict) or "of" not in node.value:
                self.error("SEG004", f"'{kind}' needs 'of: COLUMN'", node.loc, f"e.g. {kind}: {{of: amount, gte: 100}}")
                return None
            of = self.string(node.child("of"), "of")
            typ = stream.type_of(of) if of else None
            if of is not None and typ is None:
                known = [c for c, _ in stream.columns]
                self.error("SEG102", f"unknown column '{of}' in stream '{stream.name}'", node.child("of").loc,
                           did_you_mean(of, known) or f"declared columns: {', '.join(known) or 'none'}")
                return None
            if typ is None:
                return None
            if kind != "distinct" and typ not in spec.NUMERIC_TYPES:
                self.error("SEG108", f"'{kind}' needs a numeric column, but '{of}' is {typ}", node.child("of").loc)
                return None
            if kind == "distinct" and typ == "list":
                self.error("SEG108", f"'distinct' cannot count list column '{of}'", node.child("of").loc)
                return None
        tests = self.comparisons(node, f"'{kind}'", skip=("of",))
        return ir.Aggregate(kind, of, tests) if tests else None

    def reference(self, node: Node, kind: str) -> str | None:
        """A name of another definition; records the dependency edge for the cycle check."""
        child = node.child(kind)
        name = self.string(child, kind)
        if name is None:
            return None
        if name not in self.names[kind]:
            self.error("SEG103", f"unknown {kind} '{name}'", child.loc, did_you_mean(name, self.names[kind]))
            return None
        self.refs.append((self.owner, (kind, name), child.loc))
        return name

    def cond_segment(self, node: Node):
        self.mapping(node, ("segment",), (), "segment condition")
        name = self.reference(node, "segment")
        return ir.SegmentRef(name) if name else None

    def members(self, node: Node, key: str, known: list[str], what: str) -> tuple[str, ...] | None:
        values = self.one_or_many(node.child(key), key)
        bad = [v for v in values if v not in known]
        for v in bad:
            self.error("SEG103", f"unknown {what} '{v}'", node.child(key).loc,
                       did_you_mean(v, known) or f"known: {', '.join(known)}")
        return values if values and not bad else None

    def cond_score(self, node: Node):
        name = self.reference(node, "score")
        if "grade" in node.value:
            self.mapping(node, ("score", "grade"), (), "score condition")
            grades = self.members(node, "grade", self.grades.get(name, []), f"grade of score '{name}'") if name else None
            return ir.ScoreRef(name, grades=grades) if name and grades else None
        tests = self.comparisons(node, "score condition", skip=("score",))
        return ir.ScoreRef(name, tests=tests) if name and tests else None

    def cond_lifecycle(self, node: Node):
        self.mapping(node, ("lifecycle", "stage"), ("stage",), "lifecycle condition")
        name = self.reference(node, "lifecycle")
        if not name or "stage" not in node.value:
            return None
        stages = self.members(node, "stage", self.stages.get(name, []), f"stage of lifecycle '{name}'")
        return ir.LifecycleRef(name, stages) if stages else None

    def cond_rfm(self, node: Node):
        self.mapping(node, ("rfm", "segment", "r", "f", "m"), (), "rfm condition")
        name = self.reference(node, "rfm")
        if not name:
            return None
        if "segment" in node.value:
            segs = self.members(node, "segment", self.rfm_segments.get(name, []), f"segment of rfm '{name}'")
            return ir.RfmRef(name, segments=segs) if segs else None
        tests = tuple((k, c) for k in "rfm" if k in node.value
                      for c in self.comparisons(node.child(k), f"rfm '{k}'", integer=True))
        if not tests:
            self.error("SEG004", "rfm condition needs 'segment' or one of r, f, m", node.loc)
            return None
        return ir.RfmRef(name, tests=tests)

    # -- definitions -------------------------------------------------------------------------

    def definitions(self, key: str) -> list[Node]:
        out = []
        for doc in self.docs:
            if isinstance(doc.data, dict) and key in doc.data:
                node = Node(doc, (key,), doc.data[key])
                if node.value is None:
                    continue
                if not isinstance(node.value, list):
                    self.error("SEG005", f"'{key}' must be a list, got {_kind(node.value)}", node.loc)
                    continue
                out.extend(i for i in node.items() if isinstance(i.value, dict) or self.mapping(i, (), (), key))
        return out

    def register_names(self) -> None:
        """First pass: every name, so references can be checked in any order across files."""
        for kind, key in (("segment", "segments"), ("score", "scores"), ("lifecycle", "lifecycles"),
                          ("rfm", "rfm"), ("sync", "syncs")):
            for node in self.definitions(key):
                name = self.name(node.get("name"), kind)
                if name and kind == "score":
                    self.grades[name] = [g.value.get("name") for g in node.get("grades").items()
                                         if isinstance(g.value, dict)] if node.get("grades") else []
                if name and kind == "lifecycle":
                    stages = node.get("stages").items() if node.get("stages") else []
                    self.stages[name] = [s.value.get("name") for s in stages if isinstance(s.value, dict)]
                    if isinstance(node.value.get("default"), str):
                        self.stages[name].append(node.value["default"])
                if name and kind == "rfm":
                    segs = node.get("segments")
                    self.rfm_segments[name] = ([s.value.get("name") for s in segs.items() if isinstance(s.value, dict)]
                                               if segs else [s.name for s in DEFAULT_RFM_SEGMENTS])

    def segment(self, node: Node) -> ir.Segment | None:
        self.mapping(node, spec.SEGMENT, ("name", "rule"), "segment")
        name = self.name(node.get("name"), "segment", register=False)
        self.owner = ("segment", name)
        rule = self.condition(node.child("rule")) if node.get("rule") is not None else None
        examples = [self.example(e) for e in node.get("examples").items()] if node.get("examples") else []
        meta = self.meta(node)
        if name and rule and all(examples):
            return ir.Segment(name, rule, examples=tuple(examples), location=node.loc, **meta)
        return None

    def example(self, node: Node) -> ir.Example | None:
        allowed = spec.EXAMPLE + tuple(self.streams)
        if not self.mapping(node, allowed, ("name", "expect"), "example"):
            return None
        name = self.name(node.get("name"), "example", register=False)
        expect = self.string(node.child("expect"), "expect")
        if expect not in ("member", "not_member"):
            if expect is not None:
                self.error("SEG005", f"expect must be member or not_member, got '{expect}'", node.child("expect").loc,
                           did_you_mean(expect, ("member", "not_member")))
            return None
        as_of = EXAMPLE_AS_OF
        if node.get("as_of") is not None:
            as_of = self.typed_value(node.child("as_of"), "timestamp", "as_of")
        contact = self.example_values(node.get("contact"), dict(self.contacts.columns) if self.contacts else {},
                                      "contact")
        rows = []
        for stream in self.streams.values():
            for row in node.child(stream.name).items() if node.get(stream.name) else []:
                rows.append(self.example_row(row, stream, as_of))
        if name is None or as_of is None or contact is None or not all(rows):
            return None
        return ir.Example(name, as_of, contact, tuple(rows), expect == "member")

    def example_values(self, node: Node | None, types: dict, what: str, skip=()):
        if node is None:
            return ()
        if not self.mapping(node, tuple(types) + tuple(skip), (), what):
            return None
        values = {k: self.example_value(node.child(k), types[k], k) for k in node.value if k in types}
        if len(values) + sum(k in skip for k in node.value) != len(node.value) or _MISSING in values.values():
            return None
        return tuple(sorted(values.items()))

    def example_value(self, node: Node, typ: str, column: str):
        if node.value is None:
            return None
        if typ == "list":
            items = node.items() if isinstance(node.value, list) else None
            if items is None:
                self.error("SEG005", f"'{column}' must be a list", node.loc)
                return _MISSING
            values = tuple(self.string(i, f"item of '{column}'") for i in items)
            return _MISSING if None in values else values
        value = self.typed_value(node, typ, f"'{column}'")
        return _MISSING if value is None else value

    def example_row(self, node: Node, stream: ir.Stream, as_of: datetime) -> ir.ExampleRow | None:
        types = dict(stream.columns)
        if stream.event_type:
            types[stream.event_type] = "string"
        values = self.example_values(node, types, f"example row of '{stream.name}'", skip=("ago", "at"))
        if values is None:
            return None
        if ("ago" in node.value) == ("at" in node.value):
            self.error("SEG004", "an example row needs exactly one of 'ago' (e.g. 2d) or 'at' (a timestamp)", node.loc)
            return None
        if "ago" in node.value:
            ago = self.duration(node.child("ago"))
            return ir.ExampleRow(stream.name, shift(as_of, ago, -1), values) if ago else None
        at = self.typed_value(node.child("at"), "timestamp", "at")
        return ir.ExampleRow(stream.name, at, values) if at else None

    def score(self, node: Node) -> ir.Score | None:
        self.mapping(node, spec.SCORE, ("name", "rules"), "score")
        name = self.name(node.get("name"), "score", register=False)
        self.owner = ("score", name)
        rules = [self.score_rule(r) for r in (self.nonempty_list(node.child("rules"), "rules") or [])] \
            if node.get("rules") else []
        decay = None
        if node.get("decay") is not None:
            d = node.child("decay")
            if self.mapping(d, ("half_life",), ("half_life",), "decay"):
                decay = self.duration(d.child("half_life"), "half-life", units=("h", "d", "w"))
        bounds = {k: self.number(node.child(k), k) for k in ("min", "max") if node.get(k) is not None}
        if None not in bounds.values() and bounds.get("min", float("-inf")) > bounds.get("max", float("inf")):
            self.error("SEG114", f"min {bounds['min']} is above max {bounds['max']}", node.child("min").loc)
            return None
        grades = [self.grade(g) for g in node.child("grades").items()] if node.get("grades") else []
        if name and rules and all(rules) and all(grades) and None not in bounds.values() and \
                (decay is not None or node.get("decay") is None):
            return ir.Score(name, tuple(rules), decay, bounds.get("min"), bounds.get("max"), tuple(grades),
                            location=node.loc, **self.meta(node))
        return None

    def score_rule(self, node: Node) -> ir.ScoreRule | None:
        if not self.mapping(node, spec.SCORE_RULE, ("points", "when"), "score rule"):
            return None
        points = self.number(node.child("points"), "points")
        when = self.condition(node.child("when"))
        per_event = node.value.get("per_event", False)
        if not isinstance(per_event, bool):
            self.type_trap(node.child("per_event"), "per_event", "true or false")
            return None
        if per_event and when is not None and not (isinstance(when, ir.Event) and when.not_followed_by is None
                                                   and node.child("when").value.keys().isdisjoint(spec.AGGREGATES)):
            self.error("SEG113", "per_event needs 'when' to be one event condition without an aggregate",
                       node.key_loc("per_event"))
            return None
        cap = self.number(node.child("cap"), "cap") if node.get("cap") is not None else None
        if cap is not None and cap < 0:
            self.error("SEG114", "cap must not be negative", node.child("cap").loc)
            return None
        if points is None or when is None or (node.get("cap") is not None and cap is None):
            return None
        return ir.ScoreRule(points, when, per_event, cap)

    def grade(self, node: Node) -> ir.Grade | None:
        if not self.mapping(node, spec.GRADE, ("name",), "grade"):
            return None
        name = self.name(node.get("name"), "grade", register=False)
        bounds = {k: self.number(node.child(k), k) for k in ("gte", "lt") if node.get(k) is not None}
        return ir.Grade(name, **bounds) if name and None not in bounds.values() else None

    def lifecycle(self, node: Node) -> ir.Lifecycle | None:
        self.mapping(node, spec.LIFECYCLE, ("name", "stages", "default"), "lifecycle")
        name = self.name(node.get("name"), "lifecycle", register=False)
        self.owner = ("lifecycle", name)
        stages, seen = [], set()
        for s in (self.nonempty_list(node.child("stages"), "stages") or []) if node.get("stages") else []:
            if not self.mapping(s, spec.STAGE, ("name", "when"), "stage"):
                stages.append(None)
                continue
            stage = self.name(s.get("name"), "stage", register=False)
            if stage in seen:
                self.error("SEG009", f"duplicate stage name '{stage}'", s.child("name").loc)
            seen.add(stage)
            when = self.condition(s.child("when"))
            stages.append(ir.Stage(stage, when) if stage and when else None)
        default = self.name(node.get("default"), "stage", register=False)
        if default in seen:
            self.error("SEG009", f"default stage '{default}' is also a stage", node.child("default").loc)
            return None
        if name and stages and all(stages) and default:
            return ir.Lifecycle(name, tuple(stages), default, location=node.loc, **self.meta(node))
        return None

    def rfm(self, node: Node) -> ir.Rfm | None:
        self.mapping(node, spec.RFM, ("name", "stream", "monetary"), "rfm")
        name = self.name(node.get("name"), "rfm", register=False)
        rows = self.row_filter(node, "orders", "rfm") if node.get("stream") else None
        stream = self.streams.get(rows.stream) if rows else None
        monetary = self.string(node.get("monetary"), "monetary")
        if stream and monetary is not None and stream.type_of(monetary) not in spec.NUMERIC_TYPES:
            known = [c for c, t in stream.columns if t in spec.NUMERIC_TYPES]
            code, why = ("SEG108", f"is {stream.type_of(monetary)}") if stream.type_of(monetary) else ("SEG102", "is unknown")
            self.error(code, f"monetary column '{monetary}' {why} in stream '{stream.name}'",
                       node.child("monetary").loc, did_you_mean(monetary, known) or f"numeric columns: {', '.join(known)}")
            monetary = None
        bins = self.number(node.child("bins"), "bins", integer=True) if node.get("bins") is not None else 5
        if bins is not None and not 2 <= bins <= 100:
            self.error("SEG114", "bins must be between 2 and 100", node.child("bins").loc)
            bins = None
        segments = DEFAULT_RFM_SEGMENTS
        if node.get("segments") is not None:
            segments = tuple(self.rfm_segment(s, bins or 5) for s in
                             (self.nonempty_list(node.child("segments"), "segments") or []))
        if name and rows and monetary and bins and segments and all(segments):
            return ir.Rfm(name, rows, monetary, bins, segments, location=node.loc, **self.meta(node))
        return None

    def rfm_segment(self, node: Node, bins: int) -> ir.RfmSegment | None:
        if not self.mapping(node, spec.RFM_SEGMENT, ("name",), "rfm segment"):
            return None
        name = self.name(node.get("name"), "rfm segment", register=False)
        ranges = {}
        for k in "rfm":
            child = node.get(k)
            if child is None:
                continue
            values = child.value
            if not (isinstance(values, list) and len(values) == 2 and all(
                    isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= bins for v in values)
                    and values[0] <= values[1]):
                self.error("SEG005", f"'{k}' must be [low, high] with 1 <= low <= high <= {bins}", child.loc)
                return None
            ranges[k] = tuple(values)
        return ir.RfmSegment(name, **ranges) if name else None

    def sync(self, node: Node) -> ir.Sync | None:
        self.mapping(node, spec.SYNC, ("name", "segment", "destination", "identifier"), "sync")
        name = self.name(node.get("name"), "sync", register=False)
        self.owner = ("sync", name)
        segment = self.reference(node, "segment") if node.get("segment") else None
        destination = self.string(node.get("destination"), "destination")
        columns = [c for c, _ in self.contacts.columns] + [self.contacts.key] if self.contacts else []
        picked = []
        for key in ("identifier", "fields"):
            for item in (self.one_or_many(node.child(key), key) if node.get(key) else ()):
                if item not in columns:
                    self.error("SEG102", f"unknown column '{item}' in contacts", node.child(key).loc,
                               did_you_mean(item, columns))
                    return None
                picked.append(item)
        if name and segment and destination and picked:
            return ir.Sync(name, segment, destination, picked[0], tuple(picked[1:]),
                           location=node.loc, **{k: v for k, v in self.meta(node).items() if k != "tags"})
        return None

    def run(self) -> ir.Project:
        source_nodes = []
        for doc in self.docs:
            if not isinstance(doc.data, dict):
                if doc.data is not None:
                    self.error("SEG005", f"a definitions file must be a mapping, got {_kind(doc.data)}",
                               doc.loc(()))
                continue
            root = Node(doc, (), doc.data)
            self.mapping(root, spec.TOP_LEVEL, (), "definitions file")
            if "version" in doc.data and doc.data["version"] != 1:
                self.error("SEG011", f"unsupported version {root.child('version').raw!r}", root.child("version").loc,
                           "this segc reads version: 1")
            if root.get("sources") is not None:
                source_nodes.append(root.child("sources"))
        if not source_nodes:
            loc = self.docs[0].loc(()) if self.docs else SourceLocation("segments", 1, 1)
            self.error("SEG004", "no 'sources' declared", loc, "declare contacts and streams once, see segc init")
        for extra in source_nodes[1:]:
            self.error("SEG009", "'sources' is declared more than once", extra.doc.loc(("sources",), key=True),
                       f"first declared at {source_nodes[0].doc.loc(('sources',), key=True)}")
        if source_nodes:
            self.sources(source_nodes[0])
        self.register_names()
        built = {key: [build(n) for n in self.definitions(key)] for key, build in (
            ("segments", self.segment), ("scores", self.score), ("lifecycles", self.lifecycle),
            ("rfm", self.rfm), ("syncs", self.sync))}
        self.diagnostics.extend(check_cycles(self.refs))
        if self.diagnostics or self.contacts is None:
            raise CompileError(self.diagnostics)
        by_name = {k: tuple(sorted(v, key=lambda d: d.name)) for k, v in built.items()}
        return ir.Project(self.contacts, tuple(sorted(self.streams.values(), key=lambda s: s.name)),
                          by_name["segments"], by_name["scores"], by_name["lifecycles"], by_name["rfm"],
                          by_name["syncs"])


def _parse_time(value, typ: str):
    if isinstance(value, datetime):
        return value.date() if typ == "date" else value.replace(tzinfo=None)
    if isinstance(value, date):
        return value if typ == "date" else datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if typ == "date" else datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return None
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
    return Parser(docs).run()
