"""Every output, declared once (docs/rules.md § Outputs): its file name, the title the run's progress
line gives it, who is sent it and in what words, whether it comes back as input, and its writer. The
pipeline's writers, the mail plan, the result-workbook mark and the docs test all take them from here;
a new output is one declaration here plus its writer in kis_batch/render/."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from kis_batch.schema import ENGINEER, HOTLINE, IMPLEMENTER, MANAGER_ROLES

# A custom document property on output workbooks that are for reading only; the reader skips
# such a workbook if it is dropped back into the folder (only outputs declared comes_back are read).
REPORT_MARK = "kis-batch-report"
# How the mark reads inside the workbook's docProps/custom.xml.
REPORT_MARK_XML = f'name="{REPORT_MARK}"'.encode()

MANIFEST = "run.json"
# What mailing needs from the run (the roster and the mail settings), so mail never rereads the inbox.
MAIL_ROSTER = "mail.json"
SENT_LOG = "sent.json"
OUTBOX = "outbox"
# The month's close (docs/rules.md § Monthly close): OUT/YYYY-MM/ and the history beside the day folders.
HISTORY = "history.sqlite"

_FILE_NAME_FORBIDDEN = re.compile(r'[\\/:*?"<>|\s]+')
# How the docs write a person's name in a file name.
PERSON_MARK = "姓名"


class Dated(Enum):
    """The date an output's name carries, and so the folder it is written to; the value is how the
    docs write that date. In this order in a message: tomorrow's work, today's figures, the month's."""

    PLAN = "P"  # the plan day, in OUT/D
    TODAY = "D"  # the run's day, in OUT/D
    MONTH = "YYYY-MM"  # a closed month, in OUT/YYYY-MM
    QUARTER = "YYYY-Qn"  # a quarter's review, in OUT/YYYY-Qn

    @property
    def in_day_folder(self) -> bool:
        return self in (Dated.PLAN, Dated.TODAY)


@dataclass(frozen=True)
class Recipients:
    """Who is sent an output, in what words: people of these roles (for an output per person, each
    its own), with this line beside the file in their message."""

    roles: tuple[str, ...]
    words: str


@dataclass(frozen=True)
class Output:
    """One output: named title_date[_姓名]suffix. comes_back: read back as input when dropped in the
    inbox (so not marked as a report). writer "module:function" is called as function(folder,
    *needs, written=...) with the run's results named in needs; imported only when it writes, so a
    run does not load what only the month's close or the quarter uses. An output without a writer is
    written by the declaration before it (实施_D_姓名 with 实施_D). lists_problems: the output lists
    every problem of the run, so it is written again should a step after the writers find one."""

    title: str
    dated: Dated
    writer: str = ""
    needs: tuple[str, ...] = ()
    per_person: bool = False
    comes_back: bool = False
    mail: tuple[Recipients, ...] = ()
    lead: bool = False  # first in a message: the page to read before the rest
    lists_problems: bool = False
    suffix: str = ".xlsx"
    # A workbook whose sheets grow with the department (a row per contract, per open ticket): the
    # writer holds every cell until it saves, so two are not written at once where avoidable.
    large: bool = False

    @property
    def report_only(self) -> bool:
        return not self.comes_back

    def file_name(self, when: dt.date | str, person: str | None = None) -> str:
        """The name for a date (D or P) or period (2026-11, 2026-Q4), and one person's copy."""
        stamp = when.isoformat() if isinstance(when, dt.date) else when
        own = f"_{safe_file_part(person)}" if person is not None else ""
        return f"{self.title}_{stamp}{own}{self.suffix}"

    @property
    def documented(self) -> str:
        """The name as the docs' output tables write it, with its folder when not OUT/D."""
        name = f"{self.title}_{self.dated.value}{'_' + PERSON_MARK if self.per_person else ''}{self.suffix}"
        return name if self.dated.in_day_folder else f"../{self.dated.value}/{name}"

    def words_for(self, role: str) -> str | None:
        """The line a person of this role reads beside the file, or None if the role is not sent it."""
        return next((to.words for to in self.mail if role in to.roles), None)

    def write(self, folder: Path, results: Mapping[str, Any], written: list[Path]) -> None:
        module, _, function = self.writer.partition(":")
        writer = getattr(importlib.import_module(module), function)
        writer(folder, *(results[need] for need in self.needs), written=written)


