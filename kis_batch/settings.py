"""Every rule's number lives here, once: the defaults of docs/rules.md § Rules and the 规则设置 override.

A field's metadata carries its Chinese 参数 name, its meaning and the values it allows, so the
settings template, the override reader and the documentation all derive from this one declaration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from kis_batch.coerce import CoerceError, normalise_text, to_address, to_bool, to_date, to_number, to_time
from kis_batch.schema import DAILY_CAP_DEFAULT, DAILY_CAP_RANGE, SERVICE_TYPES


@dataclass(frozen=True)
class Between:
    """Numbers from low up to high (None: no limit that side); low itself is refused when low_open."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def admits(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        return self.high is None or number <= self.high

    def words(self, whole: bool) -> str:
        kind = "整数" if whole else "数"
        if self.low is not None and self.high is not None and not self.low_open:
            return f"{self.low:g}–{self.high:g} 的{kind}"
        if self.low is not None and self.high is not None:
            return f"大于 {self.low:g}、不大于 {self.high:g} 的{kind}"
        if self.low is not None:
            return f"{'大于' if self.low_open else '不小于'} {self.low:g} 的{kind}"
        return f"不大于 {self.high:g} 的{kind}"


@dataclass(frozen=True)
class Share:
    """A rate from 0 % to 100 %: 30%, 30％ and 0.3 all mean 30 %; a bare 30 too, with a warning."""

    def admits(self, rate: float) -> bool:
        return 0 <= rate <= 1


@dataclass(frozen=True)
class OneOf:
    """Words from a fixed list (letter case aside); a list setting takes one or several."""

    choices: tuple[str, ...]


@dataclass(frozen=True)
class AsTyped:
    """No bound beyond what the type's reader accepts (是/否, a time of day, dates, free text)."""

    words: str


@dataclass(frozen=True)
class Phrases:
    """Items of free text that may hold commas, slashes and brackets themselves (业务流程（供应链/生产，如适用）):
    a list of them is split only at semicolons (；or ;) and line breaks."""

    words: str


@dataclass(frozen=True)
class WebAddress:
    """A web address a request is posted to: https://, or http:// for a server on this computer
    (127.0.0.1 or localhost, as a test stands in for the real one)."""

    words: str

    def admits(self, text: str) -> bool:
        scheme, _, rest = text.partition("://")
        host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not host or any(c.isspace() for c in text):
            return False
        return scheme.lower() == "https" or (scheme.lower() == "http" and host.lower() in LOCAL_HOSTS)


Allowed = Between | Share | OneOf | AsTyped | Phrases | WebAddress
# The hosts a plain http:// webhook may name: a stand-in server on this computer, nothing that leaves it.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WEBHOOK = WebAddress("https:// 开头的网址（只在本机测试时可用 http://127.0.0.1），可留空")
FREE_TEXT = AsTyped("任意文字，可留空")
MAIL_ADDRESS = AsTyped("邮箱地址，如 fuwubu@example.com，或 服务部 <fuwubu@example.com>")
SCORE_POINTS = Between(0, 100)
YES_OR_NO = AsTyped("是 或 否")
DATES = AsTyped("日期，如 2027-01-01")
TIME_OF_DAY = AsTyped("一天中的时刻，如 17:00")
COUNT = Between(0)
POSITIVE_SIZE = Between(0, low_open=True)
# A visit is timed by its arrival and leaving times within one day.
VISIT_MINUTES = Between(0, 24 * 60, low_open=True)
DAILY_CAP = Between(*DAILY_CAP_RANGE)
# The 验收单 checklist: a manager's full technical check of an implementation.
# Held as 规则设置 cells read back (full-width brackets and commas in their half-width forms), so
# the default written by init reads back as the default.
ACCEPTANCE_ITEMS = tuple(map(normalise_text, ("账套与参数设置", "期初数据与余额核对", "凭证与报表", "业务流程（供应链/生产，如适用）",
                                              "用户与权限", "数据备份策略", "客户操作培训", "资料交付（操作手册）")))
CHECKLIST = Phrases("检查项文字，多项用分号“；”分隔（检查项里可以有逗号、斜杠和括号）")
# A bare number above 1 and up to this is a rate typed without its % sign.
PERCENT_CEILING = 100


