"""The layering the folders show: reading → evaluating → shapes → checks → confirming → reporting → front ends. Every import inside the
package counts, also those inside functions (imported lazily for speed, they are dependencies all the same)."""

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "torchshape_lint"
# A stage may import the stages listed for it (and the top-level modules), never a later one.
ALLOWED = {
    "source": {"source"},
    "shapes": {"shapes"},
    "evaluate": {"evaluate", "source", "shapes"},
    "checks": {"checks", "evaluate", "source", "shapes"},
    "confirm": {"confirm", "checks", "evaluate", "source", "shapes"},
    "report": {"report", "checks", "evaluate", "source", "shapes"},
    "frontends": {"frontends", "report", "confirm", "checks", "evaluate", "source", "shapes"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict:
    """Each module of the package → the package's modules it imports (`from a import b` counts a.b if a module)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            found.update(target for target in targets if target in modules and target != name)
        graph[name] = found
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def test_no_import_cycles():
    assert cycles(imports()) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_stage_imports_only_earlier_stages():
    wrong = [(module, target) for module, targets in imports().items() for target in targets
             if stage(module) in ALLOWED and stage(target) is not None and stage(target) not in ALLOWED[stage(module)]]
    assert wrong == []
