"""The kis-batch command: argument parsing and the terminal summary only; the work is in pipeline.

Each command imports the work it runs (pipeline, the rules and the writers load pandas, openpyxl and
xlsxwriter) only once its arguments are parsed: `run` starts reading the folder first, in a worker
that reads while this process loads them (ingest/early.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import re
import sys
from pathlib import Path

import click

from kis_batch.coerce import CoerceError, to_date
from kis_batch.demo import DEFAULT_SEED
from kis_batch.ingest import READING, Inbox
from kis_batch.ingest.early import start_early_read
from kis_batch.lock import RunLocked
from kis_batch.outputs import OUTBOX
from kis_batch.parallel import SharingFailed
from kis_batch.problems import Problem, Severity, count
from kis_batch.settings import Settings

# Problems listed on the terminal; the report holds them all.
SHOWN_PROBLEMS = 20
EXIT_FAILED = 2

# Where `run` writes unless told (--out), and what `check` leaves unread when it lies inside the inbox.
DEFAULT_OUT_ROOT = Path("output")

class DateParam(click.ParamType):
    name = "date"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return to_date(value, dt.date.today())
        except CoerceError as error:
            self.fail(str(error), param, ctx)


class MonthParam(DateParam):
    """A month as 2026-11 (or any date in it): its first day."""

    name = "month"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*月?\s*", value):
            value = re.sub(r"\s*月?\s*$", "", value) + "-01"
        return super().convert(value, param, ctx).replace(day=1)


def _where(problem: Problem) -> str:
    parts = [problem.file or "（文件夹）"]
    if problem.sheet:
        parts.append(problem.sheet)
    if problem.row:
        parts.append(f"第{problem.row}行")
    if problem.column or problem.header:
        parts.append(f"{problem.column}列" + (f"（{problem.header}）" if problem.header else ""))
    return " / ".join(parts)


def _summary(inbox: Inbox) -> None:
    errors, warnings = count(inbox.problems, Severity.ERROR), count(inbox.problems, Severity.WARNING)
    rows = sum(len(frame) for frame in inbox.tables.values())
    read = sum(1 for f in inbox.files if f.status == "read")
    click.echo(f"读取 {read} 个文件，采用 {rows} 行；错误 {errors} 条，警告 {warnings} 条")
    ordered = sorted(inbox.problems, key=lambda p: p.severity is not Severity.ERROR)
    for problem in ordered[:SHOWN_PROBLEMS]:
        value = f" 值“{problem.value}”" if problem.value else ""
        click.echo(f"  [{problem.severity.value}] {_where(problem)}{value}：{problem.message}")
    if len(ordered) > SHOWN_PROBLEMS:
        click.echo(f"  …还有 {len(ordered) - SHOWN_PROBLEMS} 条，见校验报告")


def _progress(message: str) -> None:
    """Stages on their own lines; the file being read on one updating line (terminals only)."""
    per_file = message.startswith(READING)
    if sys.stderr.isatty():
        click.echo(f"\r\033[K{message}", err=True, nl=not per_file)
    elif not per_file:
        click.echo(message, err=True)


class _ChineseHelpOption(click.Command):
    """-h/--help described in the users' language, like everything else on the help screen."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示本帮助并退出"
        return option


class _Commands(click.Group, _ChineseHelpOption):
    command_class = _ChineseHelpOption


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kis-batch", help="显示版本号并退出")
def main() -> None:
    """kis-batch：服务部每晚的批处理——校验员工交来的表格，生成次日派工、回访、评分、指标、年费和经理日报。

    每个命令的用法：kis-batch 命令 -h

    \b
    示例:
      kis-batch init 模板
      kis-batch run 收件夹 --date 2026-11-27
      kis-batch mail output/2026-11-27
    """


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """把空白输入模板（带下拉选择、说明表和规则设置）写到 FOLDER。

    已有的文件不会被覆盖：同名文件原样保留，只写出缺少的模板。

    \b
    示例:
      kis-batch init 模板
    """
    from kis_batch.render.templates import write_templates

    written, kept = write_templates(folder)
    for path in written:
        click.echo(f"已写出 {path}")
    if kept:
        click.echo(f"已存在，未覆盖：{'、'.join(path.name for path in kept)}（要换成空白模板，请先移走这些文件）")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--month", type=MonthParam(), default="2026-11", show_default=True, help="示例数据的月份，如 2026-11")
@click.option("--date", "today", type=DateParam(), default=None, help="示例数据截止到哪天（默认：该月27日）")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="随机种子；同样的种子生成同样的文件")
@click.option("--months", type=click.IntRange(1, 3), default=1, show_default=True,
              help="连续几个月（到 --month 为止）；多于 1 个月时每月写到 FOLDER/YYYY-MM/，之前的月份写满整月，"
                   "上月未结的工单下月接着办；并列出逐月运行、结账和季度述职的命令")
