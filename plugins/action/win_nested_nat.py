# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_nat: NAT networking on a nested Hyper-V host and the addresses of its guests."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import render_all
from ansible_collections.hyperv.nested.plugins.plugin_utils._executor_outcome import applied_any, failure_sentence, operation_reports
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner import (
    PlanError,
    build_spec,
    plan,
    probe_parameters,
    require_credentials,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import ScriptName, TargetError

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
    _secrets: tuple[str, ...] = ()
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
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            spec = build_spec(args)
            require_credentials(spec)
        except PlanError as exc:
            raise ModuleFailure(exc.msg) from None
        self._secrets = tuple(sorted({guest.password for guest in spec.guests if guest.password}, key=len, reverse=True))
        probe = self._call("probe", probe_parameters(spec))
        try:
            planned = plan(spec, probe)
        except PlanError as exc:
            raise ModuleFailure(exc.msg) from None

        result: dict[str, t.Any] = {
            "changed": bool(planned.operations),
            "commands": render_all(planned.operations),
            "nat": {
                "switch_name": spec.switch_name,
                "nat_name": spec.nat_name,
                "prefix": str(spec.network),
                "gateway": str(spec.gateway),
                "interface_alias": spec.interface_alias,
                "state": spec.state,
            },
            "guests": planned.guests,
            "port_mappings": planned.port_mappings,
        }
        if planned.warnings:
            result["warnings"] = list(planned.warnings)
        if planned.notes:
            result["notes"] = list(planned.notes)
        if self.diff_mode:
            result["diff"] = {"before": planned.before, "after": planned.after}

        if not planned.operations:
            result["msg"] = "NAT networking is already as requested." if spec.state == "present" else "Nothing of the NAT network to remove."
            return result
        if self.check_mode:
            result["msg"] = f"{len(planned.operations)} change(s) would be made (check mode)."
            return result

        outcome = self._call("execute", {"operations": planned.operations, "on_failure": []})
        result["operations"] = operation_reports(planned.operations, outcome, self._scrub)
        failed_index = outcome.get("failed_index")
        if failed_index is not None:
            result["changed"] = applied_any(result["operations"])
            raise ModuleFailure(failure_sentence(result["operations"], failed_index), **result)
        result["msg"] = f"{len(planned.operations)} change(s) made."
        return result

    def _call(self, script_name: ScriptName, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            return self.call_target(script_name, parameters)
        except TargetError as exc:
            raise TargetError(str(self._scrub(exc.message)), unreachable=exc.unreachable, changes_unknown=exc.changes_unknown) from None

    def _scrub(self, text: t.Any) -> t.Any:
        """Target messages are the target's words: make sure no guest password is among them."""
        if not isinstance(text, str):
            return text
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text
