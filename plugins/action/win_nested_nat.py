# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_nat: NAT networking on a nested Hyper-V host and the addresses of its guests."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import NestedActionBase, Stage
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner import build_spec, plan, probe_parameters, require_credentials
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned

_GUEST_OPTIONS: dict[str, t.Any] = {
    "vm": {"type": "str", "required": True},
    "ip": {"type": "str"},
    "dns": {"type": "list", "elements": "str"},
    "adapter": {"type": "str"},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
}

_MAPPING_OPTIONS: dict[str, t.Any] = {
    "protocol": {"type": "str", "choices": ["tcp", "udp"], "default": "tcp"},
    "external_ip": {"type": "str", "default": "0.0.0.0"},
    "external_port": {"type": "int", "required": True},
    "internal_ip": {"type": "str"},
    "vm": {"type": "str"},
    "internal_port": {"type": "int", "required": True},
}


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "switch_name": {"type": "str", "default": "VmNAT"},
        "nat_name": {"type": "str", "default": "LocalNAT"},
        "prefix": {"type": "str", "default": "192.168.100.0/24"},
        "gateway": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "guests": {"type": "list", "elements": "dict", "default": [], "options": _GUEST_OPTIONS},
        "guest_username": {"type": "str"},
        "guest_password": {"type": "str", "no_log": True},
        "guest_dns": {"type": "list", "elements": "str"},
        "port_mappings": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": _MAPPING_OPTIONS,
        },
        "purge_port_mappings": {"type": "bool", "default": False},
        "firewall_rules": {"type": "bool", "default": True},
        "replace": {"type": "bool", "default": False},
        "allow_multiple_nats": {"type": "bool", "default": False},
        "earlier_read": {"type": "dict"},
    }

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        spec = build_spec(args)
        require_credentials(spec)
        return self.plan_from_read(probe_parameters(spec), lambda probe: plan(spec, probe), args["earlier_read"], task_vars)

    def summary(self, planned: Planned, stage: Stage) -> str | None:
        if stage == "unchanged":
            return "NAT networking is already as requested." if planned.values["nat"]["state"] == "present" else "Nothing of the NAT network to remove."
        if stage == "check":
            return f"{len(planned.operations)} change(s) would be made (check mode)."
        return f"{len(planned.operations)} change(s) made."
