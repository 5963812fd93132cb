"""The dependency graph between definitions of every kind: cycle detection and build order."""

from __future__ import annotations

from .errors import Diagnostic, SourceLocation

Key = tuple  # (kind, name)


def check_cycles(refs: list[tuple[Key, Key, SourceLocation]]) -> list[Diagnostic]:
    """One diagnostic per cycle, printing every link with its position."""
    edges: dict[Key, list[tuple[Key, SourceLocation]]] = {}
    for src, dst, loc in refs:
        edges.setdefault(src, []).append((dst, loc))
    state: dict[Key, int] = {}  # 1 = on the stack, 2 = done
    stack: list[tuple[Key, SourceLocation | None]] = []
    found: list[Diagnostic] = []
    seen_cycles: set[frozenset] = set()

    def visit(node: Key, via: SourceLocation | None) -> None:
        state[node] = 1
        stack.append((node, via))
        for dst, loc in sorted(edges.get(node, []), key=lambda e: (e[0], e[1])):
            if state.get(dst) == 1:
                start = next(i for i, (n, _) in enumerate(stack) if n == dst)
                links = stack[start:] + [(dst, loc)]
                members = frozenset(n for n, _ in links)
                if members not in seen_cycles:
                    seen_cycles.add(members)
                    path = " -> ".join(f"{k} '{n}'" for (k, n), _ in links)
                    where = "; ".join(f"{k} '{n}' at {at}" for (k, n), at in links[1:])
                    found.append(Diagnostic("SEG109", f"reference cycle: {path}", loc, f"references: {where}"))
            elif state.get(dst) is None:
                visit(dst, loc)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if state.get(node) is None:
            visit(node, None)
    return found


def layers(deps: dict[Key, set[Key]]) -> list[list[Key]]:
    """Nodes grouped so that each depends only on earlier groups (the graph is acyclic)."""
    remaining = {k: set(v) & deps.keys() for k, v in deps.items()}
    out: list[list[Key]] = []
    done: set[Key] = set()
    while remaining:
        ready = sorted(k for k, v in remaining.items() if v <= done)
        out.append(ready)
        done.update(ready)
        for k in ready:
            del remaining[k]
    return out