def _managers(words: str) -> Recipients:
    """The manager and the assistant, who are sent every workbook of the day."""
    return Recipients(MANAGER_ROLES, words)


DISPATCH_OUTPUT = Output(
    "派工单", Dated.PLAN, "kis_batch.render.dispatch:write_dispatch_overview", ("dispatch", "sheets"), comes_back=True,
    mail=(_managers("全部派工、改派原因和未派工单"),), large=True)
PERSON_DISPATCH_OUTPUT = Output(
    "派工单", Dated.PLAN, "kis_batch.render.dispatch:write_person_sheets", ("sheets",), per_person=True, comes_back=True,
    mail=(Recipients((ENGINEER, IMPLEMENTER), "您的派工单，可打印带去现场"),))
SCORES_OUTPUT = Output(
    "评分", Dated.TODAY, "kis_batch.render.scores:write_scores", ("today", "scores", "tables"),
    mail=(_managers("当天反馈的逐项评分和本月累计"),))
QUOTAS_OUTPUT = Output(
    "指标缺口", Dated.TODAY, "kis_batch.render.quotas:write_quotas", ("today", "gaps"),
    mail=(_managers("本月问题解决和拜访指标的完成情况与缺口"),))
FEES_OUTPUT = Output(
    "年费", Dated.TODAY, "kis_batch.render.fees:write_fees", ("today", "fees"), comes_back=True,
    mail=(_managers("到期、逾期的年费和次日催收清单"),), large=True)
CALLBACKS_OUTPUT = Output(
    "回访", Dated.PLAN, "kis_batch.render.callbacks:write_callbacks", ("callbacks",), comes_back=True,
    mail=(_managers("回访清单：当日核实、月度抽查、满意度回访"), Recipients((HOTLINE,), "回访清单，填好后交回收件夹")))
QUALITY_OUTPUT = Output(
    "质量", Dated.TODAY, "kis_batch.render.quality:write_quality", ("today", "quality"),
    mail=(_managers("投诉、满意度、回访覆盖和违规"),))
CUSTOMERS_OUTPUT = Output(
    "客户跟踪", Dated.TODAY, "kis_batch.render.customers:write_customers", ("customers",),
    mail=(_managers("重点客户、大客户、集团客户、异地客户的联系和服务跟踪"),
          Recipients((HOTLINE,), "重点、大客户、集团、异地客户的跟踪，久未联系的标红")))
PROJECTS_OUTPUT = Output(  # comes back: its 验收 sheets, filled in
    "实施", Dated.TODAY, "kis_batch.render.projects:write_projects", ("projects", "settings", "tables"), comes_back=True,
    mail=(_managers("实施项目的阶段和逾期；待验收项目的验收单，填好后交回收件夹"),))
PERSON_PROJECTS_OUTPUT = Output(  # written by write_projects with 实施_D
    "实施", Dated.TODAY, per_person=True,
    mail=(Recipients((IMPLEMENTER,), "您负责的实施项目：阶段、上线/验收/交接是否逾期"),))
COMPLAINTS_OUTPUT = Output(  # comes back: its case rows, filled in, as 投诉处理
    "投诉跟踪", Dated.TODAY, "kis_batch.render.complaints:write_complaints", ("complaints",), comes_back=True,
    mail=(_managers("投诉案件跟踪：未结案（超期的上报总经理）、本月已结案、按责任"),
          Recipients((HOTLINE,), "投诉案件跟踪，填好处理措施、结案日期等黄色列后交回收件夹")))
MANAGER_OUTPUT = Output(
    "经理日报", Dated.TODAY, "kis_batch.render.manager:write_manager", ("summary", "gaps"), lead=True,
    mail=(_managers("一页汇总和图表，请先看这个"),))
REPORT_OUTPUT = Output(
    "校验报告", Dated.TODAY, "kis_batch.render.report:write_report", ("today", "inbox"), lists_problems=True,
    mail=(_managers("输入表格里的问题；错误要改正后重新放入收件夹"),))
EVALUATION_OUTPUT = Output(
    "月度考核", Dated.MONTH, "kis_batch.render.evaluation:write_evaluation", ("evaluation",),
    mail=(_managers("上月月度考核（今晚结算）"),))
MONTHLY_SUMMARY_OUTPUT = Output(
    "月度总结", Dated.MONTH, "kis_batch.render.monthly_summary:write_monthly_summary", ("summary",),
    mail=(_managers("上月月度总结（今晚结算）"),))
