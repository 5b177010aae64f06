"""The package's shape: imports run one way (docs/ARCHITECTURE.md), modules stay short."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "planner"

# Lower layers never import higher ones. Same-layer imports are allowed as long as there is no
# cycle. Keys are dotted module names relative to planner; the longest matching prefix wins.
LAYERS: dict[str, int] = {
    "_version": 0,
    "errors": 0,
    "schema": 0,
    "_files": 0,
    "_geo": 0,
    "standards": 1,
    "osm": 1,
    "layers": 2,
    "households": 2,
    "osm.features": 3,
    "osm.pois": 3,
    "osm.buildings": 3,
    "pois": 3,
    "guess": 3,
    "network": 4,
    "snapping": 5,
    "engine": 6,
    "floor_area": 7,
    "isochrones": 7,
    "communities": 7,
    "checks": 8,
    "compare": 8,
    "siting": 9,
    "maps": 10,
    "report": 11,
    "outputs": 12,
    "workbook": 12,
    "distributed": 13,
    "cli": 14,
    "__init__": 15,
}
# The one call upward (as GeoDataFrame.explore): CheckResult.map() draws the map.
ALLOWED_UPWARD = {("checks", "maps")}
MAX_LINES = 900


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """planner modules imported anywhere in a module (top level and inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("planner.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(["planner", *base, *(node.module or "").split(".")]).rstrip(".")
            else:
                module = node.module or ""
            if module == "planner":
                found |= {f"planner.{a.name}" for a in node.names}
            elif module.startswith("planner."):
                found.add(module)
                found |= {f"{module}.{a.name}" for a in node.names}
    known = _modules()
    return {m.removeprefix("planner.") for m in found} & set(known) - {name}


def _layer(name: str) -> int:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise AssertionError(f"planner.{name} has no layer in tests/test_architecture.py LAYERS")


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in _modules().items()}


def test_every_module_has_a_layer() -> None:
    for name in _modules():
        _layer(name)


def test_imports_run_one_way() -> None:
    wrong = []
    for name, targets in _graph().items():
        for target in targets:
            top = (name.split(".")[0], target.split(".")[0])
            if _layer(target) > _layer(name) and top not in ALLOWED_UPWARD:
                wrong.append(f"planner.{name} imports planner.{target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the import graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):  # a package's __init__ importing its own parts
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"p": {"p.x"}, "p.x": set()}) is None


def test_no_import_cycles() -> None:
    graph = _graph()
    for a, b in ALLOWED_UPWARD:  # the one allowed upward call is lazy; it closes no cycle
        for name in graph:
            if name.split(".")[0] == a:
                graph[name] = {t for t in graph[name] if t.split(".")[0] != b}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(f"planner.{c}" for c in cycle or [])


def test_no_module_is_too_long() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
