"""Outputs people can trust (docs/rules.md § Outputs): atomic, one run at a time, identical on rerun,
never silently truncated."""

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from kis_batch import pipeline
from kis_batch.lock import RunLocked, run_lock
from kis_batch.outputs import PROJECTS_OUTPUT
from kis_batch.problems import Code, Severity
from kis_batch.render import report as run_report
from kis_batch.render import saving, style
from kis_batch.render.columns import Col
from kis_batch.render.saving import atomic_book
from kis_batch.render.style import OutputTooLarge, write_table
from tests.builders import basic_department, write_workbook

TODAY = dt.date(2026, 11, 27)
CALLS = ("工单号", "来电时间", "客户编号", "问题描述", "处理方式", "问题类别")  # the last left blank


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "calls.xlsx", {"热线记录": (CALLS, [
        ("T1", "2026-11-27 09:00", "C001", "凭证过账报错", "需上门"),
        ("T2", "2026-11-26 15:00", "C002", "报表取数错误", "需上门"),
    ])})
    return folder


def _xlsx_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.xlsx"))}


def test_rerun_gives_byte_identical_workbooks_and_the_same_manifest(tmp_path):
    folder = _folder(tmp_path)
    first = pipeline.run(folder, TODAY, tmp_path / "a", now=dt.datetime(2026, 11, 27, 18, 0))
    second = pipeline.run(folder, TODAY, tmp_path / "b", now=dt.datetime(2026, 11, 27, 19, 30))
    assert _xlsx_bytes(first.out_dir) == _xlsx_bytes(second.out_dir)
    assert len(_xlsx_bytes(first.out_dir)) >= 3
    one, two = (json.loads((r.out_dir / "run.json").read_text(encoding="utf-8")) for r in (first, second))
    assert one.pop("generated_at") != two.pop("generated_at")
    assert one == two


