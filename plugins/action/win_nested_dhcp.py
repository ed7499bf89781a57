# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_dhcp: a DHCP scope with reservations for the L2 guests inside an L1 host (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase, step_reports
from ansible_collections.hyperv.nested.plugins.plugin_utils._dhcp_planner import inspect_parameters, plan, render_step, wanted_scope
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned
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

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        wanted_scope(args)   # every address option checked before the host is asked
        for index, reservation in enumerate(args["reservations"]):
            validate_vm_name(f"reservations[{index}].vm", reservation["vm"])
            if reservation["adapter"] is not None:
                validate_name(f"reservations[{index}].adapter", reservation["adapter"], "adapter name")
        return plan(args, self.call_target("dhcp", inspect_parameters(args)))

    def commands(self, planned: Planned) -> list[str]:
        return [render_step(step) for step in planned.operations]

    def execute(self, planned: Planned, result: dict[str, t.Any]) -> dict[str, t.Any]:
        """The DHCP script applies its own steps; each is reported under `steps`."""
        outcome = self.call_target("dhcp", {"action": "apply", "steps": planned.operations})
        result["steps"] = step_reports(result["commands"], outcome)
        return outcome

    def failure(self, planned: Planned, outcome: dict[str, t.Any], result: dict[str, t.Any]) -> ModuleFailure:
        entry = result["steps"][int(outcome["failed_index"])]
        return ModuleFailure(f"{entry['command'].split(' ')[0]} failed: {entry['message']}",
                             **{**result, "changed": any(s["status"] == "ok" for s in result["steps"])})
