# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Turn the probe answers of the L0 hosts into inventory: hosts, their variables and groups.

Input: the settings of the inventory source and one Reading per L0 host (a probe answer with the
`host` and `vms` sections of docs/internals/wire-protocol.md, or an error). Output: the inventory
hosts in order (L0 hosts, then their VMs), each with its groups and variables, and the warnings
to show. The nested verdict per VM is the collection's own (_nested_rules.evaluate), the same one
win_nested_info reports. Pure: no I/O, so every rule is unit-tested on Linux.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_remote import Reading
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import HostEntry, Settings
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import AMD, INTEL, Verdict, evaluate

HYPERV_HOSTS = "hyperv_hosts"
UNREACHABLE = "hyperv_hosts_unreachable"
VMS = "hyperv_vms"
READY = "nested_ready"
POSSIBLE = "nested_possible"
BLOCKED = "nested_blocked"
VENDOR_GROUPS = {INTEL: "hyperv_processor_intel", AMD: "hyperv_processor_amd"}
OTHER_VENDOR = "hyperv_processor_other"

# VM blockers that hyperv.nested.win_nested_vm clears when asked (expose extensions,
# upgrade_version, saved_state=discard, processor_count): the VM can be nested with those
# changes. Any other blocker, and any blocker of its host, leaves it blocked.
CHANGES = frozenset(
    {
        "vm.extensions_not_exposed",
        "vm.version_too_low",
        "vm.saved_state",
        "vm.processor_count_above_2019_limit",
    }
)


@dataclass
class InventoryHost:
    name: str
    groups: list[str]
    variables: dict[str, t.Any]


@dataclass
class FleetInventory:
    hosts: list[InventoryHost] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def host(self, name: str) -> InventoryHost:
        return next(host for host in self.hosts if host.name == name)

    def group(self, name: str) -> list[str]:
        return [host.name for host in self.hosts if name in host.groups]


def build_inventory(settings: Settings, readings: t.Sequence[Reading]) -> FleetInventory:
    fleet = FleetInventory()
    by_name = {reading.host: reading for reading in readings}
    vms: list[tuple[HostEntry, dict[str, t.Any], dict[str, t.Any]]] = []
    for entry in settings.hosts:
        reading = by_name.get(entry.name) or Reading(entry.name, error="not read")
        variables = settings.connection.host_vars(entry)
        groups = [HYPERV_HOSTS]
        if reading.result is None:
            fleet.warnings.append(f"Could not read the Hyper-V host {entry.name}: {reading.error}. Its VMs are not in the inventory.")
            variables["hyperv_host_error"] = reading.error
            fleet.hosts.append(InventoryHost(entry.name, groups + [UNREACHABLE], variables))
            continue
        host_facts = reading.result.get("host") or {}
        section = reading.result.get("vms") or {}
        report = evaluate(host_facts, section, None)
        variables.update(_host_vars(host_facts, report.host, len(section.get("vms") or [])))
        groups += _host_groups(host_facts)
        fleet.hosts.append(InventoryHost(entry.name, groups, variables))
        if section.get("hyperv_module") is False:
            fleet.warnings.append(f"The Hyper-V host {entry.name} has no Hyper-V PowerShell module: its VMs cannot be listed.")
        if section.get("access_denied"):
            fleet.warnings.append(
                f"The account may not list the VMs of {entry.name} (it is in neither Hyper-V Administrators nor Administrators): "
                f"{section['access_denied']}"
            )
        for vm in section.get("vms") or []:
            if not settings.filters.selects(vm):
                continue
            name = str(vm.get("name"))
            verdict = report.vms.get(name) or next(v for key, v in report.vms.items() if key.casefold() == name.casefold())
            vm_vars = _vm_vars(entry.name, vm, verdict, report.host)
            if settings.addresses.enabled and vm.get("state") == "Running":
                address = settings.addresses.pick(vm_vars["hyperv_vm_ip_addresses"])
                if address:
                    vm_vars["ansible_host"] = address
            vms.append((entry, vm, vm_vars))
    names = _unique_names(settings, vms, fleet)
    for (_entry, _vm, vm_vars), name in zip(vms, names, strict=True):
        groups = [VMS, {"ready": READY, "possible": POSSIBLE}.get(vm_vars["hyperv_vm_nested_verdict"], BLOCKED)]
        fleet.hosts.append(InventoryHost(name, groups, vm_vars))
    return fleet


def vendor_group(host_facts: t.Mapping[str, t.Any]) -> str:
    manufacturer = str((host_facts.get("processor") or {}).get("manufacturer") or "")
    return VENDOR_GROUPS.get(manufacturer, OTHER_VENDOR)


def _host_groups(host_facts: t.Mapping[str, t.Any]) -> list[str]:
    groups = [vendor_group(host_facts)]
    build = (host_facts.get("os") or {}).get("build")
    if isinstance(build, int) and not isinstance(build, bool):
        groups.append(f"hyperv_build_{build}")
    return groups


def _codes(findings: t.Iterable[t.Any]) -> list[str]:
    return [finding.code for finding in findings]