def demo(folder: Path, month: dt.date, today: dt.date | None, seed: int, months: int) -> None:
    """把一个月的示例输入（12人的服务部）写到 FOLDER，用来试用和培训。

    \b
    示例:
      kis-batch demo 示例 --month 2026-11 --date 2026-11-27
      kis-batch demo 示例 --month 2026-11 --months 2
    """
    from kis_batch.demo import write_demo  # the simulation loads only for this command
    from kis_batch.demo.months import month_commands

    last_day = today or month.replace(day=27)
    paths = write_demo(folder, month, last_day, seed, months=months)
    for target in dict.fromkeys(path.parent for path in paths):
        click.echo(f"已写出 {sum(path.parent == target for path in paths)} 个文件到 {target}")
    if months == 1:
        return
    click.echo("照服务部的日子逐月走一遍（每行是一条命令，可以直接复制运行）：")
    for command in month_commands(folder, month, last_day, months, folder / "output"):
        click.echo(f"  {command}")
    click.echo("每月一个文件夹，所以每月最后一晚的 run 之后用 report --month 结账（同一个收件夹里，下月第一次 run "
               "会自动结账上月）。结账后该月文件夹可以整个移出归档：report 会列出可以归档的文件，"
               "下个月从历史里的期初结转（未结工单、未结案投诉、客户最近联系等）接着算。")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--date", "today", type=DateParam(), default=None, help="今天的日期 D（默认：今天）")
def check(folder: Path, today: dt.date | None) -> None:
    """只校验 FOLDER，不写出任何文件：列出每个问题；有错误时退出码为 1。

    FOLDER 里的 output 文件夹（run 默认的输出位置）不读取。

    \b
    示例:
      kis-batch check 收件夹 --date 2026-11-27
    """
    from kis_batch import pipeline

    inbox = pipeline.check(folder, today or dt.date.today(), progress=_progress, out_root=DEFAULT_OUT_ROOT)
    _summary(inbox)
    sys.exit(1 if count(inbox.problems, Severity.ERROR) else 0)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--date", "today", type=DateParam(), default=None, help="今天的日期 D（默认：今天）；派工日期是其后第一个工作日")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT_ROOT,
              show_default=True, help="输出根目录；结果写到 OUT/D/（在 FOLDER 里面时不作为输入读取）")
@click.option("--mail", "delivery", flag_value="mail", help="运行后把邮件写到 OUT/D/outbox/（不发送），同 kis-batch mail")
@click.option("--send", "delivery", flag_value="send",
              help="运行后直接发出：邮件和群机器人，同 kis-batch mail --send；适合每晚定时无人值守运行")