def _rule(default: Any, zh: str, help: str, allowed: Allowed) -> Any:
    """A settings field: its default, its Chinese name as staff type it, what it means, what it allows."""
    metadata = {"zh": zh, "help": help, "allowed": allowed}
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """The department's rules with their defaults (docs/rules.md § Settings); 规则设置 overrides any of them."""

    # dispatch
    daily_cap: int = _rule(
        DAILY_CAP_DEFAULT, "每日派工上限", "一名工程师一天最多派几家客户；超过即强制改派（制度：超过3家以上强制重新分配）", DAILY_CAP
    )
    key_customers_first: bool = _rule(True, "重点客户优先", "派工时重点客户排在最前（制度：对于重点客户，要优先服务）", YES_OR_NO)
    priority_matrix: str = _rule(
        "",
        "优先级矩阵",
        "可选：用一个名次同时代替严重性和紧急性，格式如 高紧急=1,高一般=2,中紧急=3…（未列出的组合排在最后）；留空按严重性再紧急性排序",
        FREE_TEXT,
    )
    # quotas
    monthly_resolutions: int = _rule(45, "每月问题解决指标", "每名服务工程师每月至少解决的客户问题家次（制度：每月45家次以上）", COUNT)
    monthly_visits: int = _rule(15, "每月拜访指标", "每名服务工程师每月至少拜访的客户家次（制度：15家次以上的客户拜访）", COUNT)
    # visits
    max_visit_minutes: int = _rule(120, "上门最长分钟", "每家工作时间不得超过的分钟数（制度：不得超过2小时）", VISIT_MINUTES)
    visit_time_exempt_types: tuple[str, ...] = _rule(
        ("安装系统",), "超时豁免服务类型", "不受上门时长限制的服务类型，多个用逗号分隔（制度：安装操作系统等费时的问题除外）",
        OneOf(SERVICE_TYPES),
    )
    phone_ahead_required: bool = _rule(True, "上门前电话预约", "上门前必须电话确认到达时间（制度：严禁不与确认，直接到客户处）", YES_OR_NO)
    # callbacks
    callback_coverage: float = _rule(0.30, "回访覆盖率", "每月回访接通的客户数占客户总数的最低比例（制度：不少于30%）", Share())
    spot_checks_per_engineer: int = _rule(10, "每月抽查家数", "每月对每名服务代表的客户电话抽查的家数（制度：抽查10家）", COUNT)
    verification_call_time: dt.time = _rule(
        dt.time(17, 0), "当日核实时间", "每天对当日上门客户电话核实的时间（制度：每天下午5:00）", TIME_OF_DAY
    )
    # fees
    fee_window_days: int = _rule(60, "年费到期提醒天数", "服务到期前多少天进入待续费", COUNT)
    chase_per_owner: int = _rule(5, "每人每日催收条数", "每名负责人次日催收清单的条数", Between(1))
    renewal_risk_days: int = _rule(90, "续费风险回看天数", "近多少天内有投诉或不满意评价的待续费客户标为续费风险", Between(1))
    # tracked customers (制度：大客户、集团客户、异地客户的服务情况跟踪)
    key_contact_days: int = _rule(30, "重点客户联系间隔天数", "重点客户超过多少天没有来电、服务或接通的回访即为久未联系", Between(1))
    large_contact_days: int = _rule(30, "大客户联系间隔天数", "大客户超过多少天没有来电、服务或接通的回访即为久未联系", Between(1))
    group_contact_days: int = _rule(30, "集团客户联系间隔天数", "集团客户超过多少天没有来电、服务或接通的回访即为久未联系", Between(1))
    remote_contact_days: int = _rule(60, "异地客户联系间隔天数", "异地客户超过多少天没有来电、服务或接通的回访即为久未联系", Between(1))
    tracking_lookback_days: int = _rule(90, "客户跟踪回看天数", "客户跟踪表统计近多少天内的投诉和一般/不满意评价", Between(1))
    # scores (100 points)
    score_resolved: int = _rule(40, "评分_已解决", "处理结果为已解决的得分", SCORE_POINTS)
    score_partial: int = _rule(20, "评分_部分解决", "处理结果为部分解决的得分", SCORE_POINTS)
    score_unresolved: int = _rule(0, "评分_未解决", "处理结果为未解决的得分", SCORE_POINTS)
    score_very_satisfied: int = _rule(30, "评分_非常满意", "客户满意度为非常满意的得分", SCORE_POINTS)
    score_satisfied: int = _rule(24, "评分_满意", "客户满意度为满意的得分", SCORE_POINTS)
    score_neutral: int = _rule(12, "评分_一般", "客户满意度为一般的得分", SCORE_POINTS)
    score_unsatisfied: int = _rule(0, "评分_不满意", "客户满意度为不满意的得分", SCORE_POINTS)
    score_phoned_ahead: int = _rule(10, "评分_电话预约", "上门前电话预约的得分", SCORE_POINTS)
    score_within_time: int = _rule(10, "评分_时长达标", "上门时长不超过上限（或豁免类型）的得分", SCORE_POINTS)
    score_on_time: int = _rule(10, "评分_及时", "来电后第一个工作日内完成服务的得分", SCORE_POINTS)
    complaint_deduction: int = _rule(20, "评分_投诉扣分", "与该次服务相关的投诉扣分", SCORE_POINTS)
    # monthly evaluation (月度考核, 100 points)
    eval_task_points: int = _rule(30, "考核_任务", "月度考核中任务的满分（工程师看解决和拜访指标，实施专员看已解决比例）", SCORE_POINTS)
    eval_service_points: int = _rule(30, "考核_服务评分", "月度考核中服务评分的满分（按本月反馈单平均得分折算）", SCORE_POINTS)
    eval_callback_points: int = _rule(20, "考核_回访满意", "月度考核中回访满意的满分（按接通回访中满意和非常满意的比例）", SCORE_POINTS)
    eval_discipline_points: int = _rule(10, "考核_纪律", "月度考核中纪律的满分（每次违规扣分，扣完为止）", SCORE_POINTS)
    eval_breach_deduction: int = _rule(2, "考核_纪律每次扣分", "每次违规（未电话预约、上门超时、反馈缺失、上门不属实）扣几分", SCORE_POINTS)
    eval_fee_points: int = _rule(10, "考核_年费", "月度考核中年费的满分（按本月所负责合同的收款率；本月无应收得满分）", SCORE_POINTS)
    eval_complaint_deduction: int = _rule(5, "考核_投诉扣分", "每起责任判定为本部门（含尚未判定）的投诉扣的总分", SCORE_POINTS)
    eval_grade_a: int = _rule(90, "考核_A", "总分不低于此为A", SCORE_POINTS)
    eval_grade_b: int = _rule(80, "考核_B", "总分不低于此为B", SCORE_POINTS)
    eval_grade_c: int = _rule(60, "考核_C", "总分不低于此为C；更低为D", SCORE_POINTS)
    # monthly summary (月度总结)
    training_calls: int = _rule(3, "深层培训来电次数", "一家客户一个月内操作咨询和数据问题来电达到多少次即列入培训建议（深层应用培训）"
                                "（制度：组织老客户深层应用培训，减少低档次服务次数）", Between(1, 50))
    # implementation projects
    acceptance_workdays: int = _rule(5, "验收期限工作日", "实施项目实际上线后多少个工作日内须完成验收，超过即验收逾期"
                                     "（制度：负责实施部的客户验收及交接工作）", Between(1))
    handover_workdays: int = _rule(3, "交接期限工作日", "验收通过后多少个工作日内须交接给服务代表，超过即交接逾期", Between(1))
    acceptance_items: tuple[str, ...] = _rule(
        ACCEPTANCE_ITEMS, "验收检查项", "验收单逐项检查的内容（制度：对实施的客户进行全面的技术检查，保证实施质量）", CHECKLIST,
    )
    # complaint cases
    complaint_overdue_workdays: int = _rule(
        3, "投诉超期工作日", "投诉立案后超过多少个工作日仍未结案即为超期，列入上报总经理（制度：对客户投诉进行立案跟踪，并向总经理汇报）",
        Between(1),
    )
    # calendar
    holidays: tuple[dt.date, ...] = _rule((), "节假日", "额外的放假日期（每行一个，或逗号分隔）；日历库没有数据的年份必须在此列出", DATES)
    makeup_workdays: tuple[dt.date, ...] = _rule((), "调休上班", "周末调休上班的日期（每行一个，或逗号分隔）", DATES)
    # the 服务单's letterhead, printed for the customer
    company_name: str = _rule("金蝶KIS授权服务商", "公司名称", "印在服务单顶部的公司名称（请改为本公司名称）", FREE_TEXT)
    service_hotline: str = _rule("4008-830-830", "服务热线", "印在服务单顶部的服务热线（请改为本公司热线）", FREE_TEXT)
    # mail
    smtp_host: str = _rule("", "邮件服务器", "SMTP 服务器地址，例如 smtp.exmail.qq.com", FREE_TEXT)
    smtp_port: int = _rule(465, "邮件端口", "SMTP 端口：SSL 通常 465，STARTTLS 通常 587", Between(1, 65535))
    smtp_security: str = _rule("ssl", "邮件加密", "ssl 或 starttls（不支持明文）", OneOf(("ssl", "starttls")))
    smtp_sender: str = _rule("", "发件人", "发件邮箱地址", MAIL_ADDRESS)
    smtp_user: str = _rule("", "邮件账号", "登录账号，留空则用发件人", FREE_TEXT)
    smtp_password_env: str = _rule("KIS_SMTP_PASSWORD", "邮件密码环境变量", "保存邮件密码的环境变量名（密码不写在表格里）", FREE_TEXT)
    attachment_limit_mb: float = _rule(20.0, "附件上限MB", "一封邮件编码后的最大大小（MB），超过不发送并报告", POSITIVE_SIZE)
    # group robots (docs/rules.md § Mail): the plan posted to a group as well; a webhook is a secret
    wecom_webhook: str = _rule("", "企业微信机器人", "企业微信群机器人的 Webhook 地址；填了，发送时把派工计划发到该群", WEBHOOK)
    dingtalk_webhook: str = _rule("", "钉钉机器人", "钉钉自定义机器人的 Webhook 地址；填了，发送时把派工计划发到该群", WEBHOOK)
    dingtalk_secret: str = _rule("", "钉钉加签", "钉钉机器人安全设置“加签”的密钥（SEC 开头）；未开加签则留空", FREE_TEXT)
    # input safety
    max_file_mb: float = _rule(50.0, "输入文件上限MB", "单个输入文件的最大大小（MB），超过的文件跳过并报告", POSITIVE_SIZE)
    max_unzipped_mb: float = _rule(500.0, "解压上限MB", "一个工作簿解压后的最大大小（MB），防止压缩炸弹", POSITIVE_SIZE)
    max_cells: int = _rule(20_000_000, "单表单元格上限", "一个工作表已用区域的最大单元格数，超过的工作表跳过并报告", Between(1))

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# Settings that open a door (a webhook posts to a group as this department; a signing secret vouches
# for it): never printed or recorded whole, only as shown_setting gives them.
SECRET_SETTINGS = ("wecom_webhook", "dingtalk_webhook", "dingtalk_secret")
# The query parameters that carry a webhook's key (WeCom key=, DingTalk access_token=).
_WEBHOOK_KEY = re.compile(r"((?:^|[?&])(?:key|access_token)=)([^&#]*)", re.IGNORECASE)
# How much of a key stays visible, enough to tell two webhooks apart.
SHOWN_KEY_CHARS = 4


