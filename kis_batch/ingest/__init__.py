"""Reading the evening folder: every workbook in, typed tables and problems out."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.coerce import CoerceError, day_of
from kis_batch.ingest.complaints import handling_rows
from kis_batch.ingest.files import DATA_SUFFIX_ADVICE, Limits, ToolReport, UnreadableFile, check_safe, discover, sha256_of
from kis_batch.ingest.pins import chase_rows, read_pins, resolve_assigned, set_holds_aside
from kis_batch.ingest.projects import check_projects, cross_check_projects
from kis_batch.ingest.recognise import NearMiss, Recognised, likely_column, recognise
from kis_batch.ingest.tables import (
    FILE,
    OK,
    Collector,
    KeyIndex,
    Row,
    SheetData,
    StaffIndex,
    TypedRows,
    assign_ticket_ids,
    check_rows,
    coerce_sheet,
    is_placeholder,
    merge_repeats,
    reject,
    rejection_notes,
    require_customer,
    resolve_staff,
    to_frame,
    warn,
)
from kis_batch.ingest.workbook import read_sheets
from kis_batch.parallel import PARALLEL_FROM_BYTES, run_jobs
from kis_batch.problems import Code, Problem, Severity, column_letter
from kis_batch.schema import (
    BY_KEY,
    CHASE_SHEET,
    COMPLAINT_COUNTS_SHEET,
    FEE_READING_SHEETS,
    PIN_COLUMNS,
    PROJECT_OVERVIEW,
    SERVICE_SHEET,
    TEMPLATES,
    VISIT_TYPE,
    Kind,
    service_happened,
)
from kis_batch.settings import (
    SETTING_FIELDS,
    Settings,
    accumulates,
    allowed_text,
    format_setting,
    lookup_setting,
    parse_setting,
)

# Told what is happening on long runs; per-file messages start with READING (a terminal shows them
# on one updating line, a log skips them).
Progress = Callable[[str], None]
READING = "读取 "


# Sheets the tool writes for reading only (guides, the backlog, the printable 服务单); a returned
# workbook's copies are passed over.
IGNORED_SHEETS = ("说明", "填写说明", "instructions", "未派", SERVICE_SHEET, PROJECT_OVERVIEW, COMPLAINT_COUNTS_SHEET)


@dataclass
class InputFile:
    """One file of the folder as the manifest reports it."""

    path: str
    sha256: str
    size: int
    status: str = "read"  # read | skipped
    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> template key
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_repeated: int = 0
    message: str = ""


@dataclass
class Inbox:
    """Everything the folder says, typed and trusted, with every problem found in it."""

    folder: Path
    today: dt.date
    settings: Settings
    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    files: list[InputFile]
    # The manager's and the hotline's say over P's plan (schema.PIN_COLUMNS), for dispatch and fees.
    pins: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PIN_COLUMNS), dtype=object))


def _read_file(path: Path, name: str, limits: Limits, out: Collector, record: InputFile) -> list[SheetData]:
    """The recognised sheets of one file; problems with the file or its sheets go to out."""
    try:
        scans = check_safe(path, limits)
        sheets = read_sheets(path)
    except UnreadableFile as error:
        record.status, record.message = "skipped", str(error)
        out.add(Code.UNREADABLE, Severity.ERROR, f"整个文件未读取：{error}", file=name)
        return []
    except ToolReport as notice:
        record.status, record.message = "skipped", str(notice)
        out.add(Code.UNREADABLE, Severity.WARNING, str(notice), file=name)
        return []
    found: list[SheetData] = []
    near_misses: list[tuple[str, NearMiss]] = []
    # A returned 年费_D.xlsx: only its chase list comes back.
    reading_only = FEE_READING_SHEETS if any(sheet.name == CHASE_SHEET for sheet in sheets) else ()
    for sheet in sheets:
        if sheet.name.strip().lower() in IGNORED_SHEETS or sheet.name in reading_only:
            continue
        match = recognise(sheet.rows)
        has_data = any(any(str(v).strip() for v in row) for row in sheet.rows)
        if isinstance(match, Recognised):
            record.sheets[sheet.name] = match.template.key
            if sheet.hidden and len(sheet.rows) > match.data_row:
                out.add(Code.HIDDEN, Severity.WARNING, "这是隐藏的工作表，其中的数据已照常读取；如不应使用请删除该表",
                        file=name, sheet=sheet.name)
            _report_columns(match, name, sheet.name, out)
            scan = scans.get(sheet.name)
            found.append(SheetData(name, sheet.name, match, sheet.rows, scan.hidden_rows if scan else frozenset(),
                                   sheet.merged, scan.error_cells if scan else {}))
        elif isinstance(match, NearMiss):
            near_misses.append((sheet.name, match))
        elif has_data:
            out.add(Code.UNRECOGNISED_SHEET, Severity.WARNING,
                    "前10行里找不到任何模板的表头，此表未读取；如果它应该被读取，请使用 kis-batch init 生成的模板表头",
                    file=name, sheet=sheet.name)
    for sheet_name, match in near_misses:
        _report_near_miss(match, name, sheet_name, set(record.sheets.values()), out)
    return found


def _report_columns(match: Recognised, file: str, sheet: str, out: Collector) -> None:
    """Header cells that name no template column, and columns the rules use that the sheet lacks:
    both are said, since every row of the sheet is read without them."""
    header_row = match.header_row + 1
    for index, header in match.duplicates:
        out.add(Code.DUPLICATE_COLUMN, Severity.WARNING, f"列名“{header}”重复，只读取了第一列",
                file=file, sheet=sheet, row=header_row, column=column_letter(index), header=header)
    taken = set(match.positions)
    for index, header in match.unmapped:
        likely = likely_column(match.template, header, taken)
        if likely is not None:
            hint = f"最可能是模板的“{likely.zh}”列：如是，请把表头改为“{likely.zh}”"
        else:
            hint = f"{match.template.zh}模板里没有对应的列；如这一列需要使用，请照 kis-batch init 生成的模板改表头"
        out.add(Code.UNMAPPED_COLUMN, Severity.WARNING, f"列“{header}”不是{match.template.zh}的列，这一列的内容没有读取；{hint}",
                file=file, sheet=sheet, row=header_row, column=column_letter(index), header=header)
    for column in match.missing_in_use():
        out.add(Code.MISSING_COLUMN, Severity.WARNING, f"{column.when_missing}；如有此内容，请加一列“{column.zh}”",
                file=file, sheet=sheet, row=header_row, header=column.zh)


# A sheet named with one of these words is a clerk's own summary, not meant as a template.
SUMMARY_WORDS = ("汇总", "统计", "合计", "小计", "总结", "透视", "summary")


def _report_near_miss(match: NearMiss, file: str, sheet: str, recognised: set[str], out: Collector) -> None:
    """A sheet with several of a template's headers but not its required ones. Beside a real sheet
    of that template in the same file, or named as a summary (汇总 …), it is the clerk's own table:
    a warning. Otherwise it was meant as one and its rows are lost: an error."""
    missing = "、".join(f"“{c.zh}”" for c in match.missing)
    own_table = match.template.key in recognised or any(word in sheet.lower() for word in SUMMARY_WORDS)
    if own_table:
        out.add(Code.MISSING_COLUMN, Severity.WARNING,
                f"此表有{match.template.zh}的部分列名，但缺少必填列 {missing}，按自己的汇总表处理，未读取；"
                "如果它应该被读取，请补上这些列",
                file=file, sheet=sheet, row=match.header_row + 1)
    else:
        out.add(Code.MISSING_COLUMN, Severity.ERROR,
                f"看起来是{match.template.zh}，但缺少必填列 {missing}；请在表头行补上该列（表头可以是中文或英文）",
                file=file, sheet=sheet, row=match.header_row + 1)


@dataclass
class FileResult:
    """One workbook read and typed on its own: a unit that needs nothing from the other files."""

    record: InputFile
    problems: list[Problem]
    layouts: dict[tuple[str, str], Recognised]
    rows: dict[str, TypedRows]  # template key -> typed rows


def ingest_file(path: Path, name: str, limits: Limits, today: dt.date) -> FileResult:
    """Read one workbook and type its rows; the raw grid is dropped as soon as it is typed."""
    out = Collector()
    record = InputFile(name, sha256_of(path), path.stat().st_size)
    rows: dict[str, TypedRows] = {}
    for data in _read_file(path, name, limits, out, record):
        out.layouts[(data.file, data.sheet)] = data.found
        typed = coerce_sheet(data, today, out)
        key = data.found.template.key
        if key in rows:
            rows[key].extend(typed)
        else:
            rows[key] = typed
    return FileResult(record, out.problems, out.layouts, rows)


def _ingest_all(folder: Path, wanted: list[Path], limits: Limits, today: dt.date,
                progress: Progress | None) -> list[FileResult]:
    """Every workbook, in order; on a large folder two processes share the work where the OS can fork."""
    names = [path.relative_to(folder).as_posix() for path in wanted]
    sizes = [path.stat().st_size for path in wanted]
    # Largest first, so the two processes finish together instead of one reading the last big log alone.
    order = sorted(range(len(wanted)), key=lambda i: -sizes[i])
    read = 0

    def done(job: int) -> None:
        nonlocal read
        read += 1
        if progress:
            progress(f"{READING}{read}/{len(wanted)} {names[order[job]]}")

    jobs = [partial(ingest_file, wanted[i], names[i], limits, today) for i in order]
    results = run_jobs(jobs, parallel=sum(sizes) >= PARALLEL_FROM_BYTES, done=done)
    by_file = dict(zip(order, results, strict=True))
    return [by_file[i] for i in range(len(wanted))]


def _settings_from(records: list[Row], base: Settings, today: dt.date, out: Collector) -> Settings:
    """规则设置 rows override the defaults. A value unreadable or out of its range is an 错误 at its
    cell and the default stays; repeated date lists add up; other repeats must agree."""
    given: dict[str, list[tuple[Any, Row]]] = defaultdict(list)
    for r in records:
        if not r[OK] or r["value"] is None:
            continue
        f = lookup_setting(r["name"])
        if f is None:
            out.at_cell(r, "name", Code.SETTING, Severity.WARNING,
                        f"不认识的参数“{r['name']}”，已忽略；参数名请照 kis-batch init 生成的规则设置填写")
            continue
        name, allowed = f.metadata["zh"], allowed_text(f)
        try:
            read = parse_setting(f, r["value"], today)
        except CoerceError as error:
            instead = "这一格未采用" if accumulates(f) else f"本次按默认值 {format_setting(f, getattr(base, f.name))} 执行"
            reject(r, "value", out, Code.SETTING, f"参数“{name}”的值{error}；可填：{allowed}。{instead}，请改正")
            continue
        for note in read.notes:
            warn(r, "value", out, Code.SETTING, f"参数“{name}”{note}")
        if read.left_out:
            out.at_cell(r, "value", Code.SETTING, Severity.ERROR,
                        f"参数“{name}”中{'，'.join(read.left_out)}，未采用；同一格的 {format_setting(f, read.value)} "
                        f"照常使用。可填：{allowed}，请改正")
        given[f.name].append((read.value, r))
    changes: dict[str, Any] = {}
    for key, values in given.items():
        if accumulates(SETTING_FIELDS[key]):
            changes[key] = tuple(sorted({d for value, _ in values for d in value}))
            continue
        if len({value for value, _ in values}) > 1:
            for _, r in values:
                reject(r, "value", out, Code.CONFLICT,
                       f"参数“{r['name']}”在几处设置了不同的值；请只保留一处。本次按默认值执行")
            continue
        changes[key] = values[0][0]
    return base.replace(**changes)


def load_folder(folder: Path, today: dt.date, base: Settings | None = None,
                progress: Progress | None = None, out_root: Path | None = None) -> Inbox:
    """Read, type and check every workbook in the folder; never raises for bad input.

    progress, if given, is told each file as it is read (long runs show where they are).
    out_root, the outputs' folder, is not read when it lies inside the folder.
    """
    base = base or Settings()
    out = Collector()
    limits = Limits(int(base.max_file_mb * 2**20), int(base.max_unzipped_mb * 2**20), base.max_cells)
    wanted, others = discover(folder, out_root)
    files: list[InputFile] = []
    raw = {t.key: TypedRows.empty(t) for t in TEMPLATES}
    for result in _ingest_all(folder, wanted, limits, today, progress):
        files.append(result.record)
        out.problems.extend(result.problems)
        out.layouts.update(result.layouts)
        for key, typed in result.rows.items():
            raw[key].extend(typed)
    for path in others:
        name = path.relative_to(folder).as_posix()
        files.append(InputFile(name, sha256_of(path), path.stat().st_size, "skipped",
                               message="不是表格文件"))
        advice = DATA_SUFFIX_ADVICE.get(path.suffix.lower())
        if advice:
            out.add(Code.UNREADABLE, Severity.ERROR, f"整个文件未读取：{advice}", file=name)
        else:
            out.add(Code.UNREADABLE, Severity.WARNING, "不是表格文件（只读取 .xlsx .xlsm .xls .ods），已跳过", file=name)
    rows = {key: typed.rows() for key, typed in raw.items()}
    check_dates(raw, today, out)
    for template in TEMPLATES:
        check_rows(template, rows[template.key], out)
    settings = _settings_from(rows["settings"], base, today, out)
    tables, pins = _cross_check(rows, today, out)
    check_projects(tables, settings, today, out)
    _count_rows(files, raw, tables)
    return Inbox(folder, today, settings, tables, out.problems, files, pins)


# The date that places a row of these tables in time.
DATED = {"feedback": "service_date", "calls": "call_time", "callbacks": "date"}


def check_dates(raw: dict[str, TypedRows], today: dt.date, out: Collector) -> None:
    """Rows a run would otherwise leave out without a word, for their date (docs/rules.md § Inputs):

    - dated after D (a service, call or callback that cannot have happened yet: a typo): an 错误 at
      the date cell, naming D; the row is rejected. A row not filled in yet (a returned dispatch or
      callback list of a later day, still blank) is a plan, not a typo, and passes.
    - feedback of an earlier month: kept (it counts for its own month), but where it sits in a file
      that holds feedback of D's month, a 警告 at its date cell says it is not in this month's
      figures. The folder accumulates, so last month's own files get no message.

    Read down the columns: a month's call log is hundreds of thousands of rows, rarely one late.
    """
    tomorrow = today + dt.timedelta(days=1)
    for key, column in DATED.items():
        typed, template = raw[key], BY_KEY[key]
        values = typed.columns[column]
        # 来电时间 is a date-time: after D means from the next midnight on.
        limit = dt.datetime.combine(tomorrow, dt.time.min) if template.fields[column].kind is Kind.DATETIME else tomorrow
        latest = max(filter(None, values), default=None)  # a date is never falsy; a blank (None) is
        if latest is None or latest < limit:
            continue
        header = template.fields[column].zh
        for n in [n for n, value in enumerate(values) if value is not None and value >= limit]:
            r = Row(typed, n)
            if r[OK] and not is_placeholder(template, r):
                reject(r, column, out, Code.FUTURE_DATE,
                       f"{header} {day_of(values[n]):%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，"
                       f"应是笔误；本行未采用，请改正{header}")
    first = today.replace(day=1)
    feedback = raw["feedback"]
    days, files = feedback.columns["service_date"], feedback.columns[FILE]
    files_of_month = {f for day, f in zip(days, files, strict=True) if day is not None and first <= day <= today}
    for n, (day, f) in enumerate(zip(days, files, strict=True)):
        if day is not None and day < first and f in files_of_month and feedback.ok[n]:
            warn(Row(feedback, n), "service_date", out, Code.OTHER_MONTH,
                 f"服务日期 {day:%Y-%m-%d} 不在本月（{today:%Y年%m月}），本行不计入本月的评分和指标，"
                 f"只计入{day:%Y年%m月}；如果日期填错了，请改正")


def _unresolved_services(feedback: list[Row], today: dt.date, out: Collector) -> None:
    """A service with 到达时间/离开时间 but no 处理结果 happened and is not a resolution; say so at the
    处理结果 cell (a 客户拜访 needs no result: it counts as a visit). Rows of D's month only: last
    month's were told in their own month."""
    first = today.replace(day=1)
    for r in feedback:
        if (r["result"] is None and r["service_type"] != VISIT_TYPE and service_happened(r)
                and first <= r["service_date"] <= today):
            warn(r, "result", out, Code.CONSTRAINT,
                 "填了到达/离开时间但没有填处理结果：本次服务不计入问题解决数，评分的结果分按未解决计；"
                 "请填写处理结果（已解决/部分解决/未解决）")


