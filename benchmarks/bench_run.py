"""End-to-end cost of `kis-batch run` at department and HQ scale, beside the bare cost of reading
the same files with python-calamine alone (the floor).

Targets: the department month's run within 1.5× of a process that imports the same stack
(pandas, openpyxl, xlsxwriter, click) and reads the same files with python-calamine; the HQ month
within 1.5× the read and write floors together and ≤ 800 MB peak memory. Beside the read floor it
prints a write floor: xlsxwriter writing the values of the run's output cells and nothing else,
the least a run that writes those outputs spends. Each measurement is a separate process, as staff
run it, and each time the median of several (7 at department scale, 3 at HQ), the run taken in
turn with its floors; peak memory is the largest process's maximum resident set and, sampled in one
more run, the largest total of all its processes at one moment. Generated folders are kept in --data
(default: a folder under the system temp directory) and reused, since writing the HQ month takes
minutes.

    python benchmarks/bench_run.py                 # both scales
    python benchmarks/bench_run.py --scale department
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import kis_batch
from kis_batch.demo import CONTRACT_SHARE, HANDLING_WEIGHTS, write_demo
from kis_batch.ledger.rows import decode_rows
from kis_batch.outputs import HISTORY

MONTH, TODAY = dt.date(2026, 11, 1), dt.date(2026, 11, 27)
DEPARTMENT_STACK_RATIO = 1.5
HQ_FLOORS_RATIO = 1.5
HQ_MEMORY_TARGET_MB = 800
REPEATS = {"department": 7, "hq": 3}


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    engineers: int
    specialists: int
    calls_per_day: tuple[int, int]
    remote_percent: int = HANDLING_WEIGHTS["远程处理"]
    contract_share: float = CONTRACT_SHARE


SCALES = {
    "department": Scale("department", 800, 6, 3, (40, 80)),
    # The HQ month: ≈ 300,000 calls over the month's 20 working days up to the 27th,
    # ≈ 100,000 feedback rows (a third of the calls handled remotely, each a feedback row) and
    # ≈ 50,000 fee contracts. Measured with this seed: 297,403 calls, 100,969 feedback rows,
    # 50,312 contracts.
    "hq": Scale("hq", 50_000, 300, 30, (12_360, 18_540), remote_percent=32, contract_share=0.88),
}

FLOOR_SCRIPT = """
import sys, pathlib, python_calamine as c
if sys.argv[2:] == ["stack"]:  # the department's floor: the same stack imported, as the command does
    import click, openpyxl, pandas, xlsxwriter
rows = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx")):
    book = c.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
print(rows)
"""

# The other floor: writing the cells of the run's output workbooks with xlsxwriter alone, values
# only (no formats, widths, dropdowns or colours), in one process. Reading them back is not timed.
WRITE_FLOOR_SCRIPT = """
import datetime, pathlib, sys, tempfile, time, python_calamine as c, xlsxwriter
books = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx")):
    book = c.CalamineWorkbook.from_path(str(path))
    books.append([(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names])
cells = 0
start = time.perf_counter()
with tempfile.TemporaryDirectory() as scratch:
    for number, sheets in enumerate(books):
        workbook = xlsxwriter.Workbook(f"{scratch}/{number}.xlsx", {"in_memory": True})
        for name, rows in sheets:
            sheet = workbook.add_worksheet(name)
            for r, row in enumerate(rows):
                for col, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    cells += 1
                    if isinstance(value, str):
                        sheet.write_string(r, col, value)
                    elif isinstance(value, (datetime.date, datetime.time)):
                        sheet.write_datetime(r, col, value)
                    else:
                        sheet.write_number(r, col, value)
        workbook.close()
print(time.perf_counter() - start, cells)
"""

# Runs a command and prints, after its output, the largest single process (KB) and, when asked
# (a first argument "tree"), the largest total over the process tree at one moment: the command
# and the reading and writing workers it forks, in proportional set size so pages the workers
# share with their parent count once (Linux only, elsewhere 0). Sampling costs CPU, so timing
# runs do not sample.
PEAK_WRAPPER = """
import pathlib, resource, subprocess, sys, time

def tree(pid):
    found = [pid]
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [p for c in (task / "children").read_text().split() for p in tree(int(c))]
        except OSError:
            pass
    return found

def pss_kb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

sample = sys.argv[1] == "tree"
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, text=True)
total = 0
while sample and child.poll() is None:
    total = max(total, sum(pss_kb(p) for p in tree(child.pid)))
    time.sleep(0.1)
sys.stdout.write(child.stdout.read())
child.wait()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, total)
sys.exit(child.returncode)
"""


def _timed(command: list[str], tree: bool = False) -> tuple[float, int, int, str]:
    """Wall seconds, peak resident MB of the largest process, peak MB of the whole process tree
    (0 unless tree), and the command's stdout."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, "tree" if tree else "time", *command],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    *output, peaks = done.stdout.rstrip("\n").split("\n")
    largest_kb, total_kb = map(int, peaks.split())
    return seconds, largest_kb // 1024, total_kb // 1024, "\n".join(output)


