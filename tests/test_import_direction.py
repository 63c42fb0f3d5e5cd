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