def _cross_check(raw: dict[str, list[Row]], today: dt.date,
                 out: Collector) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """References between tables, in dependency order: staff, customers, then what names them; and the
    pins the folder states (kis_batch/ingest/pins.py)."""
    kept: dict[str, list[Row]] = {}
    kept["staff"] = merge_repeats(BY_KEY["staff"], raw["staff"], out)
    _shared_names(kept["staff"], out)
    staff = StaffIndex(kept["staff"], rejection_notes(raw["staff"], ("staff_id", "name"), out)) if raw["staff"] else None
    if staff is None:
        out.add(Code.MISSING_TABLE, Severity.ERROR, "文件夹里没有员工名单；请放入员工名单（kis-batch init 生成模板）")

    resolve_staff(raw["customers"], "owner", staff, out, "服务代表")
    kept["customers"] = merge_repeats(BY_KEY["customers"], raw["customers"], out)
    customers = (KeyIndex([r["customer_id"] for r in kept["customers"]],
                          rejection_notes(raw["customers"], ("customer_id",), out)) if raw["customers"] else None)
    if customers is None:
        out.add(Code.MISSING_TABLE, Severity.ERROR, "文件夹里没有客户档案；请放入客户档案（kis-batch init 生成模板）")

    resolve_staff(raw["leave"], "staff_id", staff, out, "工号")
    for key in ("leave", "area_distance", "settings"):
        kept[key] = merge_repeats(BY_KEY[key], raw[key], out)

    require_customer(raw["calls"], customers, out)
    assign_ticket_ids(raw["calls"])
    resolve_assigned(raw["calls"], staff, out)
    kept["calls"] = merge_repeats(BY_KEY["calls"], raw["calls"], out)
    tickets = {r["ticket_id"] for r in kept["calls"]}

    require_customer(raw["feedback"], customers, out)
    held = set_holds_aside(raw["feedback"])
    resolve_staff(raw["feedback"], "staff", staff, out, "服务代表")
    kept["feedback"] = merge_repeats(BY_KEY["feedback"], raw["feedback"], out)
    for r in kept["feedback"]:
        if r["ticket_id"] and r["ticket_id"] not in tickets:
            out.at_cell(r, "ticket_id", Code.UNKNOWN_REFERENCE, Severity.WARNING,
                        f"工单号“{r['ticket_id']}”在文件夹的热线记录里找不到（来电可能早于本月记录）；已照常读取")
    _unresolved_services(kept["feedback"], today, out)

    require_customer(raw["fees"], customers, out)
    resolve_staff(raw["fees"], "owner", staff, out, "负责人")
    owners = {r["customer_id"]: r["owner"] for r in kept["customers"]}
    for r in raw["fees"]:
        if r[OK] and r["owner"] is None:
            r["owner"] = owners.get(r["customer_id"])
    kept["fees"] = merge_repeats(BY_KEY["fees"], raw["fees"], out)
    kept["fee_chase"] = chase_rows(raw["fee_chase"], staff, out)

    require_customer(raw["callbacks"], customers, out)
    resolve_staff(raw["callbacks"], "staff", staff, out, "服务代表")
    kept["callbacks"] = merge_repeats(BY_KEY["callbacks"], raw["callbacks"], out)

    kept.update(cross_check_projects(raw, kept["staff"], staff, customers, today, out))
    tables = {key: to_frame(BY_KEY[key], rows) for key, rows in kept.items()}
    pins = read_pins(raw["feedback"], held, raw["calls"], kept["fee_chase"], staff, out)

    # 投诉处理 names complaint cases, which are found from the tables above.
    handling = handling_rows(raw["complaint_handling"], tables, staff, customers, today, out)
    tables["complaint_handling"] = to_frame(BY_KEY["complaint_handling"], handling)
    return tables, pins


