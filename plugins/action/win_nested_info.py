# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_info: can this host and its VMs run nested virtualization? (docs in plugins/modules)"""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import evaluate, summarize
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_vm_names


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "list", "elements": "str"},
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        names = None if args["name"] is None else validate_vm_names("name", args["name"])
        probe = self.call_target("probe", {"sections": ["host", "vms"], "vm_names": names})
        host = probe.get("host") or {}
        vms_section = probe.get("vms") or {}
        report = evaluate(host, vms_section, names)

        result: dict[str, t.Any] = {
            "changed": False,
            "msg": summarize(host, report),
            "ready": report.ready,
            "missing": report.missing,
            "host": host,
            "vms": list(vms_section.get("vms") or []),
            "verdict": report.as_dict(),
        }
        if report.missing:
            result["warnings"] = [report.vms[name].blockers[0].msg for name in report.missing]
        return result
