# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_dhcp: a DHCP scope with reservations for the L2 guests inside an L1 host (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._dhcp_planner import (
    DhcpPlanError,
    inspect_parameters,
    plan,
    render_step,
    wanted_scope,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_name, validate_vm_name


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "prefix": {"type": "str", "required": True},
        "gateway": {"type": "str"},
        "dns_servers": {"type": "list", "elements": "str", "default": []},
        "range_start": {"type": "str"},
        "range_end": {"type": "str"},
        "reservations": {"type": "list", "elements": "dict", "default": [], "options": {
            "vm": {"type": "str", "required": True},
            "ip": {"type": "str", "required": True},
            "adapter": {"type": "str"},
        }},
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            wanted_scope(args)   # every address option checked before the host is asked
        except DhcpPlanError as exc:
            raise ModuleFailure(str(exc)) from None
        for index, reservation in enumerate(args["reservations"]):
            validate_vm_name(f"reservations[{index}].vm", reservation["vm"])
            if reservation["adapter"] is not None:
                validate_name(f"reservations[{index}].adapter", reservation["adapter"], "adapter name")
        inspected = self.call_target("dhcp", inspect_parameters(args))
        try:
            planned = plan(args, inspected)
        except DhcpPlanError as exc:
            raise ModuleFailure(str(exc)) from None
        result: dict[str, t.Any] = {"changed": planned.changed, "scope": planned.scope,
                                    "reservations": planned.reservations,
                                    "commands": [render_step(step) for step in planned.steps]}
        if planned.warnings:
            result["warnings"] = planned.warnings
        if self.diff_mode:
            result["diff"] = {"before": planned.before, "after": planned.after}
        if not planned.changed or self.check_mode:
            return result
        outcome = self.call_target("dhcp", {"action": "apply", "steps": planned.steps})
        reports = outcome.get("steps") or []
        result["steps"] = [{"command": command, "status": (reports[i] if i < len(reports) else {}).get("status", "unknown"),
                            "message": (reports[i] if i < len(reports) else {}).get("message")}
                           for i, command in enumerate(result["commands"])]
        failed_index = outcome.get("failed_index")
        if failed_index is not None:
            entry = result["steps"][int(failed_index)]
            raise ModuleFailure(f"{entry['command'].split(' ')[0]} failed: {entry['message']}",
                                **{**result, "changed": any(s["status"] == "ok" for s in result["steps"])})
        return result
