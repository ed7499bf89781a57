# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_switch: External switch inside an L1 host, L2 guests connected (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import render_all
from ansible_collections.hyperv.nested.plugins.plugin_utils._executor_outcome import applied_any, failure_sentence, operation_reports
from ansible_collections.hyperv.nested.plugins.plugin_utils._switch_planner import SwitchPlanError, plan, probe_parameters
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_name, validate_vm_names


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "net_adapter_name": {"type": "str"},
        "allow_management_os": {"type": "bool", "default": True},
        "vms": {"type": "list", "elements": "str", "default": []},
        "adapters": {"type": "list", "elements": "str"},
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        validate_name("name", args["name"], "switch name")
        if args["net_adapter_name"] is not None:
            validate_name("net_adapter_name", args["net_adapter_name"], "network adapter name")
        args["vms"] = validate_vm_names("vms", args["vms"])
        for adapter in args["adapters"] or []:
            validate_name("adapters", adapter, "adapter name")
        probe = self.call_target("probe", probe_parameters(args))
        try:
            planned = plan(args, probe)
        except SwitchPlanError as exc:
            raise ModuleFailure(str(exc)) from None

        result: dict[str, t.Any] = {
            "changed": planned.changed,
            "switch": planned.switch,
            "connected": planned.connected,
            "commands": render_all(planned.operations),
        }
        if planned.warnings:
            result["warnings"] = planned.warnings
        if self.diff_mode:
            result["diff"] = {"before": planned.before, "after": planned.after}
        if not planned.changed or self.check_mode:
            return result

        outcome = self.call_target("execute", {"operations": planned.operations, "on_failure": []})
        result["operations"] = operation_reports(planned.operations, outcome)
        failed_index = outcome.get("failed_index")
        if failed_index is not None:
            raise ModuleFailure(failure_sentence(result["operations"], failed_index), **{**result, "changed": applied_any(result["operations"])})
        return result
