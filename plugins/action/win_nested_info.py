# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_info: can this host and its VMs run nested virtualization? (docs in plugins/modules)"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import NETWORK_MODES, evaluate, platform_of, summarize
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._probe_reuse import read_record
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_vm_names, vm_name_problem


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "list", "elements": "str"},
        "network_modes": {"type": "dict", "default": {}},
        "network": {"type": "bool", "default": False},
        "guests": {"type": "list", "elements": "dict", "default": [], "options": {
            "vm": {"type": "str", "required": True},
            "username": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
        }},
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        names = None if args["name"] is None else validate_vm_names("name", args["name"])
        modes = network_modes(args["network_modes"])
        for index, guest in enumerate(args["guests"]):
            problem = vm_name_problem(guest["vm"])
            if problem:
                raise PlanningError(f"Option 'guests[{index}].vm': the VM name {guest['vm']!r} {problem}.")
        # What later modules plan against, when asked (their `earlier_read`): in sections that never
        # fail the read, since this host may not run Hyper-V yet.
        extra = (["network_if_available"] if args["network"] else []) + (["guests_if_available"] if args["guests"] else [])
        parameters: dict[str, t.Any] = {"sections": ["host", "vms", *extra], "vm_names": names}
        if args["guests"]:
            parameters["guests"] = [{"vm": g["vm"], "username": g["username"], "password": g["password"]} for g in args["guests"]]
        at_ns = time.time_ns()
        probe = self.call_target("probe", parameters)
        host = probe.get("host") or {}
        vms_section = probe.get("vms") or {}
        report = evaluate(host, vms_section, names, network_modes=modes)

        result: dict[str, t.Any] = {
            "changed": False,
            "msg": summarize(host, report),
            "ready": report.ready,
            "missing": report.missing,
            "host": host,
            "platform": platform_of(host).as_dict(),
            "vms": list(vms_section.get("vms") or []),
            "verdict": report.as_dict(),
            "vms_section": {key: value for key, value in vms_section.items() if key != "vms"},
            "read": read_record(parameters, probe, self.read_host(task_vars), at_ns),
        }
        for section in ("network", "guests", "network_unavailable", "guests_unavailable"):
            if section in probe:
                result[section] = probe[section]
        if report.missing:
            result["warnings"] = [report.vms[name].blockers[0].msg for name in report.missing]
        return result


def network_modes(value: t.Mapping[str, t.Any]) -> dict[str, str]:
    """VM name -> nat | mac_spoofing; every problem names the option."""
    problems = []
    for name, mode in value.items():
        problem = vm_name_problem(name)
        if problem:
            problems.append(f"the VM name {name!r} {problem}")
        elif mode not in NETWORK_MODES:
            problems.append(f"{name!r} has the mode {mode!r}; use {' or '.join(NETWORK_MODES)}")
    if problems:
        raise PlanningError("Option 'network_modes': " + "; ".join(problems) + ".")
    return {str(name): str(mode) for name, mode in value.items()}
