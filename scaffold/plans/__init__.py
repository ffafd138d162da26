"""Tree -> Plan for each mutating command; nothing here writes a file."""

from __future__ import annotations

from scaffold.plans.fix import plan_fix
from scaffold.plans.new_model import NewModel, plan_new_model
from scaffold.plans.new_plugin import NewPlugin, check_package_name, plan_new_plugin
from scaffold.plans.remove import plan_remove

__all__ = [
    "NewModel",
    "NewPlugin",
    "check_package_name",
    "plan_fix",
    "plan_new_model",
    "plan_new_plugin",
    "plan_remove",
]
