"""Roles the platform itself knows; every other role is defined by a pack's workflow."""

from __future__ import annotations

CITIZEN = "citizen"
#: Service-hall window clerk: starts and submits applications for a citizen present.
WINDOW_CLERK = "window_clerk"
CONFIGURATOR = "configurator"
ADMIN = "admin"

BUILTIN_ROLES: dict[str, str] = {
    CITIZEN: "申请人",
    WINDOW_CLERK: "政务服务大厅窗口工作人员",
    CONFIGURATOR: "配置管理员",
    ADMIN: "系统管理员",
}
