"""回访_P.xlsx: the hotline's three call lists for P (当日核实, 月度抽查, 满意度回访), each row a customer to
phone, with who to ask for, the visit it is about, and the 回访记录 columns to fill in during the call.

A filled sheet dropped back into the folder is read as 回访记录 (the loop). So each sheet holds the
callback template's required headers, prefilled (回访日期 = P, 回访类型, 客户编号), and none that would make
it also look like a feedback sheet (服务日期), a call log (来电时间, 问题描述) or a customer list (区域).
服务代表 alone is safe: without 服务日期 the sheet cannot be a feedback sheet.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kis_batch.outputs import CALLBACKS_OUTPUT
from kis_batch.render.columns import CONTACT, PHONE, Col, col_from_schema, input_col
from kis_batch.render.paper import HANDWRITING_ROW_PT, Page
from kis_batch.render.saving import output_book
from kis_batch.render.style import ERROR_BG, Highlight, write_table
from kis_batch.rules.callbacks import CallbackPlan
from kis_batch.rules.display import percent_text
from kis_batch.schema import CALLBACKS, CUSTOMERS

DATE = input_col(CALLBACKS, "date", 10)
KIND = input_col(CALLBACKS, "kind", 9)
CUSTOMER_ID = input_col(CUSTOMERS, "customer_id", 7)
CUSTOMER_NAME = input_col(CUSTOMERS, "customer_name", 16, wrap=True)
TICKET = input_col(CALLBACKS, "ticket_id", 13.5)
STAFF = Col("staff_name", CALLBACKS.fields["staff"].zh, 6.5)  # the name, which reads back as the 工号
ABOUT = Col("about", "服务内容", 22, wrap=True)
REASON = Col("reason", "选取原因", 18, wrap=True)
FILL = tuple(replace(col_from_schema(CALLBACKS.fields[key], fill=True), width=width) for key, width in
             (("reached", 4.5), ("verified", 5), ("satisfaction", 7), ("complaint", 4.5), ("caller", 6),
              ("notes", 12)))

# Printed: who to call and about what, and the boxes to fill in during the call; after them the
# columns the sheet needs to come back, the same on every row (回访日期, 回访类型) or for the record.
VERIFICATION_PRINTED = (CUSTOMER_ID, CUSTOMER_NAME, CONTACT, PHONE, STAFF, ABOUT, *FILL)
SAMPLE_PRINTED = (CUSTOMER_ID, CUSTOMER_NAME, CONTACT, PHONE, STAFF, ABOUT, REASON, *FILL)
VERIFICATION_COLUMNS = (*VERIFICATION_PRINTED, DATE, KIND, TICKET)
SAMPLE_COLUMNS = (*SAMPLE_PRINTED, DATE, KIND, TICKET)
# Once filled: a visit the customer denies, or a complaint, stands out.
FINDINGS = (Highlight("verified", "text", ("verified", "否"), ERROR_BG),
            Highlight("complaint", "text", ("complaint", "是"), ERROR_BG))


def _titles(plan: CallbackPlan) -> tuple[str, str, str]:
    """Each sheet's first line: the day, how many calls, and the target it keeps on course."""
    day = plan.plan_date.isoformat()
    f = plan.figures
    checks = " ".join(f"{s['name']}{s['done']}/{s['target']}" for s in f["spot_checks"]) or "无服务工程师"
    return (
        f"当日核实 {day} {f['verification_time']} · {len(plan.verification)}家 · "
        "逐一电话核实工程师是否上门、问题是否解决，填写黄色列后交回",
        f"月度抽查 {day} · {len(plan.spot_checks)}家 · 本月已抽查（每人目标{f['spot_check_target']}家）：{checks}",
        f"满意度回访 {day} · {len(plan.satisfaction)}家 · 本月回访覆盖 {f['reached']}/{f['coverage_target']}家"
        f"（客户{f['customers']}家×{percent_text(f['coverage_rule'])}）{'已达标' if f['reached'] >= f['coverage_target'] else ''}"
        f"，今日三张清单都接通后{f['reached_if_all_called']}家 · 本月还剩{f['workdays_left']}个工作日",
    )


def _page(printed: tuple[Col, ...], sheet: str) -> Page:
    """A list printed to fill in by hand during the calls; an empty list says so in one line."""
    return Page(printed=len(printed), row_pt=HANDWRITING_ROW_PT, empty=f"今天无{sheet}")


def write_callbacks(out_dir: Path, plan: CallbackPlan, written: list[Path]) -> None:
    """回访_P.xlsx with one sheet per list, each to fill in and drop back as 回访记录."""
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = _titles(plan)
    with output_book(out_dir, CALLBACKS_OUTPUT, plan.plan_date, written) as book:
        for sheet, rows, cols, printed, title in (
            ("当日核实", plan.verification, VERIFICATION_COLUMNS, VERIFICATION_PRINTED, titles[0]),
            ("月度抽查", plan.spot_checks, SAMPLE_COLUMNS, SAMPLE_PRINTED, titles[1]),
            ("满意度回访", plan.satisfaction, SAMPLE_COLUMNS, SAMPLE_PRINTED, titles[2]),
        ):
            write_table(book, sheet, rows, cols, title=title, highlights=FINDINGS, page=_page(printed, sheet))
