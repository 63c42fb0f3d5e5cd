"""The plan for reading a folder's workbooks, and reading them while the run is still starting up.

A run spends its first ~0.3 s importing pandas, the rules and the writers on one core while the
other idles. Started right after the command line is parsed, a forked worker reads the workbooks
meanwhile; load_folder then reads those the worker has not started and collects the rest. This
module and everything reading one workbook needs (sheets, reading, files, workbook, recognise,
inbox, problems, tables, schema, coerce) load without pandas, so the worker starts at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kis_batch.ingest.files import Limits, discover
from kis_batch.ingest.sheets import FileResult, ingest_file
from kis_batch.parallel import PARALLEL_FROM_BYTES, StartedJobs, fork_context
from kis_batch.settings import Settings

# Told what is happening on long runs; per-file messages start with READING (a terminal shows them
# on one updating line, a log skips them).
Progress = Callable[[str], None]
READING = "读取 "


def limits_of(base: Settings) -> Limits:
    """The sizes past which a workbook is not read, from the settings."""
    return Limits(int(base.max_file_mb * 2**20), int(base.max_unzipped_mb * 2**20), base.max_cells)


@dataclass(frozen=True)
class ReadingPlan:
    """The workbooks to read, in the order they are read: largest first, so two processes finish
    together instead of one reading the last big log alone."""

    folder: Path
    wanted: tuple[Path, ...]
    names: tuple[str, ...]
    order: tuple[int, ...]
    limits: Limits
    today: dt.date
    shared: bool  # large enough for two processes to share the reading

    @classmethod
    def of(cls, folder: Path, wanted: list[Path], limits: Limits, today: dt.date) -> ReadingPlan:
        sizes = [path.stat().st_size for path in wanted]
        return cls(folder, tuple(wanted), tuple(path.relative_to(folder).as_posix() for path in wanted),
                   tuple(sorted(range(len(wanted)), key=lambda i: -sizes[i])), limits, today,
                   sum(sizes) >= PARALLEL_FROM_BYTES)

    def jobs(self) -> list[Callable[[], FileResult]]:
        """One job per workbook, in reading order."""
        return [partial(ingest_file, self.wanted[i], self.names[i], self.limits, self.today) for i in self.order]


@dataclass(frozen=True)
class EarlyRead:
    """Workbooks a worker is reading ahead of load_folder, for the plan it was started with."""

    plan: ReadingPlan
    jobs: StartedJobs[FileResult]

    def taken_for(self, plan: ReadingPlan) -> StartedJobs[FileResult] | None:
        """The started reading if it is this plan's (the same files, sizes, limits and day); else it
        is stopped and None says to read as usual."""
        if plan == self.plan:
            return self.jobs
        self.jobs.cancel()
        return None


def start_early_read(folder: Path, today: dt.date, out_root: Path | None) -> EarlyRead | None:
    """Start reading the folder in a forked worker while this process is still importing the rules
    and the writers (the reading would be shared with a worker anyway); load_folder(early=…) takes
    it over. None where the reading would not be shared (Windows, one core, a small folder) or the
    folder cannot be listed: load_folder then reads as usual and reports what is wrong."""
    context = fork_context()
    if context is None:
        return None
    try:
        wanted, _ = discover(folder, out_root)
        plan = ReadingPlan.of(folder, wanted, limits_of(Settings()), today)
        if not plan.shared or len(wanted) < 2:
            return None
        return EarlyRead(plan, StartedJobs(plan.jobs(), context))
    except OSError:
        return None
