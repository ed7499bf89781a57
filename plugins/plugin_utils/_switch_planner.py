# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan win_nested_switch: an External switch inside an L1 host, and its L2 guests on it.

Pure functions over the probe's `vms` and `network` sections (docs/internals/wire-protocol.md);
the action plugin sends the planned operations to the executor. Nothing here talks to a host.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_name, validate_vm_names
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    NetAdapter,
    NetworkSection,
    Operation,
    ProbeAnswer,
    SwitchInfo,
    VmAdapter,
    VmInfo,
    VmsSection,
    same_name,
)

# Remove-VMSwitch -Name is matched as a pattern on real hosts; such names are refused for removal.
_WILDCARD = re.compile(r"[*?\[\]]")


# Hyper-V refuses device changes while a VM's memory is saved or paused.
_FROZEN_STATES = frozenset({"Saved", "Paused"})


@dataclass(frozen=True)
class SwitchSpec:
    """The task's arguments, checked: what the switch and the VMs' adapters should be."""

    name: str
    state: t.Literal["present", "absent"] = "present"
    net_adapter_name: str | None = None
    allow_management_os: bool = True
    vms: tuple[str, ...] = ()  # without repeats (Hyper-V names are case-insensitive)
    adapters: tuple[str, ...] | None = None  # None: every adapter of each VM


def build_spec(args: t.Mapping[str, t.Any]) -> SwitchSpec:
    """Check what the argument spec cannot express; every error names its option."""
    validate_name("name", args["name"], "switch name")
    if args.get("net_adapter_name") is not None:
        validate_name("net_adapter_name", args["net_adapter_name"], "network adapter name")
    vms = validate_vm_names("vms", args.get("vms") or [])
    for adapter in args.get("adapters") or []:
        validate_name("adapters", adapter, "adapter name")
    return SwitchSpec(
        name=args["name"],
        state=args.get("state") or "present",
        net_adapter_name=args.get("net_adapter_name"),
        allow_management_os=bool(args.get("allow_management_os", True)),
        vms=tuple(vms),
        adapters=None if args.get("adapters") is None else tuple(args["adapters"]),
    )


def probe_parameters(spec: SwitchSpec) -> dict[str, t.Any]:
    """The one probe the module needs: network, plus the named VMs when there are any."""
    if spec.state == "present" and spec.vms:
        return {"sections": ["vms", "network"], "vm_names": list(spec.vms)}
    return {"sections": ["network"], "vm_names": []}


def _find_switch(network: NetworkSection, name: str) -> SwitchInfo | None:
    # Hyper-V switch names compare case-insensitively, like VM names.
    matches = [switch for switch in network.get("switches") or [] if same_name(switch.get("name"), name)]
    if len(matches) > 1:
        raise PlanningError(f"More than one virtual switch is named {name!r} on this host; rename one of them first.")
    return matches[0] if matches else None


def _find_adapter(network: NetworkSection, name: str) -> NetAdapter | None:
    for adapter in network.get("adapters") or []:
        if same_name(adapter.get("name"), name):
            return adapter
    return None


_NO_SERVICE = (
    "The Hyper-V PowerShell module is installed but the Virtual Machine Management service does not answer: "
    "Hyper-V waits for a restart, or only its management tools are installed"
)


def _require_hyperv(section: NetworkSection | VmsSection) -> None:
    if section.get("hyperv_module") is False:
        raise PlanningError(
            "Hyper-V and its PowerShell module are not installed on this host, so it has no virtual switches; "
            "install Hyper-V first (role hyperv.nested.nested_hyperv) and reboot."
        )
    if section.get("service_unavailable"):
        raise PlanningError(f"{_NO_SERVICE} ({section['service_unavailable']})")


def _switch_view(switch: SwitchInfo | None) -> dict[str, t.Any]:
    if switch is None:
        return {"present": False}
    return {
        "present": True,
        "switch_type": switch.get("switch_type"),
        "net_adapter_interface_description": switch.get("net_adapter_interface_description"),
    }


