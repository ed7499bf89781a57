# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The guests (L2): which VM adapter and which adapter inside each guest, and the operations that give
it its address, gateway and DNS servers through PowerShell Direct.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    IPv4Address,
    IPv4Network,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.host import cmdlet, ipv4_of, remove_address
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.spec import GuestSpec, NatSpec
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    GuestAdapter,
    GuestIpv4,
    Operation,
    ProbeAnswer,
    VmAdapter,
    VmInfo,
    same_name,
)


def _mac(value: t.Any) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch in "0123456789ABCDEF")


def guest_op(guest: GuestSpec, operations: list[Operation]) -> Operation:
    # require_credentials has made sure every guest has both.
    return {"kind": "guest", "vm": guest.vm, "username": str(guest.username), "password": str(guest.password), "operations": operations}


@dataclass
class Guest:
    spec: GuestSpec
    vm_adapter: VmAdapter
    os_adapter: GuestAdapter
    network: IPv4Network

    @property
    def ipv4(self) -> list[GuestIpv4]:
        return list(self.os_adapter.get("ipv4") or [])

    @property
    def current_in_prefix(self) -> tuple[IPv4Address, ...]:
        found = []
        for entry in self.ipv4:
            address = ipv4_of(entry)
            if address is not None and address in self.network and not same_name(entry.get("prefix_origin"), "Dhcp"):
                found.append(address)
        return tuple(found)

    @property
    def kept_outside_prefix(self) -> list[GuestIpv4]:
        """Addresses outside the prefix are never touched (DHCP ones go with DHCP)."""
        dhcp = bool(self.os_adapter.get("dhcp"))
        kept = []
        for entry in self.ipv4:
            address = ipv4_of(entry)
            if address is None or address in self.network:
                continue
            if dhcp and same_name(entry.get("prefix_origin"), "Dhcp"):
                continue
            kept.append(entry)
        return kept

    def describe(self) -> dict[str, t.Any]:
        return {
            "adapter": self.vm_adapter.get("name"),
            "switch": self.vm_adapter.get("switch_name"),
            "addresses": sorted(f"{a['ip_address']}/{a.get('prefix_length')}" for a in self.ipv4),
            "default_gateway": self.os_adapter.get("default_gateway"),
            "dns_servers": list(self.os_adapter.get("dns_servers") or []),
            "dhcp": bool(self.os_adapter.get("dhcp")),
        }


def resolve_guests(spec: NatSpec, probe: ProbeAnswer) -> list[Guest]:
    if not spec.guests:
        return []
    vms_section = probe.get("vms") or {}
    vms = {str(vm.get("name")).casefold(): vm for vm in vms_section.get("vms") or []}
    reports = {str(report.get("vm")).casefold(): report for report in probe.get("guests") or []}
    duplicates = {str(name).casefold() for name in vms_section.get("duplicates") or []}
    resolved = []
    for guest in spec.guests:
        where = f"guests[{guest.index}]"
        key = guest.vm.casefold()
        if key in duplicates:
            raise PlanningError(f"{where}.vm: more than one VM is named {guest.vm} on this host")
        vm = vms.get(key)
        if vm is None:
            known = ", ".join(vms_section.get("all_names") or []) or "none"
            raise PlanningError(f"{where}.vm: no VM named {guest.vm} on this host (VMs: {known})")
        if vm.get("state") != "Running":
            raise PlanningError(
                f"{where}.vm: {guest.vm} is {vm.get('state')}; start it first (its network is configured through PowerShell Direct, which needs the VM running)"
            )
        vm_adapter = _choose_adapter(spec, guest, vm)
        report = reports.get(key)
        if report is None or not report.get("reachable"):
            reason = (report or {}).get("error") or "the probe returned nothing for it"
            raise PlanningError(f"{where}: cannot reach {guest.vm} through PowerShell Direct: {reason}")
        os_adapters = [a for a in report.get("adapters") or [] if _mac(a.get("mac_address")) == _mac(vm_adapter.get("mac_address"))]
        if len(os_adapters) != 1:
            raise PlanningError(
                f"{where}: found no network adapter inside {guest.vm} with the MAC address {vm_adapter.get('mac_address')} "
                f"of its VM adapter {vm_adapter.get('name')}"
            )
        resolved.append(Guest(guest, vm_adapter, os_adapters[0], spec.network))
    return resolved


