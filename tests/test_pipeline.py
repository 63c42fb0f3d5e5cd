"""The run's sequencing: steps ordered into rounds by the results they name, the same workbooks
whether the rounds run in one process or are shared with a worker, and run.json's figures exactly
the typed figures the run returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
import xlsxwriter

from kis_batch import parallel, pipeline
from kis_batch.ingest import load_folder
from kis_batch.rules.figures import RunFigures
from kis_batch.steps import RECONCILED, Step, check_needs, compute_steps, day_steps, split_steps
from tests.conftest import EXAMPLE, EXAMPLE_TODAY


def _five_steps() -> list[Step]:
    return [
        Step("c", ("a", "b"), lambda a, b: a + b),
        Step("a", (), lambda: 2),
        Step("d", ("c",), lambda c: c * 10),
        Step("b", (), lambda: 3),
        Step("e", ("a",), lambda a: -a),
    ]


def test_each_step_runs_after_what_it_needs_and_its_result_is_named_as_the_step() -> None:
    steps = _five_steps()
    found = compute_steps(steps, pipeline.WorkCalendar(), parallel=False)
    assert found == {"a": 2, "b": 3, "c": 5, "e": -2, "d": 50} and list(found) == ["c", "a", "d", "b", "e"]


def _timed_step(name: str, needs: tuple[str, ...], seconds: float, large: bool = False) -> Step:
    def compute(**_: object) -> tuple[int, float, float]:
        start = time.monotonic()
        time.sleep(seconds)
        return os.getpid(), start, time.monotonic()
    return Step(name, needs, compute, large)


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
@pytest.mark.parametrize("large", [True, False])
def test_two_large_steps_run_one_after_the_other_while_other_steps_are_left(large: bool) -> None:
    """A large step (a workbook of every contract) is passed over while another large one runs, as
    long as the process has another step to take, so the two processes' largest needs do not meet;
    steps not declared large are taken in order, side by side."""
    steps = [_timed_step("first", (), 0.05), _timed_step("big", (), 0.6, large), _timed_step("bigger", (), 0.6, large),
             *(_timed_step(f"small{n}", (), 0.2) for n in range(5))]
    found = compute_steps(steps, pipeline.WorkCalendar(), parallel=True)
    (_, big_start, big_end), (_, bigger_start, bigger_end) = found["big"], found["bigger"]
    assert (big_start < bigger_end and bigger_start < big_end) is not large
    assert len({pid for pid, _, _ in found.values()}) == 2


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
def test_shared_steps_wait_for_what_they_need_and_for_nothing_else() -> None:
    """With a worker, a step starts once what it needs is computed, not when a slower step it does
    not need is done: this process goes on with what stands on its own results while the worker
    is busy."""
    steps = [_timed_step("mine", (), 0.1), _timed_step("slow", (), 1.5), _timed_step("after_mine", ("mine",), 0.1),
             _timed_step("after_slow", ("slow",), 0.1), _timed_step("after_both", ("after_mine", "after_slow"), 0)]
    found = compute_steps(steps, pipeline.WorkCalendar(), parallel=True)
    here = os.getpid()
    assert found["mine"][0] == here and found["after_mine"][0] == here and found["slow"][0] != here
    assert found["after_mine"][2] < found["slow"][2]  # no round waited for the slow step
    for step in steps:
        for need in step.needs:
            assert found[need][2] <= found[step.name][1]


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
def test_steps_kept_here_never_reach_the_worker_and_no_worker_starts_before_share_after() -> None:
    """A small run keeps its rules in this process and starts a worker only once its longest job
    (tomorrow's 派工单) is ready; the other steps ready then are the worker's to take."""
    steps = [_timed_step("rule", (), 0.2), _timed_step("quick_write", (), 0.3), _timed_step("sheets", ("rule",), 0.1),
             _timed_step("long_write", ("sheets",), 0.3), _timed_step("late_rule", ("sheets",), 0.1),
             _timed_step("other_write", ("sheets",), 0.3)]
    found = compute_steps(steps, pipeline.WorkCalendar(), parallel=True, here=("rule", "sheets", "late_rule"),
                          share_after="sheets")
    here = os.getpid()
    assert found["rule"][0] == found["sheets"][0] == found["late_rule"][0] == here
    worker = {name for name, (pid, _, _) in found.items() if pid != here}
    assert worker and worker <= {"quick_write", "long_write", "other_write"}
    assert all(found[name][1] >= found["sheets"][2] for name in worker)  # none started before sheets were ready


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
def test_the_worker_goes_on_with_the_steps_standing_on_its_own() -> None:
    """The worker keeps what it computes: a step standing only on the worker's steps is the worker's
    next, not left until this process, busy with a long step, could fork another."""
    steps = [_timed_step("long_mine", (), 1.0), _timed_step("theirs", (), 0.1), _timed_step("on_theirs", ("theirs",), 0.1),
             _timed_step("on_both", ("long_mine", "on_theirs"), 0)]
    found = compute_steps(steps, pipeline.WorkCalendar(), parallel=True)
    here = os.getpid()
    assert found["long_mine"][0] == here and found["theirs"][0] == found["on_theirs"][0] != here
    assert found["on_theirs"][2] < found["long_mine"][2]
    assert found["on_both"][1] >= found["long_mine"][2]


def _fails() -> None:
    raise ValueError("a rule failed in the worker")


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
def test_a_step_failing_in_the_worker_fails_the_computing_here_and_leaves_no_worker() -> None:
    steps = [_timed_step("mine", (), 0.3), Step("theirs", (), _fails), _timed_step("after", ("mine",), 0)]
    with pytest.raises(ValueError, match="failed in the worker"):
        compute_steps(steps, pipeline.WorkCalendar(), parallel=True)
    assert multiprocessing.active_children() == []


def test_the_steps_split_into_what_the_named_results_stand_on_and_the_rest() -> None:
    steps = _five_steps()
    first, rest = split_steps(steps, ("c",))
    assert [step.name for step in first] == ["c", "a", "b"] and [step.name for step in rest] == ["d", "e"]
    calendar = pipeline.WorkCalendar()
    found = compute_steps(first, calendar, parallel=False)
    assert found == {"c": 5, "a": 2, "b": 3}
    # The rest stands on what was computed first, and gives only its own results.
    assert compute_steps(rest, calendar, parallel=False, given=found) == {"d": 50, "e": -2}
    with pytest.raises(ValueError, match="no step gives"):
        compute_steps(rest, calendar, parallel=False)


def test_the_day_computed_in_two_parts_is_the_day_computed_at_once(example_run: pipeline.RunResult) -> None:
    """The evening computes what tomorrow's 派工单 stands on first and the rest after (pipeline);
    every result is what computing every step in one go gives."""
    inbox = example_run.inbox
    calendar = pipeline.WorkCalendar.from_settings(inbox.settings)
    steps = day_steps(inbox.tables, inbox.settings, calendar, EXAMPLE_TODAY, inbox.pins)
    first, rest = split_steps(steps, pipeline.DISPATCH_STEPS)
    assert {"dispatch", "suggestions", "scores", "fees"} <= {step.name for step in first}
    assert {"evaluation", "quality", "customers"} <= {step.name for step in rest}
    checked = {RECONCILED: None}  # the example run's tables are checked: scoring ties the complaints itself
    found = compute_steps(first, calendar, parallel=False, given=checked)
    found |= compute_steps(rest, calendar, parallel=False, given={**checked, **found})
    at_once = compute_steps(steps, calendar, parallel=False, given=checked)
    assert found.keys() == at_once.keys()
    assert found["dispatch"].assignments.equals(at_once["dispatch"].assignments)
    assert found["evaluation"] == at_once["evaluation"]


class _AsRead(dict):
    """The tables as reading left them, refusing the two the checks after reading change
    (rules/reconcile.py): a step reading them before those checks would read them stale."""

    CHANGED = ("complaint_handling", "acceptance")

    def __getitem__(self, key: str) -> object:
        if key in self.CHANGED:
            raise LookupError(f"{key} read before the checks after reading")
        return super().__getitem__(key)


def test_the_steps_beside_the_checks_after_reading_read_nothing_they_change() -> None:
    """The evening's first worker, forked before the checks after reading run, takes the steps that
    do not stand on RECONCILED: those must not read 投诉处理 or the 验收单, which the checks change."""
    inbox = load_folder(EXAMPLE, EXAMPLE_TODAY)
    calendar = pipeline.WorkCalendar.from_settings(inbox.settings)
    steps = day_steps(_AsRead(inbox.tables), inbox.settings, calendar, EXAMPLE_TODAY, inbox.pins)
    standing = {RECONCILED}
    for step in steps:  # in dependency order: a step comes after what it needs
        if standing & set(step.needs):
            standing.add(step.name)
    beside = [step for step in steps if step.name not in standing]
    assert {"tickets", "fees", "returned", "month_callbacks"} <= {step.name for step in beside}
    assert {"scores", "complaints", "projects"} <= standing
    assert compute_steps(beside, calendar, parallel=False).keys() == {step.name for step in beside}
    with pytest.raises(LookupError, match="complaint_handling"):  # the guard holds where the tables are read
        compute_steps(split_steps(steps, ("complaints",))[0], calendar, parallel=False, given={RECONCILED: None})


def test_a_step_needing_a_missing_result_or_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="no step gives"):
        check_needs([Step("a", ("nowhere",), lambda nowhere: nowhere)])
    with pytest.raises(ValueError, match="cycle"):
        check_needs([Step("a", ("b",), lambda b: b), Step("b", ("a",), lambda a: a)])
    check_needs([Step("a", ("b",), lambda b: b)], given=("b",))


def test_run_json_figures_are_the_typed_figures_field_for_field(example_run: pipeline.RunResult) -> None:
    written = json.loads((example_run.out_dir / "run.json").read_text(encoding="utf-8"))["figures"]
    assert written == json.loads(json.dumps(example_run.figures.to_json()))
    assert list(written) == [f.name for f in dataclasses.fields(RunFigures)]
    assert list(written["callbacks"]["spot_checks"][0]) == ["staff_id", "name", "done", "target", "served", "listed"]
    assert written["dispatch"]["assigned"] == example_run.figures.dispatch.assigned > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        example_run.figures.dispatch.assigned = 0  # type: ignore[misc]


@pytest.mark.skipif(parallel.fork_context() is None, reason="needs fork and two cores")
def test_shared_with_a_worker_the_run_writes_the_same_bytes(example_run: pipeline.RunResult, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_COMPUTE_FROM_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)
    shared = pipeline.run(EXAMPLE, EXAMPLE_TODAY, tmp_path, now=dt.datetime(2026, 11, 27, 20, 0))
    assert shared.figures == example_run.figures
    assert [p.name for p in shared.outputs] == [p.name for p in example_run.outputs]
    for path in example_run.outputs:
        if path.suffix == ".xlsx":
            assert (shared.out_dir / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_run_frees_each_workbook_once_it_is_written(tmp_path: Path) -> None:
    """The command runs with Python's cycle collector off, and an xlsxwriter workbook is a reference
    cycle holding every cell it wrote: unless each is let go of once saved, a run holds all its
    workbooks' cells until it ends (hundreds of MB on an HQ month)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()  # as the command does (cli.command_line)
    try:
        result = pipeline.run(EXAMPLE, EXAMPLE_TODAY, tmp_path)
        alive = [o for o in gc.get_objects() if isinstance(o, xlsxwriter.Workbook)]
    finally:
        if was_enabled:
            gc.enable()
    assert len(result.outputs) > 10 and alive == []
