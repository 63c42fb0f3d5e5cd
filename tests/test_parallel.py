"""Sharing jobs between this process and one forked worker: every job once, results in job order,
a worker's failure or an unpicklable result failing the run loudly, and a dead worker's jobs done
here. The folder's reading, started early by a worker, gives what reading it here gives, a dead
worker included; so do the rules and workbooks a worker shares."""

import datetime as dt
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kis_batch import parallel, pipeline, steps
from kis_batch.cli import main
from kis_batch.inbox import Inbox
from kis_batch.ingest import early, load_folder
from kis_batch.ingest.early import start_early_read
from kis_batch.parallel import run_jobs
from kis_batch.render import dispatch, style

pytestmark = pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")

PARENT = os.getpid()
EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"


def _job(number: int, pause: float = 0.05):
    def job() -> tuple[int, int]:
        time.sleep(pause)  # long enough that both processes take some of the jobs
        return number * number, os.getpid()
    return job


def test_both_processes_run_jobs_each_once_and_results_come_in_job_order() -> None:
    results = run_jobs([_job(n) for n in range(12)], parallel=True)
    assert [value for value, _ in results] == [n * n for n in range(12)]
    runners = {pid for _, pid in results}
    assert PARENT in runners and len(runners) == 2


def test_serial_when_not_asked_to_share() -> None:
    results = run_jobs([_job(n, 0) for n in range(3)], parallel=False)
    assert results == [(0, PARENT), (1, PARENT), (4, PARENT)]


def _fails_in_worker(number: int):
    def job() -> int:
        time.sleep(0.05)
        if os.getpid() != PARENT:
            raise OSError(f"disk full in job {number}")
        return number
    return job


def test_an_error_in_the_worker_is_raised_here() -> None:
    with pytest.raises(OSError, match="disk full in job"):
        run_jobs([_fails_in_worker(n) for n in range(6)], parallel=True)


def _unpicklable_in_worker() -> object:
    time.sleep(0.05)
    return (lambda: None) if os.getpid() != PARENT else None


def test_a_result_the_worker_cannot_send_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="pickle"):
        run_jobs([_unpicklable_in_worker] * 6, parallel=True)


def _worker_killed() -> int:
    time.sleep(0.05)
    if os.getpid() != PARENT:
        os._exit(9)
    return os.getpid()


def test_a_worker_that_dies_leaves_its_jobs_to_this_process() -> None:
    results = run_jobs([_worker_killed] * 6, parallel=True)
    assert results == [PARENT] * 6 and not multiprocessing.active_children()


def test_an_unsendable_result_is_said_in_chinese() -> None:
    with pytest.raises(parallel.ResultNotSent, match="工作进程的结果无法传回"):
        run_jobs([_unpicklable_in_worker] * 6, parallel=True)


def test_a_run_whose_worker_dies_on_a_rule_writes_what_a_plain_run_writes(example_run, tmp_path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker takes a rule of the run and is killed (as out of memory would): this process
    computes what it had taken, and the day's workbooks are those of a plain run."""
    monkeypatch.setattr(pipeline, "PARALLEL_COMPUTE_FROM_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)
    real_scores = steps.score_feedback
    died = tmp_path / "died"

    def slow_scores(*args, **kwargs):  # this process's first step, long enough for the worker to take one
        time.sleep(0.5)
        return real_scores(*args, **kwargs)

    def killed_worker(claims, results) -> None:
        claims.first(parallel.WORKER, lambda index: True)
        died.touch()
        os._exit(9)

    monkeypatch.setattr(steps, "score_feedback", slow_scores)
    monkeypatch.setattr(parallel, "_work", killed_worker)
    _same_workbooks(pipeline.run(EXAMPLE, TODAY, tmp_path / "out"), example_run)
    assert died.exists() and not multiprocessing.active_children()


TODAY = dt.date(2026, 11, 27)


def _assert_same_inbox(found: Inbox, plain: Inbox) -> None:
    assert found.files == plain.files
    assert found.problems == plain.problems
    assert found.layouts == plain.layouts
    assert found.settings == plain.settings
    assert found.tables.keys() == plain.tables.keys()
    for key, frame in plain.tables.items():
        assert found.tables[key].equals(frame), key


def _worker_dies_on_its_second_file(monkeypatch: pytest.MonkeyPatch, marker: Path) -> None:
    """The early worker reads one workbook, then ends as a killed process would (marker: it has)."""
    real = early.ingest_file
    calls = 0

    def reading(*args):
        nonlocal calls
        calls += 1
        if os.getpid() != PARENT and calls == 2:
            marker.touch()
            os._exit(9)
        return real(*args)

    monkeypatch.setattr(early, "ingest_file", reading)


def test_the_early_read_gives_the_inbox_of_the_plain_read() -> None:
    started = start_early_read(EXAMPLE, TODAY, None)
    assert started is not None  # the example month is large enough to share
    _assert_same_inbox(load_folder(EXAMPLE, TODAY, early=started), load_folder(EXAMPLE, TODAY))


def test_files_an_early_worker_leaves_unread_when_it_dies_are_read_here(tmp_path, monkeypatch) -> None:
    plain = load_folder(EXAMPLE, TODAY)
    _worker_dies_on_its_second_file(monkeypatch, tmp_path / "died")
    started = start_early_read(EXAMPLE, TODAY, None)
    assert started is not None
    deadline = time.monotonic() + 30
    while not (tmp_path / "died").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "died").exists()
    _assert_same_inbox(load_folder(EXAMPLE, TODAY, early=started), plain)


def test_a_run_whose_early_worker_dies_writes_what_a_plain_run_writes(tmp_path, monkeypatch) -> None:
    with monkeypatch.context() as plain_run:
        plain_run.setattr(early, "fork_context", lambda: None)
        plain = CliRunner().invoke(main, ["run", str(EXAMPLE), "--date", "2026-11-27", "--out", str(tmp_path / "a")])
    _worker_dies_on_its_second_file(monkeypatch, tmp_path / "died")
    found = CliRunner().invoke(main, ["run", str(EXAMPLE), "--date", "2026-11-27", "--out", str(tmp_path / "b")])
    assert (found.exit_code, plain.exit_code) == (0, 0), found.output
    written = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.xlsx"))
    assert written and written == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.xlsx"))
    for name in written:
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes(), name


def test_the_command_line_and_the_early_read_load_without_pandas() -> None:
    """So the worker starts reading before the run has loaded pandas, the rules and the writers."""
    code = "import sys, kis_batch.cli; assert 'pandas' not in sys.modules and 'openpyxl' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(EXAMPLE.parents[1])})


# --- the workbooks written by a worker beside the rules -----------------------------------

def test_started_jobs_without_a_worker_run_when_finished() -> None:
    """No fork here, or a run too small to share: nothing starts early, finish() runs every job."""
    ran: list[int] = []
    started = parallel.StartedJobs([lambda n=n: ran.append(n) or n * n for n in range(3)], None)
    assert ran == []
    assert started.finish() == [0, 1, 4] and ran == [0, 1, 2]


def _share_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)


