"""The example month (kis-batch demo): real workbooks written to disk and read back by the real
reader; it must load clean, look like the department docs/rules.md describes, and be reproducible."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from kis_batch import history
from kis_batch.calendar import WorkCalendar
from kis_batch.cli import main
from kis_batch.demo import write_demo
from kis_batch.ingest import Inbox, load_folder
from kis_batch.outputs import HISTORY
from kis_batch.problems import Code, Severity
from kis_batch.schema import ENGINEER, HOTLINE, IMPLEMENTER, MANAGER_ROLES, VISIT_TYPE
from kis_batch.settings import Settings

MONTH = dt.date(2026, 11, 1)
TODAY = dt.date(2026, 11, 27)  # a Friday, in the last three working days of November
CALENDAR = WorkCalendar()
# A small department keeps the reproducibility tests fast.
SMALL = {"customers": 120, "engineers": 2, "specialists": 1, "calls_per_day": (10, 20)}
SMALL_TODAY = dt.date(2026, 11, 10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Inbox]:
    folder = tmp_path_factory.mktemp("demo")
    written = write_demo(folder, MONTH, TODAY)
    return written, load_folder(folder, TODAY)


def _contents(paths: list[Path]) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths}


def test_the_month_loads_without_errors_and_hardly_a_warning(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    errors = [p for p in inbox.problems if p.severity is Severity.ERROR]
    warnings = [p for p in inbox.problems if p.severity is Severity.WARNING]
    assert errors == []
    assert len(warnings) <= 5, warnings
    assert all(f.rows_rejected == 0 for f in inbox.files)


def test_every_written_file_is_in_the_folder_and_read(demo: tuple[list[Path], Inbox]) -> None:
    written, inbox = demo
    assert sorted(f.path for f in inbox.files) == sorted(p.name for p in written)
    assert all(f.status == "read" and f.sheets for f in inbox.files)


def test_the_department_has_spec_size_and_roles(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    staff = inbox.tables["staff"]
    roles = Counter(staff["role"])
    assert roles == {MANAGER_ROLES[0]: 1, MANAGER_ROLES[1]: 1, ENGINEER: 6, IMPLEMENTER: 3, HOTLINE: 1}
    assert list(staff["staff_id"]) == [f"E{n:02d}" for n in range(1, 13)]
    assert staff["email"].isna().sum() == 1  # one person to report as having no address
    customers = inbox.tables["customers"]
    assert len(customers) == 800
    assert customers["customer_id"].iloc[0] == "C0001"
    assert 0.05 <= customers["key_customer"].mean() <= 0.2
    assert set(customers["owner"]) == set(staff.loc[staff["role"] == ENGINEER, "staff_id"])
    assert customers["phone"].str.startswith("0").any()  # leading zeros kept as text
    assert set(customers["segment"]) == {"普通", "大客户", "集团客户", "异地客户"}
    assert len(inbox.tables["area_distance"]) > 0


def test_calls_come_every_working_day_within_the_range(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    calls = inbox.tables["calls"]
    calls = calls[pd.to_datetime(calls["call_time"]).dt.date >= MONTH]  # the month's, not the earlier calls kept
    per_day = calls.groupby(pd.to_datetime(calls["call_time"]).dt.date).size()
    assert list(per_day.index) == CALENDAR.workdays(MONTH, TODAY)
    assert per_day.between(40, 80).all()
    busy = [d for d in per_day.index if d.weekday() == 0 or d in CALENDAR.month_workdays(MONTH)[-3:]]
    assert per_day[busy].mean() > per_day.drop(busy).mean()
    times = pd.to_datetime(calls["call_time"]).dt.time
    assert times.between(dt.time(8, 30), dt.time(17, 30)).all()
    categories = calls["category"].value_counts(normalize=True)
    assert categories.index[0] in ("操作咨询", "软件故障")
    assert 0 < categories["投诉"] < 0.05
    handling = calls["handling"].value_counts(normalize=True)
    assert 0.45 <= handling["电话已解决"] <= 0.65 and 0.18 <= handling["需上门"] <= 0.32


def test_feedback_respects_the_cap_and_quota_progress_varies(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    staff = inbox.tables["staff"]
    feedback = inbox.tables["feedback"]
    engineers = staff.loc[staff["role"] == ENGINEER, "staff_id"]
    assert set(engineers) <= set(feedback["staff"])
    on_site = feedback[feedback["mode"] == "上门"]
    assert on_site.groupby(["staff", "service_date"]).size().max() <= Settings().daily_cap
    visits = feedback[feedback["service_type"] == VISIT_TYPE].groupby("staff").size().reindex(engineers, fill_value=0)
    assert visits.min() >= 4 and visits.max() <= 21 and visits.max() - visits.min() >= 5
    assert (feedback["leave"] >= feedback["arrive"]).all()
    assert set(feedback["result"]) == {"已解决", "部分解决", "未解决"}
    assert (feedback["phoned_ahead"] == False).any()  # noqa: E712 - a yes/no column
    assert feedback["manager_score"].notna().any()
    implementation = feedback[feedback["service_type"] == "实施"]
    assert set(implementation["staff"]) <= set(staff.loc[staff["role"] == IMPLEMENTER, "staff_id"])


def test_only_some_of_todays_feedback_is_back(demo: tuple[list[Path], Inbox]) -> None:
    written, _ = demo
    today = [p for p in written if p.name.startswith("服务反馈单_") and p.stem.endswith(TODAY.isoformat())]
    yesterday = [p for p in written if p.name.startswith("服务反馈单_") and p.stem.endswith("2026-11-26")]
    assert 0 < len(today) < len(yesterday)


def test_complaints_leave_and_callbacks(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    assert (inbox.tables["calls"]["category"] == "投诉").sum() > 0
    callbacks = inbox.tables["callbacks"]
    assert 1 <= callbacks["complaint"].sum() <= 5
    assert (callbacks["verified"] == "否").sum() in (1, 2)
    assert set(callbacks["kind"]) == {"当日核实", "月度抽查", "满意度回访"}
    assert callbacks["date"].max() <= TODAY
    plan = CALENDAR.next_workday(TODAY)
    leave = inbox.tables["leave"]
    covering = leave[(leave["start"] <= plan) & (leave["end"] >= plan)]
    engineers = set(inbox.tables["staff"].query("role == @ENGINEER")["staff_id"])
    assert set(covering["staff_id"]) & engineers
    assert len(leave) >= 3


def test_group_customers_have_two_groups_and_some_tracked_calls_are_older(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    customers = inbox.tables["customers"]
    groups = customers.loc[customers["segment"] == "集团客户", "group"]
    assert groups.notna().all() and groups.nunique() == 2
    assert customers.loc[customers["segment"] != "集团客户", "group"].isna().all()
    calls = inbox.tables["calls"]
    earlier = calls[pd.to_datetime(calls["call_time"]).dt.date < MONTH]
    tracked = customers[(customers["key_customer"] == True) | (customers["segment"] != "普通")]  # noqa: E712
    assert len(earlier) > 0 and set(earlier["customer_id"]) <= set(tracked["customer_id"])
    assert set(earlier["handling"]) == {"电话已解决"}


def test_fees_mix_every_state(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    fees = inbox.tables["fees"]
    assert 500 <= len(fees) <= 700
    assert fees["amount"].between(1800, 12000).all()
    assert (fees["end"].between(TODAY, TODAY + dt.timedelta(days=60))).sum() > 0
    assert (fees["end"] < TODAY).sum() > 0
    paid, amount = fees["paid"], fees["amount"]
    assert (paid >= amount).any() and ((paid > 0) & (paid < amount)).any() and (paid == 0).any()
    assert fees["approved"].isna().any()
    assert fees["customer_id"].value_counts().max() >= 2  # a renewal after an old contract


def test_settings_sheet_has_every_default(demo: tuple[list[Path], Inbox]) -> None:
    _, inbox = demo
    assert inbox.settings == Settings()
    assert len(inbox.tables["settings"]) > 0


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = _contents(write_demo(tmp_path / "a", MONTH, SMALL_TODAY, **SMALL))
    again = _contents(write_demo(tmp_path / "b", MONTH, SMALL_TODAY, **SMALL))
    other = _contents(write_demo(tmp_path / "c", MONTH, SMALL_TODAY, seed=7, **SMALL))
    assert first == again
    assert first["客户档案.xlsx"] != other["客户档案.xlsx"]


def test_a_large_department_returns_feedback_weekly(tmp_path: Path) -> None:
    written = write_demo(tmp_path, MONTH, SMALL_TODAY, customers=300, engineers=51, specialists=1, calls_per_day=(10, 20))
    feedback = [p.stem.split("_") for p in written if p.name.startswith("服务反馈单_")]
    weeks = {dt.date.fromisoformat(day) for _, _, day in feedback}
    assert weeks <= {dt.date(2026, 11, 2), dt.date(2026, 11, 9)}
    assert max(Counter(name for _, name, _ in feedback).values()) <= 2


def test_remote_percent_and_contract_share_shape_the_month(tmp_path: Path) -> None:
    """The HQ benchmark's knobs: more remote handling gives more feedback rows, read back by the
    real reader, and a larger contract share a longer fee ledger."""
    usual = load_folder(_folder_of(write_demo(tmp_path / "usual", MONTH, SMALL_TODAY, **SMALL)), SMALL_TODAY)
    shaped = load_folder(_folder_of(write_demo(tmp_path / "shaped", MONTH, SMALL_TODAY, remote_percent=60,
                                               contract_share=1.0, **SMALL)), SMALL_TODAY)
    for inbox in (usual, shaped):
        assert [p for p in inbox.problems if p.severity is Severity.ERROR] == []
    remote = [(inbox.tables["calls"]["handling"] == "远程处理").mean() for inbox in (usual, shaped)]
    assert remote[1] > 2 * remote[0]
    assert len(shaped.tables["feedback"]) > 1.5 * len(usual.tables["feedback"])
    customers = len(usual.tables["customers"])
    assert len(usual.tables["fees"]) < 0.8 * customers <= customers <= len(shaped.tables["fees"])


def _folder_of(paths: list[Path]) -> Path:
    return paths[0].parent


@pytest.mark.parametrize("knob", [{"remote_percent": -1}, {"remote_percent": 80}, {"contract_share": 0},
                                  {"contract_share": 1.5}])
def test_a_knob_out_of_range_is_refused(tmp_path: Path, knob: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        write_demo(tmp_path, MONTH, SMALL_TODAY, **SMALL, **knob)


def test_today_before_the_month_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_demo(tmp_path, MONTH, dt.date(2026, 10, 30))


# A demo of several months, followed the way its printed sequence tells a clerk (docs/rules.md § A month's life).
MONTHS = ("2026-09", "2026-10", "2026-11")
TICKET_ID = re.compile(r"T\d{8}-\d+")


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[tuple[list[str], Result]]]:
    """demo --months 3, then every printed command in order into one OUT."""
    root = tmp_path_factory.mktemp("months")
    folder, out = root / "demo", root / "out"
    written = CliRunner().invoke(main, ["demo", str(folder), "--months", "3"])
    assert written.exit_code == 0, written.output
    commands = [shlex.split(line.strip())[1:] for line in written.output.splitlines()
                if line.startswith("  kis-batch ")]
    followed = []
    for args in commands:
        args[args.index("--out") + 1] = str(out)
        followed.append((args, CliRunner().invoke(main, args)))
    return folder, out, followed


def _tickets_in(path: Path) -> set[str]:
    """Every 工单号 anywhere in a workbook, read back with openpyxl."""
    book = openpyxl.load_workbook(path, read_only=True)
    return {cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
            if isinstance(cell, str) and TICKET_ID.fullmatch(cell)}


def test_the_months_sequence_runs_each_month_on_its_last_day_then_the_quarter(
        months: tuple[Path, Path, list[tuple[list[str], Result]]]) -> None:
    folder, _, followed = months
    assert [args[:2] for args, _ in followed] == [
        ["run", str(folder / "2026-09")], ["report", str(folder / "2026-09")],
        ["run", str(folder / "2026-10")], ["report", str(folder / "2026-10")],
        ["run", str(folder / "2026-11")], ["report", str(folder / "2026-11")]]
    assert [args[args.index("--date") + 1] for args, _ in followed if args[0] == "run"] == [
        "2026-09-30", "2026-10-30", "2026-11-27"]
    assert followed[-1][0][2:4] == ["--quarter", "2026-Q4"]
    for args, result in followed:
        assert result.exit_code == 0, (args, result.output)
        if args[0] == "run":
            assert "错误 0 条，警告 0 条" in result.output, result.output
    # Only the first month keeps the department's history from before the tool.
    assert [(folder / m / "热线记录_往月摘录.xlsx").exists() for m in MONTHS] == [True, False, False]


def test_each_earlier_month_is_closed_for_good_and_its_files_named_for_the_archive(
        months: tuple[Path, Path, list[tuple[list[str], Result]]]) -> None:
    _, out, followed = months
    assert {m: [c.version for c in history.close_versions(out / HISTORY, m)] for m in MONTHS} == {
        "2026-09": [1], "2026-10": [1], "2026-11": []}
    september_close = next(result for args, result in followed if args[:1] == ["report"] and "2026-09" in args)
    assert "可以移出收件夹归档" in september_close.output and "热线记录_2026-09-30.xlsx" in september_close.output
    later = [result for args, result in followed if args[0] == "run"][1:]
    assert all("从已结账月份结转" in result.output for result in later)


def test_the_open_work_of_a_month_is_served_in_the_next_from_the_carry_forward(
        months: tuple[Path, Path, list[tuple[list[str], Result]]]) -> None:
    """The tickets a month's last run left open (dispatched or 未派) come back in the next month's
    feedback; the next run knows them only from the carry-forward: read alone, the folder does not."""
    folder, out, _ = months
    for last_run, plan_day, later, later_run in (("2026-09-30", "2026-10-08", "2026-10", "2026-10-30"),
                                                 ("2026-10-30", "2026-11-02", "2026-11", "2026-11-27")):
        left_open = _tickets_in(out / last_run / f"派工单_{plan_day}.xlsx")
        assert left_open and all(t.startswith(f"T{last_run[:7].replace('-', '')}") for t in left_open)
        alone = load_folder(folder / later, dt.date.fromisoformat(later_run))
        served = set(alone.tables["feedback"]["ticket_id"].dropna())
        assert left_open & served
        unknown = {p.value for p in alone.problems if p.code is Code.UNKNOWN_REFERENCE}
        assert left_open & served <= unknown  # without the history they are tickets without a call


def test_all_the_months_in_one_inbox_have_no_duplicated_rows(
        months: tuple[Path, Path, list[tuple[list[str], Result]]], tmp_path: Path) -> None:
    """The old hand-made excerpt repeated earlier calls; now the months' files sit together in one
    inbox cleanly: every month's call logs, feedback and callbacks, and one set of master files (the
    latest, as a department keeps them)."""
    folder, _, _ = months
    inbox = tmp_path / "收件夹"
    shutil.copytree(folder / MONTHS[-1], inbox / MONTHS[-1])
    masters = {p.name for p in (folder / MONTHS[-1]).iterdir()} - {p.name for p in (folder / MONTHS[-1]).glob("*_20*")}
    for month in MONTHS[:-1]:
        shutil.copytree(folder / month, inbox / month, ignore=lambda _, names: [n for n in names if n in masters])
    together = load_folder(inbox, dt.date(2026, 11, 27))
    assert [p for p in together.problems if p.severity is Severity.ERROR] == []
    assert together.files and all(f.rows_repeated == 0 for f in together.files)
