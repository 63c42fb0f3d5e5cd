"""The example month's parameters: the seed, the department's places and people, and every share,
range and mix the simulation draws from. The numbers the pipeline judges by come from the rules'
settings (RULES); the rest only shape a believable month."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

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

# --- tracked customers ----------------------------------------------------------------------------
# The 集团客户 belong to two groups, alternately in 客户编号 order.
GROUP_NAMES = ("浙江恒信控股集团", "杭州万象实业集团")
# Tracked customers not heard from this month last called this many days before D (plus their
# place in line, so the days differ): past the 30-day interval, and for half the 异地客户 past 60.
EARLIER_CALL_DAYS = 45
REMOTE_EARLIER_CALL_DAYS = (75, 40)
EARLIER_CALL_TIME = dt.time(10, 0)
EARLIER_CALL_PROBLEMS = PROBLEMS["操作咨询"]

# --- complaint handling ---------------------------------------------------------------------------
# Most complaints are judged, handled and closed within a working day or two; the newest are still
# open, and one older case is left in progress past the limit, for the general manager.
COMPLAINT_ACTIONS = ("经理致电客户道歉，安排原工程师次日上门复查", "更换服务工程师重新上门处理，问题已解决",
                     "热线回访说明原因，赠送一次上门培训", "与总部技术支持联合远程排查，问题已解决")
COMPLAINT_RESPONSIBILITY_EVERY = {3: "客户原因", 5: "总部"}  # every n-th closed case (by index) is judged so
CLOSE_AFTER_WORKDAYS = (1, 2)
STILL_NEW_WORKDAYS = 1  # cases this recent are not handled yet
LEFT_OVERDUE_WORKDAYS = 5  # the newest case at least this old stays open: overdue


def handling_mix(remote_percent: int) -> Mix:
    """How calls of most categories are handled, with remote_percent of them handled remotely: the
    share moves from (or to) the calls settled on the phone."""
    weights = dict(HANDLING_WEIGHTS)
    shared = weights["远程处理"] + weights["电话已解决"]
    if not 0 <= remote_percent <= shared:
        raise ValueError(f"remote_percent must be between 0 and {shared}")
    weights["远程处理"], weights["电话已解决"] = remote_percent, shared - remote_percent
    return Mix(weights)
