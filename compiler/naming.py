"""The dbt names segc generates for each definition, in one place: emit writes them, and validation
refuses two definitions that would generate the same one (sync 'x' writes sync_x_changes, so a sync
named 'x_changes' cannot)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .errors import Diagnostic, SourceLocation

# A definition's rule tests (tests/rules/assert_<name>.sql): one per check, the first one bare.
RULE_CHECKS = {"segment": ("",), "score": ("", "bounds_and_grades"), "lifecycle": ("",),
               "rfm": ("", "scores_in_range")}


def rule_test(kind: str, name: str, check: str = "") -> str:
    return f"{kind}_{name}" + (f"_{check}" if check else "")


SYNC_CHANGE_COLUMNS = ("change", "as_of")  # what a sync's change table adds to its identifier and fields


def sync_models(name: str) -> tuple[str, str]:
    """A sync's members table and its change table."""
    return f"sync_{name}", f"sync_{name}_changes"


def example_test(segment: str, example: str) -> str:
    """The dbt unit test of a segment's example."""
    return f"example__{segment}__{example}"


def _generated(kind: str, definition) -> Iterator[tuple[str, str]]:
    """(generated name, what generates it) for one definition."""
    if kind == "sync":
        yield from ((model, f"sync '{definition.name}'") for model in sync_models(definition.name))
    if kind in RULE_CHECKS:
        yield from ((rule_test(kind, definition.name, c), f"{kind} '{definition.name}'") for c in RULE_CHECKS[kind])
    if kind == "segment":
        yield from ((example_test(definition.name, e.name), f"example '{e.name}' of segment '{definition.name}'")
                    for e in definition.examples)


def collisions(definitions: Iterable[tuple[str, object]]) -> list[Diagnostic]:
    """SEG009 for every generated name that a second definition would generate again."""
    first: dict[str, tuple[str, SourceLocation]] = {}
    found = []
    for kind, definition in definitions:
        for name, what in _generated(kind, definition):
            if name not in first:
                first[name] = (what, definition.location)
                continue
            other, where = first[name]
            found.append(Diagnostic("SEG009", f"{what} would generate '{name}', as {other} does",
                                    definition.location, f"first at {where}; rename one of them"))
    return found