def _check_existing(switch: SwitchInfo, spec: SwitchSpec, network: NetworkSection) -> None:
    name = spec.name
    if switch.get("switch_type") != "External":
        raise PlanningError(
            f"The virtual switch {switch.get('name')!r} exists but is {switch.get('switch_type')}, not External; "
            "MAC address spoofing networking needs an External switch bound to a network adapter. "
            f"Remove that switch or choose another name than {name!r}."
        )
    wanted = spec.net_adapter_name
    bound = switch.get("net_adapter_interface_description")
    adapter = _find_adapter(network, wanted) if wanted else None
    # The probe may say which physical adapter a name stands for; only then can the binding be compared.
    description = adapter.get("interface_description") if adapter else None
    if bound and description and bound != description:
        raise PlanningError(
            f"The External switch {switch.get('name')!r} is bound to {bound!r}, not to the network adapter {wanted!r} "
            f"({description!r}); moving a switch to another adapter is not done automatically. "
            "Remove the switch or set net_adapter_name to the adapter it uses."
        )


def plan(spec: SwitchSpec, probe: ProbeAnswer) -> Planned:
    """What must run so the switch (and the VMs' adapters) end up as `spec` says."""
    network = probe.get("network") or {}
    _require_hyperv(network)
    existing = _find_switch(network, spec.name)
    if spec.state == "absent":
        return _plan_absent(spec, existing)

    warnings: list[str] = []
    if existing is not None:
        _check_existing(existing, spec, network)
        switch_name = existing["name"]
        switch_after = _switch_view(existing)
        operations: list[Operation] = []
    else:
        switch_name = spec.name
        operations, switch_after, warnings = _plan_new_switch(spec, network)

    adapters = _AdapterPlan()
    if spec.vms:
        adapters = _plan_adapters(spec, probe.get("vms") or {}, switch_name)
    return Planned(
        operations=operations + adapters.operations,
        before={"switch": {spec.name: _switch_view(existing)}, "vms": adapters.before},
        after={"switch": {spec.name: switch_after}, "vms": adapters.after},
        warnings=warnings + adapters.warnings,
        values={"switch": {"name": switch_name, "present": True, "created": existing is None}, "connected": adapters.connected},
    )


def _plan_absent(spec: SwitchSpec, existing: SwitchInfo | None) -> Planned:
    operations: list[Operation] = []
    if existing is not None:
        if _WILDCARD.search(existing["name"]):
            raise PlanningError(
                f"The switch name {existing['name']!r} contains wildcard characters (* ? [ ]); "
                "Remove-VMSwitch would treat it as a pattern, so remove it by hand."
            )
        operations.append({"kind": "cmdlet", "cmdlet": "Remove-VMSwitch", "parameters": {"Name": existing["name"], "Force": True}})
    return Planned(
        operations=operations,
        before={"switch": {spec.name: _switch_view(existing)}},
        after={"switch": {spec.name: {"present": False}}},
        values={"switch": {"name": spec.name, "present": False, "removed": existing is not None}, "connected": []},
    )


def _plan_new_switch(spec: SwitchSpec, network: NetworkSection) -> tuple[list[Operation], dict[str, t.Any], list[str]]:
    """New-VMSwitch on the named adapter: (operations, the switch after, warnings)."""
    name = spec.name
    if not spec.net_adapter_name:
        raise PlanningError(f"The switch {name!r} does not exist; set net_adapter_name to the network adapter it should be bound to.")
    adapter = _find_adapter(network, spec.net_adapter_name)
    if adapter is None:
        names = ", ".join(a.get("name", "?") for a in network.get("adapters") or []) or "none"
        raise PlanningError(f"net_adapter_name: this host has no network adapter named {spec.net_adapter_name!r} (its adapters: {names}).")
    operation: Operation = {
        "kind": "cmdlet",
        "cmdlet": "New-VMSwitch",
        "parameters": {"Name": name, "NetAdapterName": adapter["name"], "AllowManagementOS": spec.allow_management_os},
    }
    warnings = []
    if spec.allow_management_os:
        warnings.append(
            f"Creating the External switch {name!r} on {adapter['name']!r} moves this host's network onto the "
            f"adapter 'vEthernet ({name})': its network is interrupted for a few seconds."
        )
    return [operation], {"present": True, "switch_type": "External", "net_adapter_name": adapter["name"]}, warnings


