"""Work shared by two processes on a large run, where the OS can fork (Linux, macOS): this process
and one forked worker take the jobs in turn. The worker inherits the loaded tables, so nothing
large is copied or pickled on the way in, and a job this process runs hands its result over
without being pickled at all. Windows, one-core machines and small runs work in the one process,
where starting a worker would cost more. StartedJobs lets the worker begin before this process is
ready to share (the folder's reading, while a run is still loading)."""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import queue
import shutil
import tempfile
from collections.abc import Callable, Iterator
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# From these input sizes the work is shared with a worker; below them starting it costs more than
# it saves. Reading and writing gain from a department's month (about 2 MB) on; computing only from
# far larger folders (benchmarks/bench_run.py measures a run at both scales).
PARALLEL_FROM_BYTES = 2**20  # reading and writing
PARALLEL_COMPUTE_FROM_BYTES = 20 * 2**20
# How often the waiting process checks that the worker is still alive.
WORKER_CHECK_S = 0.5

# Who has taken a shared job.
NOBODY, HERE, WORKER = 0, 1, 2

_inherited_jobs: list[Callable[[], object]] = []
_inherited_after: list[tuple[int, ...]] = []


class SharingFailed(RuntimeError):
    """The work shared with the worker could not be completed; the message says why, in Chinese."""


class ResultNotSent(SharingFailed):
    """A job's result (or error) could not be pickled to come back from the worker."""


def fork_context() -> BaseContext | None:
    """The fork start method when this machine has it and more than one core, else None."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where the C library this process already runs on has it (Linux with
    glibc; not macOS or musl). Looked up among the process's own symbols, so nothing is searched
    for or loaded, and ctypes only where a worker is forked."""
    if os.name != "posix":
        return None
    import ctypes

    return getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_free_memory() -> None:
    """Hands the C heap's free pages back to the OS. Before a fork: an HQ month's reading leaves
    ~160 MB freed but still resident in this process, which a forked worker would share and, as
    both processes reuse it, each copy (benchmarks/bench_run.py measures the run's peak)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _claim(counter: Synchronized) -> int:
    """The next job nobody has started; both processes draw from one counter."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index


