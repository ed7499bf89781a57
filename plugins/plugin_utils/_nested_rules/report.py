# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The verdict for a host and the VMs asked about (`evaluate`), and its one-paragraph summary (`summarize`).

Reason codes decided here, not by a rule family: vm.duplicate_name, vm.unreadable, vm.not_found.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.host import host_verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.platform import platform_of
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.verdict import Facts, Verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.vm import vm_verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import did_you_mean, processor_manufacturer


@dataclass
class Report:
    host: Verdict
    vms: dict[str, Verdict]
    missing: list[str]

    @property
    def ready(self) -> bool:
        return self.host.ready and not self.missing and all(verdict.ready for verdict in self.vms.values())

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "ready": self.ready,
            "host": self.host.as_dict(),
            "vms": {name: verdict.as_dict(with_start=True) for name, verdict in self.vms.items()},
        }


def evaluate(host: Facts, vms_section: Facts, requested: t.Sequence[str] | None, *, network_modes: t.Mapping[str, str] | None = None) -> Report:
    """The verdict for the host and for every VM the probe returned or the user asked for.

    `network_modes`: VM name (any case) -> "nat" or "mac_spoofing", how that VM's guests reach the network."""
    modes = {str(name).casefold(): mode for name, mode in (network_modes or {}).items()}
    hyperv_module = vms_section.get("hyperv_module", True) is not False
    host_result = host_verdict(host, hyperv_module=hyperv_module)
    groups: dict[str, list[Facts]] = {}
    for vm in vms_section.get("vms") or []:
        groups.setdefault(str(vm.get("name")).casefold(), []).append(vm)
    verdicts = {str(group[0].get("name")): _probed_verdict(host, group, host_result, modes) for group in groups.values()}

    missing: list[str] = []
    # Refused VMs (access_denied): the host's not_hyperv_admin blocker says why; no name is "missing".
    if hyperv_module and not vms_section.get("access_denied"):
        all_names = [str(name) for name in vms_section.get("all_names") or []]
        for name in requested or []:
            if name.casefold() in groups:
                continue
            missing.append(name)
            verdicts[name] = _not_found(host, name, all_names)
    return Report(host=host_result, vms=verdicts, missing=missing)


def _probed_verdict(host: Facts, group: list[Facts], host_result: Verdict, modes: t.Mapping[str, str]) -> Verdict:
    """The verdict for the VMs the probe returned under one name (any case): one, several, or one it could not read."""
    name = str(group[0].get("name"))
    if len(group) > 1:
        duplicate = Verdict()
        ids = ", ".join(str(vm.get("id")) for vm in group)
        duplicate.block(
            "vm.duplicate_name",
            f"{len(group)} VMs are named '{name}' (ids {ids}); the modules act only on names that identify one VM.",
            "Rename all but one of them (Rename-VM).",
        )
        return duplicate
    if group[0].get("error"):
        unreadable = Verdict()
        unreadable.block(
            "vm.unreadable",
            f"Hyper-V could not read the settings of '{name}' (state {group[0].get('state')}): {group[0]['error']}",
            "Check the VM in Hyper-V Manager: its configuration or storage may be unreachable (Off-Critical).",
        )
        return unreadable
    return vm_verdict(host, group[0], host_result, network_mode=modes.get(name.casefold()))


def _not_found(host: Facts, name: str, all_names: list[str]) -> Verdict:
    suggestions = did_you_mean(name, all_names)
    hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    if not all_names and host.get("is_hyperv_administrator") is False:
        hint += " The account may not be allowed to see VMs (see host.not_hyperv_admin)."
    not_found = Verdict()
    not_found.block("vm.not_found", f"No VM named '{name}' exists on this host.{hint}", "Check the name (Get-VM lists the VMs).")
    return not_found


def summarize(host: Facts, report: Report) -> str:
    """One paragraph for `msg`: the host's answer, the VMs' answers, what was not found, and the counts."""
    present = {name: verdict for name, verdict in report.vms.items() if name not in report.missing}
    parts = [_host_sentence(host, report.host), *_vm_sentences(present)]
    if report.missing:
        parts.append(f"Not found: {', '.join(report.missing)}.")
    parts += _count_sentence(report.host, present)
    return " ".join(parts)


def _host_sentence(host: Facts, verdict: Verdict) -> str:
    os_facts = host.get("os") or {}
    platform = platform_of(host)
    runs_on = f", a VM on {platform.cloud or platform.hypervisor}" if platform.virtual else ""
    label = (
        f"{host.get('computer_name') or 'The host'} ({os_facts.get('caption') or 'Windows'}, build {os_facts.get('build')}, "
        f"{processor_manufacturer(host) or 'unknown processor'}{runs_on})"
    )
    if verdict.ready:
        return f"{label} can run nested virtualization."
    reasons = "; ".join(finding.msg.rstrip(".") for finding in verdict.blockers)
    return f"{label} cannot run nested virtualization: {reasons}."


def _vm_sentences(present: dict[str, Verdict]) -> list[str]:
    if not present:
        return []
    ready = [name for name, verdict in present.items() if verdict.ready]
    parts = [f"{len(ready)} of {len(present)} VM(s) ready to run Hyper-V" + (f" ({', '.join(ready)})." if ready else ".")]
    parts += [f"{name} is not: {', '.join(finding.code for finding in verdict.blockers)}." for name, verdict in present.items() if not verdict.ready]
    return parts


def _count_sentence(host: Verdict, present: dict[str, Verdict]) -> list[str]:
    warnings = len(host.warnings) + sum(len(verdict.warnings) for verdict in present.values())
    notes = len(host.notes) + sum(len(verdict.notes) for verdict in present.values())
    counted = [text for count, text in ((warnings, f"{warnings} warning(s)"), (notes, f"{notes} note(s)")) if count]
    return [f"{', '.join(counted)}; see verdict."] if counted else []