def _shared_names(staff: list[Row], out: Collector) -> None:
    """Two staff of one 姓名 are both kept (each is found by 工号); the name is said at each row,
    and wherever the name alone is used it is an error (see StaffIndex.why_not)."""
    by_name: dict[str, list[Row]] = defaultdict(list)
    for r in staff:
        by_name[r["name"]].append(r)
    for name, rows in by_name.items():
        if len(rows) > 1:
            ids = "、".join(r["staff_id"] for r in rows)
            for r in rows:
                warn(r, "name", out, Code.DUPLICATE_KEY,
                     f"姓名“{name}”重名（工号 {ids}）：两人都已采用，但凡是只填了“{name}”的地方都无法确定是谁；"
                     f"请在姓名后加区分（如“{name}A”），或在其他表里改填工号")


def _count_rows(files: list[InputFile], raw: dict[str, TypedRows],
                tables: dict[str, pd.DataFrame]) -> None:
    """Per file: rows read, accepted (used once), repeated (an identical copy), rejected. Every
    rejection happens before the tables are built, so a table row is an accepted row and an ok row
    outside the tables is a repeat."""
    read: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for typed in raw.values():
        read.update(typed.columns[FILE])
        rejected.update(name for name, ok in zip(typed.columns[FILE], typed.ok, strict=True) if not ok)
    accepted: Counter[str] = Counter()
    for frame in tables.values():
        accepted.update(frame[FILE].tolist())
    for record in files:
        name = record.path
        record.rows_read += read[name]
        record.rows_rejected += rejected[name]
        record.rows_accepted += accepted[name]
        record.rows_repeated += read[name] - rejected[name] - accepted[name]