def _sent(index: int, ok: bool, value: Any) -> bytes:
    """A result or error, pickled here rather than in the queue's thread, so one that cannot be
    pickled becomes an error the parent sees instead of an item the queue drops."""
    try:
        return pickle.dumps((index, ok, value), pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # any object may refuse to pickle, in its own way
        failure = value if not ok else error
        reason = f"{type(failure).__name__}: {failure}"
        return pickle.dumps((index, False, ResultNotSent(f"工作进程的结果无法传回（{reason}），本次运行未完成")))


class _Claims:
    """Who has taken each shared job and which are running, under one lock both processes share. A
    large job (one holding much memory while it runs: a workbook of the department's every contract)
    is passed over while another large one runs, where another job can be taken instead, so the two
    processes' largest needs do not meet (benchmarks/bench_run.py measures the peak)."""

    def __init__(self, context: BaseContext, large: list[bool]) -> None:
        self.taken = context.Array("b", len(large))
        self._running = context.Array("b", len(large), lock=False)  # guarded by taken's lock
        self._large = large

    def first(self, by: int, may_run: Callable[[int], bool]) -> int | None:
        """The first job nobody has taken that may run in this process (a large one only when no
        other large one runs, or nothing else may), marked as its own and running."""
        with self.taken.get_lock():
            free = [index for index in range(len(self._large)) if self.taken[index] == NOBODY and may_run(index)]
            crowded = any(self._running[index] and self._large[index] for index in range(len(self._large)))
            index = next((index for index in free if not (crowded and self._large[index])), free[0] if free else None)
            if index is not None:
                self.taken[index] = by
                self._running[index] = 1
            return index

    def finished(self, index: int) -> None:
        with self.taken.get_lock():
            self._running[index] = 0


def _work(claims: _Claims, results: multiprocessing.Queue) -> None:
    """The worker: each job it may run, until none is left for it. It keeps what it computed, so a
    job standing on earlier jobs is its to take once it ran them itself."""
    ran: set[int] = set()
    while (index := claims.first(WORKER, lambda i: ran.issuperset(_inherited_after[i]))) is not None:
        try:
            results.put(_sent(index, True, _inherited_jobs[index]()))
        except BaseException as error:
            results.put(_sent(index, False, error))
            return
        claims.finished(index)
        ran.add(index)


def _run_here(jobs: list[Callable[[], T]], done: Callable[[int], None] | None) -> list[T]:
    """Every job in this process, in order."""
    results = []
    for index, job in enumerate(jobs):
        results.append(job())
        if done:
            done(index)
    return results


def run_jobs(jobs: list[Callable[[], T]], parallel: bool, done: Callable[[int], None] | None = None) -> list[T]:
    """Each job's result, in job order. In parallel both processes take the jobs in order as they
    come free, so put the longest first. done, if given, is told each job's index as its result
    arrives here (a long run shows its progress)."""
    context = fork_context() if parallel and len(jobs) > 1 else None
    if context is None:
        return _run_here(jobs, done)
    shared = SharedJobs(jobs, context)
    told = done or (lambda _: None)
    try:
        while (index := shared.take()) is not None:
            for arrived in (index, *shared.arrived()):  # what came in meanwhile is unpickled as we go
                told(arrived)
        while not shared.complete:
            for arrived in shared.arrived(WORKER_CHECK_S):
                told(arrived)
    finally:
        shared.close()
    return [shared.found[index] for index in range(len(jobs))]


class SharedJobs(Generic[T]):
    """Jobs this process and one forked worker share, the worker from the moment it is forked, each
    taking the first job nobody has taken that it may run. A job may stand on earlier jobs of the
    list (after): the worker, which keeps what it computed but never sees what this process computes,
    takes it once it ran those itself; this process when take() is told it may. Two large jobs run
    side by side only when neither process has anything else to take (_Claims). Between jobs this
    process may do other work (the day's rules compute a step that stands on what it just computed)
    and takes the worker's results as they come; found holds every result so far by job index."""

    def __init__(self, jobs: list[Callable[[], T]], context: BaseContext,
                 after: list[tuple[int, ...]] | None = None, large: list[bool] | None = None) -> None:
        self._jobs = jobs
        self.found: dict[int, T] = {}
        _inherited_jobs[:] = jobs
        _inherited_after[:] = after or [()] * len(jobs)
        self._claims = _Claims(context, large or [False] * len(jobs))
        self._sent = context.Queue()
        self._worker = context.Process(target=_work, args=(self._claims, self._sent), daemon=True)
        release_free_memory()
        try:
            self._worker.start()  # forks: the worker holds its own reference to the jobs
        finally:
            _inherited_jobs.clear()
            _inherited_after.clear()

    @property
    def complete(self) -> bool:
        return len(self.found) == len(self._jobs)

    @property
    def worker_ended(self) -> bool:
        """The worker has taken every job it could, and all it sent is in."""
        return not self._worker.is_alive() and self._sent.empty()

    def take(self, may_run: Callable[[int], bool] = lambda index: True) -> int | None:
        """Runs here the first job nobody has taken that may run here: its index, or None."""
        index = self._claims.first(HERE, may_run)
        if index is None:
            return None
        self.found[index] = self._jobs[index]()
        self._claims.finished(index)
        return index

    def arrived(self, timeout: float | None = None) -> list[int]:
        """The jobs whose results came since last asked; with a timeout, waits up to that long for
        one. A job that failed in the worker fails here. A worker that died (killed, or out of
        memory) leaves the jobs it had taken to this process, which runs them as soon as it notices
        (in list order, so a job's earlier jobs first); the jobs nobody has taken are this process's
        to take, as they would be anyway."""
        indexes: list[int] = []
        while not self.complete:
            try:
                index, ok, value = pickle.loads(self._sent.get(timeout=timeout) if timeout and not indexes
                                                else self._sent.get_nowait())
            except queue.Empty:
                if not indexes and self.worker_ended:
                    indexes += self._run_lost()
                break
            if not ok:
                raise value
            self.found[index] = value
            indexes.append(index)
        return indexes

    def _run_lost(self) -> list[int]:
        """The jobs the dead worker took and never handed back, run here."""
        lost = [index for index in range(len(self._jobs)) if self._claims.taken[index] == WORKER and index not in self.found]
        for index in lost:
            self.found[index] = self._jobs[index]()
        return lost

    def close(self) -> None:
        """Stops the worker if it still has work nobody will collect (this process failed), and reaps it."""
        if self._worker.is_alive() and not self.complete:
            self._worker.terminate()
        self._worker.join()


def _handed_over(results: Path) -> Iterator[tuple[int, Any]]:
    """The (job, result) records a worker wrote one after another, read one at a time (a large
    run's results are never held twice, as bytes and as objects); none if it left no file."""
    if not results.exists():
        return
    with results.open("rb") as sent:
        while True:
            try:
                yield pickle.load(sent)
            except EOFError:
                return


class StartedJobs(Generic[T]):
    """Jobs a forked worker begins before this process is free to share them (the folder's reading
    while the run loads); finish() then takes the jobs the worker has not started and collects the
    rest. Without a context (no fork here, or a run too small to share) finish() runs every job.
    For jobs that may run twice: the worker hands its results over in
    one file, each appended as it is done and the file renamed once no job is left to start (a file
    per result cost the department's reading 50 ms of file writes); a worker that dies or fails first
    leaves no file or a complete one, and finish() runs the missing jobs here."""

    def __init__(self, jobs: list[Callable[[], T]], context: BaseContext | None) -> None:
        self._jobs = jobs
        self._worker: BaseProcess | None = None
        if context is None or not jobs:
            return
        self._results = Path(tempfile.mkdtemp(prefix="kis-batch-"))
        self._counter = context.Value("i", 0)
        self._worker = context.Process(target=self._work, daemon=True)
        self._worker.start()

    def _work(self) -> None:
        part = self._results / "results.part"
        with part.open("wb") as sent:
            try:
                while (index := _claim(self._counter)) < len(self._jobs):
                    pickle.dump((index, self._jobs[index]()), sent, pickle.HIGHEST_PROTOCOL)
            except BaseException:  # the job runs again in finish(), which meets the error itself
                pass
        part.replace(self._results / "results")

    def finish(self, done: Callable[[int], None] | None = None) -> list[T]:
        """Each job's result, in job order, as run_jobs gives them; done is told as in run_jobs."""
        found: dict[int, T] = {}
        handed: dict[int, T] = {}
        if self._worker is not None:
            try:
                while (index := _claim(self._counter)) < len(self._jobs):
                    found[index] = self._jobs[index]()
                    if done:
                        done(index)
                self._worker.join()
                handed = dict(_handed_over(self._results / "results"))
            finally:
                self.cancel()
        for index in range(len(self._jobs)):
            if index not in found:
                found[index] = handed[index] if index in handed else self._jobs[index]()
                if done:
                    done(index)
        return [found[index] for index in range(len(self._jobs))]

    def cancel(self) -> None:
        """Stops the worker and removes its results (the jobs are not wanted, or all are collected)."""
        if self._worker is None:
            return
        if self._worker.is_alive():
            self._worker.terminate()
        self._worker.join()
        shutil.rmtree(self._results, ignore_errors=True)
