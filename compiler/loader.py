"""Load YAML files keeping the position of every node.

Positions live in a side table keyed by the node's path (a tuple of mapping keys and list
indexes), as dbt-semantic-interfaces does, so the data itself stays plain Python values.
Duplicate keys, tabs, unsupported tags and syntax errors become diagnostics instead of exceptions.
Mapping keys are always strings, as written: YAML 1.1's implicit types (`on`, `no`, `1`) do not
apply to keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Diagnostic, SourceLocation

Path_ = tuple  # a path into a document: keys and list indexes


@dataclass
class Doc:
    """One YAML file: its data, and where each node (and each mapping key) starts."""

    file: str
    data: object
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)  # plain scalar text as written, for hints
    broken: bool = False  # unreadable: its definitions are missing, so names it declares are unknown

    def loc(self, path: Path_, *, key: bool = False) -> SourceLocation:
        """Location of the node at `path` (or of its key), falling back to the nearest parent."""
        table = self.key_positions if key else self.positions
        for cut in range(len(path), -1, -1):
            pos = table.get(path[:cut]) or self.positions.get(path[:cut])
            if pos:
                return SourceLocation(self.file, *pos)
        return SourceLocation(self.file, 1, 1)


def _at(file: str, mark, text: str | None = None) -> SourceLocation:
    """1-based position of a PyYAML mark; one past the end of the file becomes the end of its last line."""
    if not mark:
        return SourceLocation(file, 1, 1)
    lines = text.splitlines() if text is not None else None
    if lines is not None and not "".join(lines[mark.line:]).strip() and "".join(lines).strip():
        last = max(i for i, line in enumerate(lines) if line.strip())
        if last < mark.line:
            return SourceLocation(file, last + 1, len(lines[last].rstrip()) + 1)
    return SourceLocation(file, mark.line + 1, mark.column + 1)


def _walk(doc: Doc, node: yaml.Node, path: Path_, loader: yaml.SafeLoader, problems: list[Diagnostic]):
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    plain = _PLAIN_TAGS[type(node)]
    if node.tag != plain and (not isinstance(node, yaml.ScalarNode) or node.tag not in loader.yaml_constructors):
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(Diagnostic("SEG001", f"unsupported YAML tag '{tag}'", _at(doc.file, node.start_mark),
                                   "remove the tag; definitions are plain YAML values"))
        node = type(node)(plain, node.value, node.start_mark, node.end_mark)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, SourceLocation] = {}
        result = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Diagnostic("SEG001", "merge keys ('<<') are not supported",
                                           _at(doc.file, key_node.start_mark), "write the entries out"))
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(
                loader.construct_object(key_node, deep=True))
            here = _at(doc.file, key_node.start_mark)
            if key in seen:
                first = seen[key]
                problems.append(Diagnostic("SEG002", f"duplicate key '{key}'", here, "first defined at " + (
                    f"line {first.line}" if first.line != here.line else f"column {first.col}")))
                continue
            seen[key] = here
            doc.key_positions[path + (key,)] = (here.line, here.col)
            result[key] = _walk(doc, value_node, path + (key,), loader, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(doc, item, path + (i,), loader, problems) for i, item in enumerate(node.value)]
    if not node.style:
        doc.raw[path] = node.value
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:  # looks like a date or number but is not one (2026-13-01): keep the text
        return node.value
    except (KeyError, AttributeError):  # an explicit tag its value does not fit (!!bool maybe, !!timestamp x)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(Diagnostic("SEG001", f"'{node.value}' is not a valid {tag} value", _at(doc.file, node.start_mark),
                                   "remove the tag or fix the value"))
        return node.value


_PLAIN_TAGS = {yaml.ScalarNode: "tag:yaml.org,2002:str", yaml.SequenceNode: "tag:yaml.org,2002:seq",
               yaml.MappingNode: "tag:yaml.org,2002:map"}

# PyYAML's problem texts, said the way a definitions author thinks: (pattern over "problem context",
# message, hint, whether to point at where the construct started rather than where PyYAML gave up).
_YAML_PROBLEMS = (
    (r"expected <block end>", "bad indentation", "line this up with the entries above it", False),
    (r"mapping values are not allowed", "unexpected ':'",
     "check the indentation, or quote a value that contains ': '", False),
    (r"could not find expected ':'", "a mapping entry without ':'", "write 'key: value', or '- item' in a list", True),
    (r"expected ',' or '([\]}])'", "missing ',' or '{0}'", "close the bracket opened at line {line}", False),
    (r"found another document", "more than one YAML document in a file",
     "remove the '---' line; use another file", False),
    (r"end of stream while scanning a quoted", "unterminated quoted string", "close the quote", True),
    (r"unexpected end of stream|found '<stream end>'", "unexpected end of file", "close every bracket you open", False),
    (r"found character '(.)' that cannot start", "'{0}' cannot start a value", "quote the value", False),
    (r"found undefined alias '(.*?)'", "undefined alias '*{0}'", "define the anchor '&{0}' before using it", False),
)


def _yaml_problem(exc: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    problem = str(exc.problem or exc.context or "")
    for pattern, message, hint, at_start in _YAML_PROBLEMS:
        found = re.search(pattern, f"{problem} {exc.context or ''}")
        if found:
            mark = (exc.context_mark if at_start else None) or exc.problem_mark or exc.context_mark
            line = exc.context_mark.line + 1 if exc.context_mark else "?"
            return Diagnostic("SEG001", "invalid YAML: " + message.format(*found.groups()), _at(file, mark, text),
                              hint.format(*found.groups(), line=line))
    return Diagnostic("SEG001", f"invalid YAML: {problem}", _at(file, exc.problem_mark or exc.context_mark, text))


def _tab_problems(text: str, file: str, mark) -> list[Diagnostic]:
    """Every line indented with a tab, or else the one tab PyYAML stopped at."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            where = SourceLocation(file, lineno, indent.index("\t") + 1)
            found.append(Diagnostic("SEG001", "tab character in indentation", where, "YAML indents with spaces only"))
    return found or [Diagnostic("SEG001", "tab character", _at(file, mark), "YAML separates values with spaces only")]


