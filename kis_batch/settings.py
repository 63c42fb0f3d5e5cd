"""Every rule's number lives here, once: the defaults from SPEC.md and the 规则设置 override.

A field's metadata carries its Chinese 参数 name and its meaning, so the settings template,
the override reader and the documentation all derive from this one declaration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kis_batch.coerce import CoerceError, normalise_text, to_bool, to_date, to_number, to_time


def _rule(default: Any, zh: str, help: str) -> Any:
    """A settings field: its default, its Chinese name as staff type it, and what it means."""
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata={"zh": zh, "help": help})
    return field(default=default, metadata={"zh": zh, "help": help})


@dataclass(frozen=True)
class Settings:
    """The department's rules with SPEC.md's defaults; 规则设置 overrides any of them."""

    # dispatch
    daily_cap: int = _rule(3, "每日派工上限", "一名工程师一天最多派几家客户；超过即强制改派（制度：超过3家以上强制重新分配）")
    key_customers_first: bool = _rule(True, "重点客户优先", "派工时重点客户排在最前（制度：对于重点客户，要优先服务）")
    priority_matrix: str = _rule(
        "",
        "优先级矩阵",
        "可选：用一个名次同时代替严重性和紧急性，格式如 高紧急=1,高一般=2,中紧急=3…（未列出的组合排在最后）；留空按严重性再紧急性排序",
    )
    # quotas
    monthly_resolutions: int = _rule(45, "每月问题解决指标", "每名服务工程师每月至少解决的客户问题家次（制度：每月45家次以上）")
    monthly_visits: int = _rule(15, "每月拜访指标", "每名服务工程师每月至少拜访的客户家次（制度：15家次以上的客户拜访）")
    # visits
    max_visit_minutes: int = _rule(120, "上门最长分钟", "每家工作时间不得超过的分钟数（制度：不得超过2小时）")
    visit_time_exempt_types: tuple[str, ...] = _rule(
        ("安装系统",), "超时豁免服务类型", "不受上门时长限制的服务类型，多个用逗号分隔（制度：安装操作系统等费时的问题除外）"
    )
    phone_ahead_required: bool = _rule(True, "上门前电话预约", "上门前必须电话确认到达时间（制度：严禁不与确认，直接到客户处）")
    # callbacks
    callback_coverage: float = _rule(0.30, "回访覆盖率", "每月回访接通的客户数占客户总数的最低比例（制度：不少于30%）")
    spot_checks_per_engineer: int = _rule(10, "每月抽查家数", "每月对每名服务代表的客户电话抽查的家数（制度：抽查10家）")
    verification_call_time: dt.time = _rule(dt.time(17, 0), "当日核实时间", "每天对当日上门客户电话核实的时间（制度：每天下午5:00）")
    # fees
    fee_window_days: int = _rule(60, "年费到期提醒天数", "服务到期前多少天进入待续费")
    chase_per_owner: int = _rule(5, "每人每日催收条数", "每名负责人次日催收清单的条数")
    renewal_risk_days: int = _rule(90, "续费风险回看天数", "近多少天内有投诉或不满意评价的待续费客户标为续费风险")
    # scores (100 points)
    score_resolved: int = _rule(40, "评分_已解决", "处理结果为已解决的得分")
    score_partial: int = _rule(20, "评分_部分解决", "处理结果为部分解决的得分")
    score_unresolved: int = _rule(0, "评分_未解决", "处理结果为未解决的得分")
    score_very_satisfied: int = _rule(30, "评分_非常满意", "客户满意度为非常满意的得分")
    score_satisfied: int = _rule(24, "评分_满意", "客户满意度为满意的得分")
    score_neutral: int = _rule(12, "评分_一般", "客户满意度为一般的得分")
    score_unsatisfied: int = _rule(0, "评分_不满意", "客户满意度为不满意的得分")
    score_phoned_ahead: int = _rule(10, "评分_电话预约", "上门前电话预约的得分")
    score_within_time: int = _rule(10, "评分_时长达标", "上门时长不超过上限（或豁免类型）的得分")
    score_on_time: int = _rule(10, "评分_及时", "来电后第一个工作日内完成服务的得分")
    complaint_deduction: int = _rule(20, "评分_投诉扣分", "与该次服务相关的投诉扣分")
    # calendar
    holidays: tuple[dt.date, ...] = _rule((), "节假日", "额外的放假日期（每行一个，或逗号分隔）；日历库没有数据的年份必须在此列出")
    makeup_workdays: tuple[dt.date, ...] = _rule((), "调休上班", "周末调休上班的日期（每行一个，或逗号分隔）")
    # mail
    smtp_host: str = _rule("", "邮件服务器", "SMTP 服务器地址，例如 smtp.exmail.qq.com")
    smtp_port: int = _rule(465, "邮件端口", "SMTP 端口：SSL 通常 465，STARTTLS 通常 587")
    smtp_security: str = _rule("ssl", "邮件加密", "ssl 或 starttls（不支持明文）")
    smtp_sender: str = _rule("", "发件人", "发件邮箱地址")
    smtp_user: str = _rule("", "邮件账号", "登录账号，留空则用发件人")
    smtp_password_env: str = _rule("KIS_SMTP_PASSWORD", "邮件密码环境变量", "保存邮件密码的环境变量名（密码不写在表格里）")
    attachment_limit_mb: float = _rule(20.0, "附件上限MB", "一封邮件编码后的最大大小（MB），超过不发送并报告")
    # input safety
    max_file_mb: float = _rule(50.0, "输入文件上限MB", "单个输入文件的最大大小（MB），超过的文件跳过并报告")
    max_unzipped_mb: float = _rule(500.0, "解压上限MB", "一个工作簿解压后的最大大小（MB），防止压缩炸弹")
    max_cells: int = _rule(20_000_000, "单表单元格上限", "一个工作表已用区域的最大单元格数，超过的工作表跳过并报告")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def setting_fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Settings)


def _field_by_name() -> dict[str, dataclasses.Field]:
    by_name: dict[str, dataclasses.Field] = {}
    for f in setting_fields():
        by_name[f.name.lower()] = f
        by_name[normalise_text(f.metadata["zh"])] = f
    return by_name


def format_setting(value: Any) -> str:
    """How a setting's value is written into the 规则设置 sheet."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, tuple):
        return ",".join(format_setting(v) for v in value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value < 1 and value > 0:
        return f"{value:.0%}"
    return str(value)


def _split_list(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.replace("，", ",").replace("、", ",").replace(";", ",").split(",")]
        return [p for p in parts if p]
    return [raw]


def parse_setting(f: dataclasses.Field, raw: Any, reference: dt.date) -> Any:
    """Coerce one 值 cell to the type of the field's default; raises CoerceError."""
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    if isinstance(default, bool):
        return to_bool(raw)
    if isinstance(default, int):
        number = to_number(raw)
        if number != int(number) or number < 0:
            raise CoerceError("应为不小于0的整数")
        return int(number)
    if isinstance(default, float):
        if isinstance(raw, str) and raw.strip().endswith(("%", "％")):
            return to_number(raw.strip()[:-1]) / 100
        number = to_number(raw)
        if number < 0:
            raise CoerceError("应为不小于0的数")
        return number
    if isinstance(default, dt.time):
        return to_time(raw)
    if isinstance(default, tuple) and f.name in ("holidays", "makeup_workdays"):
        return tuple(to_date(p, reference) for p in _split_list(raw))
    if isinstance(default, tuple):
        return tuple(normalise_text(p) for p in _split_list(raw))
    return normalise_text(raw)


def lookup_setting(name: Any) -> dataclasses.Field | None:
    return _field_by_name().get(normalise_text(name)) or _field_by_name().get(normalise_text(name).lower())


def accumulates(f: dataclasses.Field) -> bool:
    """Date lists may be given one date per row with the 参数 repeated; they add up."""
    return f.name in ("holidays", "makeup_workdays")