def test_two_processes_compute_and_write_the_same_workbooks_in_the_same_order_as_one(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    # A ticket waiting since 2003, a year the calendar library lacks: only dispatch's count of
    # days waiting consults it, in a worker process, and the run report must still say so.
    write_workbook(folder / "old.xlsx", {"热线记录": (CALLS, [("T0", "2003-06-02 09:00", "C001", "旧问题", "需上门")])})
    serial = pipeline.run(folder, TODAY, tmp_path / "a")
    monkeypatch.setattr(pipeline, "PARALLEL_COMPUTE_FROM_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)
    shared = pipeline.run(folder, TODAY, tmp_path / "b")
    assert [p.name for p in shared.outputs] == [p.name for p in serial.outputs]
    assert _xlsx_bytes(shared.out_dir) == _xlsx_bytes(serial.out_dir)
    assert shared.figures == serial.figures
    assert shared.figures.calendar_fallback_years == (2003,)
    assert [p.code for p in shared.inbox.problems] == [p.code for p in serial.inbox.problems]


def test_a_writer_failing_in_a_worker_process_fails_the_run(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(run_report, "write_report", boom)
    with pytest.raises(OSError, match="disk full"):
        pipeline.run(_folder(tmp_path), TODAY, tmp_path / "out")


def test_inputs_are_byte_identical_after_a_failing_run(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    before = {p: p.read_bytes() for p in folder.iterdir()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(run_report, "write_report", boom)
    with pytest.raises(OSError):
        pipeline.run(folder, TODAY, tmp_path / "out")
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


def test_a_run_killed_while_writing_leaves_the_previous_outputs_whole(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    first = pipeline.run(folder, TODAY, tmp_path / "out")
    previous = _xlsx_bytes(first.out_dir)
    original = style.write_table
    calls = {"n": 0}

    def dies_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the clerk closes the window mid-write
        return original(*args, **kwargs)

    monkeypatch.setattr("kis_batch.render.dispatch.write_table", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(folder, TODAY, tmp_path / "out")
    assert _xlsx_bytes(first.out_dir) == previous
    assert not [p for p in first.out_dir.iterdir() if p.name.endswith(".tmp")]


def test_stale_temporary_files_are_cleaned_by_the_next_run(tmp_path):
    folder = _folder(tmp_path)
    out_dir = tmp_path / "out" / TODAY.isoformat()
    out_dir.mkdir(parents=True)
    stale = out_dir / ".派工单_2026-11-30.xlsx.12345.tmp"
    stale.write_bytes(b"half a workbook")
    pipeline.run(folder, TODAY, tmp_path / "out")
    assert not stale.exists()


def test_an_output_held_open_is_saved_under_another_name_and_said(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    real_replace = os.replace

    def locked(src, dst):
        if Path(dst).name.startswith("校验报告") and "(" not in Path(dst).name:
            raise PermissionError(13, "being used by another process")
        return real_replace(src, dst)

    monkeypatch.setattr(saving.os, "replace", locked)
    monkeypatch.setattr(saving, "REPLACE_PAUSE_S", 0)
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    names = [p.name for p in result.outputs]
    assert "校验报告_2026-11-27(1).xlsx" in names
    notes = [p for p in result.inbox.problems if p.code is Code.OUTPUT_LOCKED]
    assert len(notes) == 1 and "校验报告_2026-11-27(1).xlsx" in notes[0].message


def test_a_second_run_on_the_same_output_says_so_and_exits(tmp_path):
    folder = _folder(tmp_path)
    out_dir = tmp_path / "out" / TODAY.isoformat()
    with run_lock(out_dir):
        with pytest.raises(RunLocked):
            pipeline.run(folder, TODAY, tmp_path / "out")
        done = subprocess.run([sys.executable, "-m", "kis_batch", "run", str(folder), "--date", "2026-11-27",
                               "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "另一个 kis-batch" in done.stderr
    assert pipeline.run(folder, TODAY, tmp_path / "out").exit_code == 0


def test_the_command_as_a_process_writes_what_the_library_writes(tmp_path):
    """The command ends its process at once when done (cli.command_line); nothing it wrote, the
    terminal's summary included, may be cut short by that."""
    folder = _folder(tmp_path)
    done = subprocess.run([sys.executable, "-m", "kis_batch", "run", str(folder), "--date", "2026-11-27",
                           "--out", str(tmp_path / "process")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    library = pipeline.run(folder, TODAY, tmp_path / "library")
    by_process = tmp_path / "process" / TODAY.isoformat()
    assert _xlsx_bytes(by_process) == _xlsx_bytes(library.out_dir)
    reports = [json.loads((out / "run.json").read_text(encoding="utf-8")) for out in (by_process, library.out_dir)]
    for report in reports:
        report.pop("generated_at")
    assert reports[0] == reports[1]
    listed = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert listed == [path.name for path in library.outputs]  # the summary's last lines, every file


def test_more_rows_than_excel_holds_is_an_explicit_error(tmp_path):
    frame = pd.DataFrame({"a": range(style.EXCEL_MAX_ROWS)})
    with pytest.raises(OutputTooLarge, match="超过Excel上限"), atomic_book(tmp_path / "big.xlsx", []) as book:
        write_table(book, "大表", frame, [Col("a", "甲")])
    assert not list(tmp_path.iterdir())


def test_a_cell_longer_than_excel_holds_is_an_explicit_error(tmp_path):
    frame = pd.DataFrame({"a": ["长" * (style.EXCEL_MAX_CELL_CHARS + 1)]})
    with pytest.raises(OutputTooLarge, match="32767"), atomic_book(tmp_path / "long.xlsx", []) as book:
        write_table(book, "长文", frame, [Col("a", "甲")])


def test_written_workbooks_have_fixed_properties(tmp_path):
    written: list[Path] = []
    with atomic_book(tmp_path / "a.xlsx", written) as book:
        write_table(book, "表", pd.DataFrame({"a": [1]}), [Col("a", "甲", kind="int")])
    core = zipfile.ZipFile(written[0]).read("docProps/core.xml").decode()
    assert "2000-01-01" in core


def _table_book(path: Path) -> Path:
    """A workbook of one table: 300 rows of text, numbers and dates, as the writers write them."""
    frame = pd.DataFrame({"a": [f"客户{n}" for n in range(300)], "b": [n * 1.5 for n in range(300)],
                          "c": [TODAY - dt.timedelta(days=n % 30) for n in range(300)]})
    written: list[Path] = []
    with atomic_book(path, written) as book:
        write_table(book, "表", frame, [Col("a", "甲"), Col("b", "乙", kind="number"), Col("c", "丙", kind="date")])
    return written[0]


def test_a_large_workbook_saved_through_files_holds_what_one_saved_from_memory_holds(tmp_path, monkeypatch):
    """Past IN_MEMORY_UP_TO_CELLS a workbook is zipped from temporary files, not from text held in
    memory: every part of it is the same, and a rerun gives the same bytes."""
    from_memory = zipfile.ZipFile(_table_book(tmp_path / "memory.xlsx"))
    monkeypatch.setattr(saving, "IN_MEMORY_UP_TO_CELLS", 899)  # the table has 900 cells
    through_files = _table_book(tmp_path / "files.xlsx")
    assert zipfile.ZipFile(through_files).namelist() == from_memory.namelist()
    for name in from_memory.namelist():
        assert zipfile.ZipFile(through_files).read(name) == from_memory.read(name), name
    assert zipfile.ZipFile(through_files).getinfo("xl/worksheets/sheet1.xml").date_time != (
        from_memory.getinfo("xl/worksheets/sheet1.xml").date_time)  # the files' own stamp: it was saved through them
    assert _table_book(tmp_path / "again.xlsx").read_bytes() == through_files.read_bytes()


def test_outputs_dropped_back_into_the_folder_change_nothing_but_a_warning(tmp_path):
    folder = _folder(tmp_path)
    write_workbook(folder / "实施.xlsx", {"实施项目": (("项目编号", "客户编号", "实施专员", "开始日期", "计划上线", "实际上线"), [
        ("SS1", "C001", "赵敏", "2026-11-02", "2026-11-20", "2026-11-19")])})  # 待验收: its 验收 sheet comes back blank
    first = pipeline.run(folder, TODAY, tmp_path / "out")
    for output in first.outputs:
        if output.suffix == ".xlsx":
            (folder / output.name).write_bytes(output.read_bytes())
    again = pipeline.run(folder, TODAY, tmp_path / "out2")
    assert again.errors == 0
    notices = {p.file for p in again.inbox.problems if p.severity is Severity.WARNING}
    # 派工单, 回访, 年费_D and 实施_D.xlsx come back as input; unchanged, they change nothing.
    report_only = {p.name for p in first.outputs if p.suffix == ".xlsx"
                   and not p.name.startswith(("派工单", "回访", "投诉跟踪", "年费"))
                   and p.name != PROJECTS_OUTPUT.file_name(TODAY)}
    assert notices == report_only and len(report_only) >= 4
    assert len(again.inbox.tables["calls"]) == len(first.inbox.tables["calls"])
    assert again.figures.dispatch == first.figures.dispatch
    assert again.figures.projects == first.figures.projects
    assert again.figures.complaints == first.figures.complaints
    assert again.figures.fees == first.figures.fees and again.inbox.pins.empty
