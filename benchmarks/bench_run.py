"""End-to-end cost of `kis-batch run` at department and HQ scale, beside the bare cost of reading
the same files with python-calamine alone (the floor).

Targets (issue 8): department month ≤ 2 s end to end; HQ month ≤ 2× the bare read and ≤ 1.5 GB
peak memory. Each measurement is a separate process, as staff run it; peak memory is the child's
maximum resident set. Generated folders are kept in --data (default: a folder under the system
temp directory) and reused, since writing the HQ month takes minutes.

    python benchmarks/bench_run.py                 # both scales
    python benchmarks/bench_run.py --scale department
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kis_batch.demo import write_demo

MONTH, TODAY = dt.date(2026, 11, 1), dt.date(2026, 11, 27)
DEPARTMENT_TARGET_S = 2.0
HQ_FLOOR_RATIO = 2.0
HQ_MEMORY_TARGET_MB = 1536


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    engineers: int
    specialists: int
    calls_per_day: tuple[int, int]


SCALES = {
    "department": Scale("department", 800, 6, 3, (40, 80)),
    # ≈ 300,000 calls over the month's 20 working days up to the 27th.
    "hq": Scale("hq", 50_000, 300, 30, (12_000, 18_000)),
}

FLOOR_SCRIPT = """
import sys, pathlib, python_calamine as c
rows = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx")):
    book = c.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
print(rows)
"""


# Runs a command and prints its own child's peak memory (KB) last, so each figure is that process's.
PEAK_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
sys.stdout.write(done.stdout)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


def _timed(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak resident MB of the command, and its stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *command], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    *output, peak_kb = done.stdout.rstrip("\n").split("\n")
    return seconds, int(peak_kb) // 1024, "\n".join(output)


def _folder(scale: Scale, data: Path) -> Path:
    folder = data / scale.name
    marker = folder / ".complete"
    if not marker.exists():
        start = time.perf_counter()
        print(f"[{scale.name}] generating the month …", flush=True)
        write_demo(folder, MONTH, TODAY, customers=scale.customers, engineers=scale.engineers,
                   specialists=scale.specialists, calls_per_day=scale.calls_per_day)
        marker.write_text("ok")
        print(f"[{scale.name}] generated in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def measure(scale: Scale, data: Path) -> None:
    folder = _folder(scale, data)
    files = sum(1 for _ in folder.rglob("*.xlsx"))
    floor_s, floor_mb, rows_text = _timed([sys.executable, "-c", FLOOR_SCRIPT, str(folder)])
    out = data / f"{scale.name}-out"
    run_s, run_mb, _ = _timed([sys.executable, "-m", "kis_batch", "run", str(folder), "--date", TODAY.isoformat(),
                               "--out", str(out)])
    rows = int(rows_text.strip())
    print(f"[{scale.name}] {files} files, {rows:,} sheet rows, {os.cpu_count()} cores")
    print(f"  bare calamine read : {floor_s:6.2f} s   peak {floor_mb:5d} MB")
    print(f"  kis-batch run      : {run_s:6.2f} s   peak {run_mb:5d} MB   {rows / run_s:,.0f} rows/s")
    print(f"  ratio run / floor  : {run_s / floor_s:6.2f}")
    if scale.name == "department":
        print(f"  target ≤ {DEPARTMENT_TARGET_S} s end to end: {'met' if run_s <= DEPARTMENT_TARGET_S else 'NOT met'}")
    else:
        ok = run_s <= HQ_FLOOR_RATIO * floor_s and run_mb <= HQ_MEMORY_TARGET_MB
        print(f"  target ≤ {HQ_FLOOR_RATIO}× floor and ≤ {HQ_MEMORY_TARGET_MB} MB: {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="both")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kis-batch-bench")
    args = parser.parse_args()
    for name in SCALES if args.scale == "both" else [args.scale]:
        measure(SCALES[name], args.data)


if __name__ == "__main__":
    main()
