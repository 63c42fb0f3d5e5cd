"""Saving a workbook: safe xlsxwriter options and fixed properties (reruns give identical bytes),
written beside its target and moved into place only when complete, so a reader never meets half a
file and a file held open in Excel on Windows is kept under another name instead of failing the run."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

from kis_batch.outputs import REPORT_MARK, Output
from kis_batch.render.style import FIXED_CREATED, Book


def open_book(path: Path, report_only: bool = False) -> Book:
    """A workbook with safe options and fixed properties, so reruns give identical bytes."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
            # Build in memory: no temp files per worksheet, 2-3x faster for the many small workbooks
            # (a large one is saved through temporary files instead: see atomic_book).
            "in_memory": True,
        },
    )
    workbook.set_properties({"created": FIXED_CREATED, "author": "kis-batch"})
    workbook.set_calc_mode("auto")
    if report_only:
        workbook.set_custom_property(REPORT_MARK, "1")
    return Book(workbook, report_only=report_only)


REPLACE_TRIES = 5
# Up to this many table cells a workbook is zipped from memory; a larger one through temporary files.
IN_MEMORY_UP_TO_CELLS = 100_000


REPLACE_PAUSE_S = 0.4


def replace_file(temporary: Path, target: Path) -> Path:
    """Move a finished file over its target atomically; if the target is held open (Excel on
    Windows), retry, then keep it under another name and return that name."""
    for attempt in range(REPLACE_TRIES):
        try:
            os.replace(temporary, target)
            return target
        except PermissionError:
            if attempt + 1 < REPLACE_TRIES:
                time.sleep(REPLACE_PAUSE_S)
    for number in range(1, 100):
        alternative = target.with_name(f"{target.stem}({number}){target.suffix}")
        try:
            os.replace(temporary, alternative)
            return alternative
        except PermissionError:
            continue
    raise PermissionError(f"无法写入 {target}：文件被占用")


def temporary_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_book(target: Path, written: list[Path], *, report_only: bool = False) -> Iterator[Book]:
    """Write a workbook beside its target and move it into place only when complete.

    The final path (the target, or another name if the target was locked) is appended to written.
    report_only marks a workbook that must not be read back as input (see outputs.REPORT_MARK);
    a declared output's workbook is opened with output_book, which decides it from the declaration.
    """
    temporary = temporary_path(target)
    book = open_book(temporary, report_only)
    try:
        yield book
        # A large workbook's sheets are saved through temporary files rather than held as text in
        # memory while they are zipped: as fast, and 120 MB less for the HQ month's 派工单 overview.
        book.workbook.in_memory = book.cells <= IN_MEMORY_UP_TO_CELLS
        book.workbook.close()
        _let_go(book.workbook)
    except BaseException:
        with contextlib.suppress(Exception):
            book.workbook.close()
        temporary.unlink(missing_ok=True)
        raise
    written.append(replace_file(temporary, target))


def _let_go(workbook: xlsxwriter.Workbook) -> None:
    """Empty a saved workbook's sheets: each holds a method of its workbook, so a workbook and its
    cells are a reference cycle only the cycle collector frees, walking every cell first (a quarter
    of a second for the HQ month's 派工单 overview). Emptied, they are freed as soon as the writer
    lets go of them; nothing reads a sheet once its workbook is saved."""
    for sheet in workbook.worksheets():
        vars(sheet).clear()


def output_book(folder: Path, output: Output, when: dt.date | str, written: list[Path],
                person: str | None = None) -> contextlib.AbstractContextManager[Book]:
    """A declared output's workbook (kis_batch/outputs.py), named and marked as its declaration says."""
    return atomic_book(folder / output.file_name(when, person), written, report_only=output.report_only)
