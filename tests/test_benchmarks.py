"""The benchmark scripts still run on the library as it is (CI runs no benchmark): each builds its
inputs through the same helpers the library offers. Nothing here is timed."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.dispatch import plan_dispatch
from kis_batch.settings import Settings

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


def test_the_dispatch_benchmark_builds_its_department_and_plans_it() -> None:
    bench = _script("bench_dispatch")
    tables = bench.synthetic(7, coordinates=False, cap=3, busy_share=0.2)
    assert len(tables["staff"]) == bench.ENGINEERS and len(tables["customers"]) == bench.CUSTOMERS
    result = plan_dispatch(tables, Settings(), WorkCalendar(), bench.TODAY)
    assert len(result.assignments) + len(result.backlog) == len(tables["calls"])


def test_the_run_benchmark_floor_scripts_read_and_write_real_workbooks() -> None:
    bench = _script("bench_run")
    assert set(bench.SCALES) == {"department", "hq"}
    example = BENCHMARKS.parent / "input_templates" / "example"
    read = subprocess.run([sys.executable, "-c", bench.FLOOR_SCRIPT, str(example)],
                          capture_output=True, text=True, check=True)
    assert int(read.stdout) > 1000  # sheet rows of the example month
    written = subprocess.run([sys.executable, "-c", bench.WRITE_FLOOR_SCRIPT, str(example)],
                             capture_output=True, text=True, check=True)
    seconds, cells = written.stdout.split()
    assert float(seconds) > 0 and int(cells) > int(read.stdout)