def _folder(scale: Scale, data: Path) -> Path:
    """The scale's month, generated unless a complete one of the same shape is there already."""
    folder = data / scale.name
    marker = folder / ".complete"
    if not marker.exists() or marker.read_text() != repr(scale):
        shutil.rmtree(folder, ignore_errors=True)  # an older shape's other files would stay beside the new ones
        start = time.perf_counter()
        print(f"[{scale.name}] generating the month …", flush=True)
        write_demo(folder, MONTH, TODAY, customers=scale.customers, engineers=scale.engineers,
                   specialists=scale.specialists, calls_per_day=scale.calls_per_day,
                   remote_percent=scale.remote_percent, contract_share=scale.contract_share)
        marker.write_text(repr(scale))
        print(f"[{scale.name}] generated in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def measure(scale: Scale, data: Path) -> None:
    folder = _folder(scale, data)
    files = sum(1 for _ in folder.rglob("*.xlsx"))
    out = data / f"{scale.name}-out"
    command = [sys.executable, "-m", "kis_batch", "run", str(folder), "--date", TODAY.isoformat(), "--out", str(out)]
    # This machine is noisy: each figure is the median of several measurements, the run taken in
    # turn with its floors so a slow minute slows both alike.
    reads, stacks, runs, writes = [], [], [], []
    for _ in range(REPEATS[scale.name]):
        read_s, floor_mb, _, rows_text = _timed([sys.executable, "-c", FLOOR_SCRIPT, str(folder)])
        reads.append(read_s)
        stacks.append(_timed([sys.executable, "-c", FLOOR_SCRIPT, str(folder), "stack"])[0])
        runs.append(_timed(command)[:2])
        done = subprocess.run([sys.executable, "-c", WRITE_FLOOR_SCRIPT, str(out / TODAY.isoformat())],
                              capture_output=True, text=True, check=True)
        writes.append(float(done.stdout.split()[0]))
        cells = int(done.stdout.split()[1])
    floor_s, stack_s, write_s = _median(reads), _median(stacks), _median(writes)
    runs.sort()
    run_s, run_mb = runs[len(runs) // 2]
    _, _, tree_mb, _ = _timed(command, tree=True)  # one more run, sampled for memory only
    rows = int(rows_text.strip())
    print(f"[{scale.name}] {files} files, {rows:,} sheet rows, {os.cpu_count()} cores")
    print(f"  bare calamine read : {floor_s:6.2f} s (median)   peak {floor_mb:5d} MB")
    print(f"  read with the stack imported (pandas, openpyxl, xlsxwriter, click): {stack_s:6.2f} s (median)")
    spread = f" (median of {len(runs)}: {runs[0][0]:.2f}–{runs[-1][0]:.2f} s)"
    print(f"  kis-batch run      : {run_s:6.2f} s{spread}   peak {run_mb:5d} MB (largest process), {tree_mb:5d} MB (all "
          f"processes together)   {rows / run_s:,.0f} rows/s")
    print(f"  bare xlsxwriter write of the outputs' {cells:,} cells: {write_s:6.2f} s (median; one process, values only)")
    print(f"  ratio run / floor  : {run_s / floor_s:6.2f}   (run / (read + write floors): "
          f"{run_s / (floor_s + write_s):.2f})")
    if scale.name == "department":
        ratio = run_s / stack_s
        print(f"  ratio run / stack read: {ratio:6.2f}   target ≤ {DEPARTMENT_STACK_RATIO}×: "
              f"{'met' if ratio <= DEPARTMENT_STACK_RATIO else 'NOT met'}")
    else:
        memory = max(run_mb, tree_mb)
        ok = run_s <= HQ_FLOORS_RATIO * (floor_s + write_s) and memory <= HQ_MEMORY_TARGET_MB
        print(f"  target ≤ {HQ_FLOORS_RATIO}× (read + write floors) and ≤ {HQ_MEMORY_TARGET_MB} MB: "
              f"{'met' if ok else 'NOT met'}")
        _print_carry_forward(out)


def _print_carry_forward(out: Path) -> None:
    """The month's carry-forward the run recorded (期初, docs/rules.md § A month's life): its rows, its
    size and what reading it back costs a later run; a figure, not a target."""
    start = time.perf_counter()
    with sqlite3.connect(out / HISTORY) as db:
        kept = dict(db.execute("SELECT tbl, rows FROM carried"))
    carried = {key: decode_rows(key, text) for key, text in kept.items()}
    read_s = time.perf_counter() - start
    size = sum(len(text.encode()) for text in kept.values())
    print(f"  carry-forward      : {sum(len(f) for f in carried.values()):,} rows "
          f"({', '.join(f'{key} {len(frame):,}' for key, frame in carried.items())}), {size / 2**20:.1f} MB of JSON; "
          f"read back and typed in {read_s * 1000:.0f} ms")


def main() -> None:
    # As after a normal install or a first run: compiled modules cached. Without this, a machine with
    # PYTHONDONTWRITEBYTECODE set compiles the package on every run (about 0.3 s of the department's).
    compileall.compile_dir(Path(kis_batch.__file__).parent, quiet=1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="both")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kis-batch-bench")
    args = parser.parse_args()
    for name in SCALES if args.scale == "both" else [args.scale]:
        measure(SCALES[name], args.data)


if __name__ == "__main__":
    main()
