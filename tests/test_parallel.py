"""Sharing jobs between this process and one forked worker: every job once, results in job order,
and a worker's failure, an unpicklable result or a dead worker failing the run loudly."""

import os
import time

import pytest

from kis_batch import parallel
from kis_batch.parallel import WorkerDied, run_jobs

pytestmark = pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")

PARENT = os.getpid()


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


def _worker_killed() -> None:
    time.sleep(0.05)
    if os.getpid() != PARENT:
        os._exit(9)


def test_a_worker_that_dies_fails_the_run() -> None:
    with pytest.raises(WorkerDied):
        run_jobs([_worker_killed] * 6, parallel=True)
