# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan win_nested_dhcp: a DHCP scope on an L1 host's NAT prefix, its router and DNS options, and a
reservation per L2 guest from its inventory address and the MAC address Hyper-V gave its adapter.

Pure functions over the DHCP script's `inspect` answer (docs/internals/provisioning.md, "DHCP"),
returning a `Planned` whose operations are this script's steps (docs/internals/planner-contract.md).
A scope, option or reservation that exists with other values than asked is reported, never
replaced (it may serve machines this task does not know).
"""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import DhcpInspect, DhcpReservation, DhcpScope, DhcpStep, DhcpVm, Operation

SCOPE_NAME = "hyperv.nested NAT"


class ReservationArgs(t.TypedDict):
    vm: str
    ip: str
    adapter: str | None


class DhcpArgs(t.TypedDict):
    """The module's options, as win_nested_dhcp checked them."""

    prefix: str
    gateway: str | None
    dns_servers: list[str]
    range_start: str | None
    range_end: str | None
    reservations: list[ReservationArgs]


class ReservationReport(t.TypedDict):
    """One entry of the module's `reservations` return value."""

    vm: str
    ip: str
    client_id: str


def network_of(option: str, prefix: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(prefix, strict=True)
    except ValueError as exc:
        raise PlanningError(f"Option '{option}': {prefix!r} is not an IPv4 network prefix such as 192.168.100.0/24 "
                            f"({exc}).") from None
    if network.prefixlen > 29:
        raise PlanningError(f"Option '{option}': {prefix} is too small for a gateway and guests (at most /29).")
    return network


def address_in(option: str, value: str, network: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise PlanningError(f"Option '{option}': {value!r} is not an IPv4 address.") from None
    if address not in network or address in (network.network_address, network.broadcast_address):
        raise PlanningError(f"Option '{option}': {value} is not a host address of {network}.")
    return address


def wanted_scope(args: t.Mapping[str, t.Any]) -> DhcpScope:
    """The scope asked for: by default every host address after the gateway (reservations must lie in the range)."""
    network = network_of("prefix", args["prefix"])
    hosts = list(network.hosts())
    gateway = address_in("gateway", args["gateway"], network) if args.get("gateway") else hosts[0]
    start = address_in("range_start", args["range_start"], network) if args.get("range_start") else hosts[1]
    end = address_in("range_end", args["range_end"], network) if args.get("range_end") else hosts[-1]
    if int(start) > int(end):
        raise PlanningError(f"Option 'range_start': {start} comes after range_end {end}.")
    if int(start) <= int(gateway) <= int(end):
        raise PlanningError(f"Option 'gateway': {gateway} lies inside the lease range {start}-{end}.")
    dns: list[str] = []
    for index, server in enumerate(args.get("dns_servers") or []):
        try:
            dns.append(str(ipaddress.IPv4Address(server)))
        except ValueError:
            raise PlanningError(f"Option 'dns_servers[{index}]': {server!r} is not an IPv4 address.") from None
    dns = dns or [str(gateway)]
    return {"scope_id": str(network.network_address), "subnet_mask": str(network.netmask),
            "start_range": str(start), "end_range": str(end), "router": [str(gateway)], "dns_server": dns,
            "name": SCOPE_NAME}


def inspect_parameters(args: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {"action": "inspect", "vm_names": [r["vm"] for r in args["reservations"]]}


def _mac(vm: DhcpVm, adapter_name: str | None) -> str | None:
    adapters = vm.get("adapters") or []
    if adapter_name is not None:
        adapters = [a for a in adapters if str(a.get("name", "")).casefold() == adapter_name.casefold()]
    if not adapters:
        return None
    raw = str(adapters[0].get("mac_address") or "").replace("-", "").upper()
    return "-".join(raw[i:i + 2] for i in range(0, 12, 2)) if len(raw) == 12 else None


def plan(options: t.Mapping[str, t.Any], answer: t.Mapping[str, t.Any]) -> Planned:
    """The DHCP script's steps as `operations`; `values` are the module's `scope` and `reservations`.

    `options` are the module's, as win_nested_dhcp checked them; `answer` is dhcp.ps1's to `inspect`.
    In order: the DHCP module must be there, the scope asked for must be valid, then the scope's own
    steps, then one reservation per guest (each checked before the next).
    """
    args, inspected = t.cast(DhcpArgs, options), t.cast(DhcpInspect, answer)
    _require_dhcp_module(inspected)
    scope = wanted_scope(args)
    found = next((s for s in inspected.get("scopes") or [] if s.get("scope_id") == scope["scope_id"]), None)
    steps, warnings = _scope_steps(scope, found)
    existing = [r for r in inspected.get("reservations") or [] if r.get("scope_id") == scope["scope_id"]]
    reservations, reservation_steps = _reservation_steps(args["reservations"], scope, inspected, existing)
    steps += reservation_steps
    before = {"scope": found, "reservations": existing}
    after = {"scope": {**(found or {}), **scope} if found is None else found,
             "reservations": existing + [{"scope_id": scope["scope_id"], "ip_address": s["parameters"]["IPAddress"],
                                          "client_id": s["parameters"]["ClientId"], "name": s["vm"]}
                                         for s in reservation_steps]}
    # The DHCP script's steps travel where the executor's operations do (win_nested_dhcp's `execute`).
    return Planned(t.cast(list[Operation], steps), before=before, after=after, warnings=warnings,
                   values={"scope": scope, "reservations": reservations})


def _require_dhcp_module(inspected: DhcpInspect) -> None:
    if not inspected.get("dhcp_module"):
        raise PlanningError("The DHCP Server role is not installed on this host (no DhcpServer PowerShell module): "
                            "install the DHCP feature with its management tools first (ansible.windows.win_feature "
                            "name=DHCP include_management_tools=true).")


def _scope_steps(scope: DhcpScope, found: DhcpScope | None) -> tuple[list[DhcpStep], list[str]]:
    """A missing scope is added with its options; an existing scope only gets its router and DNS options set
    again, and a different mask or range is a warning, never a change."""
    options: DhcpStep = {"kind": "options", "parameters": {
        "ScopeId": scope["scope_id"], "Router": scope["router"], "DnsServer": scope["dns_server"], "Force": True}}
    if found is None:
        return [{"kind": "scope", "parameters": {
            "Name": scope["name"], "StartRange": scope["start_range"], "EndRange": scope["end_range"],
            "SubnetMask": scope["subnet_mask"], "State": "Active"}}, options], []
    warnings = []
    differs = [f"{key} {found.get(key)} (asked {scope[key]})" for key in ("subnet_mask", "start_range", "end_range")
               if found.get(key) != scope[key]]
    if differs:
        warnings.append(f"DHCP scope {scope['scope_id']} exists with " + ", ".join(differs) + ": it is left as it is.")
    same = list(found.get("router") or []) == scope["router"] and list(found.get("dns_server") or []) == scope["dns_server"]
    return ([] if same else [options]), warnings


def _reservation_steps(wanted_reservations: list[ReservationArgs], scope: DhcpScope, inspected: DhcpInspect,
                       existing: list[DhcpReservation]) -> tuple[list[ReservationReport], list[DhcpStep]]:
    """The module's `reservations`, and a step for each one not yet in the scope; the first problem found is refused."""
    network = ipaddress.IPv4Network(f"{scope['scope_id']}/{scope['subnet_mask']}")
    vms = {str(vm["name"]).casefold(): vm for vm in inspected.get("vms") or []}
    reservations: list[ReservationReport] = []
    steps: list[DhcpStep] = []
    seen: set[str] = set()
    for index, wanted in enumerate(wanted_reservations):
        option = f"reservations[{index}]"
        address = _new_address(option, wanted["ip"], network, scope, seen)
        vm = _vm_of(option, wanted["vm"], vms, inspected)
        mac = _mac_of(option, vm, wanted.get("adapter"))
        _require_in_range(option, address, scope)
        reservations.append({"vm": vm["name"], "ip": str(address), "client_id": mac})
        if _already_reserved(option, address, vm, mac, existing):
            continue
        steps.append({"kind": "reservation", "vm": vm["name"], "parameters": {
            "ScopeId": scope["scope_id"], "IPAddress": str(address), "ClientId": mac, "Name": vm["name"]}})
    return reservations, steps


def _new_address(option: str, value: str, network: ipaddress.IPv4Network, scope: DhcpScope,
                 seen: set[str]) -> ipaddress.IPv4Address:
    """A reservation's address: a host address of the prefix, not reserved twice, not the gateway's."""
    address = address_in(f"{option}.ip", value, network)
    if str(address) in seen:
        raise PlanningError(f"Option '{option}.ip': {address} is reserved twice.")
    seen.add(str(address))
    if str(address) in (scope["router"][0],):
        raise PlanningError(f"Option '{option}.ip': {address} is the gateway address.")
    return address


def _vm_of(option: str, name: str, vms: dict[str, DhcpVm], inspected: DhcpInspect) -> DhcpVm:
    vm = vms.get(name.casefold())
    if vm is None:
        names = ", ".join(sorted(str(v) for v in inspected.get("all_names") or [])) or "none"
        raise PlanningError(f"Option '{option}.vm': no VM named {name!r} on this host (it has: {names}).")
    return vm


def _mac_of(option: str, vm: DhcpVm, adapter_name: str | None) -> str:
    mac = _mac(vm, adapter_name)
    if mac is None:
        raise PlanningError(f"Option '{option}': VM {vm['name']!r} has no network adapter"
                            + (f" named {adapter_name!r}." if adapter_name else "."))
    return mac


def _require_in_range(option: str, address: ipaddress.IPv4Address, scope: DhcpScope) -> None:
    if not int(ipaddress.IPv4Address(scope["start_range"])) <= int(address) <= int(ipaddress.IPv4Address(scope["end_range"])):
        raise PlanningError(f"Option '{option}.ip': {address} is outside the scope's range {scope['start_range']}-"
                            f"{scope['end_range']}; a reservation must lie in it.")


def _already_reserved(option: str, address: ipaddress.IPv4Address, vm: DhcpVm, mac: str,
                      existing: list[DhcpReservation]) -> bool:
    """True when this exact reservation exists; another client on the address, or this adapter at another
    address, is refused (it may serve machines this task does not know)."""
    same_ip = next((r for r in existing if r.get("ip_address") == str(address)), None)
    same_mac = next((r for r in existing if str(r.get("client_id", "")).upper() == mac), None)
    if same_ip is not None and str(same_ip.get("client_id", "")).upper() == mac:
        return True
    if same_ip is not None:
        raise PlanningError(f"Option '{option}.ip': {address} is reserved for client {same_ip.get('client_id')} "
                            f"({same_ip.get('name')}), not for {vm['name']}'s adapter {mac}; remove that "
                            "reservation or choose another address.")
    if same_mac is not None:
        raise PlanningError(f"Option '{option}.ip': {vm['name']}'s adapter {mac} is reserved at "
                            f"{same_mac.get('ip_address')} already; remove that reservation or use that address.")
    return False


def render_step(step: t.Mapping[str, t.Any]) -> str:
    from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import literal

    cmdlet = {"scope": "Add-DhcpServerv4Scope", "options": "Set-DhcpServerv4OptionValue",
              "reservation": "Add-DhcpServerv4Reservation"}[step["kind"]]
    words = [cmdlet]
    for name, value in step["parameters"].items():
        words.append(f"-{name}" if value is True else f"-{name} {literal(value)}")
    return " ".join(words)
