# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_vm: nested virtualization settings of VMs, from their Hyper-V host (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase, Stage
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import Finding, host_verdict, required_version
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_planner import PlannedVms, build_options, plan
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_report import diff, failure_report, planned, success_message, vm_results
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import HostSection, VmsSection, parse_version

# Host findings that stop this module whatever it is asked; the others only stop state=enabled.
UNUSABLE_HOST = frozenset({"host.not_hyperv_admin", "host.hyperv_not_installed", "host.hyperv_powershell_missing"})


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "list", "elements": "str", "required": True},
        "state": {"type": "str", "choices": ["enabled", "disabled", "unchanged"], "default": "enabled"},
        "startup_memory": {"type": "raw"},
        "processor_count": {"type": "int"},
        "mac_address_spoofing": {"type": "str", "choices": ["on", "off", "unchanged"], "default": "unchanged"},
        "adapters": {"type": "list", "elements": "str"},
        "power": {"type": "str", "choices": ["fail", "shutdown", "turn_off"], "default": "fail"},
        "power_after": {"type": "str", "choices": ["previous", "off", "running"], "default": "previous"},
        "saved_state": {"type": "str", "choices": ["fail", "discard"], "default": "fail"},
        "checkpoints": {"type": "str", "choices": ["note", "warn", "fail"], "default": "note"},
        "dynamic_memory": {"type": "str", "choices": ["off", "unchanged"], "default": "off"},
        "clustered": {"type": "str", "choices": ["fail", "allow"], "default": "fail"},
        "upgrade_version": {"type": "bool", "default": False},
        "shutdown_timeout": {"type": "int", "default": 300},
        "start_timeout": {"type": "int", "default": 300},
        "power_concurrency": {"type": "int", "default": 0},
    }

    _vms: PlannedVms | None = None

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        options = build_options(args)
        probe = self.probe({"sections": ["host", "vms"], "vm_names": options.names})
        host: HostSection = probe.get("host") or {}
        vms_section: VmsSection = probe.get("vms") or {}
        blockers = host_verdict(host, hyperv_module=bool(vms_section.get("hyperv_module", True))).blockers
        unusable = [finding for finding in blockers if finding.code in UNUSABLE_HOST]
        if unusable:
            raise PlanningError([sentence(finding) for finding in unusable])
        try:
            self._vms = plan(
                host,
                vms_section,
                options,
                min_version=parse_version(required_version(host)),
                host_problems=[sentence(finding) for finding in blockers],
            )
        except (KeyError, TypeError, ValueError) as exc:
            # The probe answered outside the wire contract: nothing was changed; say what was odd.
            raise PlanningError(f"The host's probe answer is not what this module expects ({type(exc).__name__}: {exc}); nothing was changed.") from None
        return planned(self._vms)

    @property
    def vms(self) -> PlannedVms:
        if self._vms is None:
            raise RuntimeError("plan() has not run")
        return self._vms

    def summary(self, planned: Planned, stage: Stage) -> str | None:
        return success_message(self.vms, self.check_mode)

    def applied(self, planned: Planned, outcome: dict[str, t.Any]) -> dict[str, t.Any]:
        """The power states the executor reports win over the planned ones."""
        vms = vm_results(self.vms, outcome.get("vm_states"))
        return {"vms": vms, "diff": diff(self.vms, vms)} if self.diff_mode else {"vms": vms}

    def failure(self, planned: Planned, outcome: dict[str, t.Any], result: dict[str, t.Any]) -> ModuleFailure:
        """Per VM what was applied and what was not, and which VMs were started again."""
        msg, applied, progress = failure_report(self.vms, outcome)
        details = {key: value for key, value in result.items() if key not in ("msg", "diff")}
        return ModuleFailure(msg, **{**details, "changed": applied, "vms": progress, "on_failure": outcome.get("on_failure") or []})


def sentence(finding: Finding) -> str:
    return f"{finding.code}: {finding.msg} {finding.fix}"
