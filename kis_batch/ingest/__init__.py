"""Reading the evening folder: every workbook in, typed tables and problems out.

The package's face; the reading itself is in folder.py (the folder), sheets.py (one workbook),
reading.py (cells to typed rows), checks.py and references.py (rows against each other),
settings_sheet.py (规则设置) and projects.py (实施项目 and 验收单). early.py plans the reading and
starts it while a run is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kis_batch.inbox import Inbox
from kis_batch.ingest.early import READING, Progress

if TYPE_CHECKING:
    from kis_batch.ingest.folder import load_folder

__all__ = ["READING", "Inbox", "Progress", "load_folder"]


def __getattr__(name: str) -> object:
    """load_folder loads on first use: its checks across files need pandas, and the early read
    (early.py) imports this package's one-workbook reading before pandas is loaded."""
    if name == "load_folder":
        from kis_batch.ingest.folder import load_folder

        return load_folder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