def run(folder: Path, today: dt.date | None, out_root: Path, delivery: str | None) -> None:
    """读取 FOLDER 里的全部表格，把下一个工作日的派工单和今天的各项结果写到 OUT/D/。

    加 --send 则运行后直接按人发邮件、把派工计划发到群机器人（同 kis-batch mail OUT/D --send）；
    加 --mail 只写出 .eml 文件。

    退出码：0 没有错误；1 报告了错误（正确的行照常使用），或有人被跳过、有消息发送失败；2 运行未能完成，
    或邮件未设置、连接失败。

    \b
    示例:
      kis-batch run 收件夹 --date 2026-11-27
      kis-batch run 收件夹 --send
    """
    day = today or dt.date.today()
    early = start_early_read(folder, day, out_root)
    from kis_batch import pipeline  # loads the rules and the writers while the worker reads
    from kis_batch.render.style import OutputTooLarge

    try:
        result = pipeline.run(folder, day, out_root, progress=_progress, early=early)
    except (RunLocked, OutputTooLarge, SharingFailed, OSError) as error:
        click.echo(f"运行未完成：{error}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        if early:
            early.jobs.cancel()
    _summary(result.inbox)
    click.echo(f"派工日期 {result.plan_date.isoformat()}；结果在 {result.out_dir}")
    for path in result.outputs:
        click.echo(f"  {path.name}")
    if result.removed_outputs:
        click.echo("上一次运行写的、本次不再生成的文件已删除：" + "、".join(result.removed_outputs))
    _ledger_lines(result.closed_months, result.closed_outputs, result.carried_rows, list(result.archivable))
    if delivery is None:
        sys.exit(result.exit_code)
    code = _deliver(result.out_dir, delivery == "send", result.inbox.settings)
    sys.exit(max(code, result.exit_code))


def _ledger_lines(closed: tuple[str, ...], outputs: list[Path], carried: int, archivable: list[str]) -> None:
    """What the run did to the department's months (docs/rules.md § A month's life)."""
    if closed:
        click.echo(f"已结账 {'、'.join(closed)}（月度考核、月度总结）：" + "、".join(str(path) for path in outputs))
    if carried:
        click.echo(f"从已结账月份结转 {carried} 行（未结工单、未结案投诉、客户最近联系等），文件夹里已不再有它们")
    if archivable:
        click.echo(f"以下 {len(archivable)} 个文件只有已结账月份的数据，可以移出收件夹归档：")
        for name in archivable:
            click.echo(f"  {name}")


def _deliver(out_dir: Path, deliver: bool, robots: Settings | None = None) -> int:
    """Write the outbox or deliver on every channel, print what happened; the exit code (0, 1 or 2)."""
    # Here, not above: smtplib, email and urllib would slow every other command's start.
    from kis_batch.delivery.evening import EMAIL_LABEL, deliver_evening
    from kis_batch.delivery.plan import DeliveryError

    try:
        evening = deliver_evening(out_dir, deliver, robots)
    except (DeliveryError, RunLocked) as error:
        click.echo(str(error), err=True)
        return EXIT_FAILED
    plan = evening.plan
    click.echo(f"{plan.today.isoformat()} 的邮件（派工日 {plan.plan_date.isoformat()}）")
    for item, path in zip(plan.messages, evening.outbox, strict=False):
        click.echo(f"  {item.summary} → {path.name}")
    for channel in evening.channels:
        report = channel.report
        if channel.error:
            click.echo(f"{channel.label}：未发送（{channel.error}）", err=True)
            continue
        is_email = channel.label == EMAIL_LABEL
        if not is_email:
            click.echo(channel.label)
        for heading, messages in (("已发送", report.sent), ("此前已发送，这次不再发", report.already_sent)):
            for item in messages:
                click.echo(f"  {heading} {item.summary}")
        for item, reason in report.failed:
            click.echo(f"  发送失败 {item.summary}（{reason}）")
        if is_email:
            for skipped in plan.skipped:
                click.echo(f"  {skipped.kind} {skipped.person}：{skipped.reason}")
        unit = "封" if is_email else "条"
        click.echo(f"共发送 {len(report.sent)} {unit}，此前已发送 {len(report.already_sent)} {unit}，"
                   f"失败 {len(report.failed)} {unit}")
        if report.aborted:
            click.echo(report.aborted, err=True)
    if not deliver:
        for skipped in plan.skipped:
            click.echo(f"  {skipped.kind} {skipped.person}：{skipped.reason}")
    if not deliver:
        click.echo(f"共 {len(evening.outbox)} 封写到 {out_dir / OUTBOX}，没有发送；加 --send 才会发出")
    if evening.stopped:
        return EXIT_FAILED
    return 1 if evening.failed else 0


@main.command()
@click.argument("out_dir", metavar="OUT/D", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--send", "deliver", is_flag=True,
              help="发出：邮件通过 SMTP，规则设置里有群机器人时也发到群（默认只在 OUT/D/outbox/ 写 .eml 文件，不发送）")
def mail(out_dir: Path, deliver: bool) -> None:
    """把 OUT/D 里的结果按人发邮件：默认只在 OUT/D/outbox/ 写出 .eml 文件，加 --send 才发出。

    SMTP 服务器、端口、ssl/starttls 和发件人取自规则设置；密码只从那里指定的环境变量读取（默认 KIS_SMTP_PASSWORD）。
    规则设置里填了企业微信机器人或钉钉机器人时，--send 也把派工计划发到群里（Webhook 从收件夹的规则设置读取）。
    重新运行不会把同一条消息发两次。

    退出码：0 全部完成；1 有人被跳过或有消息发送失败；2 SMTP 未设置或连接失败。

    \b
    示例:
      kis-batch mail output/2026-11-27 --send
    """
    sys.exit(_deliver(out_dir, deliver))


class QuarterParam(click.ParamType):
    """A quarter as 2026-Q4: (year, quarter)."""

    name = "quarter"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        from kis_batch.rules.quarter import parse_quarter

        try:
            return parse_quarter(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--month", type=MonthParam(), default=None, help="要结算的月份，如 2026-11")
@click.option("--quarter", type=QuarterParam(), default=None, help="要做季度述职的季度，如 2026-Q4")
@click.option("--date", "today", type=DateParam(), default=None,
              help="截止日期 D（--month 默认该月最后一天，按月底和 D 中较早的一天计算；--quarter 默认今天）")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT_ROOT,
              show_default=True, help="输出根目录；月度考核和月度总结写到 OUT/YYYY-MM/，季度述职写到 OUT/YYYY-Qn/，"
                                      "历史在 OUT/history.sqlite")
@click.option("--reopen", is_flag=True, help="反结账：重算已结账的月份（原结账作为一个版本保留），并列出改变的数字")
def report(folder: Path, month: dt.date | None, quarter: tuple[int, int] | None, today: dt.date | None,
           out_root: Path, reopen: bool) -> None:
    """月度结算或季度述职。

    --month：按 FOLDER 里的表格计算该月每名服务工程师和实施专员的月度考核，写出 月度考核_YYYY-MM.xlsx 和
    月度总结_YYYY-MM.xlsx 并记入历史。每月第一个工作日晚上的 run 会自动结算上个月；需要重算或补算时用本命令。

    --quarter：从历史数据库里该季度各月的记录做 季度述职_YYYY-Qn.pptx；历史里没有结算、已经过完、
    FOLDER 里又有其服务反馈单的月份先结算；历史里没有的月份显示为无数据。

    退出码：0 没有错误；1 表格里有错误（正确的行照常使用）；2 未能完成。

    \b
    示例:
      kis-batch report 收件夹 --month 2026-11
      kis-batch report 收件夹 --month 2026-11 --date 2026-11-27 --out output
      kis-batch report 收件夹 --quarter 2026-Q4 --out output
    """
    if (month is None) == (quarter is None):
        click.echo("请指定 --month 或 --quarter 其中一个，例如 --month 2026-11 或 --quarter 2026-Q4", err=True)
        sys.exit(EXIT_FAILED)
    if quarter is not None:
        _report_quarter(folder, quarter, today or dt.date.today(), out_root)
    from kis_batch.close import CloseRefused, MonthAlreadyClosed, report_month
    from kis_batch.history import HistoryError
    from kis_batch.render.style import OutputTooLarge
    from kis_batch.rules.evaluation import as_of_day

    day = today or as_of_day(month, dt.date.max)
    try:
        result = report_month(folder, month, day, out_root, progress=_progress, reopen=reopen)
    except MonthAlreadyClosed as closed:
        click.echo(str(closed))
        sys.exit(0)
    except CloseRefused as refused:
        click.echo(f"未结账：{refused}", err=True)
        sys.exit(1)
    except (RunLocked, OutputTooLarge, OSError, HistoryError) as error:
        click.echo(f"运行未完成：{error}", err=True)
        sys.exit(EXIT_FAILED)
    _summary(result.inbox)
    click.echo(f"{result.month} 月度考核（截至 {result.as_of.isoformat()}）：")
    for p in result.closed.evaluation.people:
        click.echo(f"  {p.rank:>2}. {p.name}（{p.role}）总分 {p.total:g} 等级 {p.grade}")
    for path in result.outputs:
        click.echo(f"已写出 {path}")
    if result.earlier is not None:
        when = f"{result.earlier.closed_at:%Y-%m-%d %H:%M}" if result.earlier.closed_at else "此前"
        click.echo(f"反结账：{when} 的结账已作为第 {result.earlier.version} 版保留；这次改变的数字"
                   f"{'：' if result.changes else '：没有'}")
        for line in result.changes:
            click.echo(f"  {line}")
    _ledger_lines((), [], 0, result.archivable)
    sys.exit(1 if count(result.inbox.problems, Severity.ERROR) else 0)


def _report_quarter(folder: Path, quarter: tuple[int, int], today: dt.date, out_root: Path) -> None:
    from kis_batch.close import CloseRefused, report_quarter
    from kis_batch.history import HistoryError
    from kis_batch.render.style import OutputTooLarge

    try:
        result = report_quarter(folder, *quarter, today, out_root, progress=_progress)
    except CloseRefused as refused:
        click.echo(f"未做述职：{refused}", err=True)
        sys.exit(1)
    except (RunLocked, OutputTooLarge, OSError, HistoryError) as error:
        click.echo(f"运行未完成：{error}", err=True)
        sys.exit(EXIT_FAILED)
    _summary(result.inbox)
    for name in result.closed_months:
        click.echo(f"历史里没有 {name} 的月度结算，已先结算（月度考核、月度总结）")
    for m in result.review.months:
        state = "无数据" if not m.present else ("已结算" if m.final else f"月中数据，截至 {m.as_of}")
        click.echo(f"  {m.month}：{state}")
    for path in result.outputs:
        click.echo(f"已写出 {path}")
    sys.exit(1 if count(result.inbox.problems, Severity.ERROR) else 0)


def command_line() -> None:
    """The kis-batch command (and python -m kis_batch): main, then the process ends at once. By
    then every output is closed (workbooks, run.json, the run lock, sent mail); on the way out the
    interpreter would free every object one by one, with pandas loaded a noticeable share of a
    department's run. Python's cycle collector is off for the command: a command makes little
    cyclic garbage and ends, and the collector would otherwise walk every object pandas, the rules
    and the run's tables hold, again and again while they load (about 5 % of a department's run)."""
    gc.disable()
    try:
        main()
        code: int | str | None = 0
    except SystemExit as ending:
        code = ending.code
    if isinstance(code, str):  # as the interpreter does with sys.exit("message")
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream has nothing left to say
            stream.flush()
    os._exit(code or 0)