DECK_OUTPUT = Output("季度述职", Dated.QUARTER, "kis_batch.render.deck:write_deck", ("review",), suffix=".pptx")

# In the order the run writes them (and run.json lists them).
DAY_OUTPUTS = (DISPATCH_OUTPUT, PERSON_DISPATCH_OUTPUT, SCORES_OUTPUT, QUOTAS_OUTPUT, FEES_OUTPUT, CALLBACKS_OUTPUT,
               QUALITY_OUTPUT, CUSTOMERS_OUTPUT, PROJECTS_OUTPUT, PERSON_PROJECTS_OUTPUT, COMPLAINTS_OUTPUT,
               MANAGER_OUTPUT, REPORT_OUTPUT)
# The month's close, in OUT/YYYY-MM (docs/rules.md § Monthly close).
CLOSE_OUTPUTS = (EVALUATION_OUTPUT, MONTHLY_SUMMARY_OUTPUT)
OUTPUTS = (*DAY_OUTPUTS, *CLOSE_OUTPUTS, DECK_OUTPUT)
# How much a message needs each mailed output, most needed first (docs/rules.md § Mail): a message
# over 附件上限MB drops attachments from the end: the validation report first, then the day's other
# figures, while the manager's page and tomorrow's work stay.
KEPT_FIRST = (MANAGER_OUTPUT, PERSON_DISPATCH_OUTPUT, DISPATCH_OUTPUT, CALLBACKS_OUTPUT, PERSON_PROJECTS_OUTPUT,
              COMPLAINTS_OUTPUT, PROJECTS_OUTPUT, FEES_OUTPUT, EVALUATION_OUTPUT, MONTHLY_SUMMARY_OUTPUT,
              QUOTAS_OUTPUT, CUSTOMERS_OUTPUT, QUALITY_OUTPUT, SCORES_OUTPUT, REPORT_OUTPUT)

_PLAN_DATED = re.compile("^(?:" + "|".join(sorted({re.escape(o.title) for o in OUTPUTS if o.dated is Dated.PLAN}))
                         + r")_(\d{4}-\d{2}-\d{2})[_.]")


def progress_line(outputs: tuple[Output, ...]) -> str:
    """写出派工单、评分…和校验报告: each title once, in writing order."""
    titles = list(dict.fromkeys(o.title for o in outputs))
    return "写出" + "、".join(titles[:-1]) + ("和" if len(titles) > 1 else "") + titles[-1]


def day_folder(out_root: Path, today: dt.date) -> Path:
    """OUT/D: where one day's run writes."""
    return out_root / today.isoformat()


def month_folder(out_root: Path, month: str) -> Path:
    """OUT/YYYY-MM: where a month's close writes."""
    return out_root / month


def quarter_folder(out_root: Path, quarter: str) -> Path:
    """OUT/YYYY-Qn: where the quarterly review is written."""
    return out_root / quarter


def safe_file_part(text: str) -> str:
    """A person's name made safe for any file system (never empty)."""
    return _FILE_NAME_FORBIDDEN.sub("_", text).strip("_.") or "staff"


def person_label(name: str, staff_id: str) -> str:
    """姓名_工号: a person whose 姓名 someone else on the roster also has, as the outputs name them."""
    return f"{name}_{staff_id}"


def person_labels(staff_ids: Iterable[str], names: Iterable[str]) -> dict[str, str]:
    """工号 -> how the day's outputs name that person (docs/rules.md § Inputs (员工名单)): the 姓名 while no
    one else on the roster has it, 姓名_工号 when two share it. Their own files (派工单_P_…, 实施_D_…) take
    it, so one person's file never overwrites another's, and so do the 派给 and 服务代表 cells of the
    sheets that come back, which the reader resolves to the 工号. Given the whole roster."""
    people = list(zip(staff_ids, names, strict=True))
    shared = Counter(name for _, name in people)
    return {staff_id: name if shared[name] == 1 else person_label(name, staff_id) for staff_id, name in people}


def outbox_file(staff_id: str, name: str) -> str:
    """One person's message in OUT/D/outbox/: 工号_姓名.eml."""
    return f"{safe_file_part(f'{staff_id}_{name}')}.eml"


def plan_date_of(name: str) -> dt.date | None:
    """P as a 派工单 or 回访 file name carries it, or None."""
    match = _PLAN_DATED.match(name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None