@dataclass
class _AdapterPlan:
    """The VMs' adapters to connect: operations, per-VM before/after for diff, `connected`."""

    operations: list[Operation] = field(default_factory=list)
    before: dict[str, t.Any] = field(default_factory=dict)
    after: dict[str, t.Any] = field(default_factory=dict)
    connected: list[dict[str, t.Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _plan_adapters(spec: SwitchSpec, vms_section: VmsSection, switch_name: str) -> _AdapterPlan:
    _check_selection(vms_section)
    by_name = {vm["name"].casefold(): vm for vm in vms_section.get("vms") or []}
    result = _AdapterPlan()
    for requested_name in spec.vms:
        vm = by_name.get(requested_name.casefold())
        if vm is None:
            raise PlanningError(f"The probe returned nothing for the virtual machine {requested_name!r}.")
        adapters = _chosen_adapters(spec, vm)
        if not adapters:
            result.warnings.append(f"The VM {vm['name']!r} has no network adapter to connect to the switch {switch_name!r}.")
        vm_before: dict[str, t.Any] = {}
        vm_after: dict[str, t.Any] = {}
        for adapter in adapters:
            label = adapter["name"] if [a["name"] for a in adapters].count(adapter["name"]) == 1 else f"{adapter['name']} ({adapter['id']})"
            vm_before[label] = adapter.get("switch_name")
            vm_after[label] = switch_name
            if adapter.get("switch_name") == switch_name:
                continue
            result.operations.append(_connect(vm, adapter, switch_name))
            result.connected.append({"vm": vm["name"], "adapter": adapter["name"], "adapter_id": adapter["id"], "previous_switch": adapter.get("switch_name")})
        result.before[vm["name"]] = vm_before
        result.after[vm["name"]] = vm_after
    return result


def _check_selection(vms_section: VmsSection) -> None:
    _require_hyperv(vms_section)
    missing = list(vms_section.get("missing") or [])
    if missing:
        known = ", ".join(vms_section.get("all_names") or []) or "none"
        raise PlanningError(f"vms: no virtual machine named {', '.join(repr(m) for m in missing)} on this host (VMs here: {known}).")
    duplicates = list(vms_section.get("duplicates") or [])
    if duplicates:
        raise PlanningError(f"vms: more than one virtual machine is named {', '.join(repr(d) for d in duplicates)}; rename them so each name is unique.")


def _chosen_adapters(spec: SwitchSpec, vm: VmInfo) -> list[VmAdapter]:
    """The VM's adapters `adapters` names (all of them when it names none)."""
    adapters = list(vm.get("adapters") or [])
    if spec.adapters is None:
        return adapters
    present = {adapter["name"].casefold() for adapter in adapters}
    absent = [name for name in spec.adapters if name.casefold() not in present]
    if absent:
        names = ", ".join(adapter["name"] for adapter in adapters) or "none"
        raise PlanningError(f"adapters: the VM {vm['name']!r} has no network adapter named {', '.join(map(repr, absent))} (its adapters: {names}).")
    chosen = {name.casefold() for name in spec.adapters}
    return [adapter for adapter in adapters if adapter["name"].casefold() in chosen]


def _connect(vm: VmInfo, adapter: VmAdapter, switch_name: str) -> Operation:
    if vm.get("state") in _FROZEN_STATES:
        raise PlanningError(
            f"The VM {vm['name']!r} is {vm.get('state')}, and Hyper-V cannot change its network adapters in that state; "
            "start it (or remove its saved state) and run again."
        )
    return {"kind": "cmdlet", "cmdlet": "Connect-VMNetworkAdapter", "vm": vm["name"], "adapter_id": adapter["id"], "parameters": {"SwitchName": switch_name}}
