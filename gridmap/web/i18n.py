"""The one message catalogue of the web pages: Chinese first, English with ``?lang=en``."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGS", "MESSAGES", "pick_lang", "translator"]

LANGS = ("zh", "en")

#: key -> (Chinese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("网格化党建覆盖", "Grid party-building coverage"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.refused": (
        "用户名或密码错误，或账户因多次失败已暂时锁定。请稍后再试或联系管理员。",
        "Wrong username or password, or the account is locked for a while after repeated "
        "failures. Try again later or ask an administrator.",
    ),
    "login.missing": ("请填写用户名和密码。", "Enter a username and a password."),
    "logout": ("退出", "Sign out"),
    "lang.other": ("English", "中文"),
    "cells.title": ("我的网格", "My cells"),
    "cells.none": ("暂无分配给您的网格。", "No cells are assigned to you."),
    "cells.uncovered": ("未覆盖单位", "units uncovered"),
    "cells.units": ("单位", "units"),
    "status.covered": ("已覆盖", "covered"),
    "status.partial": ("部分覆盖", "partial"),
    "status.blind": ("盲区", "blind"),
    "status.empty": ("无单位", "no units"),
    "norun": (
        "尚无覆盖分析结果：请先运行 gridmap coverage run。",
        "No coverage run stored yet: run 'gridmap coverage run' first.",
    ),
    "cell.back": ("返回我的网格", "Back to my cells"),
    "cell.units": ("单位列表", "Units"),
    "cell.nounits": ("该网格暂无单位。", "This cell has no units."),
    "unit.unnamed": ("未命名单位", "Unnamed unit"),
    "kind.village": ("行政村", "village"),
    "kind.community": ("社区", "community"),
    "kind.building": ("楼宇", "building"),
    "kind.park": ("园区", "park"),
    "kind.firm": ("企业", "firm"),
    "kind.social_org": ("社会组织", "social organisation"),
    "unit.org": ("组织覆盖", "Organisation"),
    "unit.service": ("服务覆盖", "Service"),
    "unit.station": ("最近服务站", "Nearest station"),
    "unit.must": ("应建未建", "Branch required, none set up"),
    "org.own": ("单独建立", "own branch"),
    "org.joint": ("联合建立", "joint branch"),
    "org.hosted": ("挂靠", "hosted"),
    "org.instructor": ("党建指导员", "party-building instructor"),
    "org.none": ("未覆盖", "not covered"),
    "service.yes": ("已覆盖", "covered"),
    "service.no": ("未覆盖", "not covered"),
    "unit.nostation": ("无", "none"),
    "visits.title": ("走访记录", "Visits"),
    "visits.none": ("暂无走访记录。", "No visits yet."),
    "visit.note": ("走访情况", "Visit note"),
    "visit.submit": ("提交走访记录", "Record visit"),
    "visit.saved": ("走访记录已保存。", "Visit recorded."),
    "visit.empty": ("请填写走访情况。", "Write a note about the visit."),
    "dashboard.title": ("覆盖情况总览", "Coverage overview"),
    "dashboard.run": ("分析批次", "Run"),
    "dashboard.asof": ("截至", "as of"),
    "dashboard.area": ("区域", "Area"),
    "dashboard.units": ("单位数", "Units"),
    "rate.org": ("组织覆盖率", "Organisational coverage rate"),
    "rate.work": ("工作覆盖率", "Work coverage rate"),
    "rate.combined": ("综合覆盖率", "Combined coverage rate"),
    "rate.service": ("服务覆盖率", "Service coverage rate"),
    "rate.service_pop": ("服务覆盖率（人口）", "Service coverage rate (population)"),
    "rate.must": ("应建未建", "Branch required, none set up"),
    "rate.idle": ("闲置组织", "Idle organisations"),
    "dashboard.noarea": (
        "最新分析批次中没有您所在区域的数据。",
        "The latest run has no roll-up for your area.",
    ),
    "home": ("返回首页", "Home"),
    "time.zone": ("北京时间", "Beijing time"),
    "notfound.title": ("未找到", "Not found"),
    "notfound.body": ("没有这个页面，或您无权查看。", "No such page, or you may not see it."),
    "forbidden.title": ("无权操作", "Not allowed"),
    "forbidden.body": ("您的账户不能执行此操作。", "Your account may not do this."),
    # --- worker pages ---
    "cells.tasks": ("待办任务", "open tasks"),
    "queue.pending": (
        "待发送 {n} 条走访记录（离线保存，联网后自动发送）",
        "{n} visits waiting to be sent (saved offline, sent when online)",
    ),
    "queue.sending": ("正在发送 {n} 条走访记录…", "Sending {n} visits…"),
    "queue.sent": ("已发送 {n} 条离线走访记录。", "Sent {n} visits recorded offline."),
    "queue.failed": (
        "{n} 条走访记录未能发送（{status}），请重新登录后再试。",
        "{n} visits could not be sent ({status}); sign in again and retry.",
    ),
    "queue.offline": (
        "当前离线：走访记录将保存在手机上，联网后发送。",
        "Offline: visits are kept on this phone and sent when online.",
    ),
    "queue.tag": ("待发送", "waiting"),
    "map.label": ("网格地图", "Map of the cell"),
    "map.loading": ("地图加载中…", "Loading the map…"),
    "map.failed": (
        "地图无法加载（离线且未缓存）。单位列表仍可使用。",
        "The map could not load (offline, not cached). The unit list still works.",
    ),
    "map.noscript": (
        "地图需要 JavaScript；单位列表见下方。",
        "The map needs JavaScript; the units are listed below.",
    ),
    "unitstatus.covered": ("组织和服务均覆盖", "organisation and service"),
    "unitstatus.partial": ("部分覆盖", "partly covered"),
    "unitstatus.blind": ("未覆盖（盲区）", "not covered (blind)"),
    "change.report": ("报告变化（可选）", "Report a change (optional)"),
    "change.kind": ("变化类型", "Kind of change"),
    "change.none": ("无变化", "no change"),
    "change.members": ("党员人数变化", "party members changed"),
    "change.branch_set_up": ("已建立党支部", "a branch was set up"),
    "change.station_active": ("服务站恢复活动", "the station is active again"),
    "change.unit_moved": ("单位已搬迁（使用当前位置）", "unit moved (to the current location)"),
    "change.unit_closed": ("单位已关闭", "unit closed"),
    "change.party_members": (
        "党员人数（人数变化或新支部）",
        "Party members (a change, or the new branch's)",
    ),
    "change.branch_name": ("支部名称（已建立党支部时）", "Branch name (when one was set up)"),
    "change.station_hint": ("恢复活动的服务站", "Station active again"),
    "change.moved_hint": (
        "单位搬迁请先获取当前位置。",
        "For a moved unit, add the location first.",
    ),
    "locate.button": ("附上当前位置", "Add my location"),
    "locate.asking": ("正在定位…", "Locating…"),
    "locate.done": ("已定位，精度约 {m} 米", "Located, about {m} m accurate"),
    "locate.denied": ("无法定位（未授权或无信号）", "No location (not allowed, or no signal)"),
    "locate.crs": ("定位坐标系", "Location system"),
    "locate.wgs84": ("WGS-84（GPS、iOS，默认）", "WGS-84 (GPS, iOS; default)"),
    "locate.gcj02": ("GCJ-02（部分国内安卓浏览器）", "GCJ-02 (some Android browsers in China)"),
    "visit.located": ("已定位", "located"),
    "visit.change_invalid": (
        "报告的变化不完整：党员人数变化需填写人数，搬迁需先获取位置。",
        "The reported change is incomplete: a members change needs the number, a move needs "
        "the location.",
    ),
    "visit.location_invalid": (
        "位置数据无效，请重新定位。",
        "The location is not valid: locate again.",
    ),
    "offline.title": ("离线", "Offline"),
    "offline.body": (
        "当前离线，此页尚未保存在手机上。",
        "Offline, and this page is not kept on the phone.",
    ),
}


def pick_lang(value: str | None) -> str:
    """``en`` when asked for, Chinese otherwise."""
    return "en" if value == "en" else "zh"


def translator(lang: str) -> Callable[[str], str]:
    """The message lookup for ``lang``; an unknown key shows itself (and a test catches it)."""
    index = LANGS.index(pick_lang(lang))

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return key if entry is None else entry[index]

    return t
