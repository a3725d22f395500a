"""The package's layers: imports go down (language <- engine <- planning <- cli, serve,
changes), never up, and no two modules import each other, directly or through others."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "atoconf"
# a module may import its own layer and those below it; the package root is the API
LAYERS = {"language": 0, "engine": 1, "planning": 2, "changes": 3, "cli": 4, "serve": 4}


def _imports() -> dict[str, set[str]]:
    """Module -> the atoconf modules it imports anywhere (TYPE_CHECKING blocks aside)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        modules = {t for t in targets if t.startswith("atoconf.")}
        found[name] = {m if m in _MODULES else m.rsplit(".", 1)[0] for m in modules}
    return found


_MODULES = {
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in _imports().items()
        for target in targets
        if (mine := _layer(module)) is not None
        and ((theirs := _layer(target)) is None or theirs > mine)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    graph = {m: {t for t in ts if t in _MODULES and t != m} for m, ts in _imports().items()}
    # a package's __init__ importing its own modules is how it exports them
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
