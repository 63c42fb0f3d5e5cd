"""The kis-batch command: argument parsing and the terminal summary only; the work is in pipeline."""

from __future__ import annotations

import atexit
import datetime as dt
import gc
import re
import sys
from pathlib import Path

import click

from kis_batch import pipeline
from kis_batch.coerce import CoerceError, to_date
from kis_batch.demo import DEFAULT_SEED, write_demo
from kis_batch.ingest import READING, Inbox
from kis_batch.lock import RunLocked
from kis_batch.problems import Problem, Severity, count
from kis_batch.render.style import OutputTooLarge
from kis_batch.render.templates import write_templates

# Problems listed on the terminal; the report holds them all.
SHOWN_PROBLEMS = 20
EXIT_FAILED = 2

# On the way out the interpreter searches every object still alive for reference cycles before it
# frees them: with pandas loaded that is about 0.2 s, a tenth of a department's run. By then every
# output is closed (workbooks, run.json, the run lock), so the objects are frozen out of that search;
# they are freed all the same.
atexit.register(gc.freeze)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kis-batch")
def main() -> None:
    """kis-batch：服务部每晚的批处理——校验员工交来的表格，生成次日派工、回访、评分、指标、年费和经理日报。"""


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Write the blank input templates (with dropdowns, 说明 and 规则设置) into FOLDER.

    Example: kis-batch init 模板
    """
    for path in write_templates(folder):
        click.echo(f"已写出 {path}")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--month", type=MonthParam(), default="2026-11", show_default=True, help="示例数据的月份，如 2026-11")
@click.option("--date", "today", type=DateParam(), default=None, help="示例数据截止到哪天（默认：该月27日）")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="随机种子；同样的种子生成同样的文件")
def demo(folder: Path, month: dt.date, today: dt.date | None, seed: int) -> None:
    """Write a realistic month of example input (a department of 12) into FOLDER.

    Example: kis-batch demo 示例 --month 2026-11 --date 2026-11-27
    """
    paths = write_demo(folder, month, today or month.replace(day=27), seed)
    click.echo(f"已写出 {len(paths)} 个文件到 {folder}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--date", "today", type=DateParam(), default=None, help="今天的日期 D（默认：今天）")
def check(folder: Path, today: dt.date | None) -> None:
    """Validate FOLDER only: print every problem; exit 1 if any error.

    Example: kis-batch check 收件夹 --date 2026-11-27
    """
    inbox = pipeline.check(folder, today or dt.date.today(), progress=_progress)
    _summary(inbox)
    sys.exit(1 if count(inbox.problems, Severity.ERROR) else 0)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--date", "today", type=DateParam(), default=None, help="今天的日期 D（默认：今天）；派工日期是其后第一个工作日")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="输出根目录；结果写到 OUT/D/")
def run(folder: Path, today: dt.date | None, out_root: Path) -> None:
    """Read FOLDER and write tomorrow's workbooks into OUT/D/.

    Exit code: 0 clean, 1 errors reported (the good rows were still used), 2 the run could not complete.

    Example: kis-batch run input_templates/example --date 2026-11-27
    """
    try:
        result = pipeline.run(folder, today or dt.date.today(), out_root, progress=_progress)
    except (RunLocked, OutputTooLarge, OSError) as error:
        click.echo(f"运行未完成：{error}", err=True)
        sys.exit(EXIT_FAILED)
    _summary(result.inbox)
    click.echo(f"派工日期 {result.plan_date.isoformat()}；结果在 {result.out_dir}")
    for path in result.outputs:
        click.echo(f"  {path.name}")
    sys.exit(result.exit_code)


@main.command()
@click.argument("out_dir", metavar="OUT/D", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--send", "deliver", is_flag=True, help="通过 SMTP 发出（默认只在 OUT/D/outbox/ 写 .eml 文件，不发送）")
def mail(out_dir: Path, deliver: bool) -> None:
    """Mail each person their workbooks from OUT/D: .eml files in OUT/D/outbox/, or delivered with --send.

    SMTP server, port, ssl/starttls and sender come from 规则设置; the password only from the
    environment variable named there (default KIS_SMTP_PASSWORD). A rerun never delivers a message twice.

    Exit code: 0 all done, 1 someone was skipped or a delivery failed, 2 SMTP not set up or the connection failed.

    Example: kis-batch mail output/2026-11-27 --send
    """
    from kis_batch import mail as mailer  # here, not above: smtplib and email cost every other command 40 ms

    try:
        staff, settings = mailer.load_roster(out_dir, progress=_progress)
        plan = mailer.prepare_messages(out_dir, staff, settings)
        if deliver:
            report = mailer.send(plan, settings)
        else:
            paths = mailer.write_outbox(plan)
    except (mailer.MailError, RunLocked) as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"{plan.today.isoformat()} 的邮件（派工日 {plan.plan_date.isoformat()}）")
    if deliver:
        for heading, mails in (("已发送", report.sent), ("此前已发送，这次不再发", report.already_sent)):
            for item in mails:
                click.echo(f"  {heading} {item.summary}")
        for item, reason in report.failed:
            click.echo(f"  发送失败 {item.summary}（{reason}）")
    else:
        for item, path in zip(plan.mails, paths, strict=True):
            click.echo(f"  {item.summary} → {path.name}")
    for skipped in plan.skipped:
        click.echo(f"  {skipped.kind} {skipped.person}：{skipped.reason}")
    if deliver:
        click.echo(f"共发送 {len(report.sent)} 封，此前已发送 {len(report.already_sent)} 封，失败 {len(report.failed)} 封")
    else:
        click.echo(f"共 {len(paths)} 封写到 {out_dir / mailer.OUTBOX}，没有发送；加 --send 才会发出")
    if deliver and report.aborted:
        click.echo(report.aborted, err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(1 if plan.skipped or (deliver and report.failed) else 0)
