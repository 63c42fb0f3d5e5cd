"""A realistic month of example input (kis-batch demo): the workbooks the clerks of a Kingdee KIS
reseller's service department drop into the evening folder, seeded, so the same arguments always
give byte-identical files.

The month is simulated working day by working day the way the department works, so every figure
the pipeline derives from the folder is consistent: the hotline logs calls; tickets that need a
visit are served the next working day by the customer's engineer, or by the nearest colleague with
room when the engineer is full or on leave; 部分解决/未解决 visits come back later; engineers fill
spare room with customer visits at their own pace; the hotline verifies each day's visits at 17:00,
spot-checks every engineer and calls other customers about satisfaction. The folder also keeps the
last earlier call of each tracked customer the month did not reach, and the 集团客户 belong to two groups.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.render.style import atomic_book, write_table
from kis_batch.render.templates import template_cols, write_template
from kis_batch.rules.complaints import numbered_complaints
from kis_batch.rules.scoring import link_events
from kis_batch.schema import (
    ACCEPTANCE,
    AREA_DISTANCE,
    CALLBACKS,
    CALLS,
    COMPLAINT_CATEGORY,
    COMPLAINT_HANDLING,
    CUSTOMERS,
    DEPARTMENT_RESPONSIBLE,
    ENGINEER,
    FEEDBACK,
    FEES,
    GROUP_SEGMENT,
    HOTLINE,
    IMPLEMENTATION_CATEGORY,
    IMPLEMENTER,
    LEAVE,
    MANAGER_ROLES,
    PROJECTS,
    RESOLVED,
    SEGMENTS,
    SETTINGS_SHEET,
    SEVERITIES,
    STAFF,
    URGENCIES,
    VISIT_TYPE,
    Template,
)
from kis_batch.settings import Settings


class Mix:
    """A weighted choice (a distribution), its cumulative weights worked out once."""

    def __init__(self, weights: dict[Any, float]) -> None:
        self._choices = list(weights)
        self._cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self._choices, cum_weights=self._cumulative)[0]


DEFAULT_SEED = 2026
RULES = Settings()
ONE_DAY = dt.timedelta(days=1)

# --- places -------------------------------------------------------------------------------------
# Centre (lat, lon) of each area; customers and staff are scattered around it.
AREAS: dict[str, tuple[float, float]] = {
    "上城区": (30.2425, 120.1692),
    "拱墅区": (30.3197, 120.1417),
    "西湖区": (30.2727, 120.0883),
    "滨江区": (30.2084, 120.2120),
    "萧山区": (30.1850, 120.2647),
    "余杭区": (30.2880, 120.0080),
    "临平区": (30.4192, 120.2999),
    "钱塘区": (30.3090, 120.3560),
    "富阳区": (30.0490, 119.9600),
}
OFFICE_AREA = "上城区"
# 异地客户 sit in the outlying district where no engineer is based.
REMOTE_AREA = "富阳区"
# Where the other customers are (weights).
CUSTOMER_AREA_MIX = Mix({"上城区": 14, "拱墅区": 14, "西湖区": 16, "滨江区": 12, "萧山区": 14, "余杭区": 12, "临平区": 9, "钱塘区": 9})
# Engineers are based in the city areas in this order (round-robin beyond eight).
ENGINEER_AREAS = ("西湖区", "拱墅区", "滨江区", "萧山区", "余杭区", "上城区", "临平区", "钱塘区")
SCATTER_DEG = 0.018
ROAD_FACTOR = 1.3  # road km per great-circle km, for the 区域距离 table
KM_ROUNDING = 0.5
NO_COORDINATES_SHARE = 0.06
ADDRESS_ROOM_SHARE = 0.5  # addresses with building and room, not just the street number
STREETS: dict[str, tuple[str, ...]] = {
    "上城区": ("解放路", "庆春路", "建国南路", "秋涛路", "望江路", "清泰街"),
    "拱墅区": ("莫干山路", "湖墅南路", "上塘路", "登云路", "丽水路", "石祥路"),
    "西湖区": ("文三路", "文一西路", "古墩路", "天目山路", "教工路", "学院路"),
    "滨江区": ("江南大道", "滨盛路", "江陵路", "长河路", "网商路", "火炬大道"),
    "萧山区": ("市心路", "金城路", "建设一路", "通惠路", "人民路", "萧绍路"),
    "余杭区": ("文一西路", "五常大道", "良睦路", "仓前街", "高教路", "荆长路"),
    "临平区": ("迎宾路", "世纪大道", "星桥路", "南苑街", "藕花洲大街", "临平大道"),
    "钱塘区": ("学林街", "文泽路", "福城路", "九堡大道", "白杨街道", "义蓬路"),
    "富阳区": ("金桥路", "富春街道", "江滨西大道", "银湖街道", "新登路", "大桥路"),
}

# --- people -------------------------------------------------------------------------------------
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢钟陆汪范金方邵钱严"
GIVEN_NAMES = ("伟", "芳", "静", "磊", "敏", "强", "洋", "勇", "杰", "娟", "涛", "超", "明", "霞", "平", "刚", "建华", "晓东",
               "海燕", "志强", "丽娟", "俊杰", "雪梅", "国庆", "文斌", "晓明", "红梅", "建军", "玉兰", "春华", "子涵", "一鸣",
               "思远", "佳怡", "浩然", "欣怡", "宇航", "梓萱", "晨阳", "雨婷", "嘉诚", "晓燕", "立新", "秀英", "永刚")
CONTACT_TITLES = ("会计", "经理", "出纳", "主管", "总")
CONTACT_TITLE_SHARE = 0.5  # contacts known as 李会计 rather than by full name
EMAIL_DOMAIN = "example.com"
LEAVE_REASONS = ("年假", "病假", "事假", "培训", "调休")
LEAVE_DAYS = (1, 3)  # working days per leave period
LEAVE_PERIODS_MIN = 4
STAFF_PER_LEAVE_PERIOD = 15  # at scale: one leave period per this many engineers and specialists

# --- customers ----------------------------------------------------------------------------------
CUSTOMER_ID_WIDTH = 4
BRANDS = ("明达", "恒信", "华联", "新锐", "永康", "金桥", "天成", "宏远", "鼎盛", "瑞丰", "伟业", "嘉禾", "汇通", "中天",
          "东方", "和润", "德隆", "佳美", "万象", "盛世", "源泰", "立信", "正泰", "精工", "博远", "兴旺", "广厦", "联发",
          "信达", "富通", "海纳", "安泰", "百川", "凯旋", "同创", "远洋", "春晖", "卓越", "品诚", "欣荣")
INDUSTRIES = ("贸易", "电子", "机械", "服饰", "食品", "建材", "物流", "科技", "化工", "纺织", "家具", "印刷", "医药",
              "餐饮管理", "装饰工程", "汽车配件", "五金", "包装", "文化传媒", "电器", "塑料制品", "实业", "进出口",
              "信息技术", "农业开发")
COMPANY_PREFIXES = Mix({"杭州": 70, "浙江": 15, "": 15})  # "": the area's own name, e.g. 萧山…
COMPANY_SUFFIXES = Mix({"有限公司": 82, "股份有限公司": 10, "商行": 8})
NAME_TRIES = 5  # re-draws before a repeated company name is accepted (unavoidable at scale)
KEY_CUSTOMER_SHARE = {"普通": 0.06, "大客户": 0.4, "集团客户": 0.4, "异地客户": 0.05}
SEGMENT_MIX = Mix({"普通": 82, "大客户": 9, "集团客户": 5, "异地客户": 4})
OWNER_BY_AREA_SHARE = 0.85  # the rest go to the least loaded of a few engineers (the manager balances)
BALANCE_CHOICES = 3
NEAREST_ENGINEERS = 2  # an area without a based engineer is shared by the nearest ones
PRODUCT_MIX = Mix({"KIS迷你版": 15, "KIS标准版": 25, "KIS专业版": 35, "KIS旗舰版": 10, "KIS商贸版": 15})
LARGE_PRODUCT_MIX = Mix({"KIS专业版": 50, "KIS旗舰版": 50})  # 大客户 and 集团客户
VERSION_MIX = Mix({"V13.1": 10, "V14.2": 25, "V15.1": 40, "V16.0": 25})
LANDLINE_SHARE = 0.7
MOBILE_PREFIXES = ("130", "133", "135", "136", "137", "138", "139", "150", "158", "159", "177", "180", "186", "189")
# Relative call frequency: key and large customers call more.
KEY_CALL_WEIGHT = 3.0
SEGMENT_CALL_WEIGHT = {"大客户": 2.0, "集团客户": 2.0}

# --- calls --------------------------------------------------------------------------------------
BUSY_FROM = 0.5  # quiet days draw from the lower half of the range, busy days from the upper half
MONTH_END_DAYS = 3  # the last working days of the month are busy (月结/结账)
CALL_HOURS = Mix({8: 3, 9: 14, 10: 16, 11: 11, 12: 4, 13: 9, 14: 14, 15: 14, 16: 11, 17: 4})
DAY_OPENS, DAY_CLOSES = 8 * 60 + 30, 17 * 60 + 30
CATEGORY_MIX = Mix({"操作咨询": 30, "软件故障": 24, "数据问题": 11, "安装": 7, "升级": 7, "年费": 5, "培训": 4,
                    "实施": 6, "其他": 4, "投诉": 2})
SEVERITY_MIX = Mix({"高": 12, "中": 55, "低": 33})
SERIOUS_SEVERITY_MIX = Mix({"高": 30, "中": 55, "低": 15})  # 软件故障 and 数据问题
SERIOUS_CATEGORIES = ("软件故障", "数据问题")
URGENCY_MIX = Mix({"紧急": 15, "一般": 65, "不急": 20})
MONTH_END_URGENCY_MIX = Mix({"紧急": 35, "一般": 55, "不急": 10})
# Overall about 55 % 电话已解决, 15 % 远程处理, 24 % 需上门, 5 % 转总部 once the categories below are counted
# in; that leaves the engineers about a third of their daily room for their own customer visits.
HANDLING_WEIGHTS = {"电话已解决": 64, "远程处理": 15, "需上门": 15, "转总部": 6}
CATEGORY_HANDLING_MIX = {
    "实施": Mix({"需上门": 100}),
    "安装": Mix({"需上门": 60, "远程处理": 40}),
    "年费": Mix({"电话已解决": 80, "需上门": 20}),
    "投诉": Mix({"电话已解决": 70, "需上门": 30}),
}
BLANK_TICKET_ID_SHARE = 0.03  # of calls settled on the phone: the clerk left 工单号 blank
OTHER_CALLER_SHARE = 0.2
HOTLINE_RECORDS_SHARE = 0.85  # the assistant takes the other calls
COMPLAINT_LOOKBACK_DAYS = 3  # a complaint is about a visit of the last few working days
PROBLEMS: dict[str, tuple[str, ...]] = {
    "操作咨询": ("凭证录入后如何修改", "怎样设置凭证模板", "工资表如何增加项目", "固定资产卡片怎么新增", "报表公式怎么取数",
             "如何引入期初余额", "新增用户和权限怎么设置", "发票怎么批量打印"),
    "软件故障": ("凭证过账报错", "打开账套提示数据库连接失败", "报表打开后数据为空", "登录时提示加密狗未找到",
             "打印凭证时程序无响应", "出库单保存报错", "升级后菜单显示不全"),
    "数据问题": ("科目余额表与总账不一致", "误删凭证需要恢复", "账套备份恢复失败", "库存数量出现负数", "往来对账不平"),
    "安装": ("新电脑需要安装KIS客户端", "服务器重装系统后需重新安装", "新增一个站点", "加密狗驱动安装失败"),
    "升级": ("升级到新版本", "年度升级补丁安装", "升级后账套需转换"),
    "年费": ("咨询年费续费金额", "年费发票开具", "服务到期后能否继续使用"),
    "培训": ("新来的会计需要培训", "出纳模块使用培训", "供应链模块培训"),
    "实施": ("新购KIS旗舰版实施", "启用供应链模块", "多账套实施上线", "期初数据导入"),
    "其他": ("咨询税控接口", "询问新产品价格", "发票打印机设置", "咨询电子发票对接"),
}
CLOSING_PROBLEMS = ("期末结账提示有未过账凭证", "结转损益后报表不平", "月末计提折旧出错", "反结账怎么操作",
                    "结账时提示存货核算未完成", "月结后发现凭证错误需调整")
CLOSING_CATEGORIES = ("操作咨询", "软件故障", "数据问题")
CLOSING_PROBLEM_SHARE = 0.5
COMPLAINTS = ("投诉{name}上门迟到一小时", "投诉{name}态度不好", "投诉{name}来过后问题仍未解决", "投诉{name}未预约直接上门")
CHASE_PROBLEM = "催问工单{ticket}的上门时间"

# --- visits -------------------------------------------------------------------------------------
CAP = RULES.daily_cap
LIMIT = RULES.max_visit_minutes
SERVICE_TYPE_OF = {"安装": "安装系统", "培训": "培训", "年费": "年费收取", "实施": "实施"}  # the rest: 问题处理
RESULT_MIX = Mix({"已解决": 90, "部分解决": 7, "未解决": 3})
REMOTE_RESULT_MIX = Mix({"已解决": 92, "未解决": 8})
SATISFACTION_MIX = Mix({"非常满意": 38, "满意": 52, "一般": 8, "不满意": 2})
UNRESOLVED_SATISFACTION_MIX = Mix({"满意": 40, "一般": 45, "不满意": 15})
# Minutes on site (low, high): weights. Mostly 1-2 h, a few over the limit.
DURATION_MIX = Mix({(40, 60): 15, (60, 90): 40, (90, LIMIT): 37, (LIMIT + 5, LIMIT + 50): 8})
INSTALL_DURATION_MIX = Mix({(90, 150): 50, (150, 180): 50})  # 安装系统 is exempt from the limit
REMOTE_MINUTES = (15, 50)
REMOTE_DELAY = (10, 60)  # minutes after the call before the engineer connects
REMOTE_LATEST = 17 * 60 + 30
DAY_STARTS = (8 * 60 + 50, 9 * 60 + 15)
TRAVEL_MINUTES = (10, 90)  # between two customers: the fixed part, and the longest
TRAVEL_MIN_PER_KM = 1.5
LUNCH = (11 * 60 + 50, 13 * 60 + 15)  # an arrival in this window waits until after lunch
LUNCH_SLACK = 15
PHONED_AHEAD_SHARE = 0.93
SIGNED_SHARE = 0.94
MANAGER_SCORE_SHARE = 0.03
MANAGER_SCORE = (60, 95)
# 客户拜访 per engineer by month end, spread evenly over engineers so quota statuses differ.
VISIT_TARGETS = (9, 21)
PROJECTS_PER_IMPLEMENTER = 2
PROJECT_TYPES = Mix({"实施": 70, "培训": 30})
PROJECT_DAY_SHARE = 0.7  # of days with tickets, a specialist also goes to a project
PROJECT_NOTE = "实施项目按计划推进"
VISIT_NOTES = {"客户拜访": ("了解使用情况", "续费沟通", "介绍新版本功能", "收集改进意见"),
               "部分解决": ("需下次带加密狗再来", "客户数据需总部协助", "待客户确认后再处理"),
               "未解决": ("客户负责人不在", "需总部远程支持", "硬件故障，建议更换")}
# Share of the engineers and specialists who returned today's feedback by the time of the run.
RETURNED_TODAY_SHARE = 0.6
FEEDBACK_WEEKLY_ABOVE = 50  # more engineers than this: one feedback workbook per week, not per day

# --- callbacks ----------------------------------------------------------------------------------
VERIFY_SHARE = 0.9
REACHED_SHARE = 0.92
SAME_SATISFACTION_SHARE = 0.8  # the customer tells the hotline what they told the engineer
SPOT_CHECK_PACE = 0.9  # the hotline runs a little behind the even pace
SATISFACTION_CALLS_PER_CUSTOMER = 0.003  # per working day
FALSE_VISITS = 2  # callbacks where the customer says nobody came
CALLBACK_COMPLAINTS = 2

# --- fees ---------------------------------------------------------------------------------------
CONTRACT_SHARE = 0.63
EXPIRED_SHARE = 0.08  # expired in the last months and not renewed
EXPIRED_WITHIN = 150  # days
PREVIOUS_CONTRACT_SHARE = 0.10
EARLY_RENEWAL_SHARE = 0.3  # of contracts expiring within the window: renewal already signed
FEE_RANGES = {"KIS迷你版": (1800, 2400), "KIS标准版": (2800, 3800), "KIS专业版": (3800, 6800),
              "KIS旗舰版": (6800, 12000), "KIS商贸版": (3000, 5000)}
RECENT_DAYS = 30  # contracts due this recently are often still unpaid
RECENT_PAYMENT_MIX = Mix({"paid": 55, "partial": 15, "unpaid": 30})
OLD_PAYMENT_MIX = Mix({"paid": 88, "partial": 5, "unpaid": 7})
ADVANCE_PAYMENT_SHARE = 0.2
PARTIAL_SHARES = (0.3, 0.5)
PAYMENT_DELAY = (-7, 25)  # days from due date to payment
APPROVED_SHARE = 0.95


@dataclass(frozen=True)
class Person:
    staff_id: str
    name: str
    role: str
    area: str
    place: tuple[float, float]
    email: str | None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    contact: str
    phone: str
    address: str
    area: str
    place: tuple[float, float]  # for distances; the area's centre where no coordinates are recorded
    has_coordinates: bool
    owner: Person
    key: bool
    segment: str
    product: str


@dataclass
class Ticket:
    ticket_id: str | None
    call_time: dt.datetime
    customer: Customer
    category: str
    problem: str
    severity: str
    urgency: str
    handling: str
    caller: str
    recorded_by: str
    notes: str | None = None
    since: dt.date = dt.date.min  # waiting for a visit from this day (call, or last unresolved visit)


@dataclass
class Visit:
    """One feedback row: a ticket served (on site or remote) or a visit without a ticket."""

    day: dt.date
    staff: Person
    customer: Customer
    service_type: str
    ticket: Ticket | None = None
    mode: str = "上门"
    arrive: int = 0  # minutes after midnight
    leave: int = 0
    result: str = RESOLVED
    satisfaction: str = "满意"
    phoned_ahead: bool = True
    signed: bool | None = True
    manager_score: int | None = None
    notes: str | None = None


@dataclass
class Callback:
    day: dt.date
    customer: Customer
    kind: str
    ticket_id: str | None
    staff: Person
    reached: bool
    verified: str | None
    satisfaction: str | None
    caller: Person
    complaint: bool | None = False
    notes: str | None = None


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _scatter(rng: random.Random, area: str) -> tuple[float, float]:
    lat, lon = AREAS[area]
    return round(lat + rng.gauss(0, SCATTER_DEG), 4), round(lon + rng.gauss(0, SCATTER_DEG), 4)


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _yes(flag: bool | None) -> str | None:
    return None if flag is None else "是" if flag else "否"


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _staff(rng: random.Random, engineers: int, specialists: int) -> list[Person]:
    """The department: a manager, an assistant, the engineers, the specialists and the hotline.
    Names never repeat (staff are referred to by name); the newest engineer has no e-mail address
    yet, so mail has a person to report."""
    roles = [MANAGER_ROLES[0], MANAGER_ROLES[1], *[ENGINEER] * engineers, *[IMPLEMENTER] * specialists, HOTLINE]
    width = max(2, len(str(len(roles))))
    last_engineer = 2 + engineers
    people: list[Person] = []
    taken: set[str] = set()
    for number, role in enumerate(roles, 1):
        name = _person_name(rng)
        while name in taken:
            name = _person_name(rng)
        taken.add(name)
        staff_id = f"E{number:0{width}d}"
        if role == ENGINEER:
            area = ENGINEER_AREAS[(number - 3) % len(ENGINEER_AREAS)]
        elif role == IMPLEMENTER:
            area = ENGINEER_AREAS[(number - 3 - engineers) * 3 % len(ENGINEER_AREAS)]
        else:
            area = OFFICE_AREA
        email = None if number == last_engineer else f"{staff_id.lower()}@{EMAIL_DOMAIN}"
        people.append(Person(staff_id, name, role, area, _scatter(rng, area), email))
    return people


def _phone(rng: random.Random) -> str:
    if rng.random() < LANDLINE_SHARE:
        return f"0571{rng.choice('5678')}{rng.randint(0, 9_999_999):07d}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"


def _company(rng: random.Random, area: str, taken: set[str]) -> str:
    for _ in range(NAME_TRIES):
        prefix = COMPANY_PREFIXES.pick(rng) or area[:2]
        name = f"{prefix}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}{COMPANY_SUFFIXES.pick(rng)}"
        if name not in taken:
            break
    taken.add(name)
    return name


def _customers(rng: random.Random, count: int, engineers: list[Person]) -> list[Customer]:
    """Customers around the city, mostly owned by an engineer based in their area (else the nearest)."""
    by_area: dict[str, list[Person]] = defaultdict(list)
    for person in engineers:
        by_area[person.area].append(person)
    local = {area: by_area[area] or sorted(engineers, key=lambda p, c=centre: (_km(p.place, c), p.staff_id))[:NEAREST_ENGINEERS]
             for area, centre in AREAS.items()}
    load = dict.fromkeys((p.staff_id for p in engineers), 0)
    width = max(CUSTOMER_ID_WIDTH, len(str(count)))
    taken: set[str] = set()
    customers: list[Customer] = []
    for number in range(1, count + 1):
        segment = SEGMENT_MIX.pick(rng)
        area = REMOTE_AREA if segment == "异地客户" else CUSTOMER_AREA_MIX.pick(rng)
        place = _scatter(rng, area)
        has_coordinates = rng.random() >= NO_COORDINATES_SHARE
        if rng.random() < OWNER_BY_AREA_SHARE:
            owner = rng.choice(local[area])
        else:
            owner = min(rng.sample(engineers, min(BALANCE_CHOICES, len(engineers))), key=lambda p: (load[p.staff_id], p.staff_id))
        load[owner.staff_id] += 1
        surname = rng.choice(SURNAMES)
        contact = surname + rng.choice(CONTACT_TITLES) if rng.random() < CONTACT_TITLE_SHARE else _person_name(rng)
        product = (LARGE_PRODUCT_MIX if segment in ("大客户", "集团客户") else PRODUCT_MIX).pick(rng)
        address = f"{area}{rng.choice(STREETS[area])}{rng.randint(1, 999)}号"
        if rng.random() < ADDRESS_ROOM_SHARE:
            address += f"{rng.randint(1, 30)}幢{rng.randint(1, 20)}0{rng.randint(1, 9)}室"
        customers.append(Customer(
            f"C{number:0{width}d}", _company(rng, area, taken), contact, _phone(rng), address, area,
            place if has_coordinates else AREAS[area], has_coordinates, owner,
            rng.random() < KEY_CUSTOMER_SHARE[segment], segment, f"{product} {VERSION_MIX.pick(rng)}",
        ))
    return customers


_SEVERITY_RANK = {s: rank for rank, s in enumerate(SEVERITIES)}
_URGENCY_RANK = {u: rank for rank, u in enumerate(URGENCIES)}


def _priority(ticket: Ticket) -> tuple[Any, ...]:
    """The dispatch order (docs/rules.md § Dispatch): key customer, severity, urgency, longest waiting, call time, id."""
    return (not ticket.customer.key, _SEVERITY_RANK[ticket.severity], _URGENCY_RANK[ticket.urgency],
            ticket.since, ticket.call_time, ticket.ticket_id or "")


def _pool(ticket: Ticket) -> str:
    """实施 tickets go to the implementation specialists, the rest to the service engineers."""
    return IMPLEMENTER if ticket.category == IMPLEMENTATION_CATEGORY else ENGINEER


def _nearest(people: Iterable[Person], place: tuple[float, float]) -> Person:
    return min(people, key=lambda p: (_km(p.place, place), p.staff_id))


class Month:
    """The simulated month: what the department did each working day up to today."""

    def __init__(self, rng: random.Random, calendar: WorkCalendar, today: dt.date, days: list[dt.date],
                 month_days: list[dt.date], staff: list[Person], customers: list[Customer],
                 calls_per_day: tuple[int, int], handling: Mix) -> None:
        self.rng, self.calendar, self.today = rng, calendar, today
        self.days, self.month_days = days, month_days
        self.staff, self.customers, self.calls_per_day = staff, customers, calls_per_day
        self.handling = handling
        self.engineers = [p for p in staff if p.role == ENGINEER]
        self.specialists = [p for p in staff if p.role == IMPLEMENTER]
        self.hotline = next(p for p in staff if p.role == HOTLINE)
        self.assistant = next(p for p in staff if p.role == MANAGER_ROLES[1])
        self.id_width = max(3, len(str(calls_per_day[1])))
        weights = [KEY_CALL_WEIGHT if c.key else SEGMENT_CALL_WEIGHT.get(c.segment, 1.0) for c in customers]
        self.call_weights = list(itertools.accumulate(weights))
        # what happened, for the workbooks
        self.leave: list[tuple[Person, dt.date, dt.date, str]] = []
        self.calls: dict[dt.date, list[Ticket]] = {}
        self.visits: list[Visit] = []
        self.callbacks: list[Callback] = []
        self.returned_today: set[str] = set()
        # the state carried from day to day
        self.absent: set[tuple[str, dt.date]] = set()
        self.open: dict[str, list[Ticket]] = {ENGINEER: [], IMPLEMENTER: []}
        self.waiting: dict[str, Ticket] = {}  # customer -> its ticket waiting for a visit
        self.remote_queue: list[Ticket] = []
        owned: dict[str, list[Customer]] = defaultdict(list)
        for customer in customers:
            owned[customer.owner.staff_id].append(customer)
        self.visit_order = {p.staff_id: self._visit_candidates(owned[p.staff_id]) for p in self.engineers}
        # Targets spread evenly; the engineers with the fewest customers (the most room) aim highest.
        span = VISIT_TARGETS[1] - VISIT_TARGETS[0]
        targets = [VISIT_TARGETS[1] - round(span * i / max(1, len(self.engineers) - 1)) for i in range(len(self.engineers))]
        by_load = sorted(self.engineers, key=lambda p: (len(owned[p.staff_id]), p.staff_id))
        self.visit_target = {p.staff_id: t for p, t in zip(by_load, targets, strict=True)}
        self.visits_done: dict[str, int] = defaultdict(int)
        self.projects = {p.staff_id: rng.sample(customers, min(PROJECTS_PER_IMPLEMENTER, len(customers)))
                         for p in self.specialists}
        self.served_by: dict[str, dict[str, Visit]] = defaultdict(dict)  # engineer -> customer -> last visit
        self.spot_checked: set[tuple[str, str]] = set()
        self.spot_checks: dict[str, int] = defaultdict(int)
        self.reached: set[str] = set()
        self.callback_keys: set[tuple[dt.date, str, str]] = set()

    def _visit_candidates(self, own: list[Customer]) -> list[Customer]:
        """Whom an engineer visits unprompted: key customers first, then the others, shuffled."""
        own = list(own)
        self.rng.shuffle(own)
        return sorted(own, key=lambda c: not c.key)

    def simulate(self) -> None:
        self._plan_leave()
        for index, day in enumerate(self.days):
            visits = self._visits(day, index)
            self._calls(day, index)
            self._remote(day)
            self._callbacks(day, index, visits)
        self._mark_callback_findings()
        if self.days and self.days[-1] == self.today:
            workers = sorted({v.staff.staff_id for v in self.visits if v.day == self.today})
            self.returned_today = set(self.rng.sample(workers, round(len(workers) * RETURNED_TODAY_SHARE)))

    # --- leave ----------------------------------------------------------------------------------

    def _plan_leave(self) -> None:
        """A few leave periods in the month, one covering the next working day after today, so the
        example's dispatch has an absent engineer to work around."""
        pool = self.engineers + self.specialists
        periods = max(LEAVE_PERIODS_MIN, len(pool) // STAFF_PER_LEAVE_PERIOD)
        people = self.rng.sample(pool, min(periods, len(pool)))
        absent = next((p for p in people if p.role == ENGINEER), people[0])
        plan_day = self.calendar.next_workday(self.today)
        self.leave.append((absent, plan_day, self.calendar.next_workday(plan_day), self.rng.choice(LEAVE_REASONS)))
        earlier = self.days[:-1] or self.month_days
        for person in people:
            if person is absent:
                continue
            start = end = self.rng.choice(earlier)
            for _ in range(self.rng.randint(*LEAVE_DAYS) - 1):
                end = self.calendar.next_workday(end)
            self.leave.append((person, start, end, self.rng.choice(LEAVE_REASONS)))
        self.absent = {(p.staff_id, day) for p, start, end, _ in self.leave for day in self.calendar.workdays(start, end)}

    def _present(self, people: Iterable[Person], day: dt.date) -> list[Person]:
        return [p for p in people if (p.staff_id, day) not in self.absent]

    # --- visits ---------------------------------------------------------------------------------

    def _dispatch(self, day: dt.date, pool: str, people: list[Person]) -> dict[str, list[Ticket]]:
        """Serve the highest-priority open tickets up to the pool's room: the owner keeps theirs up to
        the cap, the rest go to the nearest colleague with room; what is left waits a day more."""
        present = self._present(people, day)
        queue = sorted(self.open[pool], key=_priority)
        room = {p.staff_id: CAP for p in present}
        served, self.open[pool] = queue[: CAP * len(present)], queue[CAP * len(present):]
        jobs: dict[str, list[Ticket]] = defaultdict(list)
        excess: list[Ticket] = []
        for ticket in served:
            owner = ticket.customer.owner.staff_id
            if room.get(owner, 0) > 0:
                jobs[owner].append(ticket)
                room[owner] -= 1
            else:
                excess.append(ticket)
        for ticket in excess:
            taker = _nearest((p for p in present if room[p.staff_id] > 0), ticket.customer.place)
            jobs[taker.staff_id].append(ticket)
            room[taker.staff_id] -= 1
        return jobs

    def _visits(self, day: dt.date, index: int) -> list[Visit]:
        """Everyone's visits of the day: dispatched tickets first, then their own visits in the room left."""
        done: list[Visit] = []
        for pool, people in ((ENGINEER, self.engineers), (IMPLEMENTER, self.specialists)):
            jobs = self._dispatch(day, pool, people)
            for person in self._present(people, day):
                plan = [Visit(day, person, t.customer, SERVICE_TYPE_OF.get(t.category, "问题处理"), t)
                        for t in jobs.get(person.staff_id, [])]
                busy = {v.customer.customer_id for v in plan}
                if pool == ENGINEER:
                    plan += self._own_visits(day, index, person, CAP - len(plan), busy)
                elif len(plan) < CAP:
                    plan += self._project_visit(day, person, busy, bool(plan))
                self._route(person, plan)
                done += plan
        for visit in done:
            self._outcome(visit)
        self.visits += done
        return done

    def _own_visits(self, day: dt.date, index: int, engineer: Person, room: int, busy: set[str]) -> list[Visit]:
        """客户拜访 at the engineer's own pace towards their target for the month, in the room left."""
        sid = engineer.staff_id
        due = round(self.visit_target[sid] * (index + 1) / len(self.month_days)) - self.visits_done[sid]
        candidates = self.visit_order[sid]
        plan: list[Visit] = []
        for customer in list(candidates):
            if len(plan) >= min(room, due):
                break
            if customer.customer_id not in busy:
                candidates.remove(customer)
                plan.append(Visit(day, engineer, customer, VISIT_TYPE, notes=self.rng.choice(VISIT_NOTES[VISIT_TYPE])))
        self.visits_done[sid] += len(plan)
        return plan

    def _project_visit(self, day: dt.date, specialist: Person, busy: set[str], has_tickets: bool) -> list[Visit]:
        """A specialist's day at one of their implementation projects (always, on a day without tickets)."""
        free = [c for c in self.projects[specialist.staff_id] if c.customer_id not in busy]
        if not free or (has_tickets and self.rng.random() >= PROJECT_DAY_SHARE):
            return []
        return [Visit(day, specialist, self.rng.choice(free), PROJECT_TYPES.pick(self.rng), notes=PROJECT_NOTE)]

    def _route(self, person: Person, plan: list[Visit]) -> None:
        """Order the day's visits as a route from the base (nearest next) and time them."""
        here, clock = person.place, self.rng.randint(*DAY_STARTS)
        remaining = list(plan)
        plan.clear()
        while remaining:
            visit = min(remaining, key=lambda v, h=here: (_km(h, v.customer.place), v.customer.customer_id))
            remaining.remove(visit)
            if plan:
                clock += min(TRAVEL_MINUTES[0] + round(_km(here, visit.customer.place) * TRAVEL_MIN_PER_KM), TRAVEL_MINUTES[1])
            if LUNCH[0] <= clock < LUNCH[1]:
                clock = LUNCH[1] + self.rng.randint(0, LUNCH_SLACK)
            low, high = (INSTALL_DURATION_MIX if visit.service_type == "安装系统" else DURATION_MIX).pick(self.rng)
            visit.arrive, visit.leave = clock, clock + self.rng.randint(low, high)
            clock, here = visit.leave, visit.customer.place
            plan.append(visit)

    def _outcome(self, visit: Visit) -> None:
        """How a visit went; an unresolved ticket waits for another visit from this day."""
        rng = self.rng
        if visit.ticket is not None:
            visit.result = (RESULT_MIX if visit.mode == "上门" else REMOTE_RESULT_MIX).pick(rng)
        resolved = visit.result == RESOLVED
        visit.satisfaction = (SATISFACTION_MIX if resolved else UNRESOLVED_SATISFACTION_MIX).pick(rng)
        visit.phoned_ahead = rng.random() < PHONED_AHEAD_SHARE
        visit.signed = rng.random() < SIGNED_SHARE if visit.mode == "上门" else None
        if rng.random() < MANAGER_SCORE_SHARE:
            visit.manager_score = rng.randint(*MANAGER_SCORE)
        if not resolved:
            visit.notes = rng.choice(VISIT_NOTES[visit.result])
        if visit.staff.role == ENGINEER and visit.mode == "上门":
            self.served_by[visit.staff.staff_id][visit.customer.customer_id] = visit
        ticket = visit.ticket
        if ticket is None:
            return
        customer_id = ticket.customer.customer_id
        if resolved:
            if self.waiting.get(customer_id) is ticket:
                del self.waiting[customer_id]
        else:
            ticket.since = visit.day
            self.open[_pool(ticket)].append(ticket)
            self.waiting[customer_id] = ticket

    # --- calls ----------------------------------------------------------------------------------

    def _calls(self, day: dt.date, index: int) -> None:
        """The day's call log: busier on Mondays and at month end (结账), in working hours."""
        rng, (low, high) = self.rng, self.calls_per_day
        split = round(low + (high - low) * BUSY_FROM)
        month_end = day in self.month_days[-MONTH_END_DAYS:]
        count = rng.randint(split, high) if day.weekday() == 0 or month_end else rng.randint(low, split)
        lately = set(self.days[max(0, index - COMPLAINT_LOOKBACK_DAYS): index])
        recent = [v for v in self.visits if v.day in lately and v.mode == "上门" and v.staff.role == ENGINEER]
        moments = sorted(self._call_moment(day) for _ in range(count))
        customers = rng.choices(self.customers, cum_weights=self.call_weights, k=count)
        tickets: list[Ticket] = []
        numbers = itertools.count(1)
        for moment, customer in zip(moments, customers, strict=True):
            ticket = self._call(moment, customer, month_end, recent)
            if ticket.handling != "电话已解决" or rng.random() >= BLANK_TICKET_ID_SHARE:
                ticket.ticket_id = f"T{day:%Y%m%d}-{next(numbers):0{self.id_width}d}"
            tickets.append(ticket)
            if ticket.handling == "需上门":
                ticket.since = day
                self.open[_pool(ticket)].append(ticket)
                self.waiting[ticket.customer.customer_id] = ticket
            elif ticket.handling == "远程处理":
                self.remote_queue.append(ticket)
        self.calls[day] = tickets

    def _call_moment(self, day: dt.date) -> dt.datetime:
        minutes = CALL_HOURS.pick(self.rng) * 60 + self.rng.randint(0, 59)
        return dt.datetime.combine(day, _clock(min(max(minutes, DAY_OPENS), DAY_CLOSES)))

    def _call(self, moment: dt.datetime, customer: Customer, month_end: bool, recent: list[Visit]) -> Ticket:
        """One call: a complaint is about a recent visit; a customer already waiting for a visit is
        only chasing it."""
        rng = self.rng
        category = CATEGORY_MIX.pick(rng)
        notes = None
        if category == COMPLAINT_CATEGORY and recent:
            visit = rng.choice(recent)
            customer, problem = visit.customer, rng.choice(COMPLAINTS).format(name=visit.staff.name)
            visit.satisfaction = "不满意"
            notes = f"涉及{visit.day.month}月{visit.day.day}日上门"
        elif category == COMPLAINT_CATEGORY:
            category, problem = "其他", rng.choice(PROBLEMS["其他"])
        elif month_end and category in CLOSING_CATEGORIES and rng.random() < CLOSING_PROBLEM_SHARE:
            problem, notes = rng.choice(CLOSING_PROBLEMS), "月底结账急用"
        else:
            problem = rng.choice(PROBLEMS[category])
        handling = (CATEGORY_HANDLING_MIX.get(category, self.handling)).pick(rng)
        waiting = self.waiting.get(customer.customer_id)
        if waiting is not None and handling == "需上门":
            category, handling, problem = "其他", "电话已解决", CHASE_PROBLEM.format(ticket=waiting.ticket_id)
        severity = (SERIOUS_SEVERITY_MIX if category in SERIOUS_CATEGORIES else SEVERITY_MIX).pick(rng)
        urgency = (MONTH_END_URGENCY_MIX if month_end else URGENCY_MIX).pick(rng)
        caller = customer.contact if rng.random() >= OTHER_CALLER_SHARE else rng.choice(SURNAMES) + rng.choice(CONTACT_TITLES)
        recorder = self.hotline if rng.random() < HOTLINE_RECORDS_SHARE else self.assistant
        return Ticket(None, moment, customer, category, problem, severity, urgency, handling, caller, recorder.name, notes)

    def _remote(self, day: dt.date) -> None:
        """Remote tickets are handled the same day by the owner (or the nearest present colleague);
        a call too late in the day waits for the next morning."""
        engineers = self._present(self.engineers, day)
        later: list[Ticket] = []
        for ticket in self.remote_queue:
            if ticket.call_time.date() == day:
                start = ticket.call_time.hour * 60 + ticket.call_time.minute + self.rng.randint(*REMOTE_DELAY)
            else:
                start = self.rng.randint(*DAY_STARTS)
            minutes = self.rng.randint(*REMOTE_MINUTES)
            if start + minutes > REMOTE_LATEST or not engineers:
                later.append(ticket)
                continue
            owner = ticket.customer.owner
            person = owner if owner in engineers else _nearest(engineers, ticket.customer.place)
            visit = Visit(day, person, ticket.customer, "问题处理", ticket, "远程", start, start + minutes)
            self._outcome(visit)
            self.visits.append(visit)
        self.remote_queue = later

    # --- callbacks ------------------------------------------------------------------------------

    def _callbacks(self, day: dt.date, index: int, visits: list[Visit]) -> None:
        """The hotline's calls of the day: 17:00 verification of the day's visits, the engineers'
        monthly spot checks at an even pace, satisfaction calls to customers not yet reached."""
        for visit in visits:
            if self.rng.random() < VERIFY_SHARE:
                self._callback(day, "当日核实", visit.customer, visit)
        quota = RULES.spot_checks_per_engineer
        for engineer in self.engineers:
            sid = engineer.staff_id
            due = math.floor(quota * SPOT_CHECK_PACE * (index + 1) / len(self.month_days)) - self.spot_checks[sid]
            served = [v for c, v in self.served_by[sid].items() if (sid, c) not in self.spot_checked and v.day < day]
            for visit in self.rng.sample(served, max(0, min(due, len(served)))):
                self.spot_checked.add((sid, visit.customer.customer_id))
                self.spot_checks[sid] += 1
                self._callback(day, "月度抽查", visit.customer, visit)
        settled = [t for t in self.calls[day] if t.handling == "电话已解决" and t.customer.customer_id not in self.reached]
        wanted = max(1, round(len(self.customers) * SATISFACTION_CALLS_PER_CUSTOMER))
        for ticket in self.rng.sample(settled, min(wanted, len(settled))):
            self._callback(day, "满意度回访", ticket.customer, None, ticket)

    def _callback(self, day: dt.date, kind: str, customer: Customer, visit: Visit | None,
                  ticket: Ticket | None = None) -> None:
        """One call per customer, day and kind (the callback key)."""
        key = (day, customer.customer_id, kind)
        if key in self.callback_keys:
            return
        self.callback_keys.add(key)
        ticket = visit.ticket if visit else ticket
        reached = self.rng.random() < REACHED_SHARE
        satisfaction = verified = None
        if reached:
            self.reached.add(customer.customer_id)
            verified = "是" if visit else "不适用"
            if visit is not None and self.rng.random() < SAME_SATISFACTION_SHARE:
                satisfaction = visit.satisfaction
            else:
                satisfaction = SATISFACTION_MIX.pick(self.rng)
        self.callbacks.append(Callback(
            day, customer, kind, ticket.ticket_id if ticket else None, visit.staff if visit else customer.owner,
            reached, verified, satisfaction, self.hotline, False if reached else None, None if reached else "无人接听",
        ))

    def _mark_callback_findings(self) -> None:
        """A couple of visits the customer says never happened, and a couple of complaints."""
        reached = [c for c in self.callbacks if c.kind == "当日核实" and c.reached and c.day < self.today]
        picked = self.rng.sample(reached, min(FALSE_VISITS + CALLBACK_COMPLAINTS, len(reached)))
        for callback in picked[:FALSE_VISITS]:
            callback.verified, callback.satisfaction, callback.notes = "否", "不满意", "客户称当天没有工程师上门"
        for callback in picked[FALSE_VISITS:]:
            callback.complaint, callback.satisfaction, callback.notes = True, "不满意", "客户投诉：问题拖了好几天才处理"


# --- fees ---------------------------------------------------------------------------------------


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _fees(rng: random.Random, customers: list[Customer], today: dt.date, assistant: Person,
          contract_share: float) -> list[dict[str, Any]]:
    """The fee ledger: one-year contracts for contract_share of the customers, spread so some expire
    soon, some expired unrenewed, some customers with an old contract and its renewal, payments in
    every state."""
    rows: list[dict[str, Any]] = []
    width = max(4, len(str(len(customers) * 2)))
    window = RULES.fee_window_days
    for customer in customers:
        if rng.random() >= contract_share:
            continue
        low, high = FEE_RANGES[customer.product.split()[0]]
        amount = float(round(rng.uniform(low, high), -2))
        if rng.random() < EXPIRED_SHARE:
            end = today - dt.timedelta(days=rng.randint(1, EXPIRED_WITHIN))
        else:
            end = today + dt.timedelta(days=rng.randint(0, 364))
        start = _years_later(end + ONE_DAY, -1)
        starts = [start]
        if rng.random() < PREVIOUS_CONTRACT_SHARE:
            starts.insert(0, _years_later(start, -1))
        if 0 <= (end - today).days <= window and rng.random() < EARLY_RENEWAL_SHARE:
            starts.append(end + ONE_DAY)
        for begin in starts:
            paid, paid_date = _payment(rng, amount, begin, today)
            rows.append({
                "contract_id": f"NF{begin.year}-{len(rows) + 1:0{width}d}", "customer_id": customer.customer_id,
                "start": begin, "end": _years_later(begin, 1) - ONE_DAY, "amount": amount, "paid": paid,
                "paid_date": paid_date, "approved": "是" if rng.random() < APPROVED_SHARE else None,
                "owner": assistant.name if customer.segment == "集团客户" else None,
            })
    return rows


def _payment(rng: random.Random, amount: float, due: dt.date, today: dt.date) -> tuple[float, dt.date | None]:
    """What has been paid on a contract due on `due`, and when (never after today)."""
    age = (today - due).days
    if age < 0:
        state = "paid" if rng.random() < ADVANCE_PAYMENT_SHARE else "unpaid"
    else:
        state = (RECENT_PAYMENT_MIX if age <= RECENT_DAYS else OLD_PAYMENT_MIX).pick(rng)
    if state == "unpaid":
        return 0.0, None
    paid = amount if state == "paid" else float(round(amount * rng.choice(PARTIAL_SHARES), -2))
    when = min(today, due + dt.timedelta(days=rng.randint(*PAYMENT_DELAY)))
    return paid, when


# --- implementation projects ---------------------------------------------------------------------

# A dozen projects across every stage (docs/rules.md § Implementation projects), dated in working days
# back from D (negative: ahead). Each: (start, planned_live, live, accepted_on, acceptance, handed_over,
# checklist), where checklist is a returned 验收单: FAILED_ROUND (one item 不合格) or PASSED_ROUND.
FAILED_ROUND, PASSED_ROUND = "failed", "passed"
ProjectShape = tuple[int, int, int | None, int | None, str | None, int | None, str | None]
PROJECT_SHAPES: tuple[ProjectShape, ...] = (
    (-3, -20, None, None, None, None, None),  # 未开始
    (-25, -45, None, None, None, None, None),  # 未开始, next month
    (15, -8, None, None, None, None, None),  # 实施中
    (30, 3, None, None, None, None, None),  # 实施中, 上线逾期
    (8, -12, None, None, None, None, None),  # 实施中
    (20, 3, 2, None, None, None, None),  # 待验收
    (25, 9, 8, None, None, None, None),  # 待验收, 验收逾期
    (30, 11, 10, None, None, None, FAILED_ROUND),  # 整改中: the returned checklist failed an item
    (28, 10, 9, 1, "通过", None, None),  # 待交接
    (35, 16, 15, 6, "通过", None, None),  # 待交接, 交接逾期
    (32, 15, 14, None, None, 7, PASSED_ROUND),  # 已交接: the returned checklist passed
    (50, 30, 28, 24, "通过", 20, None),  # 已交接
)
CHECKED_DAYS_BEFORE = {FAILED_ROUND: 3, PASSED_ROUND: 9}
FAILED_ITEM, FAILED_NOTE = "数据备份策略", "未设置每日自动备份，备份只存在本机；整改后重新检查"
NOT_APPLICABLE_ITEM = RULES.acceptance_items[3]  # 业务流程（供应链/生产，如适用）
PROJECT_MODULES = ("总账、报表", "总账、报表、出纳", "总账、报表、供应链", "总账、报表、固定资产", "总账、报表、工资")
PROJECT_MANAGER_NAME = "周经理"


def _workday_offset(calendar: WorkCalendar, today: dt.date, back: int) -> dt.date:
    """The working day `back` working days before today (after it, for a negative back)."""
    day, step = today, (-ONE_DAY if back > 0 else ONE_DAY)
    for _ in range(abs(back)):
        day += step
        while not calendar.is_workday(day):
            day += step
    return day


def _projects(seed: int, calendar: WorkCalendar, today: dt.date, staff: list[Person],
              customers: list[Customer]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """实施项目 rows and the returned 验收单 rows. A generator of its own, so the rest of the month is
    the same with or without the projects."""
    rng = random.Random(f"{seed}-projects")
    specialists = [p for p in staff if p.role == IMPLEMENTER]
    chosen = rng.sample(customers, min(len(PROJECT_SHAPES), len(customers)))
    projects: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for n, (shape, customer) in enumerate(zip(PROJECT_SHAPES, chosen, strict=False), 1):
        start, planned, live, accepted, acceptance, handed, checklist = shape

        def day(back: int | None) -> dt.date | None:
            return None if back is None else _workday_offset(calendar, today, back)

        project_id = f"SS{today.year}-{n:03d}"
        projects.append({
            "project_id": project_id, "customer_id": customer.customer_id,
            "specialist": specialists[n % len(specialists)].name,
            "scope": f"{customer.product.split()[0]}：{rng.choice(PROJECT_MODULES)}",
            "start": day(start), "planned_live": day(planned), "live": day(live), "accepted_on": day(accepted),
            "acceptance": acceptance, "accepted_by": PROJECT_MANAGER_NAME if acceptance else None,
            "handover_to": customer.owner.name if handed is not None else None, "handed_over": day(handed),
            "notes": None,
        })
        if checklist is not None:
            checked = day(CHECKED_DAYS_BEFORE[checklist])
            for item in RULES.acceptance_items:
                failed = checklist == FAILED_ROUND and item == FAILED_ITEM
                outcome = "不合格" if failed else ("不适用" if item == NOT_APPLICABLE_ITEM else "合格")
                checks.append({"project_id": project_id, "item": item, "outcome": outcome,
                               "notes": FAILED_NOTE if failed else None, "date": checked,
                               "checked_by": PROJECT_MANAGER_NAME})
    return projects, checks


# --- workbooks ----------------------------------------------------------------------------------


# --- tracked customers ----------------------------------------------------------------------------
# The 集团客户 belong to two groups, alternately in 客户编号 order.
GROUP_NAMES = ("浙江恒信控股集团", "杭州万象实业集团")
# Tracked customers not heard from this month last called this many days before D (plus their
# place in line, so the days differ): past the 30-day interval, and for half the 异地客户 past 60.
EARLIER_CALL_DAYS = 45
REMOTE_EARLIER_CALL_DAYS = (75, 40)
EARLIER_CALL_TIME = dt.time(10, 0)
EARLIER_CALL_PROBLEMS = PROBLEMS["操作咨询"]


def _groups(customers: list[Customer]) -> dict[str, str]:
    """客户编号 -> 所属集团 for every 集团客户."""
    members = [c.customer_id for c in customers if c.segment == GROUP_SEGMENT]
    return {cid: GROUP_NAMES[index % len(GROUP_NAMES)] for index, cid in enumerate(members)}


def _earlier_calls(month: Month) -> list[Ticket]:
    """The last call before this month of each tracked customer (重点客户, 大客户, 集团客户, 异地客户) the
    month did not reach by call, visit or callback: the folder keeps that part of the earlier log, so
    客户跟踪 has customers 久未联系. Settled on the phone, so nothing else in the month changes."""
    contacted = ({t.customer.customer_id for tickets in month.calls.values() for t in tickets}
                 | {v.customer.customer_id for v in month.visits}
                 | {c.customer.customer_id for c in month.callbacks if c.reached})
    quiet = [c for c in month.customers if (c.key or c.segment != SEGMENTS[0]) and c.customer_id not in contacted]
    calls: list[Ticket] = []
    numbers: dict[dt.date, int] = defaultdict(int)
    for index, customer in enumerate(quiet):
        back = (REMOTE_EARLIER_CALL_DAYS[index % 2] if customer.segment == SEGMENTS[3] else EARLIER_CALL_DAYS) + index
        day = month.today - dt.timedelta(days=back)
        while not month.calendar.is_workday(day):
            day -= ONE_DAY
        numbers[day] += 1
        calls.append(Ticket(f"T{day:%Y%m%d}-{numbers[day]:0{month.id_width}d}",
                            dt.datetime.combine(day, EARLIER_CALL_TIME) + dt.timedelta(minutes=7 * numbers[day]),
                            customer, "操作咨询", EARLIER_CALL_PROBLEMS[index % len(EARLIER_CALL_PROBLEMS)], "低", "一般",
                            "电话已解决", customer.contact, month.hotline.name))
    return sorted(calls, key=lambda t: t.call_time)


def _staff_rows(staff: list[Person]) -> list[dict[str, Any]]:
    return [{"staff_id": p.staff_id, "name": p.name, "role": p.role, "area": p.area, "lat": p.place[0],
             "lon": p.place[1], "email": p.email, "active": "是"} for p in staff]


def _distance_rows() -> list[dict[str, Any]]:
    """Road km between area centres, each pair once, rounded as a clerk would."""
    areas = list(AREAS)
    return [{"area_a": a, "area_b": b, "km": round(_km(AREAS[a], AREAS[b]) * ROAD_FACTOR / KM_ROUNDING) * KM_ROUNDING}
            for i, a in enumerate(areas) for b in areas[i + 1:]]


def _customer_rows(customers: list[Customer]) -> list[dict[str, Any]]:
    groups = _groups(customers)
    return [{
        "customer_id": c.customer_id, "customer_name": c.name, "contact": c.contact, "phone": c.phone,
        "address": c.address, "area": c.area, "lat": c.place[0] if c.has_coordinates else None,
        "lon": c.place[1] if c.has_coordinates else None, "owner": c.owner.name, "key_customer": _yes(c.key),
        "segment": c.segment, "group": groups.get(c.customer_id), "product": c.product,
    } for c in customers]


def _call_rows(tickets: list[Ticket]) -> list[dict[str, Any]]:
    return [{
        "ticket_id": t.ticket_id, "call_time": t.call_time, "customer_id": t.customer.customer_id, "caller": t.caller,
        "category": t.category, "problem": t.problem, "severity": t.severity, "urgency": t.urgency,
        "handling": t.handling, "recorded_by": t.recorded_by, "notes": t.notes,
    } for t in tickets]


def _feedback_rows(visits: list[Visit]) -> list[dict[str, Any]]:
    return [{
        "ticket_id": v.ticket.ticket_id if v.ticket else None, "service_date": v.day, "staff": v.staff.name,
        "customer_id": v.customer.customer_id, "service_type": v.service_type, "mode": v.mode,
        "phoned_ahead": _yes(v.phoned_ahead), "arrive": _clock(v.arrive), "leave": _clock(v.leave),
        "result": v.result, "satisfaction": v.satisfaction, "signed": _yes(v.signed),
        "manager_score": v.manager_score, "notes": v.notes,
    } for v in sorted(visits, key=lambda v: (v.day, v.arrive, v.customer.customer_id))]


def _callback_rows(callbacks: list[Callback]) -> list[dict[str, Any]]:
    return [{
        "date": c.day, "customer_id": c.customer.customer_id, "kind": c.kind, "ticket_id": c.ticket_id,
        "staff": c.staff.name, "reached": _yes(c.reached), "verified": c.verified,
        "satisfaction": c.satisfaction, "complaint": _yes(c.complaint), "caller": c.caller.name, "notes": c.notes,
    } for c in callbacks]


def _write(folder: Path, name: str, sheets: Sequence[tuple[Template, list[dict[str, Any]]]], written: list[Path],
           title: str | None = None) -> None:
    """A workbook laid out as the blank template (kis-batch init) the clerks filled in."""
    with atomic_book(folder / name, written) as book:
        for template, rows in sheets:
            write_table(book, template.zh, pd.DataFrame(rows), template_cols(template), title=title)


def _feedback_books(month: Month, weekly: bool) -> dict[tuple[str, dt.date], list[Visit]]:
    """Each person's feedback per working day (or per week at scale); today's only from those who
    have returned theirs."""
    books: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    week_start: dict[tuple[int, int], dt.date] = {}
    for day in month.days:
        week_start.setdefault(day.isocalendar()[:2], day)
    people = {p.staff_id: p for p in month.staff}
    for visit in month.visits:
        sid = visit.staff.staff_id
        if visit.day == month.today and sid not in month.returned_today:
            continue
        period = week_start[visit.day.isocalendar()[:2]] if weekly else visit.day
        books[(people[sid].name, period)].append(visit)
    return books


# --- complaint handling ---------------------------------------------------------------------------
# Most complaints are judged, handled and closed within a working day or two; the newest are still
# open, and one older case is left in progress past the limit, for the general manager.
COMPLAINT_ACTIONS = ("经理致电客户道歉，安排原工程师次日上门复查", "更换服务工程师重新上门处理，问题已解决",
                     "热线回访说明原因，赠送一次上门培训", "与总部技术支持联合远程排查，问题已解决")
COMPLAINT_RESPONSIBILITY_EVERY = {3: "客户原因", 5: "总部"}  # every n-th closed case (by index) is judged so
CLOSE_AFTER_WORKDAYS = (1, 2)
STILL_NEW_WORKDAYS = 1  # cases this recent are not handled yet
LEFT_OVERDUE_WORKDAYS = 5  # the newest case at least this old stays open: overdue


def _complaint_handling(month: Month, calendar: WorkCalendar,
                        books: dict[tuple[str, dt.date], list[Visit]]) -> list[dict[str, Any]]:
    """The 投诉处理 the manager recorded this month, for the cases the pipeline files from the
    month's calls, feedback and callbacks (the same rules find them here, from the same rows)."""
    callbacks = pd.DataFrame(_callback_rows(month.callbacks), dtype=object)
    callbacks["complaint"] = callbacks["complaint"] == "是"
    tables = {"calls": pd.DataFrame(_call_rows([t for day in month.calls.values() for t in day]), dtype=object),
              "feedback": pd.DataFrame(_feedback_rows([v for visits in books.values() for v in visits]), dtype=object),
              "callbacks": callbacks}
    cases = numbered_complaints(tables, link_events(tables, month.today))
    ages = [calendar.workdays_waiting(c["date"], month.today) for c in cases]
    left_open = max((i for i, age in enumerate(ages) if age >= LEFT_OVERDUE_WORKDAYS), default=None)
    manager = next(p for p in month.staff if p.role == MANAGER_ROLES[0])
    rows = []
    for index, (case, age) in enumerate(zip(cases, ages, strict=True)):
        if age <= STILL_NEW_WORKDAYS:
            continue
        action = COMPLAINT_ACTIONS[index % len(COMPLAINT_ACTIONS)]
        if index == left_open:
            rows.append({"complaint_id": case["complaint_id"], "action": action, "handler": manager.name,
                         "notes": "客户要求总部出具书面说明，等待中"})
            continue
        closed = case["date"]
        for _ in range(CLOSE_AFTER_WORKDAYS[index % len(CLOSE_AFTER_WORKDAYS)]):
            closed = calendar.next_workday(closed)
        responsibility = next((r for n, r in COMPLAINT_RESPONSIBILITY_EVERY.items() if index % n == n - 1),
                              DEPARTMENT_RESPONSIBLE)
        rows.append({"complaint_id": case["complaint_id"], "responsibility": responsibility, "action": action,
                     "handler": month.assistant.name if index % 2 else manager.name,
                     "closed_on": min(closed, month.today), "confirmed": "是"})
    return rows


def _handling_mix(remote_percent: int) -> Mix:
    """How calls of most categories are handled, with remote_percent of them handled remotely: the
    share moves from (or to) the calls settled on the phone."""
    weights = dict(HANDLING_WEIGHTS)
    shared = weights["远程处理"] + weights["电话已解决"]
    if not 0 <= remote_percent <= shared:
        raise ValueError(f"remote_percent must be between 0 and {shared}")
    weights["远程处理"], weights["电话已解决"] = remote_percent, shared - remote_percent
    return Mix(weights)


def write_demo(folder: Path, month: dt.date, today: dt.date, seed: int = DEFAULT_SEED, *, customers: int = 800,
               engineers: int = 6, specialists: int = 3, calls_per_day: tuple[int, int] = (40, 80),
               remote_percent: int = HANDLING_WEIGHTS["远程处理"], contract_share: float = CONTRACT_SHARE) -> list[Path]:
    """Write a realistic month of example input into folder, from the 1st of month up to and
    including today; return the files written. The same arguments give byte-identical files.
    Files of the same names are replaced and nothing else is touched, so use a fresh folder: an
    earlier demo's other days would disagree with this one.

    The scale knobs let a benchmark ask for a large department; beyond FEEDBACK_WEEKLY_ABOVE
    engineers, feedback comes in one workbook per person per week instead of per day. Two more
    shape it: remote_percent of most calls are handled remotely (each a feedback row), and
    contract_share of the customers have a fee contract.
    """
    first = month.replace(day=1)
    if today < first:
        raise ValueError(f"today {today} is before the month {first:%Y-%m}")
    if customers < 1 or engineers < 1 or specialists < 1 or not 0 < calls_per_day[0] <= calls_per_day[1]:
        raise ValueError("customers, engineers, specialists and calls per day must be positive")
    if not 0 < contract_share <= 1:
        raise ValueError("contract_share must be more than 0 and at most 1")
    handling = _handling_mix(remote_percent)
    rng = random.Random(seed)
    calendar = WorkCalendar()
    month_days = calendar.month_workdays(first)
    days = [d for d in month_days if d <= today]
    staff = _staff(rng, engineers, specialists)
    people = _customers(rng, customers, [p for p in staff if p.role == ENGINEER])
    simulation = Month(rng, calendar, today, days, month_days, staff, people, calls_per_day, handling)
    simulation.simulate()

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    leave = [{"staff_id": p.staff_id, "start": start, "end": end, "reason": reason}
             for p, start, end, reason in sorted(simulation.leave, key=lambda x: (x[1], x[0].staff_id))]
    _write(folder, "员工名单.xlsx", [(STAFF, _staff_rows(staff)), (LEAVE, leave), (AREA_DISTANCE, _distance_rows())], written)
    _write(folder, "客户档案.xlsx", [(CUSTOMERS, _customer_rows(people))], written)
    for day, tickets in simulation.calls.items():
        _write(folder, f"热线记录_{day.isoformat()}.xlsx", [(CALLS, _call_rows(tickets))], written)
    earlier = _earlier_calls(simulation)
    if earlier:
        _write(folder, "热线记录_往月摘录.xlsx", [(CALLS, _call_rows(earlier))], written)
    feedback_books = _feedback_books(simulation, engineers > FEEDBACK_WEEKLY_ABOVE)
    for (name, period), visits in sorted(feedback_books.items()):
        _write(folder, f"服务反馈单_{name}_{period.isoformat()}.xlsx", [(FEEDBACK, _feedback_rows(visits))], written,
               title=f"服务反馈单  {name}  {period.isoformat()}")
    _write(folder, "年费台账.xlsx", [(FEES, _fees(rng, people, today, simulation.assistant, contract_share))], written)
    _write(folder, "回访记录.xlsx", [(CALLBACKS, _callback_rows(simulation.callbacks))], written)
    projects, checks = _projects(seed, calendar, today, staff, people)
    _write(folder, "实施项目.xlsx", [(PROJECTS, projects)], written)
    _write(folder, "验收单.xlsx", [(ACCEPTANCE, checks)], written)
    _write(folder, "投诉处理.xlsx", [(COMPLAINT_HANDLING, _complaint_handling(simulation, calendar, feedback_books))],
           written)
    with atomic_book(folder / "规则设置.xlsx", written) as book:
        write_template(book, [SETTINGS_SHEET])
    return written