def load_text(text: str, file: str) -> tuple[Doc, list[Diagnostic]]:
    """Parse one YAML text. Returns the document (data None when unparseable) and problems.

    libyaml reads it when present (about 5x faster). PyYAML reads the texts where the two differ:
    those libyaml rejects (PyYAML's error messages are the ones `_YAML_PROBLEMS` explains), those
    with a tab (libyaml accepts one between flow values) and those with an empty value (libyaml
    places it one column later).
    """
    if _LIBYAML is not None and "\t" not in text:
        doc, problems = Doc(file, None), []
        try:
            loader = _LIBYAML(text)
            try:
                root = loader.get_single_node()
                if root is None or not any(_empty(node) for node in _nodes(root)):
                    doc.data = _walk(doc, root, (), loader, problems) if root is not None else None
                    return doc, problems
            finally:
                loader.dispose()
        except (yaml.YAMLError, RecursionError):
            pass
    return _load_with_pyyaml(text, file)


_LIBYAML = getattr(yaml, "CSafeLoader", None)


def _nodes(root: yaml.Node):
    """Every node under `root` once (aliases share nodes, and may form a cycle)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == ""


def _load_with_pyyaml(text: str, file: str) -> tuple[Doc, list[Diagnostic]]:
    doc = Doc(file, None)
    problems: list[Diagnostic] = []
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = Diagnostic("SEG001", f"invalid YAML: character U+{char:04X} is not allowed",
                             SourceLocation(file, line, col), "remove it (a control character pasted by accident?)")
        return Doc(file, None, broken=True), [problem]
    try:
        root = loader.get_single_node()
        if root is not None:
            doc.data = _walk(doc, root, (), loader, problems)
    except RecursionError:
        doc.data, doc.broken = None, True
        problems.append(Diagnostic("SEG001", "invalid YAML: nested too deeply, or an alias refers to itself",
                                       SourceLocation(file, 1, 1)))
    except yaml.MarkedYAMLError as exc:
        doc.data, doc.broken = None, True
        if "'\\t'" in str(exc.problem):
            problems.extend(_tab_problems(text, file, exc.problem_mark))
        else:
            problems.append(_yaml_problem(exc, file, text))
    finally:
        loader.dispose()
    return doc, problems


def definition_files(root: Path) -> list[Path]:
    """All *.yml / *.yaml files under `root`, recursively, in a stable order."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_file(path: Path, name: str) -> tuple[Doc, list[Diagnostic]]:
    """One definitions file; a file that cannot be read or decoded is a diagnostic, not a crash."""
    try:
        data = path.read_bytes()
        return load_text(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = Diagnostic("SEG001", "file is not valid UTF-8", SourceLocation(name, line, col),
                             "save it with UTF-8 encoding")
    except OSError as exc:
        problem = Diagnostic("SEG001", f"cannot read file: {exc.strerror}", SourceLocation(name, 1, 1))
    return Doc(name, None, broken=True), [problem]


def load_dir(root: Path, relative_to: Path) -> tuple[list[Doc], list[Diagnostic]]:
    """Every definitions file under `root` (broken ones too, marked, with data None) and the problems."""
    docs, problems = [], []
    for path in definition_files(root):
        name = str(path.relative_to(relative_to)) if path.is_relative_to(relative_to) else str(path)
        doc, found = load_file(path, name)
        problems.extend(found)
        docs.append(doc)
    return docs, problems
