"""Load YAML files keeping the position of every node.

Positions live in a side table keyed by the node's path (a tuple of mapping keys and list
indexes), as dbt-semantic-interfaces does, so the data itself stays plain Python values.
Duplicate keys, tabs and syntax errors become diagnostics instead of exceptions.
"""

from __future__ import annotations

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
    raw: dict[Path_, str] = field(default_factory=dict)  # scalar text as written, for hints

    def loc(self, path: Path_, *, key: bool = False) -> SourceLocation:
        """Location of the node at `path` (or of its key), falling back to the nearest parent."""
        table = self.key_positions if key else self.positions
        for cut in range(len(path), -1, -1):
            pos = table.get(path[:cut]) or self.positions.get(path[:cut])
            if pos:
                return SourceLocation(self.file, *pos)
        return SourceLocation(self.file, 1, 1)


class _Loader(yaml.SafeLoader):
    """SafeLoader that records node marks and rejects duplicate keys."""


def _walk(doc: Doc, node: yaml.Node, path: Path_, loader: _Loader, problems: list[Diagnostic]):
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                key = str(key)
            here = SourceLocation(doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                problems.append(Diagnostic(
                    "SEG002", f"duplicate key '{key}'", here,
                    f"first defined at line {seen[key].line}"))
                continue
            seen[key] = here
            doc.key_positions[path + (key,)] = (here.line, here.col)
            result[key] = _walk(doc, value_node, path + (key,), loader, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(doc, item, path + (i,), loader, problems) for i, item in enumerate(node.value)]
    if not node.style:
        doc.raw[path] = node.value
    return loader.construct_object(node, deep=True)


def load_text(text: str, file: str) -> tuple[Doc, list[Diagnostic]]:
    """Parse one YAML text. Returns the document (data None when unparseable) and problems."""
    doc = Doc(file, None)
    problems: list[Diagnostic] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            problems.append(Diagnostic(
                "SEG001", "tab character in indentation", SourceLocation(file, lineno, len(line) - len(stripped) + 1),
                "YAML indents with spaces only"))
    if problems:
        return doc, problems
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            doc.data = _walk(doc, root, (), loader, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid YAML: {exc.problem or exc.context}"
        problems.append(Diagnostic("SEG001", message, SourceLocation(file, line, col), _yaml_hint(exc)))
    finally:
        loader.dispose()
    return doc, problems


def _yaml_hint(exc: yaml.MarkedYAMLError) -> str | None:
    problem = str(exc.problem or "")
    if "mapping values are not allowed" in problem:
        return "check the indentation, or quote a value that contains ': '"
    if "found character '\\t'" in problem:
        return "YAML indents with spaces only"
    if "expected <block end>" in problem:
        return "check the indentation of this line"
    return None


def definition_files(root: Path) -> list[Path]:
    """All *.yml / *.yaml files under `root`, recursively, in a stable order."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_dir(root: Path, relative_to: Path) -> tuple[list[Doc], list[Diagnostic]]:
    docs, problems = [], []
    for path in definition_files(root):
        name = str(path.relative_to(relative_to)) if path.is_relative_to(relative_to) else str(path)
        doc, found = load_text(path.read_text(encoding="utf-8"), name)
        problems.extend(found)
        if doc.data is not None:
            docs.append(doc)
    return docs, problems
