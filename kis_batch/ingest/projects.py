"""Reading 实施项目 and 验收单 (docs/rules.md § Implementation projects).

At the cells: the customer must exist; the 实施专员 must be an implementation specialist and the
交接服务代表 a service engineer; the dates must be in order and not after D. A bad optional date
or 交接服务代表 is an 错误 at its cell, the cell is taken as blank and the project stays.

A 验收单 row names a project of 实施项目; a row with a 结果 needs its 验收日期. A row left blank (the
pipeline's checklist not filled in yet) yields to a filled one, and an earlier round of the same
item yields to a later one: a project's acceptance is its latest 验收日期.

A returned 验收 form of 实施_D.xlsx is read as a person fills it: below the checklist, the
conclusion ticked in the 验收结论 box (☑ √ ✓ ■ before 通过 or 不通过, or the word typed alone in the
box) and the names and dates written after the 签字 labels, each with its place.

The acceptance rule's warnings, which need the rule, come after reading (rules/reconcile.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

from kis_batch.coerce import CoerceError, normalise_text, to_date
from kis_batch.inbox import AcceptanceForm, Collector, Signature
from kis_batch.ingest.reading import OK, Row, SheetData, TypedRows
from kis_batch.ingest.references import StaffIndex, merge_repeats, reject, rejection_notes, require_customer
from kis_batch.problems import Code, Severity
from kis_batch.schema import ACCEPTANCE, ACCEPTED, ENGINEER, IMPLEMENTER, NOT_ACCEPTED, PROJECTS
from kis_batch.tables import KeyIndex

# The dates of a project in the order they happen; each may not be before the ones above it.
DATE_ORDER = ("start", "live", "accepted_on", "handed_over")


def _person(r: Row, key: str, role: str, staff: StaffIndex | None, roles: dict[str, str], out: Collector) -> None:
    """The 工号 or 姓名 in r[key] resolved to a 工号 of the given role. The required 实施专员 rejects
    its row when it is not one; the optional 交接服务代表 is an 错误 at its cell, taken as blank."""
    value = r[key]
    if value is None or staff is None:
        return
    label = PROJECTS.fields[key].zh
    found = staff.resolve_at(r, key, out)
    if found is not None and roles.get(found) == role:
        r[key] = found
        return
    if found is None:
        code, message = Code.UNKNOWN_REFERENCE, staff.why_not(value, label)
    else:
        code = Code.CONSTRAINT
        message = (f"{label}“{value}”在员工名单中的岗位是{roles.get(found)}，不是{role}；"
                   f"请填{role}的工号或姓名（如岗位写错了，先改正员工名单）")
    if PROJECTS.fields[key].required:
        reject(r, key, out, code, f"{message}。本行未采用")
    else:
        out.at_cell(r, key, code, Severity.ERROR, f"{message}。本行其余内容照常使用，此格按留空处理")
        r[key] = None


def _dates_in_order(r: Row, today: dt.date, out: Collector) -> None:
    """计划上线 not before 开始日期 (else the row is rejected); 实际上线, 验收日期, 交接日期 each not
    after D and not before the date before it: an 错误 at the later cell, which is taken as blank."""
    fields = PROJECTS.fields
    if r["planned_live"] < r["start"]:
        reject(r, "planned_live", out, Code.CONSTRAINT,
               f"计划上线 {r['planned_live']:%Y-%m-%d} 早于开始日期 {r['start']:%Y-%m-%d}；请更正其中一个日期。本行未采用")
        return
    before = "start"
    for key in DATE_ORDER[1:]:
        value, header = r[key], fields[key].zh
        if value is None:
            continue
        if value > today:
            out.at_cell(r, key, Code.FUTURE_DATE, Severity.ERROR,
                        f"{header} {value:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，应是笔误；"
                        f"本行其余内容照常使用，此格按留空处理，请改正{header}")
            r[key] = None
        elif value < r[before]:
            out.at_cell(r, key, Code.CONSTRAINT, Severity.ERROR,
                        f"{header} {value:%Y-%m-%d} 早于{fields[before].zh} {r[before]:%Y-%m-%d}；"
                        f"本行其余内容照常使用，此格按留空处理，请改正日期")
            r[key] = None
        else:
            before = key


def _latest_rounds(rows: list[Row]) -> list[Row]:
    """The rows without an earlier round of the same project and item: a re-check after 整改 replaces
    the first check's rows rather than conflicting with them."""
    latest: dict[tuple[str, str], dt.date] = {}
    for r in rows:
        if r[OK] and r["outcome"] is not None and r["date"] is not None:
            key = (r["project_id"], r["item"])
            latest[key] = max(latest.get(key, r["date"]), r["date"])
    return [r for r in rows if not (r[OK] and r["outcome"] is not None and r["date"] is not None
                                    and r["date"] < latest[(r["project_id"], r["item"])])]