def _choose_adapter(spec: NatSpec, guest: GuestSpec, vm: VmInfo) -> VmAdapter:
    where = f"guests[{guest.index}]"
    adapters = list(vm.get("adapters") or [])
    if guest.adapter is not None:
        named = [a for a in adapters if a.get("name") == guest.adapter]
        if len(named) != 1:
            names = ", ".join(str(a.get("name")) for a in adapters) or "none"
            raise PlanningError(f"{where}.adapter: {guest.vm} has {'no' if not named else 'more than one'} adapter named {guest.adapter} (adapters: {names})")
        chosen: VmAdapter = named[0]
    else:
        ours = [a for a in adapters if same_name(a.get("switch_name"), spec.switch_name)]
        if len(ours) == 1:
            chosen = ours[0]
        elif len(adapters) == 1:
            chosen = adapters[0]
        elif not adapters:
            raise PlanningError(f"{where}.vm: {guest.vm} has no network adapter")
        else:
            names = ", ".join(str(a.get("name")) for a in adapters)
            raise PlanningError(f"{where}.adapter: {guest.vm} has several network adapters ({names}); name the one for switch {spec.switch_name}")
    connected = chosen.get("switch_name")
    if connected and not same_name(connected, spec.switch_name):
        raise PlanningError(
            f"{where}.adapter: adapter {chosen.get('name')} of {guest.vm} is connected to switch {connected}; "
            f"moving it to {spec.switch_name} would cut it off that network: disconnect it first or name another adapter"
        )
    return chosen


def plan_guest(spec: NatSpec, guest: Guest, address: IPv4Address, switch_new: bool) -> tuple[list[Operation], list[Operation]]:
    """Host ops (connect the VM adapter) and guest ops (address, gateway, DNS on its own adapter)."""
    host_ops = []
    if switch_new or not same_name(guest.vm_adapter.get("switch_name"), spec.switch_name):
        host_ops.append(cmdlet("Connect-VMNetworkAdapter", {"SwitchName": spec.switch_name}, vm=guest.spec.vm, adapter_id=guest.vm_adapter.get("id")))

    index = int(guest.os_adapter.get("interface_index") or 0)
    prefix_length = spec.network.prefixlen
    ops: list[Operation] = []
    dhcp = bool(guest.os_adapter.get("dhcp"))

    # Everything is removed while it certainly exists (as probed), before DHCP is turned off.
    present = False
    for entry in guest.ipv4:
        current = ipv4_of(entry)
        if current is None:
            continue
        if dhcp and same_name(entry.get("prefix_origin"), "Dhcp"):
            ops.append(remove_address(index, str(current)))  # a lease of the DHCP client being turned off
            continue
        if current not in spec.network:
            continue
        if current == address and int(entry.get("prefix_length") or 0) == prefix_length and not present:
            present = True
            continue
        ops.append(remove_address(index, str(current)))

    gateway = guest.os_adapter.get("default_gateway")
    gateway_right = str(gateway or "") == str(spec.gateway) and not dhcp
    readd = not present or not gateway_right
    if readd and gateway:
        # New-NetIPAddress -DefaultGateway fails while the interface has a default route.
        ops.append(cmdlet("Remove-NetRoute", {"InterfaceIndex": index, "DestinationPrefix": "0.0.0.0/0", "Confirm": False}))
    if present and readd:
        # New-NetIPAddress is the only allowed way to set a default gateway: re-add the address with it.
        ops.append(remove_address(index, str(address)))
        present = False
    if dhcp:
        ops.append(cmdlet("Set-NetIPInterface", {"InterfaceIndex": index, "AddressFamily": "IPv4", "Dhcp": "Disabled"}))
    if not present:
        ops.append(
            cmdlet(
                "New-NetIPAddress",
                {
                    "InterfaceIndex": index,
                    "IPAddress": str(address),
                    "PrefixLength": prefix_length,
                    "DefaultGateway": str(spec.gateway),
                    "AddressFamily": "IPv4",
                },
            )
        )
    wanted_dns = [str(server) for server in guest.spec.dns or ()]
    if list(guest.os_adapter.get("dns_servers") or []) != wanted_dns:
        ops.append(cmdlet("Set-DnsClientServerAddress", {"InterfaceIndex": index, "ServerAddresses": wanted_dns}))
    return ops, host_ops
