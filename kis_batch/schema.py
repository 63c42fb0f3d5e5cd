"""One declaration per input template (docs/rules.md § Inputs): headers in Chinese and English, type,
required, allowed values, default and key. The template writer, the reader, the validator and
the 说明 sheets all derive from these declarations and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"  # text that must keep leading zeros: ids, phone numbers
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    BOOL = "bool"
    CHOICE = "choice"
    NUMBER = "number"
    INT = "int"
    EMAIL = "email"  # an address, or 姓名 <address>; read as the address


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    kind: Kind = Kind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    help: str = ""
    example: str = ""
    minimum: float | None = None
    maximum: float | None = None
    # Other headers that mean this column (e.g. a dispatch sheet's 派给 is the feedback's 服务代表).
    aliases: tuple[str, ...] = ()
    # Words and numbers accepted for a choice besides the choices themselves.
    synonyms: tuple[tuple[str, str], ...] = ()
    width: int = 12
    # What the rules lose when a sheet lacks this column (its default then applies to every row);
    # said in a 警告 naming the column. Empty: nothing the rules depend on.
    when_missing: str = ""
    # Written by the tool beside a returned sheet's fill-in columns (计划派给 on the 派工单 总览): read
    # with its row, but not part of the row's content, so a copy of the row without it is the same row.
    tool_written: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.zh, self.key, *self.aliases)


@dataclass(frozen=True)
class Template:
    key: str
    zh: str
    columns: tuple[Column, ...]
    # Columns whose values identify a row; a row repeated with the same key and content counts once.
    key_columns: tuple[str, ...] = ()
    # The blank workbook (kis-batch init) this sheet is written into.
    workbook: str = ""
    purpose: str = ""
    # Headers of reference columns the tool's own sheets carry beside the template's (客户名称 on a
    # returned dispatch sheet): known, shown for the reader, not read back.
    reference_headers: tuple[str, ...] = ()
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {c.key: c for c in self.columns})

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


YES_NO = ("是", "否")
# Looked up from 客户档案 by 客户编号 wherever a sheet shows them for reading.
CUSTOMER_REFERENCE = ("客户名称", "联系人", "联系电话", "地址", "区域", "重点客户", "客户类别")
# Customers one engineer may be given a day: the 规则设置 cap and each person's own 每日上限 alike.
DAILY_CAP_RANGE = (1, 50)
# The 规则设置 cap's default (settings' daily_cap), which a blank 每日上限 falls back to. Kept here
# because settings builds on this module, and the 员工名单 help text names it.
DAILY_CAP_DEFAULT = 3
ROLES = ("服务部经理", "经理助理", "服务工程师", "实施专员", "服务监督热线")
ENGINEER = "服务工程师"
IMPLEMENTER = "实施专员"
HOTLINE = "服务监督热线"
MANAGER_ROLES = ("服务部经理", "经理助理")
SEGMENTS = ("普通", "大客户", "集团客户", "异地客户")
# The 客户类别 whose members roll up per 所属集团 (docs/rules.md § Inputs).
GROUP_SEGMENT = SEGMENTS[2]
CATEGORIES = ("安装", "操作咨询", "数据问题", "软件故障", "升级", "实施", "培训", "年费", "投诉", "其他")
IMPLEMENTATION_CATEGORY = "实施"
COMPLAINT_CATEGORY = "投诉"
SEVERITIES = ("高", "中", "低")
URGENCIES = ("紧急", "一般", "不急")
HANDLINGS = ("电话已解决", "远程处理", "需上门", "转总部")
SERVICE_TYPES = ("问题处理", "客户拜访", "安装系统", "培训", "实施", "年费收取")
VISIT_TYPE = "客户拜访"
MODES = ("上门", "远程", "电话")
RESULTS = ("已解决", "部分解决", "未解决")
RESOLVED = "已解决"
SATISFACTION = ("非常满意", "满意", "一般", "不满意")
SATISFACTION_NUMBERS = (("5", "非常满意"), ("4", "满意"), ("3", "一般"), ("2", "不满意"), ("1", "不满意"))
CALLBACK_KINDS = ("当日核实", "月度抽查", "满意度回访")
VERIFIED = ("是", "否", "不适用")
# The printable sheet of an engineer's dispatch workbook, one page per visit: written for paper
# only, so the reader passes it over when the filled workbook comes back.
SERVICE_SHEET = "服务单"
# The manager's word for "not on P" in the 总览's 派给 (docs/rules.md § Dispatch).
HOLD = "不派"
# 年费_D.xlsx: the chase list comes back as 年费催收; the other sheets are for reading only and are
# passed over in a workbook that holds the chase list (docs/rules.md § Fees).
CHASE_SHEET = "催收清单"
FEE_READING_SHEETS = ("到期续费", "逾期", "未核准", "收款率")

_ROLE_SYNONYMS = (("服务监督/热线", "服务监督热线"), ("热线", "服务监督热线"), ("服务监督", "服务监督热线"),
                  ("服务工程", "服务工程师"), ("现场支持人员", "服务工程师"), ("KIS实施专员", "实施专员"),
                  ("技术支持部经理", "服务部经理"), ("服务部经理助理", "经理助理"))


def _yes_no(key: str, zh: str, default: bool | None = None, help: str = "", **kw: Any) -> Column:
    return Column(key, zh, Kind.BOOL, default=default, help=help, example="是", choices=YES_NO, width=8, **kw)


CUSTOMERS = Template(
    "customers",
    "客户档案",
    (
        Column("customer_id", "客户编号", Kind.ID, required=True, help="客户的唯一编号，保留前导0", example="C0001"),
        Column("customer_name", "客户名称", required=True, help="客户单位全称", example="杭州明达贸易有限公司", width=28),
        Column("contact", "联系人", help="客户方联系人", example="李会计"),
        Column("phone", "联系电话", Kind.ID, help="电话按文本保存，区号的0会保留", example="057188001234", width=15),
        Column("address", "地址", help="上门地址", example="西湖区文三路100号", width=30),
        Column("area", "区域", required=True, help="客户所在区域，与员工名单、区域距离表用同样的写法", example="西湖区"),
        Column("lat", "纬度", Kind.NUMBER, minimum=-90, maximum=90, help="可选；与经度同时填写", example="30.2741"),
        Column("lon", "经度", Kind.NUMBER, minimum=-180, maximum=180, help="可选；与纬度同时填写", example="120.1551"),
        Column("owner", "服务代表", required=True, help="负责该客户的员工工号或姓名", example="E01"),
        _yes_no("key_customer", "重点客户", default=False, help="重点客户派工优先，默认否"),
        Column("segment", "客户类别", Kind.CHOICE, choices=SEGMENTS, default="普通", help="默认普通", example="普通"),
        Column("group", "所属集团", help="集团客户所属的集团，同一集团的成员在客户跟踪表里汇总；其他客户可留空",
               example="", width=18),
        Column("product", "产品版本", help="所用金蝶KIS版本", example="KIS专业版 V15"),
    ),
    key_columns=("customer_id",),
    workbook="客户档案",
    purpose="每家客户一行：谁负责、在哪里、是否重点客户。",
)

STAFF = Template(
    "staff",
    "员工名单",
    (
        Column("staff_id", "工号", Kind.ID, required=True, help="员工唯一工号", example="E01"),
        Column("name", "姓名", required=True, help="员工姓名，不能重名", example="张伟"),
        Column("role", "岗位", Kind.CHOICE, choices=ROLES, synonyms=_ROLE_SYNONYMS, required=True,
               help="服务工程师接问题处理，实施专员接实施类问题", example="服务工程师", width=14),
        Column("area", "区域", help="常驻区域（出发地）", example="西湖区"),
        Column("lat", "纬度", Kind.NUMBER, minimum=-90, maximum=90, help="可选：出发地纬度", example="30.2741"),
        Column("lon", "经度", Kind.NUMBER, minimum=-180, maximum=180, help="可选：出发地经度", example="120.1551"),
        Column("email", "邮箱", Kind.EMAIL, help="接收派工单等邮件的地址；也可写 姓名 <地址>", example="zhangwei@example.com",
               width=26),
        Column("mobile", "手机", Kind.ID, help="可选：群机器人发派工计划时按手机号@本人（企业微信、钉钉里绑定的手机号）",
               example="13800000001", width=14),
        Column("daily_cap", "每日上限", Kind.INT, minimum=DAILY_CAP_RANGE[0], maximum=DAILY_CAP_RANGE[1],
               help=f"一天最多派几家（{DAILY_CAP_RANGE[0]}–{DAILY_CAP_RANGE[1]}），留空按规则设置（默认{DAILY_CAP_DEFAULT}）", example="3"),
        _yes_no("active", "在岗", default=True, help="离职或长期不在岗填否，默认是",
                synonyms=(("在职", "是"), ("离职", "否"), ("不在岗", "否"))),
    ),
    key_columns=("staff_id",),
    workbook="员工名单",
    purpose="部门每位员工一行：岗位、出发地、邮箱、手机、每日上限。",
)

LEAVE = Template(
    "leave",
    "请假",
    (
        Column("staff_id", "工号", Kind.ID, required=True, help="请假员工的工号或姓名", example="E03"),
        Column("start", "开始日期", Kind.DATE, required=True, help="请假第一天", example="2026-11-28"),
        Column("end", "结束日期", Kind.DATE, required=True, help="请假最后一天（含）", example="2026-11-30"),
        Column("reason", "原因", help="事假、病假、培训等", example="年假", width=20),
    ),
    key_columns=("staff_id", "start"),
    workbook="员工名单",
    purpose="请假期间不派工。",
)

AREA_DISTANCE = Template(
    "area_distance",
    "区域距离",
    (
        Column("area_a", "区域A", required=True, help="一个区域", example="西湖区"),
        Column("area_b", "区域B", required=True, help="另一个区域", example="滨江区"),
        Column("km", "距离公里", Kind.NUMBER, required=True, minimum=0, help="两区域之间的路程（公里）", example="12.5"),
    ),
    key_columns=("area_a", "area_b"),
    workbook="员工名单",
    purpose="可选：客户和工程师都没有经纬度时，按此表估算距离。",
)

CALLS = Template(
    "calls",
    "热线记录",
    (
        Column("ticket_id", "工单号", Kind.ID, help="留空则自动生成", example="T20261127-001"),
        Column("call_time", "来电时间", Kind.DATETIME, required=True, help="来电日期和时间", example="2026-11-27 09:05",
               width=17),
        Column("customer_id", "客户编号", Kind.ID, required=True, help="必须是客户档案里的编号", example="C0001"),
        Column("caller", "来电人", help="打电话的人", example="李会计"),
        Column("category", "问题类别", Kind.CHOICE, choices=CATEGORIES, help="投诉类即为客户投诉", example="软件故障",
               when_missing="本表没有问题类别：投诉认不出来，实施类问题不会派给实施专员"),
        Column("problem", "问题描述", required=True, help="客户反映的问题", example="凭证过账报错", width=36),
        Column("severity", "严重性", Kind.CHOICE, choices=SEVERITIES, default="中", help="默认中", example="高", width=8),
        Column("urgency", "紧急性", Kind.CHOICE, choices=URGENCIES, default="一般", help="默认一般", example="紧急", width=8),
        Column("handling", "处理方式", Kind.CHOICE, choices=HANDLINGS,
               help="需上门、或远程处理未解决的，次日派工", example="需上门",
               when_missing="本表没有处理方式：其中的工单都不会派工，也不进未派清单"),
        Column("recorded_by", "记录人", help="接电话的人", example="陈静"),
        Column("notes", "备注", help="其他说明", example="", width=24),
        Column("assigned", "指定工程师", help="可选：紧急时热线指定上门的人（工号或姓名）；该单首次上门就派给此人，超过每日上限也派",
               example=""),
    ),
    key_columns=("ticket_id",),
    workbook="热线记录",
    purpose="热线每接一个电话记一行；需上门的问题次日派工。",
)

FEEDBACK = Template(
    "feedback",
    "服务反馈单",
    (
        Column("ticket_id", "工单号", Kind.ID, help="来自热线记录；主动拜访可留空", example="T20261127-001"),
        Column("service_date", "服务日期", Kind.DATE, required=True, help="上门或处理的日期", example="2026-11-28"),
        Column("staff", "服务代表", required=True, aliases=("派给",), help="实际服务的员工工号或姓名", example="张伟"),
        Column("customer_id", "客户编号", Kind.ID, required=True, help="必须是客户档案里的编号", example="C0001"),
        Column("service_type", "服务类型", Kind.CHOICE, choices=SERVICE_TYPES, default="问题处理",
               help="客户拜访计入拜访指标", example="问题处理"),
        Column("mode", "服务方式", Kind.CHOICE, choices=MODES, default="上门", help="默认上门", example="上门", width=8),
        _yes_no("phoned_ahead", "电话预约", help="出发前是否电话确认",
               when_missing="本表没有电话预约：全部按未预约计分，并计入违规"),
        # 到达/离开: the lowest cells of a two-level header under a merged 上门时间.
        Column("arrive", "到达时间", Kind.TIME, aliases=("到达",), help="到达客户处的时间", example="9:30", width=9,
               when_missing="本表没有到达时间：无法判断上门时长"),
        Column("leave", "离开时间", Kind.TIME, aliases=("离开",), help="离开客户处的时间，不能早于到达时间", example="11:00",
               width=9,
               when_missing="本表没有离开时间：无法判断上门时长"),
        Column("result", "处理结果", Kind.CHOICE, choices=RESULTS, help="留空表示尚未完成", example="已解决",
               when_missing="本表没有处理结果：全部视为尚未完成，不计解决数"),
        Column("satisfaction", "客户满意度", Kind.CHOICE, choices=SATISFACTION, synonyms=SATISFACTION_NUMBERS,
               help="也可填5/4/3/2/1", example="满意",
               when_missing="本表没有客户满意度：满意度不计分"),
        _yes_no("signed", "客户签字", help="客户是否签字确认"),
        Column("manager_score", "经理评分", Kind.NUMBER, minimum=0, maximum=100, help="可选：经理评分覆盖计算分",
               example=""),
        Column("notes", "备注", help="其他说明", example="", width=24),
        Column("planned", "计划派给", tool_written=True,
               help="派工单总览自带的原计划（不要改）；经理把派给改得与它不同，即为经理指定。手填反馈单留空", example=""),
    ),
    key_columns=("ticket_id", "service_date", "staff", "customer_id"),
    workbook="服务反馈单",
    # The returned dispatch sheets' route, ranking and move columns (kis_batch/render/dispatch.py).
    reference_headers=(*CUSTOMER_REFERENCE, "路线顺序", "类别", "报修问题", "报修时间", "问题类别", "严重性", "紧急性",
                       "等待工作日", "优先顺序", "上次结果", "原服务代表", "改派原因", "距离公里",
                       "上站距离"),
    purpose="每次服务一行；派工单填好交回也算反馈单。",
)


class Cells(Protocol):
    """A row read by column key: a dict of a table, or a typed row during ingest."""

    def __getitem__(self, key: str, /) -> Any: ...


# The columns service_happened reads.
SERVICE_FACTS = ("result", "arrive", "leave")


def service_happened(row: Cells) -> bool:
    """Whether a feedback row records a service that took place: it has a 处理结果, or a 到达时间 or
    离开时间 (someone was there). Neither means not done yet, such as a returned dispatch row left
    blank: it counts for nothing and is listed as missing feedback (docs/rules.md § Inputs). Every
    step that asks "was this service done?" asks here, so they never disagree; a 客户拜访 that
    happened counts as a visit whatever its 处理结果."""
    return row["result"] is not None or row["arrive"] is not None or row["leave"] is not None


FEES = Template(
    "fees",
    "年费台账",
    (
        Column("contract_id", "合同编号", Kind.ID, required=True, help="年费合同唯一编号", example="NF2026-001"),
        Column("customer_id", "客户编号", Kind.ID, required=True, help="必须是客户档案里的编号", example="C0001"),
        Column("start", "服务开始", Kind.DATE, help="服务期第一天（年费此日应收）", example="2026-01-01"),
        Column("end", "服务到期", Kind.DATE, required=True, help="服务期最后一天，须晚于开始", example="2026-12-31"),
        Column("amount", "年费金额", Kind.NUMBER, minimum=0, help="合同年费（元）", example="3800",
               when_missing="本表没有年费金额：无法计算欠款和收款率"),
        Column("paid", "已收金额", Kind.NUMBER, minimum=0, default=0.0, help="已收（元），默认0", example="3800",
               when_missing="本表没有已收金额：全部按未收款计"),
        Column("paid_date", "收款日期", Kind.DATE, help="最近一次收款日期", example="2026-01-05"),
        _yes_no("approved", "经理核准", help="经理是否已核准合同"),
        Column("owner", "负责人", help="催收负责人工号或姓名；默认客户的服务代表", example="张伟"),
        Column("due_date", "应收日期", Kind.DATE, help="可选：与服务开始不同的应收日期", example=""),
    ),
    key_columns=("contract_id",),
    workbook="年费台账",
    purpose="每份年费合同一行：应收、已收、到期。",
)

CALLBACKS = Template(
    "callbacks",
    "回访记录",
    (
        Column("date", "回访日期", Kind.DATE, required=True, help="打回访电话的日期", example="2026-11-27"),
        Column("customer_id", "客户编号", Kind.ID, required=True, help="必须是客户档案里的编号", example="C0001"),
        Column("kind", "回访类型", Kind.CHOICE, choices=CALLBACK_KINDS, required=True, help="当日核实/月度抽查/满意度回访",
               example="当日核实"),
        Column("ticket_id", "工单号", Kind.ID, help="核实的是哪张工单", example="T20261127-001"),
        Column("staff", "服务代表", help="被核实的员工", example="张伟"),
        _yes_no("reached", "接通", help="留空表示还没打",
               when_missing="本表没有接通：全部视为还没打，不计回访覆盖"),
        Column("verified", "上门属实", Kind.CHOICE, choices=VERIFIED, help="客户确认工程师确实来过", example="是", width=9,
               when_missing="本表没有上门属实：当日核实结果无法统计"),
        Column("satisfaction", "客户满意度", Kind.CHOICE, choices=SATISFACTION, synonyms=SATISFACTION_NUMBERS,
               help="也可填5/4/3/2/1", example="满意",
               when_missing="本表没有客户满意度：回访满意度无法统计"),
        _yes_no("complaint", "投诉", help="客户是否投诉",
               when_missing="本表没有投诉：回访中的投诉认不出来"),
        Column("caller", "回访人", help="打电话的人", example="陈静"),
        Column("notes", "备注", help="客户原话等", example="", width=24),
    ),
    key_columns=("date", "customer_id", "kind"),
    workbook="回访记录",
    # The returned callback list's reading columns (kis_batch/render/callbacks.py).
    reference_headers=(*CUSTOMER_REFERENCE, "服务内容", "选取原因"),
    purpose="热线/服务监督的回访结果；回访清单填好交回也算回访记录。",
)

# 年费催收: who chases which contract on P (docs/rules.md § Fees). The chase list of 年费_D.xlsx carries
# these columns, so the manager reassigns a chase by changing 催收负责人 and dropping the workbook back.
FEE_CHASE = Template(
    "fee_chase",
    "年费催收",
    (
        Column("contract_id", "合同编号", Kind.ID, required=True, help="年费台账里的合同编号", example="NF2026-001"),
        Column("chase_date", "催收日期", Kind.DATE, required=True, help="催收清单的日期（下一个工作日）", example="2026-11-30"),
        Column("owner", "催收负责人", required=True, help="这一天去催收的员工工号或姓名", example="张伟"),
        Column("planned", "计划负责人", tool_written=True,
               help="催收清单自带的原负责人（不要改）；催收负责人与它不同即为改派。手填时留空，每行都是改派", example=""),
    ),
    key_columns=("contract_id", "chase_date"),
    workbook="年费台账",
    # The chase list's reading columns (kis_batch/render/fees.py).
    reference_headers=("序号", "催收类型", *CUSTOMER_REFERENCE, "应收日期", "服务到期", "年费金额", "未收金额", "逾期天数",
                       "经理核准", "续费风险", "催收事项"),
    purpose="经理改派年费催收：某合同某天由谁去催；年费_D 的催收清单改了催收负责人交回也算。",
)

# Implementation projects (docs/rules.md § Implementation projects).
ACCEPTANCE_CONCLUSIONS = ("通过", "不通过")
ACCEPTED, NOT_ACCEPTED = ACCEPTANCE_CONCLUSIONS
CHECK_OUTCOMES = ("合格", "不合格", "不适用")
FAILED_CHECK = "不合格"
# The overview sheet of 实施_D.xlsx: for reading only (its columns are 实施项目's), passed over when
# the workbook comes back with its 验收 sheets filled in.
PROJECT_OVERVIEW = "项目总览"

PROJECTS = Template(
    "projects",
    "实施项目",
    (
        Column("project_id", "项目编号", Kind.ID, required=True, help="实施项目的唯一编号", example="SS2026-001"),
        Column("customer_id", "客户编号", Kind.ID, required=True, help="必须是客户档案里的编号", example="C0001"),
        Column("specialist", "实施专员", required=True, help="负责实施的实施专员的工号或姓名（岗位须为实施专员）", example="E07"),
        Column("scope", "实施内容", help="产品与模块", example="KIS专业版：总账、报表、供应链", width=28),
        Column("start", "开始日期", Kind.DATE, required=True, help="实施开始的日期", example="2026-11-02"),
        Column("planned_live", "计划上线", Kind.DATE, required=True, help="计划上线日期，不能早于开始日期", example="2026-11-20"),
        Column("live", "实际上线", Kind.DATE, help="实际上线日期；未上线留空，不能晚于今天", example="2026-11-19"),
        Column("accepted_on", "验收日期", Kind.DATE, help="经理验收的日期，不能早于实际上线", example="2026-11-24"),
        Column("acceptance", "验收结论", Kind.CHOICE, choices=ACCEPTANCE_CONCLUSIONS,
               help="通过/不通过；留空则按交回的验收单判断", example="通过", width=9),
        Column("accepted_by", "验收人", help="做技术检查的人（服务部经理）", example="周经理", width=9),
        Column("handover_to", "交接服务代表", help="验收通过后接手的服务工程师的工号或姓名", example="张伟", width=12),
        Column("handed_over", "交接日期", Kind.DATE, help="交接给服务代表的日期，不能早于验收日期", example="2026-11-26"),
        Column("notes", "备注", help="其他说明", example="", width=24),
    ),
    key_columns=("project_id",),
    workbook="实施项目",
    purpose="每个实施项目一行：谁实施、何时上线、验收和交接。",
)

ACCEPTANCE = Template(
    "acceptance",
    "验收单",
    (
        Column("project_id", "项目编号", Kind.ID, required=True, help="实施项目的编号", example="SS2026-001"),
        Column("item", "检查项", required=True, help="规则设置“验收检查项”中的一项", example="凭证与报表", width=30),
        Column("outcome", "结果", Kind.CHOICE, choices=CHECK_OUTCOMES, help="合格/不合格/不适用；留空表示还没检查",
               example="合格", width=8),
        Column("notes", "说明", help="检查发现的问题、整改要求", example="", width=30),
        Column("date", "验收日期", Kind.DATE, help="检查的日期；填了结果就必须填", example="2026-11-24"),
        Column("checked_by", "验收人", help="做检查的人", example="周经理", width=9),
    ),
    key_columns=("project_id", "item"),
    workbook="实施项目",
    # The 验收 sheets of 实施_D.xlsx carry a row number and the last round's result for reading.
    reference_headers=("序号", "上次结果"),
    purpose="经理对实施项目的逐项技术检查；实施_D.xlsx 的验收表填好交回也算验收单。",
)

# 投诉处理: how a complaint case is handled and closed (docs/rules.md § Complaint cases). The case rows
# of 投诉跟踪_D.xlsx carry these columns to fill in, so a filled sheet dropped back is this template.
RESPONSIBILITIES = ("本部门", "总部", "客户原因", "其他")
DEPARTMENT_RESPONSIBLE = RESPONSIBILITIES[0]
# 投诉跟踪's sheet of counts by responsibility and engineer: for reading, passed over when returned.
COMPLAINT_COUNTS_SHEET = "按责任"
COMPLAINT_HANDLING = Template(
    "complaint_handling",
    "投诉处理",
    (
        Column("complaint_id", "投诉编号", Kind.ID, required=True, help="投诉跟踪表里的投诉编号，如 TS20261120-C0012",
               example="TS20261120-C0012", width=20),
        Column("responsibility", "责任判定", Kind.CHOICE, choices=RESPONSIBILITIES,
               help="未判定前按本部门责任计（本部门能力范围内可解决的问题，应付全部责任）", example="本部门", width=10),
        Column("action", "处理措施", help="对客户采取的处理措施；填了即为处理中", example="经理致电道歉，次日安排上门复查",
               width=30),
        Column("handler", "处理人", help="负责处理的员工工号或姓名", example="张伟"),
        Column("closed_on", "结案日期", Kind.DATE, help="结案的日期，不能晚于运行日期；填了即为已结案", example="2026-11-24"),
        _yes_no("confirmed", "客户确认", help="客户是否认可处理结果"),
        Column("notes", "备注", help="其他说明", example="", width=24),
    ),
    key_columns=("complaint_id",),
    workbook="投诉处理",
    # The case columns of the returned 投诉跟踪 sheet (kis_batch/render/complaints.py).
    reference_headers=("状态", "立案日期", "已过工作日", "超期", "重开次数", "客户编号", "客户名称", "被投诉人", "投诉内容", "来源"),
    purpose="投诉案件的责任判定、处理措施和结案；投诉跟踪表填好交回也算投诉处理。",
)

SETTINGS_SHEET = Template(
    "settings",
    "规则设置",
    (
        Column("name", "参数", required=True, help="规则名称（不要改）", example="每日派工上限", width=20),
        Column("value", "值", help="规则的值；留空即用默认值", example="3", width=16),
        Column("help", "说明", help="规则的含义与出处", example="", width=70),
    ),
    workbook="规则设置",
    purpose="部门规则的数字；改这里即可，不用改程序。",
)

TEMPLATES: tuple[Template, ...] = (CUSTOMERS, STAFF, LEAVE, AREA_DISTANCE, CALLS, FEEDBACK, FEES, FEE_CHASE, CALLBACKS,
                                   COMPLAINT_HANDLING, PROJECTS, ACCEPTANCE, SETTINGS_SHEET)

# The manager's and the hotline's say over P's plan, as the reader finds it (docs/rules.md § Dispatch,
# § Fees): one row per pin, where it stands, and whom it names (person None: 不派).
PIN_DISPATCH, PIN_CHASE = "dispatch", "chase"
PIN_COLUMNS = ("kind", "key", "plan_date", "person", "planned", "source", "file", "sheet", "row", "column", "header",
               "value")
BY_KEY: dict[str, Template] = {t.key: t for t in TEMPLATES}
