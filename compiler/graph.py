"""The dependency graph between definitions of every kind: cycle detection and build order."""

from __future__ import annotations

from .errors import Diagnostic, SourceLocation

Key = tuple  # (kind, name)


def check_cycles(refs: list[tuple[Key, Key, SourceLocation]]) -> list[Diagnostic]:
    """One diagnostic per cycle, at the reference closing it, naming every link with its position."""
    edges: dict[Key, list[tuple[Key, SourceLocation]]] = {}
    for src, dst, loc in refs:
        edges.setdefault(src, []).append((dst, loc))
    state: dict[Key, int] = {}  # 1 = on the current path, 2 = done
    found: list[Diagnostic] = []
    seen_cycles: set[frozenset] = set()
    for root in sorted(edges):
        if root in state:
            continue
        state[root] = 1
        path: list[tuple[Key, SourceLocation | None]] = [(root, None)]  # each node with the reference to it
        todo = [iter(sorted(edges[root]))]
        while todo:  # depth-first, without recursion: chains of definitions can be long
            step = next(todo[-1], None)
            if step is None:
                state[path.pop()[0]] = 2
                todo.pop()
            elif state.get(step[0]) == 1:
                start = next(i for i, (n, _) in enumerate(path) if n == step[0])
                links = path[start:] + [step]
                members = frozenset(n for n, _ in links)
                if members not in seen_cycles:
                    seen_cycles.add(members)
                    names = " -> ".join(f"{k} '{n}'" for (k, n), _ in links)
                    where = ", ".join(f"{k} '{n}' at {at}" for (k, n), at in links[1:])
                    found.append(Diagnostic("SEG109", f"reference cycle: {names}", step[1],
                                            f"break one of the references: {where}"))
            elif step[0] not in state:
                state[step[0]] = 1
                path.append(step)
                todo.append(iter(sorted(edges.get(step[0], []))))
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
