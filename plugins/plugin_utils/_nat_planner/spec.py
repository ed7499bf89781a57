# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The task's arguments as a NAT spec: `build_spec` validates what does not depend on the target and
fails naming the option; `probe_parameters` is the one probe the task needs.
"""

from __future__ import annotations

import dataclasses
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    AddressError,
    IPv4Address,
    IPv4Network,
    parse_address,
    parse_gateway,
    parse_guest_address,
    parse_prefix,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import AZURE_DNS, platform_of
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import name_problem, vm_name_problem

DEFAULT_DNS = ("1.1.1.1", "8.8.8.8")


_WILDCARDS = frozenset("*?[]")


@dataclass(frozen=True)
class GuestSpec:
    index: int
    vm: str
    ip: IPv4Address | None
    dns: tuple[IPv4Address, ...] | None  # None: guest_dns, or the host's default when that is not set
    username: str | None
    password: str | None = field(repr=False)
    adapter: str | None


@dataclass(frozen=True)
class MappingSpec:
    index: int
    protocol: str  # TCP | UDP
    external_ip: IPv4Address
    external_port: int
    internal_ip: IPv4Address | None
    vm: str | None
    internal_port: int


@dataclass(frozen=True)
class NatSpec:
    switch_name: str
    nat_name: str
    network: IPv4Network
    gateway: IPv4Address
    state: str
    guests: tuple[GuestSpec, ...]
    port_mappings: tuple[MappingSpec, ...]
    replace: bool
    purge_port_mappings: bool
    guest_dns: tuple[IPv4Address, ...] | None = None  # None: DEFAULT_DNS, or Azure's resolver on Azure
    firewall_rules: bool = True
    allow_multiple_nats: bool = False

    @property
    def interface_alias(self) -> str:
        return f"vEthernet ({self.switch_name})"


def _name(value: t.Any, option: str) -> str:
    problem = name_problem(value)
    if problem:
        raise PlanningError(f"{option}: the name {value!r} {problem}")
    text = str(value).strip()
    if _WILDCARDS.intersection(text):
        # The removal cmdlets select switches and NATs by name, and Windows reads *?[] there as wildcards.
        raise PlanningError(f"{option}: {text!r} contains a wildcard character (* ? [ ]); use a plain name")
    return text


def _dns(values: t.Any, option: str) -> tuple[IPv4Address, ...]:
    if not values:
        raise PlanningError(f"{option}: give at least one DNS server address")
    servers = tuple(parse_address(value, f"{option}[{index}]") for index, value in enumerate(values))
    if len(set(servers)) != len(servers):
        raise PlanningError(f"{option}: lists the same server more than once")
    return servers


def _port(value: t.Any, option: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise PlanningError(f"{option}: {value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise PlanningError(f"{option}: {port} is not a port number between 1 and 65535")
    return port


def build_spec(args: dict[str, t.Any]) -> NatSpec:
    """Validate everything that does not depend on the target; fail naming the option."""
    try:
        return _build_spec(args)
    except AddressError as exc:
        raise PlanningError(str(exc)) from None


def _build_spec(args: dict[str, t.Any]) -> NatSpec:
    switch_name = _name(args.get("switch_name"), "switch_name")
    nat_name = _name(args.get("nat_name"), "nat_name")
    network = parse_prefix(args.get("prefix") or "")
    gateway = parse_gateway(args.get("gateway"), network)
    default_dns = _dns(args["guest_dns"], "guest_dns") if args.get("guest_dns") is not None else None

    guests: list[GuestSpec] = []
    seen_vms: dict[str, int] = {}
    seen_ips: dict[IPv4Address, int] = {}
    for index, raw in enumerate(args.get("guests") or []):
        where = f"guests[{index}]"
        vm = raw.get("vm")
        problem = vm_name_problem(vm)
        if problem:
            raise PlanningError(f"{where}.vm: the VM name {vm!r} {problem}")
        key = vm.casefold()
        if key in seen_vms:
            raise PlanningError(f"{where}.vm: {vm} is already listed as guests[{seen_vms[key]}]")
        seen_vms[key] = index
        ip = None
        if raw.get("ip") not in (None, ""):
            ip = parse_guest_address(raw["ip"], network, gateway, f"{where}.ip")
            if ip in seen_ips:
                raise PlanningError(f"{where}.ip: {ip} is already the address of guests[{seen_ips[ip]}]")
            seen_ips[ip] = index
        dns = _dns(raw["dns"], f"{where}.dns") if raw.get("dns") is not None else default_dns
        username = raw.get("username") or args.get("guest_username")
        password = raw.get("password") or args.get("guest_password")
        adapter = str(raw["adapter"]) if raw.get("adapter") else None
        guests.append(GuestSpec(index, vm, ip, dns, username, password, adapter))

    mappings: list[MappingSpec] = []
    seen_keys: dict[tuple[str, IPv4Address, int], int] = {}
    for index, raw in enumerate(args.get("port_mappings") or []):
        where = f"port_mappings[{index}]"
        protocol = str(raw.get("protocol") or "tcp").upper()
        if protocol not in ("TCP", "UDP"):
            raise PlanningError(f"{where}.protocol: {raw.get('protocol')!r} is not tcp or udp")
        external_port = _port(raw.get("external_port"), f"{where}.external_port")
        internal_port = _port(raw.get("internal_port"), f"{where}.internal_port")
        external_ip = parse_address(raw.get("external_ip") or "0.0.0.0", f"{where}.external_ip")
        internal_ip = None
        target_vm: str | None = None
        if raw.get("internal_ip") not in (None, "") and raw.get("vm"):
            raise PlanningError(f"{where}: give internal_ip or vm, not both")
        if raw.get("internal_ip") not in (None, ""):
            internal_ip = parse_guest_address(raw["internal_ip"], network, gateway, f"{where}.internal_ip")
        elif raw.get("vm"):
            target_vm = str(raw["vm"])
            if target_vm.casefold() not in seen_vms:
                raise PlanningError(f"{where}.vm: {target_vm} is not one of the guests; list it under guests or give internal_ip")
        else:
            raise PlanningError(f"{where}: give internal_ip or vm (a guest listed under guests)")
        mapping_key = (protocol, external_ip, external_port)
        if mapping_key in seen_keys:
            raise PlanningError(f"{where}: {protocol} {external_ip}:{external_port} is already mapped by port_mappings[{seen_keys[mapping_key]}]")
        seen_keys[mapping_key] = index
        mappings.append(MappingSpec(index, protocol, external_ip, external_port, internal_ip, target_vm, internal_port))

    return NatSpec(
        switch_name=switch_name,
        nat_name=nat_name,
        network=network,
        gateway=gateway,
        state=str(args.get("state") or "present"),
        guests=tuple(guests),
        port_mappings=tuple(mappings),
        replace=bool(args.get("replace")),
        purge_port_mappings=bool(args.get("purge_port_mappings")),
        guest_dns=default_dns,
        firewall_rules=bool(args.get("firewall_rules", True)),
        allow_multiple_nats=bool(args.get("allow_multiple_nats")),
    )


def require_credentials(spec: NatSpec) -> None:
    """Guests are reached through PowerShell Direct: every one needs credentials."""
    if spec.state != "present":
        return
    for guest in spec.guests:
        if not guest.username:
            raise PlanningError(f"guests[{guest.index}].username: no user for {guest.vm}; set it or guest_username")
        if not guest.password:
            raise PlanningError(f"guests[{guest.index}].password: no password for {guest.vm}; set it or guest_password")


def probe_parameters(spec: NatSpec) -> dict[str, t.Any]:
    """The single probe this task needs."""
    if spec.state != "present" or not spec.guests:
        return {"sections": ["network"], "vm_names": [], "guests": []}
    # The guests' default DNS depends on where the host runs (Azure has its own resolver).
    platform = ["platform"] if spec.guest_dns is None and any(guest.dns is None for guest in spec.guests) else []
    return {
        "sections": ["network", "vms", "guests", *platform],
        "vm_names": [guest.vm for guest in spec.guests],
        "guests": [{"vm": guest.vm, "username": guest.username, "password": guest.password} for guest in spec.guests],
    }


def with_default_dns(spec: NatSpec, platform: t.Any) -> tuple[NatSpec, list[str]]:
    """Give every guest without its own DNS servers guest_dns, or the default for where the host runs:
    Azure's resolver on an Azure VM (what Microsoft's own nested-Hyper-V script for Azure gives its
    guests), a public pair elsewhere."""
    if spec.guest_dns is not None or all(guest.dns is not None for guest in spec.guests):
        default = spec.guest_dns or ()
        return dataclasses.replace(spec, guests=tuple(guest if guest.dns is not None else dataclasses.replace(guest, dns=default) for guest in spec.guests)), []
    notes = []
    if isinstance(platform, dict) and platform_of({"platform": platform}).cloud == "Azure":
        default = (parse_address(AZURE_DNS, "guest_dns"),)
        names = ", ".join(guest.vm for guest in spec.guests if guest.dns is None)
        notes.append(
            f"This host is an Azure VM: the guests without DNS servers of their own ({names}) use Azure's resolver {AZURE_DNS}, "
            "which answers inside Azure virtual networks. Set guest_dns to choose others."
        )
    else:
        default = tuple(parse_address(server, "guest_dns") for server in DEFAULT_DNS)
    return dataclasses.replace(spec, guests=tuple(guest if guest.dns is not None else dataclasses.replace(guest, dns=default) for guest in spec.guests)), notes
