"""Imports flow one way: the typed tables and the inbox below everything, the reader (ingest) above
them, the rules above the reader's product but never the reader itself. Read from the source, every
import counted, those inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import kis_batch

PACKAGE = Path(kis_batch.__file__).parent
# The modules every layer may use: the schema, cell conversion, settings, problems, the tables.
BASE = {"kis_batch.schema", "kis_batch.coerce", "kis_batch.settings", "kis_batch.problems", "kis_batch.tables",
        "kis_batch.inbox"}


def _imports(path: Path) -> set[str]:
    """The kis_batch modules a source file imports (a `from kis_batch import x` counts as kis_batch.x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "kis_batch":
                found.update(f"kis_batch.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("kis_batch.")}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_the_reader_imports_nothing_of_the_rules_the_writers_or_the_runs() -> None:
    above = ("kis_batch.rules", "kis_batch.render", "kis_batch.history", "kis_batch.pipeline", "kis_batch.close")
    wrong = {_module(p): sorted(m for m in _imports(p) if m.startswith(above)) for p in _sources("ingest")}
    assert {module: names for module, names in wrong.items() if names} == {}
    assert len(wrong) >= 5


def test_the_rules_do_not_import_the_reader() -> None:
    # rules/summary still takes the Inbox through the reader's face.
    wrong = {_module(p): sorted(m for m in _imports(p) if m.startswith("kis_batch.ingest"))
             for p in _sources("rules") if p.name != "summary.py"}
    assert {module: names for module, names in wrong.items() if names} == {}
    assert "kis_batch.inbox" in _imports(PACKAGE / "rules" / "reconcile.py")


def test_the_tables_and_the_inbox_import_only_the_base_modules() -> None:
    for name in ("tables.py", "inbox.py"):
        assert _imports(PACKAGE / name) <= BASE, name


# The house's floors, lowest first (docs/rules.md § Architecture): a module may import its own floor
# and the floors below it, never one above. The base holds what every floor shares.
FLOORS = (
    ("base", ("kis_batch.schema", "kis_batch.coerce", "kis_batch.settings", "kis_batch.problems", "kis_batch.tables",
              "kis_batch.inbox", "kis_batch.calendar", "kis_batch.geo", "kis_batch.assignment", "kis_batch.outputs",
              "kis_batch.history", "kis_batch.identities", "kis_batch.parallel", "kis_batch.lock", "kis_batch")),
    ("reader", ("kis_batch.ingest",)),
    ("rules", ("kis_batch.rules",)),
    ("memory", ("kis_batch.ledger",)),
    ("writers", ("kis_batch.render",)),
    ("orchestration", ("kis_batch.steps", "kis_batch.pipeline", "kis_batch.close", "kis_batch.delivery",
                       "kis_batch.demo", "kis_batch.cli", "kis_batch.__main__")),
)


def _floor(module: str) -> int:
    """The floor a module stands on: the longest prefix any floor names (the package's face, its
    version only, names itself alone)."""
    best = max(((len(prefix), number) for number, (_, prefixes) in enumerate(FLOORS) for prefix in prefixes
                if module == prefix or (prefix != "kis_batch" and module.startswith(f"{prefix}."))), default=None)
    assert best is not None, f"{module} stands on no floor: add it to FLOORS"
    return best[1]


def _graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, resolved to real modules."""
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        targets = set()
        for name in _imports(path):
            while name not in paths and "." in name:
                name = name.rsplit(".", 1)[0]
            if name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def test_no_module_imports_a_floor_above_its_own() -> None:
    upward = sorted(f"{module} → {target}" for module, targets in _graph().items() for target in targets
                    if _floor(target) > _floor(module))
    assert upward == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = _graph()
    # A package's face importing its own modules is how a package shows itself; a module importing the
    # face of its own package back would close a circle.
    state: dict[str, int] = {}
    circles: list[str] = []

    def visit(module: str, path: tuple[str, ...]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(" → ".join((*path[path.index(target):], target)))
            elif target not in state:
                visit(target, (*path, target))
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, (module,))
    assert circles == []