def _host_vars(host_facts: t.Mapping[str, t.Any], verdict: Verdict, vm_count: int) -> dict[str, t.Any]:
    os_facts = host_facts.get("os") or {}
    processor = host_facts.get("processor") or {}
    return {
        "hyperv_host_computer_name": host_facts.get("computer_name"),
        "hyperv_host_os": os_facts.get("caption"),
        "hyperv_host_build": os_facts.get("build"),
        "hyperv_host_processor_manufacturer": processor.get("manufacturer"),
        "hyperv_host_processor": processor.get("name"),
        "hyperv_host_supported_versions": list(host_facts.get("supported_versions") or []),
        "hyperv_host_vm_count": vm_count,
        "hyperv_host_nested_blockers": _codes(verdict.blockers),
        "hyperv_host_nested_warnings": _codes(verdict.warnings),
        "hyperv_host_nested_notes": _codes(verdict.notes),
    }


def classify(vm_verdict: Verdict, host_verdict: Verdict) -> tuple[str, list[str], list[str]]:
    """(ready | possible | blocked, the changes that would make it ready, what blocks it for good)."""
    changes = [finding.code for finding in vm_verdict.blockers if finding.code in CHANGES]
    blockers = _codes(host_verdict.blockers) + [finding.code for finding in vm_verdict.blockers if finding.code not in CHANGES]
    if blockers:
        return "blocked", changes, blockers
    return ("possible" if changes else "ready"), changes, blockers


def _vm_vars(parent: str, vm: t.Mapping[str, t.Any], verdict: Verdict, host_verdict: Verdict) -> dict[str, t.Any]:
    """The VM's variables. Two VMs of one name on a host share evaluate()'s vm.duplicate_name verdict."""
    state, changes, blockers = classify(verdict, host_verdict)
    adapters = [
        {
            "name": adapter.get("name"),
            "switch_name": adapter.get("switch_name"),
            "mac_address": adapter.get("mac_address"),
            "mac_address_spoofing": adapter.get("mac_address_spoofing"),
            "ip_addresses": [str(address) for address in adapter.get("ip_addresses") or []],
        }
        for adapter in vm.get("adapters") or []
    ]
    return {
        "nested_parent": parent,
        "nested_vm_name": vm.get("name"),
        "hyperv_vm_id": vm.get("id"),
        "hyperv_vm_state": vm.get("state"),
        "hyperv_vm_generation": vm.get("generation"),
        "hyperv_vm_version": vm.get("version"),
        "hyperv_vm_processor_count": vm.get("processor_count"),
        "hyperv_vm_memory_startup": vm.get("startup_memory_bytes"),
        "hyperv_vm_memory_minimum": vm.get("minimum_memory_bytes"),
        "hyperv_vm_memory_maximum": vm.get("maximum_memory_bytes"),
        "hyperv_vm_dynamic_memory": vm.get("dynamic_memory_enabled"),
        "hyperv_vm_expose_virtualization_extensions": vm.get("expose_virtualization_extensions"),
        "hyperv_vm_adapters": adapters,
        "hyperv_vm_checkpoints": [checkpoint.get("name") for checkpoint in vm.get("checkpoints") or []],
        "hyperv_vm_notes": str(vm.get("notes") or ""),
        "hyperv_vm_guest_os": vm.get("guest_os"),
        "hyperv_vm_guest_dns_name": vm.get("guest_dns_name"),
        "hyperv_vm_ip_addresses": [address for adapter in adapters for address in adapter["ip_addresses"]],
        "hyperv_vm_nested_verdict": state,
        "hyperv_vm_nested_changes": changes,
        "hyperv_vm_nested_blockers": blockers,
        "hyperv_vm_nested_warnings": _codes(verdict.warnings),
        "hyperv_vm_nested_notes": _codes(verdict.notes),
    }


def _unique_names(settings: Settings, vms: list[tuple[HostEntry, dict[str, t.Any], dict[str, t.Any]]], fleet: FleetInventory) -> list[str]:
    """One inventory name per VM. A name two VMs (or a VM and an L0 host) would share is never merged
    into one host: each of those VMs is named `<name>@<parent>` instead (and `#<id>` when the same
    parent has two VMs of that name), with a warning."""
    wanted = [settings.naming.name_of(vm) for _entry, vm, _vars in vms]
    taken = {entry.name for entry in settings.hosts}
    clashing = {name for name in wanted if wanted.count(name) > 1 or name in taken}
    names: list[str] = []
    for name, (entry, _vm, _vars) in zip(wanted, vms, strict=True):
        if name in clashing:
            name = f"{name}@{entry.name}"
        names.append(name)
    repeated = {name for name in names if names.count(name) > 1}
    for index, (_entry, vm, _vars) in enumerate(vms):
        if names[index] in repeated:
            names[index] = f"{names[index]}#{re.sub(r'[^0-9A-Za-z]', '', str(vm.get('id')))[:8].lower()}"
    for name in sorted(clashing):
        renamed = sorted({names[i] for i, wanted_name in enumerate(wanted) if wanted_name == name})
        fleet.warnings.append(f"Several VMs (or a VM and a Hyper-V host) would be named {name!r}: they are named {', '.join(renamed)} instead.")
    return names
