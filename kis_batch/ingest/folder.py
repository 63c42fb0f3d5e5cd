"""Reading the evening folder: every workbook in, typed and checked, as an Inbox (kis_batch/inbox.py).

On a large folder two processes share the reading; the checks across files run once all is read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kis_batch.inbox import Collector, Inbox, InputFile
from kis_batch.ingest.checks import check_dates, check_rows, cross_check
from kis_batch.ingest.early import READING, EarlyRead, Progress, ReadingPlan, limits_of
from kis_batch.ingest.files import DATA_SUFFIX_ADVICE, discover, sha256_of
from kis_batch.ingest.reading import TypedRows, share_equal_values
from kis_batch.ingest.settings_sheet import settings_from
from kis_batch.ingest.sheets import FileResult
from kis_batch.parallel import run_jobs
from kis_batch.problems import Code, Severity
from kis_batch.schema import TEMPLATES
from kis_batch.settings import Settings
from kis_batch.tables import FILE


def _ingest_all(plan: ReadingPlan, progress: Progress | None, early: EarlyRead | None) -> list[FileResult]:
    """Every workbook, in order; on a large folder two processes share the work where the OS can
    fork, the worker started early when the run did (early.py)."""
    read = 0

    def done(job: int) -> None:
        nonlocal read
        read += 1
        if progress:
            progress(f"{READING}{read}/{len(plan.wanted)} {plan.names[plan.order[job]]}")

    started = early.taken_for(plan) if early else None
    results = started.finish(done) if started else run_jobs(plan.jobs(), parallel=plan.shared, done=done)
    by_file = dict(zip(plan.order, results, strict=True))
    return [by_file[i] for i in range(len(plan.wanted))]


def load_folder(folder: Path, today: dt.date, base: Settings | None = None,
                progress: Progress | None = None, out_root: Path | None = None,
                known_tickets: frozenset[str] = frozenset(),
                former_names: Mapping[str, set[str]] | None = None, early: EarlyRead | None = None) -> Inbox:
    """Read, type and check every workbook in the folder; never raises for bad input.

    progress, if given, is told each file as it is read (long runs show where they are).
    out_root, the outputs' folder, is not read when it lies inside the folder. The checks that need
    the rules' answers (投诉编号, the acceptance rule) follow in rules/reconcile.py. known_tickets
    are the 工单号 of call rows carried from closed months (docs/rules.md § A month's life).
    former_names (姓名 -> 工号, from the history) lets rows that still use a renamed person's old name
    resolve. early, the reading a run started while it was loading (early.py), is taken over where
    it reads the same files; otherwise it is stopped and the folder read here.
    """
    base = base or Settings()
    out = Collector()
    wanted, others = discover(folder, out_root)
    files: list[InputFile] = []
    raw = {t.key: TypedRows.empty(t) for t in TEMPLATES}
    forms = []
    for result in _ingest_all(ReadingPlan.of(folder, wanted, limits_of(base), today), progress, early):
        files.append(result.record)
        forms += result.acceptance_forms
        out.problems.extend(result.problems)
        out.layouts.update(result.layouts)
        for key, typed in result.rows.items():
            raw[key].extend(typed)
    share_equal_values(raw, TEMPLATES)
    for path in others:
        name = path.relative_to(folder).as_posix()
        files.append(InputFile(name, sha256_of(path), path.stat().st_size, "skipped",
                               message="不是表格文件"))
        advice = DATA_SUFFIX_ADVICE.get(path.suffix.lower())
        if advice:
            out.add(Code.UNREADABLE, Severity.ERROR, f"整个文件未读取：{advice}", file=name)
        else:
            out.add(Code.UNREADABLE, Severity.WARNING, "不是表格文件（只读取 .xlsx .xlsm .xls .ods），已跳过", file=name)
    rows = {key: typed.rows() for key, typed in raw.items()}
    check_dates(raw, today, out)
    for template in TEMPLATES:
        check_rows(template, rows[template.key], out)
    settings = settings_from(rows["settings"], base, today, out)
    tables, refused_customers, pins = cross_check(rows, today, out, known_tickets, former_names)
    _count_rows(files, raw, tables)
    return Inbox(folder, today, settings, tables, out.problems, files, out.layouts, refused_customers, pins, forms)


def _count_rows(files: list[InputFile], raw: dict[str, TypedRows],
                tables: dict[str, pd.DataFrame]) -> None:
    """Per file: rows read, accepted (used once), repeated (an identical copy), rejected. Every
    rejection happens before the tables are built, so a table row is an accepted row and an ok row
    outside the tables is a repeat."""
    read: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for typed in raw.values():
        read.update(typed.columns[FILE])
        rejected.update(name for name, ok in zip(typed.columns[FILE], typed.ok, strict=True) if not ok)
    accepted: Counter[str] = Counter()
    for frame in tables.values():
        accepted.update(frame[FILE].tolist())
    for record in files:
        name = record.path
        record.rows_read += read[name]
        record.rows_rejected += rejected[name]
        record.rows_accepted += accepted[name]
        record.rows_repeated += read[name] - rejected[name] - accepted[name]
