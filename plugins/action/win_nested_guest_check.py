# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_guest_check: proof that the L2 guests of a NAT-mode L1 host have their network (docs in plugins/modules)."""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._guest_proof import plan, probe_parameters
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_name, validate_vm_name


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "guests": {"type": "list", "elements": "dict", "required": True, "options": {
            "vm": {"type": "str", "required": True},
            "ip": {"type": "str"},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
        }},
        "prefix": {"type": "str", "default": "192.168.100.0/24"},
        "switch_name": {"type": "str", "default": "VmNAT"},
        "fail_on_findings": {"type": "bool", "default": False},
        "earlier_read": {"type": "dict"},
    }

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        try:
            ipaddress.IPv4Network(args["prefix"], strict=False)
        except ValueError:
            raise PlanningError(f"Option 'prefix': {args['prefix']!r} is not an IPv4 network such as 192.168.100.0/24.") from None
        validate_name("switch_name", args["switch_name"], "switch name")
        for index, guest in enumerate(args["guests"]):
            validate_vm_name(f"guests[{index}].vm", guest["vm"])
            if guest["ip"] is not None:
                try:
                    ipaddress.IPv4Address(guest["ip"])
                except ValueError:
                    raise PlanningError(f"Option 'guests[{index}].ip': {guest['ip']!r} is not an IPv4 address.") from None
        # An earlier read serves only a proof that finds nothing wrong; any finding is read again.
        planned = self.plan_from_read(probe_parameters(args["guests"]), lambda probe: plan(args["guests"], dict(probe), args["prefix"], args["switch_name"]),
                                      args["earlier_read"], task_vars, settled=lambda planned: bool(planned.values["ok"]))
        results = planned.values["guests"]
        if args["fail_on_findings"] and not planned.values["ok"]:
            codes = sorted({f["code"] for r in results for f in r["findings"]})
            raise ModuleFailure(f"Guests without network: {', '.join(r['vm'] for r in results if not r['ok'])} "
                                f"({', '.join(codes)}).", changed=False, **planned.values)
        return planned

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        # A check changes nothing: no commands to list and no diff to show.
        result = super().act(args, task_vars)
        del result["commands"]
        result.pop("diff", None)
        return result
