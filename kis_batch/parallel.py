"""Work shared by two processes on a large run, where the OS can fork (Linux, macOS): a forked
worker inherits the loaded tables, so nothing large is copied or pickled. Windows, one-core
machines and small runs work in the one process, where starting workers would cost more."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import TypeVar

T = TypeVar("T")

MAX_WORKERS = 2
# From these input sizes reading and computing, and writing the outputs, are shared by two
# processes; below them starting the workers costs more than it saves (measured: a department's
# month, 1.8 MB, reads no faster in two processes but writes about 0.1 s faster).
PARALLEL_FROM_BYTES = 20 * 2**20
PARALLEL_WRITE_FROM_BYTES = 2**20

_inherited_jobs: list[Callable[[], object]] = []


def fork_context() -> BaseContext | None:
    """The fork start method when this machine has it and more than one core, else None."""
    if min(os.cpu_count() or 1, MAX_WORKERS) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def _run_inherited(index: int) -> object:
    return _inherited_jobs[index]()


def run_jobs(jobs: list[Callable[[], T]], parallel: bool) -> list[T]:
    """Each job's result, in job order. In parallel the workers take the jobs in order as they
    come free, so put the longest first; the jobs reach the forked workers by inheritance."""
    context = fork_context() if parallel and len(jobs) > 1 else None
    if context is None:
        return [job() for job in jobs]
    _inherited_jobs[:] = jobs
    try:
        with ProcessPoolExecutor(MAX_WORKERS, mp_context=context) as pool:
            return list(pool.map(_run_inherited, range(len(jobs))))  # type: ignore[arg-type]
    finally:
        _inherited_jobs.clear()