def mask_secret(text: str) -> str:
    """A webhook with its key cut to its first characters (the rest ***), or a secret as 已设置."""
    if "://" not in text:
        return "***（已设置，不显示）" if text else ""
    return _WEBHOOK_KEY.sub(lambda m: f"{m.group(1)}{m.group(2)[:SHOWN_KEY_CHARS]}***", text.split("#", 1)[0])


def shown_setting(name: str, value: Any) -> Any:
    """A setting's value as it may be printed or recorded: secrets masked."""
    return mask_secret(str(value)) if name in SECRET_SETTINGS else value


def setting_fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Settings)


SETTING_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in setting_fields()}


def default_of(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def allowed_of(f: dataclasses.Field) -> Allowed:
    return f.metadata["allowed"]


def _field_by_name() -> dict[str, dataclasses.Field]:
    by_name: dict[str, dataclasses.Field] = {}
    for f in setting_fields():
        by_name[f.name.lower()] = f
        by_name[normalise_text(f.metadata["zh"])] = f
    return by_name


def allowed_text(f: dataclasses.Field) -> str:
    """What a setting accepts, in the words of the 说明 column and of every message about a bad value."""
    allowed, default = allowed_of(f), default_of(f)
    if isinstance(allowed, Between):
        return allowed.words(whole=isinstance(default, int))
    if isinstance(allowed, Share):
        return "0%–100%，如 30%（只填 30 也按 30% 理解）"
    if isinstance(allowed, OneOf):
        listed = " 或 ".join(allowed.choices) if len(allowed.choices) <= 2 else "、".join(allowed.choices)
        return f"{listed} 中的一个或几个" if isinstance(default, tuple) else listed
    return allowed.words


def format_setting(f: dataclasses.Field, value: Any) -> str:
    """How a setting's value is written into the 规则设置 sheet and into messages."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, tuple):
        return ("；" if isinstance(allowed_of(f), Phrases) else ",").join(format_setting(f, v) for v in value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(allowed_of(f), Share):
        return f"{value:.0%}" if round(value * 100, 6).is_integer() else f"{value:.2%}"
    return str(value)


_PHRASE_SEPARATORS = re.compile(r"[;；\r\n]+")


def _split_list(raw: Any, allowed: Allowed) -> list[Any]:
    if isinstance(raw, str) and isinstance(allowed, Phrases):
        return [p.strip() for p in _PHRASE_SEPARATORS.split(raw) if p.strip()]
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.replace("，", ",").replace("、", ",").replace(";", ",").split(",")]
        return [p for p in parts if p]
    return [raw]


@dataclass(frozen=True)
class ReadSetting:
    """One 值 cell read: the value to use, notes on how it was read (警告), and the items of a list
    left out while the rest are kept (错误)."""

    value: Any
    notes: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()


def _shown(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return normalise_text(raw)


def _number(raw: Any) -> float:
    try:
        return to_number(raw)
    except CoerceError:
        raise CoerceError(f"“{_shown(raw)}”不是数字") from None


def _read_one(f: dataclasses.Field, default: Any, raw: Any, reference: dt.date) -> tuple[Any, str | None]:
    """One value (or one item of a list) read and checked against the field's range; CoerceError
    says what is wrong with it; the second part is a note on how it was read, if any."""
    allowed = allowed_of(f)
    if isinstance(default, bool):
        try:
            return to_bool(raw), None
        except CoerceError:
            raise CoerceError(f"“{_shown(raw)}”不是 是 或 否") from None
    if isinstance(allowed, Share):
        text = normalise_text(raw) if isinstance(raw, str) else None
        note = None
        if text and text.endswith("%"):
            rate = _number(text[:-1]) / 100
        else:
            rate = _number(raw)
            if 1 < rate <= PERCENT_CEILING:
                note = f"填的是 {rate:g}，已按 {rate:g}% 理解；请写成 {rate:g}% 以免误会"
                rate /= 100
        if not allowed.admits(rate):
            raise CoerceError(f"“{_shown(raw)}”超出允许范围")
        return rate, note
    if isinstance(allowed, Between):
        number = _number(raw)
        if isinstance(default, int) and not number.is_integer():
            raise CoerceError(f"“{_shown(raw)}”不是整数")
        if not allowed.admits(number):
            raise CoerceError(f"“{_shown(raw)}”超出允许范围")
        return (int(number) if isinstance(default, int) else number), None
    if isinstance(default, dt.time):
        try:
            return to_time(raw), None
        except CoerceError:
            raise CoerceError(f"“{_shown(raw)}”不是有效的时刻") from None
    if isinstance(default, tuple) and allowed is DATES:
        try:
            return to_date(raw, reference), None
        except CoerceError:
            raise CoerceError(f"“{_shown(raw)}”不是日期") from None
    if allowed is MAIL_ADDRESS:
        return to_address(raw), None
    text = normalise_text(raw)
    if isinstance(allowed, WebAddress) and text and not allowed.admits(text):
        raise CoerceError("不是 https:// 开头的网址")
    if isinstance(allowed, OneOf):
        by_folded = {c.lower(): c for c in allowed.choices}
        if text.lower() not in by_folded:
            raise CoerceError(f"“{text}”不是可选值")
        return by_folded[text.lower()], None
    return text, None


def parse_setting(f: dataclasses.Field, raw: Any, reference: dt.date) -> ReadSetting:
    """One 值 cell read as the field's type and within its range; raises CoerceError when nothing
    of it can be used. A list keeps its good items and names the others in left_out."""
    default = default_of(f)
    if not isinstance(default, tuple):
        value, note = _read_one(f, default, raw, reference)
        return ReadSetting(value, (note,) if note else ())
    items: list[Any] = []
    left_out: list[str] = []
    for part in _split_list(raw, allowed_of(f)):
        try:
            items.append(_read_one(f, default, part, reference)[0])
        except CoerceError as error:
            left_out.append(str(error))
    if left_out and not items:
        raise CoerceError("，".join(left_out))
    return ReadSetting(tuple(items), left_out=tuple(left_out))


def lookup_setting(name: Any) -> dataclasses.Field | None:
    return _field_by_name().get(normalise_text(name)) or _field_by_name().get(normalise_text(name).lower())


def accumulates(f: dataclasses.Field) -> bool:
    """Date lists may be given one date per row with the 参数 repeated; they add up."""
    return allowed_of(f) is DATES
