"""Diagnostics: every problem carries the file, line and column of the YAML node it is about."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceLocation:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: SourceLocation
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}{hint}"

    def excerpt(self, root: Path | None = None) -> str:
        """The diagnostic line followed by the offending source line and a caret, like a compiler."""
        path = Path(self.location.file)
        if root is not None and not path.is_absolute():
            path = root / path
        try:
            line = path.read_text(encoding="utf-8").splitlines()[self.location.line - 1]
        except (OSError, IndexError, UnicodeDecodeError):
            return str(self)
        gutter = f"{self.location.line:>5} | "
        caret = " " * (len(gutter) + self.location.col - 1) + "^"
        return f"{self}\n{gutter}{line.replace(chr(9), '→')}\n{caret}"  # a tab shows, one column wide

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(data.pop("location"))
        return data


class CompileError(Exception):
    """Raised with every diagnostic collected, never just the first."""

    def __init__(self, diagnostics: list[Diagnostic]):
        unique = {(d.location, d.code, d.message, d.hint): d for d in diagnostics}  # a YAML alias repeats a node
        self.diagnostics = sorted(unique.values(), key=lambda d: (d.location, d.code, d.message))
        super().__init__("\n".join(map(str, self.diagnostics)))


def closest(name, candidates) -> str | None:
    """The candidate closest to `name` when one is close enough to be a typo of it."""
    match = difflib.get_close_matches(str(name), sorted(map(str, candidates)), n=1, cutoff=0.7)
    return match[0] if match else None


def did_you_mean(name, candidates) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    match = closest(name, candidates)
    return f"did you mean '{match}'?" if match else None


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False)
