"""The package's layers, as docs/architecture.md draws them: imports point down only, and no module imports
itself back through others (no cycle). A module's imports are read from its source, wherever they are."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bva_excel"
# Lowest first: a module may import from its own layer or any below it.
LAYERS = [("bva_excel", "bva_excel.errors", "bva_excel.layout", "bva_excel.tracking", "bva_excel.words"),
          ("bva_excel.model",), ("bva_excel.store",),
          ("bva_excel.excel", "bva_excel.render"), ("bva_excel.app",), ("bva_excel.cli", "bva_excel.__main__")]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    best = None
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "bva_excel" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[1]:
                    best = (number, len(prefix))
    return best[0] if best else -1


def imports() -> dict[str, set[str]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bva_excel"):
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names
                             if (PACKAGE.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists())
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("bva_excel"))
        found[module] = names - {module}
    return found


def test_every_module_belongs_to_a_layer():
    assert [m for m in imports() if layer(m) < 0] == []


def test_imports_point_down():
    upward = sorted(f"{module} -> {target}" for module, targets in imports().items() for target in targets
                    if layer(target) > layer(module))
    assert upward == []


def test_no_module_imports_itself_back():
    graph = imports()
    cycles = []

    def visit(module, path):
        for target in sorted(graph.get(module, ())):
            if target == path[0]:
                cycles.append(" -> ".join(path + [target]))
            elif target not in path and target in graph and len(path) < 8:
                visit(target, path + [target])

    for module in graph:
        visit(module, [module])
    assert sorted(set(cycles))[:10] == []
