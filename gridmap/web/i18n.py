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
    # --- tasks and admin ---
    "task.nav": ("工作导航", "Work navigation"),
    "task.list_title": ("派单任务", "Tasks"),
    "task.open_title": ("待办任务", "Open tasks"),
    "task.new_title": ("派发任务", "Send a task"),
    "task.new_help": (
        "任务派给该网格的网格员；来源可以是盲区网格、应建未建单位、闲置组织或闲置服务站。",
        "The task goes to the grid worker of the cell; it comes from a blind zone, an "
        "应建未建 unit, an idle organisation or an idle station.",
    ),
    "task.create": ("派单", "Send a task"),
    "task.title": ("任务", "Task"),
    "task.made": ("任务已派发", "Task sent"),
    "task.done": ("任务已完成，变更待组织部门确认。", "Task done; its change awaits confirmation."),
    "task.none": ("暂无任务。", "No tasks."),
    "task.kind": ("任务来源", "Source"),
    "task.kind.blind_zone": ("盲区", "Blind zone"),
    "task.kind.must_build": ("应建未建", "Branch required, none set up"),
    "task.kind.idle_org": ("闲置组织", "Idle organisation"),
    "task.kind.idle_station": ("闲置服务站", "Idle station"),
    "task.ref": ("来源编号", "Reference"),
    "task.ref_help": (
        "盲区填网格编码；应建未建填单位编号；闲置组织填组织编号；闲置服务站填服务站编号。",
        "A blind zone: the cell code; 应建未建: the unit id; an idle organisation: its id; "
        "an idle station: its id.",
    ),
    "task.about": ("对象", "About"),
    "task.cell": ("网格", "Cell"),
    "task.due": ("截止日期", "Due"),
    "task.note": ("任务说明", "Note"),
    "task.send": ("派发", "Send"),
    "task.status": ("状态", "Status"),
    "task.status.open": ("待办", "open"),
    "task.status.done": ("已完成", "done"),
    "task.status.cancelled": ("已取消", "cancelled"),
    "task.status.all": ("全部", "all"),
    "task.filter": ("筛选", "Filter"),
    "task.actions": ("操作", "Actions"),
    "task.cancel": ("取消任务", "Cancel task"),
    "task.reason": ("取消原因", "Reason for cancelling"),
    "task.visit": ("完成走访", "Completing visit"),
    "task.complete_title": ("走访并完成任务", "Complete with a visit"),
    "task.complete": ("提交走访并完成", "Record visit and complete"),
    "task.unit": ("走访单位", "Unit visited"),
    "task.change": ("发现的变化", "Change found"),
    "task.members": (
        "党员人数（仅党员人数变化时填写）",
        "Party members (for a members change only)",
    ),
    "change.title": ("变更确认", "Changes to confirm"),
    "change.pending": ("待确认", "Pending"),
    "change.recent": ("最近处理", "Recently decided"),
    "change.none": ("暂无待确认的变更。", "No changes waiting."),
    "change.confirm": ("确认变更", "Confirm"),
    "change.reject": ("驳回", "Reject"),
    "change.decided": ("已处理变更", "Decided change"),
    "change.kind.none": ("无变化", "No change"),
    "change.kind.branch_set_up": ("已建立支部", "Branch set up"),
    "change.kind.station_active": ("服务站恢复活动", "Station active again"),
    "change.kind.members": ("党员人数变化", "Party members changed"),
    "change.kind.unit_closed": ("单位已关闭", "Unit closed"),
    "change.kind.unit_moved": ("单位已搬迁", "Unit moved"),
    "change.status.pending": ("待确认", "pending"),
    "change.status.confirmed": ("已确认", "confirmed"),
    "change.status.rejected": ("已驳回", "rejected"),
    "admin.users": ("用户管理", "Users"),
    "admin.assignments": ("网格分配", "Worker-cell assignments"),
    "admin.audit": ("操作日志", "Audit log"),
    "admin.ok": ("已保存。", "Saved."),
    "admin.role": ("角色", "Role"),
    "admin.area": ("区域编码（组织部门、规划人员）", "Area code (department, planner)"),
    "admin.worker": ("网格员编号（网格员）", "Worker id (worker)"),
    "admin.scope": ("数据范围", "Scope"),
    "admin.state": ("状态", "State"),
    "admin.active": ("启用", "active"),
    "admin.disabled": ("已停用", "disabled"),
    "admin.disable": ("停用", "Disable"),
    "admin.enable": ("启用", "Enable"),
    "admin.new_password": ("新密码", "New password"),
    "admin.reset": ("重置密码", "Reset password"),
    "admin.add": ("新增用户", "Add user"),
    "admin.change_scope": ("修改角色和范围", "Change role and scope"),
    "admin.scope_help": (
        "修改后该用户需重新登录。",
        "The user signs in again afterwards.",
    ),
    "admin.assign": ("分配网格", "Assign cell"),
    "admin.unassign": ("取消分配", "Unassign"),
    "admin.actor": ("操作人", "Actor"),
    "admin.action": ("操作", "Action"),
    "admin.action_help": (
        "如 task.create；以点结尾匹配一类，如 task.",
        "e.g. task.create; ending in a dot matches a family, e.g. task.",
    ),
    "admin.since": ("起始日期", "From"),
    "admin.until": ("截止日期", "To"),
    "admin.at": ("时间", "Time"),
    "admin.entity": ("对象", "Record"),
    "admin.detail": ("详情", "Detail"),
    "role.admin": ("管理员", "admin"),
    "role.department": ("组织部门", "department"),
    "role.planner": ("规划人员", "planner"),
    "role.worker": ("网格员", "worker"),
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
