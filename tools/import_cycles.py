"""Fail when any of mlgate's modules import each other in a cycle, imports inside functions too.

import-linter's contracts (``lint-imports``) keep the layers and forbid cycles between sibling
packages, but a cycle between a package and one of its own submodules, or between two modules
through a function-level import, passes them. This builds the whole import graph with grimp
(which import-linter uses) and looks for strongly connected components of more than one module.

    python tools/import_cycles.py [PACKAGE]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def main(argv: list[str]) -> int:
    import grimp  # the lint environment's (import-linter's); the tests import cycles() alone

    package = argv[0] if argv else "mlgate"
    # Imports under TYPE_CHECKING never run, so they cannot form a cycle at import time.
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    found = cycles(edges)
    for component in found:
        print(f"import cycle of {len(component)} modules: {', '.join(component)}")
    if found:
        return 1
    print(f"no import cycles among {len(edges)} modules of {package}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
