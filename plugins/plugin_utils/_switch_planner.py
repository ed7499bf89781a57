# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan win_nested_switch: an External switch inside an L1 host, and its L2 guests on it.

Pure functions over the probe's `vms` and `network` sections (docs/internals/wire-protocol.md);
the action plugin sends the planned operations to the executor. Nothing here talks to a host.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

# Remove-VMSwitch -Name is matched as a pattern on real hosts; such names are refused for removal.
_WILDCARD = re.compile(r"[*?\[\]]")


# Hyper-V refuses device changes while a VM's memory is saved or paused.
_FROZEN_STATES = frozenset({"Saved", "Paused"})


class SwitchPlanError(ValueError):
    """The request cannot be planned; the message says what to change."""


@dataclass
class SwitchPlan:
    operations: list[dict[str, t.Any]]
    before: dict[str, t.Any]
    after: dict[str, t.Any]
    switch: dict[str, t.Any]
    connected: list[dict[str, t.Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.operations)


def probe_parameters(args: dict[str, t.Any]) -> dict[str, t.Any]:
    """The one probe the module needs: network, plus the named VMs when there are any."""
    vms = list(args.get("vms") or [])
    if args.get("state", "present") == "present" and vms:
        return {"sections": ["vms", "network"], "vm_names": vms}
    return {"sections": ["network"], "vm_names": []}


def _same(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left.casefold() == right.casefold()


def _find_switch(network: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    # Hyper-V switch names compare case-insensitively, like VM names.
    matches = [switch for switch in network.get("switches") or [] if _same(switch.get("name"), name)]
    if len(matches) > 1:
        raise SwitchPlanError(f"More than one virtual switch is named {name!r} on this host; rename one of them first.")
    return matches[0] if matches else None


def _find_adapter(network: dict[str, t.Any], name: str) -> dict[str, t.Any] | None:
    for adapter in network.get("adapters") or []:
        if _same(adapter.get("name"), name):
            return t.cast(dict[str, t.Any], adapter)
    return None


_NO_SERVICE = (
    "The Hyper-V PowerShell module is installed but the Virtual Machine Management service does not answer: "
    "Hyper-V waits for a restart, or only its management tools are installed"
)


def _require_hyperv(section: dict[str, t.Any]) -> None:
    if section.get("hyperv_module") is False:
        raise SwitchPlanError(
            "Hyper-V and its PowerShell module are not installed on this host, so it has no virtual switches; "
            "install Hyper-V first (role hyperv.nested.nested_hyperv) and reboot."
        )
    if section.get("service_unavailable"):
        raise SwitchPlanError(f"{_NO_SERVICE} ({section['service_unavailable']})")


def _switch_view(switch: dict[str, t.Any] | None) -> dict[str, t.Any]:
    if switch is None:
        return {"present": False}
    return {
        "present": True,
        "switch_type": switch.get("switch_type"),
        "net_adapter_interface_description": switch.get("net_adapter_interface_description"),
    }


def _check_existing(switch: dict[str, t.Any], args: dict[str, t.Any], network: dict[str, t.Any]) -> None:
    name = args["name"]
    if switch.get("switch_type") != "External":
        raise SwitchPlanError(
            f"The virtual switch {switch.get('name')!r} exists but is {switch.get('switch_type')}, not External; "
            "MAC address spoofing networking needs an External switch bound to a network adapter. "
            f"Remove that switch or choose another name than {name!r}."
        )
    wanted = args.get("net_adapter_name")
    bound = switch.get("net_adapter_interface_description")
    adapter = _find_adapter(network, wanted) if wanted else None
    # The probe may say which physical adapter a name stands for; only then can the binding be compared.
    description = adapter.get("interface_description") if adapter else None
    if bound and description and bound != description:
        raise SwitchPlanError(
            f"The External switch {switch.get('name')!r} is bound to {bound!r}, not to the network adapter {wanted!r} "
            f"({description!r}); moving a switch to another adapter is not done automatically. "
            "Remove the switch or set net_adapter_name to the adapter it uses."
        )


def _plan_adapters(
    args: dict[str, t.Any], vms_section: dict[str, t.Any], switch_name: str
) -> tuple[list[dict[str, t.Any]], dict[str, t.Any], dict[str, t.Any], list[dict[str, t.Any]], list[str]]:
    requested: list[str] = list(args.get("vms") or [])
    wanted_adapters: list[str] | None = args.get("adapters")
    _require_hyperv(vms_section)
    missing = list(vms_section.get("missing") or [])
    if missing:
        known = ", ".join(vms_section.get("all_names") or []) or "none"
        raise SwitchPlanError(f"vms: no virtual machine named {', '.join(repr(m) for m in missing)} on this host (VMs here: {known}).")
    duplicates = list(vms_section.get("duplicates") or [])
    if duplicates:
        raise SwitchPlanError(f"vms: more than one virtual machine is named {', '.join(repr(d) for d in duplicates)}; rename them so each name is unique.")

    by_name = {vm["name"].casefold(): vm for vm in vms_section.get("vms") or []}
    operations: list[dict[str, t.Any]] = []
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    connected: list[dict[str, t.Any]] = []
    warnings: list[str] = []
    for requested_name in requested:
        vm = by_name.get(requested_name.casefold())
        if vm is None:
            raise SwitchPlanError(f"The probe returned nothing for the virtual machine {requested_name!r}.")
        adapters = list(vm.get("adapters") or [])
        if wanted_adapters is not None:
            present = {adapter["name"].casefold() for adapter in adapters}
            absent = [name for name in wanted_adapters if name.casefold() not in present]
            if absent:
                names = ", ".join(adapter["name"] for adapter in adapters) or "none"
                raise SwitchPlanError(f"adapters: the VM {vm['name']!r} has no network adapter named {', '.join(map(repr, absent))} (its adapters: {names}).")
            chosen = {name.casefold() for name in wanted_adapters}
            adapters = [adapter for adapter in adapters if adapter["name"].casefold() in chosen]
        if not adapters:
            warnings.append(f"The VM {vm['name']!r} has no network adapter to connect to the switch {switch_name!r}.")
        vm_before: dict[str, t.Any] = {}
        vm_after: dict[str, t.Any] = {}
        for adapter in adapters:
            label = adapter["name"] if [a["name"] for a in adapters].count(adapter["name"]) == 1 else f"{adapter['name']} ({adapter['id']})"
            vm_before[label] = adapter.get("switch_name")
            vm_after[label] = switch_name
            if adapter.get("switch_name") == switch_name:
                continue
            if vm.get("state") in _FROZEN_STATES:
                raise SwitchPlanError(
                    f"The VM {vm['name']!r} is {vm.get('state')}, and Hyper-V cannot change its network adapters in that state; "
                    "start it (or remove its saved state) and run again."
                )
            operations.append(
                {
                    "kind": "cmdlet",
                    "cmdlet": "Connect-VMNetworkAdapter",
                    "vm": vm["name"],
                    "adapter_id": adapter["id"],
                    "parameters": {"SwitchName": switch_name},
                }
            )
            connected.append({"vm": vm["name"], "adapter": adapter["name"], "adapter_id": adapter["id"], "previous_switch": adapter.get("switch_name")})
        before[vm["name"]] = vm_before
        after[vm["name"]] = vm_after
    return operations, before, after, connected, warnings


def plan(args: dict[str, t.Any], probe: dict[str, t.Any]) -> SwitchPlan:
    """What must run so the switch (and the VMs' adapters) end up as `args` say."""
    network = probe.get("network") or {}
    _require_hyperv(network)
    name: str = args["name"]
    existing = _find_switch(network, name)

    if args.get("state", "present") == "absent":
        operations: list[dict[str, t.Any]] = []
        if existing is not None:
            if _WILDCARD.search(existing["name"]):
                raise SwitchPlanError(
                    f"The switch name {existing['name']!r} contains wildcard characters (* ? [ ]); "
                    "Remove-VMSwitch would treat it as a pattern, so remove it by hand."
                )
            operations.append({"kind": "cmdlet", "cmdlet": "Remove-VMSwitch", "parameters": {"Name": existing["name"], "Force": True}})
        return SwitchPlan(
            operations=operations,
            before={"switch": {name: _switch_view(existing)}},
            after={"switch": {name: {"present": False}}},
            switch={"name": name, "present": False, "removed": existing is not None},
        )

    operations = []
    warnings: list[str] = []
    switch_after: dict[str, t.Any]
    if existing is not None:
        _check_existing(existing, args, network)
        switch_name = existing["name"]
        switch_after = _switch_view(existing)
    else:
        adapter_name = args.get("net_adapter_name")
        if not adapter_name:
            raise SwitchPlanError(f"The switch {name!r} does not exist; set net_adapter_name to the network adapter it should be bound to.")
        adapter = _find_adapter(network, adapter_name)
        if adapter is None:
            names = ", ".join(a.get("name", "?") for a in network.get("adapters") or []) or "none"
            raise SwitchPlanError(f"net_adapter_name: this host has no network adapter named {adapter_name!r} (its adapters: {names}).")
        switch_name = name
        operations.append(
            {
                "kind": "cmdlet",
                "cmdlet": "New-VMSwitch",
                "parameters": {"Name": name, "NetAdapterName": adapter["name"], "AllowManagementOS": bool(args.get("allow_management_os", True))},
            }
        )
        switch_after = {"present": True, "switch_type": "External", "net_adapter_name": adapter["name"]}
        if args.get("allow_management_os", True):
            warnings.append(
                f"Creating the External switch {name!r} on {adapter['name']!r} moves this host's network onto the "
                f"adapter 'vEthernet ({name})': its network is interrupted for a few seconds."
            )

    vm_operations: list[dict[str, t.Any]] = []
    vms_before: dict[str, t.Any] = {}
    vms_after: dict[str, t.Any] = {}
    connected: list[dict[str, t.Any]] = []
    if args.get("vms"):
        vm_operations, vms_before, vms_after, connected, vm_warnings = _plan_adapters(args, probe.get("vms") or {}, switch_name)
        warnings.extend(vm_warnings)

    return SwitchPlan(
        operations=operations + vm_operations,
        before={"switch": {name: _switch_view(existing)}, "vms": vms_before},
        after={"switch": {name: switch_after}, "vms": vms_after},
        switch={"name": switch_name, "present": True, "created": existing is None},
        connected=connected,
        warnings=warnings,
    )
