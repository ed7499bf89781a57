# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""What the rules return: findings with stable reason codes, sorted into a verdict; the registry of codes."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

Facts = t.Mapping[str, t.Any]

# Every code the rules can emit, with its one-line meaning (docs/reason-codes.md explains each).
CODES: dict[str, str] = {
    "host.not_hyperv_admin": "the connecting account is neither in Hyper-V Administrators nor an administrator",
    "host.hyperv_not_installed": "the Hyper-V role is not installed (or waits for a restart)",
    "host.hyperv_powershell_missing": "the Hyper-V PowerShell module is not installed",
    "host.hypervisor_not_running": "Hyper-V is installed but the hypervisor is not running",
    "host.processor_unsupported": "the processor cannot run nested virtualization on this build",
    "host.build_too_old": "the Windows build predates nested virtualization",
    "host.virtualization_disabled_in_firmware": "VT-x / AMD-V is disabled in the firmware",
    "host.slat_missing": "the processor lacks second level address translation (EPT / RVI)",
    "host.bcd_nested_disabled": "the boot configuration sets OFFERNESTEDVIRT=FALSE",
    "host.bcd_unreadable": "the boot configuration could not be read",
    "host.is_virtual_machine": "the host is itself a Hyper-V VM: nesting depends on its parent (a note)",
    "host.azure_vm": "the host is an Azure VM: nesting depends on its VM size and security type (a note)",
    "host.parent_not_hyperv": "the host is a VM on another hypervisor, which Microsoft does not support for Hyper-V",
    "host.multiple_nats": "the host has more than one NAT network",
    "vm.not_found": "no VM has the requested name",
    "vm.duplicate_name": "more than one VM has the requested name",
    "vm.version_too_low": "the VM configuration version is below the nested minimum",
    "vm.version_unsupported_by_host": "this host cannot run the VM's configuration version",
    "vm.extensions_not_exposed": "ExposeVirtualizationExtensions is off",
    "vm.dynamic_memory_enabled": "dynamic memory is on: the memory stays fixed while Hyper-V runs inside",
    "vm.saved_state": "the VM is in the Saved state",
    "vm.checkpoints_present": "the VM has checkpoints (a note)",
    "vm.clustered": "the VM is a clustered role of a failover cluster",
    "vm.memory_below_recommended": "startup memory is below 4 GB",
    "vm.processor_count_below_recommended": "fewer than 2 virtual processors",
    "vm.processor_count_above_2019_limit": "more than 225 virtual processors for a Windows Server 2019 or earlier guest",
    "vm.mac_spoofing_off": "MAC address spoofing is off on connected adapters (a note for a VM in NAT mode)",
    "vm.shutdown_service_missing": "the Shutdown integration service is off: no graceful shutdown",
    "vm.heartbeat_missing": "the Heartbeat integration service is off: a start cannot be confirmed",
    "vm.heartbeat_not_ok": "the running guest does not answer the heartbeat",
    "vm.restart_pending": "win_nested_vm shut the VM down and the run ended before starting it again",
    "vm.unreadable": "Hyper-V could not read the VM's settings (Off-Critical, an unreachable configuration)",
}


@dataclass(frozen=True)
class Finding:
    code: str
    msg: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "msg": self.msg, "fix": self.fix}


@dataclass
class Verdict:
    """Blockers stop nesting; warnings will bite later; notes are information that is expected or
    harmless where it stands (an L1 host is a VM, checkpoints, spoofing off in NAT mode)."""

    blockers: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    why_not_starting: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers

    def block(self, code: str, msg: str, fix: str) -> None:
        self.blockers.append(Finding(code, msg, fix))

    def warn(self, code: str, msg: str, fix: str) -> None:
        self.warnings.append(Finding(code, msg, fix))

    def note(self, code: str, msg: str, fix: str) -> None:
        self.notes.append(Finding(code, msg, fix))

    def as_dict(self, *, with_start: bool = False) -> dict[str, t.Any]:
        shaped: dict[str, t.Any] = {
            "ready": self.ready,
            "blockers": [finding.as_dict() for finding in self.blockers],
            "warnings": [finding.as_dict() for finding in self.warnings],
            "notes": [finding.as_dict() for finding in self.notes],
        }
        if with_start:
            shaped["why_not_starting"] = [finding.as_dict() for finding in self.why_not_starting]
        return shaped
