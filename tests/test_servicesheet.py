"""The printable 服务单 of each engineer's dispatch workbook (docs/rules.md § Outputs): one A4
portrait page per visit in route order, text only, passed over when the filled workbook comes back."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from kis_batch import pipeline
from kis_batch.ingest import Inbox, load_folder
from kis_batch.outputs import PERSON_DISPATCH_OUTPUT
from kis_batch.schema import SERVICE_SHEET
from tests.builders import header_row
from tests.conftest import EXAMPLE, pdf_pages, pdf_text
from tests.test_suggestions import PLAN as SUGGESTION_PLAN
from tests.test_suggestions import TODAY as SUGGESTION_DAY
from tests.test_suggestions import month_folder

PLAN = dt.date(2026, 11, 30)  # the working day after the example month's D
# Has a ticket moved to him from 汪洋, who is on leave.
ENGINEER = "范一鸣"
TITLE = re.compile(r"服务单\s*第 (\d+) 站（共 (\d+) 站）")


def table_rows(sheet: Any) -> list[dict[str, Any]]:
    top, columns = header_row(sheet, "工单号")
    return [{header: sheet.cell(row, column).value for header, column in columns.items()}
            for row in range(top + 1, sheet.max_row + 1)]


def blocks(sheet: Any) -> list[tuple[int, dict[str, Any]]]:
    """Each page of a 服务单 sheet: its first row, and its title, header lines and labelled fields
    (a label in column A or C, its value to the right)."""
    starts = [row for row in range(1, sheet.max_row + 1) if TITLE.fullmatch(str(sheet.cell(row, 1).value or ""))]
    pages = []
    for start, end in zip(starts, [*starts[1:], sheet.max_row + 1], strict=True):
        fields: dict[str, Any] = {"title": sheet.cell(start, 1).value, "flag": sheet.cell(start, 4).value,
                                  "date": sheet.cell(start + 1, 1).value, "engineer": sheet.cell(start + 1, 3).value}
        for row in range(start + 2, end):
            for label_col in (1, 3):
                label = sheet.cell(row, label_col).value
                if isinstance(label, str):
                    fields.setdefault(label, sheet.cell(row, label_col + 1).value)
        pages.append((start, fields))
    return pages


def test_each_row_of_the_table_sheet_is_a_page_of_the_service_sheet(example_run) -> None:
    result = example_run
    people = [p for p in result.outputs if p.name.startswith(f"派工单_{PLAN.isoformat()}_")]
    assert len(people) == 8
    pages_in_all = 0
    for path in people:
        book = openpyxl.load_workbook(path)
        name = path.stem.rsplit("_", 1)[1]
        assert book.sheetnames == [name, SERVICE_SHEET]
        assert book.active.title == name  # the table sheet is the one that opens and comes back
        rows, sheet = table_rows(book[name]), book[SERVICE_SHEET]
        pages = blocks(sheet)
        assert len(pages) == len(rows) > 0
        pages_in_all += len(pages)
        for stop, (row, (start, page)) in enumerate(zip(rows, pages, strict=True), start=1):
            assert row["路线顺序"] == stop
            # The company and its hotline head every page (settings 公司名称, 服务热线; here the defaults).
            assert (sheet.cell(start - 1, 1).value, sheet.cell(start - 1, 3).value) == (
                "金蝶KIS授权服务商", "服务热线：4008-830-830")
            assert TITLE.fullmatch(page["title"]).groups() == (str(stop), str(len(rows)))
            assert page["date"] == "服务日期：2026-11-30（星期一）"
            assert page["engineer"] == f"服务工程师：{name}"
            shown = {header: page[label] for header, label in (
                ("工单号", "工单号"), ("客户编号", "客户编号"), ("客户名称", "客户名称"), ("联系人", "联系人"),
                ("联系电话", "联系电话"), ("地址", "地址"), ("报修问题", "问题描述"), ("原服务代表", "原服务代表"),
                ("服务类型", "服务类型"))}
            assert shown == {header: row[header] for header in shown}
            assert (page["flag"] == "★ 重点客户") == (row["重点客户"] == "是")
            assert page["服务方式"] == "☐ 上门　　☐ 远程"
            assert page["处理结果"] == "☐ 已解决　　☐ 部分解决　　☐ 未解决"
            assert page["客户满意度"] == "☐ 非常满意　　☐ 满意　　☐ 一般　　☐ 不满意"
            for box in ("处理情况", "客户签字"):
                assert box in page and page[box] is None
    assert pages_in_all == result.figures.dispatch.assigned


def test_the_service_sheet_prints_a_page_per_visit_on_a4_portrait_one_page_wide(example_run) -> None:
    result = example_run
    book = openpyxl.load_workbook(result.out_dir / PERSON_DISPATCH_OUTPUT.file_name(PLAN, ENGINEER))
    sheet = book[SERVICE_SHEET]
    starts = [start for start, _ in blocks(sheet)]
    assert starts[0] == 2 and len(starts) == 3  # under the letterhead
    # A break after the last row of each page but the last (the row before the next letterhead).
    assert [brk.id for brk in sheet.row_breaks.brk] == [start - 2 for start in starts[1:]]
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "portrait"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_area == f"'{SERVICE_SHEET}'!$A$1:$D${sheet.max_row}"
    assert not sheet.print_options.gridLines and not sheet.sheet_view.showGridLines
    assert (sheet.page_margins.left, sheet.page_margins.top) == (0.5, 0.5)
    # Large type: the title above 20 pt, every field 14 pt or more.
    fonts = {cell.font.sz for row in sheet.iter_rows() for cell in row if cell.value}
    assert min(fonts) >= 14 and max(fonts) >= 20
    # Text only: no formula, and a phone keeps its leading zero.
    values = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert {cell.data_type for cell in values} == {"s"}
    assert any(cell.value.startswith("0571") for cell in values)
    # The customer signs and dates each page.
    assert sum(cell.value == "日期：　　年　　月　　日" for cell in values) == len(starts)


def test_a_suggested_visit_prints_as_an_optional_visit_without_a_ticket(tmp_path: Path) -> None:
    result = pipeline.run(month_folder(tmp_path / "in"), SUGGESTION_DAY, tmp_path / "out")
    book = openpyxl.load_workbook(result.out_dir / PERSON_DISPATCH_OUTPUT.file_name(SUGGESTION_PLAN, "张伟"))
    rows, pages = table_rows(book["张伟"]), [page for _, page in blocks(book[SERVICE_SHEET])]
    assert [row["类别"] for row in rows] == ["派工"] + ["建议拜访"] * 6
    assert len(pages) == 7
    ticket, visit = pages[0], pages[1]
    assert ticket["工单号"] == rows[0]["工单号"] and "问题描述" in ticket and "建议拜访" not in (ticket["flag"] or "")
    assert visit["flag"].startswith("建议拜访（可选）") and visit["工单号"] == "无（主动拜访）"
    assert visit["拜访原因"] == rows[1]["报修问题"] and visit["服务类型"] == "客户拜访"
    assert visit["客户名称"] == rows[1]["客户名称"]


def _load(folder: Path) -> Inbox:
    return load_folder(folder, PLAN)


def _feedback(inbox: Inbox) -> pd.DataFrame:
    return inbox.tables["feedback"].sort_values(["service_date", "staff", "customer_id", "ticket_id"],
                                                key=lambda c: c.astype(str)).reset_index(drop=True)


def test_the_filled_workbook_comes_back_as_feedback_and_the_service_sheet_is_passed_over(example_run, tmp_path) -> None:
    result = example_run
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    before = _load(folder)

    # The engineer fills the table sheet for the first visit, as in Excel, and drops the workbook back.
    returned = folder / f"{ENGINEER}反馈1130.xlsx"
    book = openpyxl.load_workbook(result.out_dir / PERSON_DISPATCH_OUTPUT.file_name(PLAN, ENGINEER))
    table = book[ENGINEER]
    top, columns = header_row(table, "工单号")
    for header, value in {"处理结果": "已解决", "到达时间": "9:30", "离开时间": "10:40", "电话预约": "是",
                          "客户满意度": "满意", "客户签字": "是"}.items():
        table.cell(top + 1, columns[header]).value = value
    first_ticket = table.cell(top + 1, columns["工单号"]).value
    book.save(returned)
    with_sheet = _load(folder)
    # The same workbook without its 服务单: what it gives is exactly what the table sheet says.
    del book[SERVICE_SHEET]
    book.save(returned)
    without_sheet = _load(folder)

    assert [p for p in with_sheet.problems if SERVICE_SHEET in (p.sheet or "")] == []
    assert with_sheet.problems == without_sheet.problems == before.problems
    record = next(f for f in with_sheet.files if f.path.endswith(returned.name))
    assert list(record.sheets) == [ENGINEER] and record.rows_rejected == 0
    assert len(with_sheet.tables["feedback"]) == len(before.tables["feedback"]) + 3
    pd.testing.assert_frame_equal(_feedback(with_sheet), _feedback(without_sheet))
    back = with_sheet.tables["feedback"]
    back = back[back["service_date"] == PLAN].set_index("ticket_id")
    assert back.loc[first_ticket, "result"] == "已解决" and back.loc[first_ticket, "arrive"] == dt.time(9, 30)


def test_the_service_sheet_prints_one_pdf_page_per_visit(example_run, to_pdf) -> None:
    result = example_run
    path = result.out_dir / PERSON_DISPATCH_OUTPUT.file_name(PLAN, ENGINEER)
    visits = table_rows(openpyxl.load_workbook(path)[ENGINEER])
    [pdf] = to_pdf(path)
    sizes = pdf_pages(pdf)
    pages = [re.sub(r"\s+", "", page) for page in pdf_text(pdf)]
    assert len(pages) == len(sizes)
    service = [(page, size) for page, size in zip(pages, sizes, strict=True) if "站（共" in page]
    assert len(service) == len(visits) == 3
    # The table sheet's page(s) first, then one page per visit, in route order, each on portrait A4.
    assert len(pages) - len(service) >= 1 and "站（共" not in pages[0]
    for stop, ((page, (width, height)), visit) in enumerate(zip(service, visits, strict=True), start=1):
        assert f"第{stop}站（共{len(visits)}站）" in page
        assert visit["客户名称"] in page and visit["联系电话"] in page and visit["工单号"] in page
        assert width < height and round(height) == 842
