"""Every name a run writes in OUT/D, once (docs/rules.md § Outputs): the writers, mail and the reader
that refuses result workbooks dropped back into the inbox all take their names from here."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# A custom document property on output workbooks that are for reading only; the reader skips
# such a workbook if it is dropped back into the folder (only 派工单, 回访, 实施 and 投诉跟踪 come back as input).
REPORT_MARK = "kis-batch-report"
# How the mark reads inside the workbook's docProps/custom.xml.
REPORT_MARK_XML = f'name="{REPORT_MARK}"'.encode()

MANIFEST = "run.json"
# What mailing needs from the run (the roster and the mail settings), so mail never rereads the inbox.
MAIL_ROSTER = "mail.json"
SENT_LOG = "sent.json"
OUTBOX = "outbox"

_FILE_NAME_FORBIDDEN = re.compile(r'[\\/:*?"<>|\s]+')
_PLAN_DATED = re.compile(r"^(?:派工单|回访)_(\d{4}-\d{2}-\d{2})[_.]")


def day_folder(out_root: Path, today: dt.date) -> Path:
    """OUT/D: where one day's run writes."""
    return out_root / today.isoformat()


def safe_file_part(text: str) -> str:
    """A person's name made safe for any file system (never empty)."""
    return _FILE_NAME_FORBIDDEN.sub("_", text).strip("_.") or "staff"


def person_file_parts(people: Iterable[tuple[str, str]]) -> dict[str, str]:
    """工号 -> what names that person's own files (派工单_P_…, 实施_D_…): the 姓名 while no one else on
    the roster has it, 姓名_工号 when two share it, so one person's file never overwrites another's
    (docs/rules.md § Inputs (员工名单)). Writers and mail both take the names from here, given the whole roster."""
    people = list(people)
    shared = Counter(name for _, name in people)
    return {staff_id: name if shared[name] == 1 else f"{name}_{staff_id}" for staff_id, name in people}


def dispatch_file(plan: dt.date, person: str | None = None) -> str:
    """派工单_P.xlsx, or 派工单_P_<person>.xlsx for one person (person: their part, see person_file_parts)."""
    if person is None:
        return f"派工单_{plan.isoformat()}.xlsx"
    return f"派工单_{plan.isoformat()}_{safe_file_part(person)}.xlsx"


def callbacks_file(plan: dt.date) -> str:
    return f"回访_{plan.isoformat()}.xlsx"


def scores_file(today: dt.date) -> str:
    return f"评分_{today.isoformat()}.xlsx"


def quotas_file(today: dt.date) -> str:
    return f"指标缺口_{today.isoformat()}.xlsx"


def fees_file(today: dt.date) -> str:
    return f"年费_{today.isoformat()}.xlsx"


def quality_file(today: dt.date) -> str:
    return f"质量_{today.isoformat()}.xlsx"


def customers_file(today: dt.date) -> str:
    return f"客户跟踪_{today.isoformat()}.xlsx"


def projects_file(today: dt.date, person: str | None = None) -> str:
    """实施_D.xlsx (comes back with its 验收 sheets filled in), or 实施_D_<person>.xlsx, one specialist's
    rows (person: their part, see person_file_parts)."""
    if person is None:
        return f"实施_{today.isoformat()}.xlsx"
    return f"实施_{today.isoformat()}_{safe_file_part(person)}.xlsx"


def manager_file(today: dt.date) -> str:
    return f"经理日报_{today.isoformat()}.xlsx"


def complaints_file(today: dt.date) -> str:
    """投诉跟踪_D.xlsx: not marked as a report, since its case rows come back filled in as 投诉处理."""
    return f"投诉跟踪_{today.isoformat()}.xlsx"


def report_file(today: dt.date) -> str:
    return f"校验报告_{today.isoformat()}.xlsx"


# The month's close (docs/rules.md § Monthly close): OUT/YYYY-MM/ and the history beside the day folders.
HISTORY = "history.sqlite"


def month_folder(out_root: Path, month: str) -> Path:
    """OUT/YYYY-MM: where a month's close writes."""
    return out_root / month


def evaluation_file(month: str) -> str:
    """月度考核_YYYY-MM.xlsx."""
    return f"月度考核_{month}.xlsx"


def summary_file(month: str) -> str:
    """月度总结_YYYY-MM.xlsx, beside the month's 考核."""
    return f"月度总结_{month}.xlsx"


def quarter_folder(out_root: Path, quarter: str) -> Path:
    """OUT/YYYY-Qn: where the quarterly review is written."""
    return out_root / quarter


def deck_file(quarter: str) -> str:
    """季度述职_YYYY-Qn.pptx."""
    return f"季度述职_{quarter}.pptx"


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