def cross_check_projects(raw: dict[str, list[Row]], staff_rows: list[Row], staff: StaffIndex | None,
                         customers: KeyIndex | None, today: dt.date, out: Collector) -> dict[str, list[Row]]:
    """实施项目 and 验收单 checked against the roster, the customers and each other; the rows kept."""
    projects = raw["projects"]
    require_customer(projects, customers, out)
    roles = {r["staff_id"]: r["role"] for r in staff_rows}
    for r in projects:
        if r[OK]:
            _person(r, "specialist", IMPLEMENTER, staff, roles, out)
        if r[OK]:
            _person(r, "handover_to", ENGINEER, staff, roles, out)
            _dates_in_order(r, today, out)
    kept = merge_repeats(PROJECTS, projects, out)
    checks = raw["acceptance"]
    known = KeyIndex([r["project_id"] for r in kept], rejection_notes(projects, ("project_id",), out)) if projects else None
    if known is None and checks:
        out.add(Code.MISSING_TABLE, Severity.ERROR,
                "文件夹里有验收单，但没有实施项目，验收单无从对照；请放入实施项目（kis-batch init 生成模板）")
    for r in checks:
        if not r[OK] or known is None:
            continue
        found = known.find(r["project_id"])
        if found is None:
            note = known.rejected_note(r["project_id"])
            reject(r, "project_id", out, Code.UNKNOWN_REFERENCE,
                   f"项目编号“{r['project_id']}”在实施项目中的那一行没有被采用（{note}）；请先更正实施项目的那一行" if note
                   else f"项目编号“{r['project_id']}”不在实施项目中；请核对编号，或先在实施项目里添加该项目")
            continue
        r["project_id"] = found
        if r["outcome"] is None:
            continue
        if r["date"] is None:
            reject(r, "date", out, Code.REQUIRED,
                   "填了结果就必须填验收日期（项目的验收按最近一次验收日期的各项结果判断）；请补上。本行未采用")
        elif r["date"] > today:
            reject(r, "date", out, Code.FUTURE_DATE,
                   f"验收日期 {r['date']:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，应是笔误；本行未采用，请改正验收日期")
    return {"projects": kept, "acceptance": merge_repeats(ACCEPTANCE, _latest_rounds(checks), out, today)}


BOX_LABEL, SIGN_LABEL, DATE_LABEL = "验收结论", "签字", "日期"
# A box ticked by hand or in Excel: 不通过 first, so "☑ 不通过" is not read as 通过.
_TICKED = re.compile(rf"[☑√✓✔■]\s*({NOT_ACCEPTED}|{ACCEPTED})")
_SIGNED = re.compile(rf"^(?P<label>.*?){SIGN_LABEL}(?P<name>.*?)(?:{DATE_LABEL}(?P<date>.*))?$")
# What a blank form prints where a name or date goes, and the colons after the labels.
_FILLER = "＿_:：-—　 ☐□"


def _written(text: str | None) -> str:
    return (text or "").strip(_FILLER)


def _ticked(text: str) -> tuple[str, ...]:
    """The conclusions ticked in a box, or the one typed alone (验收结论：通过)."""
    ticked = tuple(dict.fromkeys(_TICKED.findall(text)))
    if ticked:
        return ticked
    alone = _written(text.replace(BOX_LABEL, ""))
    return (alone,) if alone in (ACCEPTED, NOT_ACCEPTED) else ()


def _signature(text: str, today: dt.date) -> Signature | None:
    """A 签字 line with a name written after its label, the date as a date where it reads as one."""
    match = _SIGNED.match(text)
    name = _written(match["name"]) if match else ""
    if not name:
        return None
    date = _written(match["date"])
    with contextlib.suppress(CoerceError):  # a date that does not read as one is kept as written
        date = to_date(date, today).isoformat() if date else ""
    return Signature(_written(match["label"]), name, date)


def read_acceptance_form(data: SheetData, typed: TypedRows, today: dt.date) -> AcceptanceForm | None:
    """The 验收结论 box and 签字 lines of a returned 验收 form: text in the columns that are not the
    checklist's (the form writes them in column A, merged across), below its header; None for a
    验收单 sheet without them."""
    template_columns = set(data.found.positions.values())
    box: tuple[int, int, str] | None = None
    signatures: list[Signature] = []
    for row in range(data.found.data_row, len(data.rows)):
        for column, value in enumerate(data.rows[row]):
            if column in template_columns or type(value) is not str or not value.strip():
                continue
            text = normalise_text(value)
            if SIGN_LABEL in text:
                signature = _signature(text, today)
                signatures += [signature] if signature else []
            elif box is None and (BOX_LABEL in text or _ticked(text)):
                box = (row, column, text)
    if box is None and not signatures:
        return None
    dates = [day for day, outcome in zip(typed.columns["date"], typed.columns["outcome"], strict=True)
             if outcome is not None and day is not None]
    project_id = next((pid for pid in typed.columns["project_id"] if pid is not None), None)
    row, column, text = box or (0, 0, "")
    return AcceptanceForm(data.file, data.sheet, project_id, _ticked(text) if box else (), row + 1, column, text,
                          tuple(signatures), max(dates, default=None))
