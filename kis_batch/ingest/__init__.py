"""Reading the evening folder: every workbook in, typed tables and problems out.

The package's face; the reading itself is in folder.py (the folder), sheets.py (one workbook),
reading.py (cells to typed rows), checks.py and references.py (rows against each other),
settings_sheet.py (规则设置) and projects.py (实施项目 and 验收单).
"""

from kis_batch.inbox import Inbox
from kis_batch.ingest.folder import READING, Progress, load_folder

__all__ = ["READING", "Inbox", "Progress", "load_folder"]
