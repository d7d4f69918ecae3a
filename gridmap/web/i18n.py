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