def _same_workbooks(found: pipeline.RunResult, expected: pipeline.RunResult) -> None:
    assert [p.name for p in found.outputs] == [p.name for p in expected.outputs]
    for path in expected.outputs:
        if path.suffix == ".xlsx":
            assert (found.out_dir / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_writer_dying_midway_leaves_the_run_whole(example_run, tmp_path, monkeypatch) -> None:
    """The worker writing tomorrow's 派工单 and what else is ready is killed after its first workbook
    (as out of memory would): this process writes what it left, and the day's workbooks are those of
    a plain run."""
    _share_everything(monkeypatch)
    died = tmp_path / "died"

    def dies_after_one(claims, results) -> None:
        def on_its_own(index: int) -> bool:
            return not parallel._inherited_after[index]

        index = claims.first(parallel.WORKER, on_its_own)
        results.put(parallel._sent(index, True, parallel._inherited_jobs[index]()))
        claims.finished(index)
        claims.first(parallel.WORKER, on_its_own)  # taken, never finished: a large one stays marked running
        died.touch()
        os._exit(9)

    monkeypatch.setattr(parallel, "_work", dies_after_one)
    _same_workbooks(pipeline.run(EXAMPLE, TODAY, tmp_path / "out"), example_run)
    assert died.exists() and not multiprocessing.active_children()


def test_a_writer_failing_in_the_worker_fails_the_run_here(tmp_path, monkeypatch) -> None:
    """An output that cannot be written (too large for Excel) stops the run with that error, whichever
    process met it first, and no worker is left behind."""
    _share_everything(monkeypatch)

    def too_large(*args, **kwargs) -> None:
        raise style.OutputTooLarge("工作表“派工”超过Excel上限")

    monkeypatch.setattr(dispatch, "write_dispatch_overview", too_large)
    result = CliRunner().invoke(main, ["run", str(EXAMPLE), "--date", "2026-11-27", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "运行未完成：工作表“派工”超过Excel上限" in result.output, result.output
    assert not multiprocessing.active_children()


FREED_THEN_TRIMMED = """
import pathlib
from kis_batch.parallel import release_free_memory

def resident_mb():
    status = pathlib.Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

freed = [bytes(1000) for _ in range(200_000)]  # ~200 MB among objects that stay
kept = [str(n) * 30 for n in range(300_000)]
del freed
before = resident_mb()
release_free_memory()
print(before, resident_mb())
"""


@pytest.mark.skipif(parallel._malloc_trim() is None or not Path("/proc/self/status").exists(),
                    reason="needs glibc's malloc_trim and /proc")
def test_memory_freed_before_a_fork_goes_back_to_the_system():
    """What a process freed but still holds is handed back before a worker is forked, so the worker
    does not share it (and, as both reuse it, copy it)."""
    before, after = map(int, subprocess.run([sys.executable, "-c", FREED_THEN_TRIMMED], capture_output=True,
                                            text=True, check=True).stdout.split())
    assert before - after >= 100, (before, after)
