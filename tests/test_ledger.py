"""A department's months in one OUT (docs/rules.md § A month's life): November's example closed by
December's first run, then its call logs and feedback archived: the next day's workbooks are the
same as with the full inbox; a close is recorded once, 反结账 keeps a version and says what changed,
a folder missing the month's rows cannot close it, a skipped first working day still closes, and a
closed month's file changed later is one 警告."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kis_batch import history, pipeline
from kis_batch.cli import main
from kis_batch.outputs import HISTORY
from tests.conftest import EXAMPLE_TODAY

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
NOVEMBER_27, DECEMBER_1, DECEMBER_2 = dt.date(2026, 11, 27), dt.date(2026, 12, 1), dt.date(2026, 12, 2)


def _values(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """November run and closed by December's first run; then the next day from the full inbox and
    from the inbox with every file the close named archived, each into its own copy of OUT."""
    root = tmp_path_factory.mktemp("ledger")
    full, archived, out_full = root / "full", root / "archived", root / "out_full"
    shutil.copytree(EXAMPLE, full)
    pipeline.run(full, NOVEMBER_27, out_full)
    closing = pipeline.run(full, DECEMBER_1, out_full)
    shutil.copytree(full, archived)
    for name in closing.archivable:
        (archived / name).unlink()
    out_archived = root / "out_archived"
    shutil.copytree(out_full, out_archived)
    return {"closing": closing, "full": full, "archived": archived, "out_full": out_full,
            "out_archived": out_archived, "next_full": pipeline.run(full, DECEMBER_2, out_full),
            "next_archived": pipeline.run(archived, DECEMBER_2, out_archived)}


def test_the_first_run_of_december_closes_november_and_names_the_files_that_may_go(months):
    closing = months["closing"]
    assert closing.closed_months == ("2026-11",) and closing.closed_month == "2026-11"
    archivable = set(closing.archivable)
    assert "热线记录_2026-11-27.xlsx" in archivable and "服务反馈单_何雪梅_2026-11-03.xlsx" in archivable
    # Master files, 投诉处理 and the excerpt of months not closed stay.
    assert not archivable & {"客户档案.xlsx", "员工名单.xlsx", "投诉处理.xlsx", "热线记录_往月摘录.xlsx"}


def test_archiving_a_closed_month_changes_no_workbook_of_the_next_day(months):
    full, archived = months["next_full"], months["next_archived"]
    assert archived.carried_rows > 0 and full.carried_rows == 0
    assert len(archived.inbox.files) < 20 < len(full.inbox.files)
    assert archived.figures.dispatch.assigned == full.figures.dispatch.assigned > 0
    assert archived.figures.complaints.open == full.figures.complaints.open == 4
    names = sorted(p.name for p in full.outputs if p.suffix == ".xlsx" and not p.name.startswith("校验报告"))
    assert any(n.startswith("派工单") for n in names) and any(n.startswith("客户跟踪") for n in names)
    for name in names:
        assert _values(full.out_dir / name) == _values(archived.out_dir / name), name
    # The close stands as it was made: one version, as of November's last day.
    versions = history.close_versions(months["out_archived"] / HISTORY, "2026-11")
    assert [(v.version, v.as_of) for v in versions] == [(1, dt.date(2026, 11, 30))]


def test_a_close_of_a_closed_month_changes_nothing(months):
    out = months["out_full"]
    book = out / "2026-11" / "月度考核_2026-11.xlsx"
    before = book.stat().st_mtime_ns
    result = CliRunner().invoke(main, ["report", str(months["full"]), "--month", "2026-11", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026-11 已于" in result.output and "--reopen" in result.output
    assert book.stat().st_mtime_ns == before
    assert len(history.close_versions(out / HISTORY, "2026-11")) == 1


def test_a_close_from_a_folder_missing_the_months_rows_refuses_and_names_both_counts(months):
    out = months["out_archived"]
    result = CliRunner().invoke(main, ["report", str(months["archived"]), "--month", "2026-11", "--reopen",
                                       "--out", str(out)])
    assert result.exit_code == 1
    close = history.close_versions(out / HISTORY, "2026-11")[-1]
    assert "只有该月 0 行" in result.output and f"上次见到 {close.rows} 行" in result.output
    assert len(history.close_versions(out / HISTORY, "2026-11")) == 1


def test_reopen_keeps_the_earlier_close_and_prints_what_changed(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    early = runner.invoke(main, ["report", str(EXAMPLE), "--month", "2026-11", "--date", "2026-11-20", "--out", str(out)])
    assert early.exit_code == 1, early.output  # the rows after 11-20 are errors on that day, and left out
    reopened = runner.invoke(main, ["report", str(EXAMPLE), "--month", "2026-11", "--date", "2026-11-27", "--reopen",
                                    "--out", str(out)])
    assert reopened.exit_code == 0, reopened.output
    versions = history.close_versions(out / HISTORY, "2026-11")
    assert [(v.version, v.as_of) for v in versions] == [(1, dt.date(2026, 11, 20)), (2, dt.date(2026, 11, 27))]
    assert "已作为第 1 版保留" in reopened.output
    first, second = versions
    changed_figure = next(f for f in first.figures if first.figures[f] != second.figures[f])
    assert f"{changed_figure}：{first.figures[changed_figure]:g} → {second.figures[changed_figure]:g}" in reopened.output
    person = next(p for p in second.people if p["total"] != {q["staff_id"]: q for q in first.people}[p["staff_id"]]["total"])
    assert f"{person['name']}（{person['staff_id']}）总分：" in reopened.output


def test_a_skipped_first_working_day_closes_the_month_on_the_next_run(tmp_path):
    out = tmp_path / "out"
    pipeline.run(EXAMPLE, NOVEMBER_27, out)
    later = pipeline.run(EXAMPLE, DECEMBER_2, out)
    assert later.closed_months == ("2026-11",)
    assert (out / "2026-11" / "月度考核_2026-11.xlsx").is_file()
    assert pipeline.run(EXAMPLE, dt.date(2026, 12, 3), out).closed_months == ()


def test_a_closed_months_file_changed_later_gives_one_warning(tmp_path):
    folder, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(EXAMPLE, folder)
    pipeline.run(folder, DECEMBER_1, out)
    changed = folder / "热线记录_2026-11-26.xlsx"
    book = openpyxl.load_workbook(changed)
    sheet = book.worksheets[0]
    problem = next(c for c in sheet[1] if c.value in ("问题描述", "problem"))
    header_row = problem.row
    sheet.cell(header_row + 1, problem.column).value = "改过的问题描述"
    book.save(changed)
    result = pipeline.run(folder, DECEMBER_2, out)
    warnings = [p for p in result.inbox.problems if p.code.value == "closed-month"]
    assert [(p.severity.value, p.file) for p in warnings] == [("警告", changed.name)]
    assert "--reopen" in warnings[0].message
    # The closed figures are not touched.
    assert len(history.close_versions(out / HISTORY, "2026-11")) == 1


def test_a_history_written_before_the_ledger_keeps_its_closes_as_version_one(tmp_path):
    path = tmp_path / HISTORY
    db = sqlite3.connect(path, isolation_level=None)
    history.MIGRATIONS[0](db)
    db.execute("CREATE TABLE meta (schema_version INTEGER NOT NULL)")
    db.execute("INSERT INTO meta VALUES (1)")
    db.execute("INSERT INTO person_months VALUES ('2026-10', 'E01', '张伟', '服务工程师', '2026-10-31', 30, 30, 20, 10,"
               " 10, 0, 100, 'A', 1, 1)")
    db.execute("INSERT INTO month_figures VALUES ('2026-10', 'calls', 536, '2026-10-31', 1)")
    db.close()
    [close] = history.close_versions(path, "2026-10")
    assert (close.version, close.as_of, close.closed_at, dict(close.figures)) == (1, dt.date(2026, 10, 31), None,
                                                                                  {"calls": 536})
    assert [(p["staff_id"], p["total"]) for p in close.people] == [("E01", 100)]
    assert history.read_table(path, "month_figures")["value"].tolist() == [536]


def test_a_tables_json_is_the_same_however_many_rows_each_piece_holds(example_run, monkeypatch) -> None:
    """The carry-forward is encoded and written piece by piece; the text, and the rows it gives back,
    do not depend on the pieces."""
    from kis_batch.ledger import rows as ledger_rows

    calls = example_run.inbox.tables["calls"]
    whole = ledger_rows.encode_rows(calls)
    monkeypatch.setattr(ledger_rows, "ROWS_PER_PIECE", 7)
    assert len(list(ledger_rows.encoded_pieces(calls))) == 2 + -(-len(calls) // 7)
    assert ledger_rows.encode_rows(calls) == whole
    assert ledger_rows.decode_rows("calls", whole).equals(calls)
    assert json.loads(ledger_rows.encode_rows(calls.iloc[:0])) == {"columns": list(calls.columns), "rows": []}


def test_spooled_rows_read_back_as_encoded_and_leave_no_file(example_run, tmp_path) -> None:
    from kis_batch.ledger.rows import encode_rows, spool_rows

    tables = {key: example_run.inbox.tables[key] for key in ("calls", "feedback")}
    spooled = spool_rows(tmp_path / "D", tables, "carried")
    assert sorted(path.name for path in (tmp_path / "D").iterdir()) == [".carried_calls.tmp", ".carried_feedback.tmp"]
    assert dict(spooled) == {key: encode_rows(frame).encode("utf-8") for key, frame in tables.items()}
    spooled.discard()
    assert not list((tmp_path / "D").iterdir())


def test_the_carry_forward_reaches_the_history_and_no_spooled_file_stays(tmp_path) -> None:
    """A run spools its carry-forward in OUT/D until the history takes it; a run killed meanwhile
    leaves a hidden .tmp file, which the next run of the day removes."""
    out = tmp_path / "out"
    day = out / EXAMPLE_TODAY.isoformat()
    day.mkdir(parents=True)
    (day / ".carried_calls.tmp").write_text("half written", encoding="utf-8")
    pipeline.run(EXAMPLE, EXAMPLE_TODAY, out)
    assert not list(day.glob(".*.tmp"))
    with sqlite3.connect(out / HISTORY) as db:
        kept = dict(db.execute("SELECT tbl, rows FROM carried WHERE month = ?", (f"{EXAMPLE_TODAY:%Y-%m}",)))
    assert "calls" in kept and all(type(text) is str and text.startswith('{"columns": ') for text in kept.values())
