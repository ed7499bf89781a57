# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan NAT networking on a nested Hyper-V host (L1) and its guests (L2).

Pure code: `build_spec` turns validated task arguments into a spec (or fails naming the
option); `plan` compares the spec with one probe result (sections network, vms, guests) and
returns the executor operations, the before/after state for diff mode, and the warnings.
"""

from __future__ import annotations

import dataclasses
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    AddressError,
    IPv4Address,
    IPv4Network,
    Request,
    allocate,
    overlaps,
    parse_address,
    parse_gateway,
    parse_guest_address,
    parse_prefix,
    prefix_overlaps,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import AZURE_DNS, platform_of
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import name_problem, vm_name_problem

DEFAULT_DNS = ("1.1.1.1", "8.8.8.8")
_WILDCARDS = frozenset("*?[]")
# The inbound rules opened for port mappings: this group, one rule per mapping, named after the
# mapping's protocol, external address and port (unique on a host: Windows maps each only once).
FIREWALL_GROUP = "hyperv.nested NAT port mappings"
_ANY_ADDRESS = "0.0.0.0"


class PlanError(Exception):
    """The task cannot be carried out as asked; nothing has been sent to the target."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


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


@dataclass
class Plan:
    operations: list[dict[str, t.Any]]
    before: dict[str, t.Any]
    after: dict[str, t.Any]
    warnings: list[str]
    guests: list[dict[str, t.Any]]
    port_mappings: list[dict[str, t.Any]]
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- arguments


def _name(value: t.Any, option: str) -> str:
    problem = name_problem(value)
    if problem:
        raise PlanError(f"{option}: the name {value!r} {problem}")
    text = str(value).strip()
    if _WILDCARDS.intersection(text):
        # The removal cmdlets select switches and NATs by name, and Windows reads *?[] there as wildcards.
        raise PlanError(f"{option}: {text!r} contains a wildcard character (* ? [ ]); use a plain name")
    return text


def _dns(values: t.Any, option: str) -> tuple[IPv4Address, ...]:
    if not values:
        raise PlanError(f"{option}: give at least one DNS server address")
    servers = tuple(parse_address(value, f"{option}[{index}]") for index, value in enumerate(values))
    if len(set(servers)) != len(servers):
        raise PlanError(f"{option}: lists the same server more than once")
    return servers


def _port(value: t.Any, option: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise PlanError(f"{option}: {value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise PlanError(f"{option}: {port} is not a port number between 1 and 65535")
    return port


def build_spec(args: dict[str, t.Any]) -> NatSpec:
    """Validate everything that does not depend on the target; fail naming the option."""
    try:
        return _build_spec(args)
    except AddressError as exc:
        raise PlanError(str(exc)) from None


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
            raise PlanError(f"{where}.vm: the VM name {vm!r} {problem}")
        key = vm.casefold()
        if key in seen_vms:
            raise PlanError(f"{where}.vm: {vm} is already listed as guests[{seen_vms[key]}]")
        seen_vms[key] = index
        ip = None
        if raw.get("ip") not in (None, ""):
            ip = parse_guest_address(raw["ip"], network, gateway, f"{where}.ip")
            if ip in seen_ips:
                raise PlanError(f"{where}.ip: {ip} is already the address of guests[{seen_ips[ip]}]")
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
            raise PlanError(f"{where}.protocol: {raw.get('protocol')!r} is not tcp or udp")
        external_port = _port(raw.get("external_port"), f"{where}.external_port")
        internal_port = _port(raw.get("internal_port"), f"{where}.internal_port")
        external_ip = parse_address(raw.get("external_ip") or "0.0.0.0", f"{where}.external_ip")
        internal_ip = None
        target_vm: str | None = None
        if raw.get("internal_ip") not in (None, "") and raw.get("vm"):
            raise PlanError(f"{where}: give internal_ip or vm, not both")
        if raw.get("internal_ip") not in (None, ""):
            internal_ip = parse_guest_address(raw["internal_ip"], network, gateway, f"{where}.internal_ip")
        elif raw.get("vm"):
            target_vm = str(raw["vm"])
            if target_vm.casefold() not in seen_vms:
                raise PlanError(f"{where}.vm: {target_vm} is not one of the guests; list it under guests or give internal_ip")
        else:
            raise PlanError(f"{where}: give internal_ip or vm (a guest listed under guests)")
        mapping_key = (protocol, external_ip, external_port)
        if mapping_key in seen_keys:
            raise PlanError(f"{where}: {protocol} {external_ip}:{external_port} is already mapped by port_mappings[{seen_keys[mapping_key]}]")
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
            raise PlanError(f"guests[{guest.index}].username: no user for {guest.vm}; set it or guest_username")
        if not guest.password:
            raise PlanError(f"guests[{guest.index}].password: no password for {guest.vm}; set it or guest_password")


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


# --------------------------------------------------------------------------- helpers


def _same(left: t.Any, right: t.Any) -> bool:
    return str(left or "").casefold() == str(right or "").casefold()


def _same_prefix(value: t.Any, network: IPv4Network) -> bool:
    try:
        return parse_prefix(str(value)) == network
    except AddressError:
        return False


def _mac(value: t.Any) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch in "0123456789ABCDEF")


def _cmdlet(cmdlet: str, parameters: dict[str, t.Any], **selector: t.Any) -> dict[str, t.Any]:
    return {"kind": "cmdlet", "cmdlet": cmdlet, **selector, "parameters": parameters}


def _mapping_text(mapping: dict[str, t.Any]) -> str:
    return (
        f"{str(mapping['protocol']).upper()} {mapping['external_ip_address']}:{mapping['external_port']}"
        f" -> {mapping['internal_ip_address']}:{mapping['internal_port']}"
    )


def _ipv4(entry: dict[str, t.Any]) -> IPv4Address | None:
    try:
        return parse_address(entry.get("ip_address"), "ip_address")
    except AddressError:
        return None


@dataclass
class _HostState:
    switch: dict[str, t.Any] | None
    nat: dict[str, t.Any] | None
    adapter_index: int | None
    addresses: list[dict[str, t.Any]]  # IPv4 addresses of vEthernet (switch) inside the prefix
    mappings: list[dict[str, t.Any]]  # static mappings of our NAT


def _host_state(spec: NatSpec, network_section: dict[str, t.Any]) -> _HostState:
    switches = [s for s in network_section.get("switches") or [] if _same(s.get("name"), spec.switch_name)]
    if len(switches) > 1:
        # Hyper-V allows that, and Remove-VMSwitch -Name would take all of them.
        kinds = ", ".join(str(s.get("switch_type")) for s in switches)
        raise PlanError(f"switch_name: {len(switches)} switches are named {spec.switch_name} ({kinds}); rename or remove the extra ones first")
    nats = [n for n in network_section.get("nats") or [] if _same(n.get("name"), spec.nat_name)]
    # The switch's own host adapter, as the probe found it through the switch; the alias
    # "vEthernet (<switch>)" only for probes that do not say (Windows may suffix it with " 2").
    adapter_index = switches[0].get("host_interface_index") if switches else None
    by_switch = adapter_index is not None
    if not by_switch:
        for adapter in network_section.get("adapters") or []:
            if _same(adapter.get("name"), spec.interface_alias):
                adapter_index = adapter.get("interface_index")
    addresses = []
    for entry in network_section.get("ip_addresses") or []:
        address = _ipv4(entry)
        on_ours = (adapter_index is not None and entry.get("interface_index") == adapter_index) or (
            not by_switch and _same(entry.get("interface_alias"), spec.interface_alias)
        )
        if on_ours and address is not None and address in spec.network:
            addresses.append(entry)
            if adapter_index is None:
                adapter_index = entry.get("interface_index")
    mappings = [m for m in network_section.get("static_mappings") or [] if _same(m.get("nat_name"), spec.nat_name)]
    return _HostState(switches[0] if switches else None, nats[0] if nats else None, adapter_index, addresses, mappings)


def _addresses_in(network_section: dict[str, t.Any], interface_index: int, prefix: t.Any) -> list[dict[str, t.Any]]:
    try:
        network = parse_prefix(str(prefix))
    except AddressError:
        return []
    found = []
    for entry in network_section.get("ip_addresses") or []:
        address = _ipv4(entry)
        if entry.get("interface_index") == interface_index and address is not None and address in network:
            found.append(entry)
    return found


def _describe_host(spec: NatSpec, state: _HostState, network_section: dict[str, t.Any]) -> dict[str, t.Any]:
    described = {
        "switch": {"name": state.switch["name"], "switch_type": state.switch.get("switch_type")} if state.switch else None,
        "nat": {"name": state.nat["name"], "prefix": state.nat.get("internal_ip_interface_address_prefix")} if state.nat else None,
        "host_addresses": sorted(f"{a['ip_address']}/{a.get('prefix_length')}" for a in state.addresses),
        "port_mappings": sorted(_mapping_text(m) for m in state.mappings),
    }
    if spec.firewall_rules:
        # The rules admitting this NAT's mappings (each named after its mapping).
        rules = _firewall_rules(network_section)
        names = {_firewall_rule_name(m).casefold(): _firewall_rule_name(m) for m in state.mappings}
        described["firewall_rules"] = sorted(names[key] for key in rules if key in names)
    return described


# --------------------------------------------------------------------------- planning


def plan(spec: NatSpec, probe: dict[str, t.Any]) -> Plan:
    network_section = probe.get("network") or {}
    if network_section.get("hyperv_module") is False:
        raise PlanError("Hyper-V is not installed on this host (no Hyper-V PowerShell module): install it and reboot before configuring NAT")
    if network_section.get("service_unavailable"):
        raise PlanError(
            "The Hyper-V PowerShell module is installed but the Virtual Machine Management service does not answer "
            f"(Hyper-V waits for a restart, or only its management tools are installed): {network_section['service_unavailable']}"
        )
    state = _host_state(spec, network_section)
    if spec.state == "absent":
        return _plan_absent(spec, state, network_section)
    spec, notes = _with_default_dns(spec, probe.get("platform"))
    result = _plan_present(spec, state, network_section, probe)
    result.notes = notes + result.notes
    return result


def _with_default_dns(spec: NatSpec, platform: t.Any) -> tuple[NatSpec, list[str]]:
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


def _firewall_rule_name(mapping: dict[str, t.Any]) -> str:
    protocol, address, port = _mapping_key(mapping)
    return f"hyperv.nested-nat-{protocol}-{address}-{port}"


def _rule_admits(rule: dict[str, t.Any], mapping: dict[str, t.Any]) -> bool:
    """Whether a probed rule (wire protocol `firewall_rules`) admits the mapping's inbound traffic."""
    protocol, address, port = _mapping_key(mapping)
    addresses = [str(value).casefold() for value in rule.get("local_address") or []]
    wanted_addresses = ([], ["any"]) if address == _ANY_ADDRESS else ([address],)
    return (
        rule.get("enabled") is True
        and _same(rule.get("direction"), "Inbound")
        and _same(rule.get("action"), "Allow")
        and _same(rule.get("protocol"), protocol)
        and [str(value) for value in rule.get("local_port") or []] == [str(port)]
        and addresses in wanted_addresses
    )


def _new_firewall_rule(spec: NatSpec, mapping: dict[str, t.Any]) -> dict[str, t.Any]:
    protocol, address, port = _mapping_key(mapping)
    parameters: dict[str, t.Any] = {
        "Name": _firewall_rule_name(mapping),
        "DisplayName": f"hyperv.nested NAT: {protocol} port {port}",
        "Description": f"Admits the port mapping {protocol} {address}:{port} of the NAT {spec.nat_name} (hyperv.nested.win_nested_nat).",
        "Group": FIREWALL_GROUP,
        "Direction": "Inbound",
        "Action": "Allow",
        # The Enabled parameter takes the strings True and False, not Booleans (New-NetFirewallRule page).
        "Enabled": "True",
        "Profile": "Any",
        "Protocol": protocol,
        "LocalPort": [str(port)],
    }
    if address != _ANY_ADDRESS:
        parameters["LocalAddress"] = [address]
    return _cmdlet("New-NetFirewallRule", parameters)


def _remove_firewall_rule(name: str) -> dict[str, t.Any]:
    return _cmdlet("Remove-NetFirewallRule", {"Name": name})


def _firewall_rules(network_section: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """The probed rules of our group, by name (case-insensitively, as Windows compares them)."""
    return {str(rule.get("name")).casefold(): rule for rule in network_section.get("firewall_rules") or [] if rule.get("name")}


def _other_nats(spec: NatSpec, network_section: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [nat for nat in network_section.get("nats") or [] if not _same(nat.get("name"), spec.nat_name)]


def _nat_list(nats: list[dict[str, t.Any]]) -> str:
    return ", ".join(f"{nat.get('name')} ({nat.get('internal_ip_interface_address_prefix')})" for nat in nats)


def _plan_absent(spec: NatSpec, state: _HostState, network_section: dict[str, t.Any]) -> Plan:
    operations: list[dict[str, t.Any]] = []
    warnings: list[str] = []
    before = _describe_host(spec, state, network_section)
    after: dict[str, t.Any] = {"switch": None, "nat": None, "host_addresses": [], "port_mappings": []}
    if spec.firewall_rules:
        after["firewall_rules"] = []

    nat_ours = state.nat is not None
    if state.nat is not None:
        if not _same_prefix(state.nat.get("internal_ip_interface_address_prefix"), spec.network) and not spec.replace:
            nat_ours = False
            warnings.append(
                f"NAT {state.nat['name']} has prefix {state.nat.get('internal_ip_interface_address_prefix')}, not {spec.network}: "
                "left in place (set replace: true to remove it anyway)"
            )
            after["nat"] = before["nat"]
            after["port_mappings"] = before["port_mappings"]
            if spec.firewall_rules:
                after["firewall_rules"] = before["firewall_rules"]
    if nat_ours:
        rules = _firewall_rules(network_section) if spec.firewall_rules else {}
        for mapping in state.mappings:
            if _firewall_rule_name(mapping).casefold() in rules:
                operations.append(_remove_firewall_rule(_firewall_rule_name(mapping)))
            operations.append(
                _cmdlet(
                    "Remove-NetNatStaticMapping",
                    {"NatName": mapping["nat_name"], "StaticMappingID": int(mapping["static_mapping_id"]), "Confirm": False},
                )
            )
    if state.adapter_index is not None:
        for address in state.addresses:
            operations.append(_remove_address(int(state.adapter_index), address["ip_address"]))
    if nat_ours and state.nat is not None:
        operations.append(_cmdlet("Remove-NetNat", {"Name": state.nat["name"], "Confirm": False}))
    if state.switch is not None:
        if _same(state.switch.get("switch_type"), "Internal"):
            operations.append(_cmdlet("Remove-VMSwitch", {"Name": state.switch["name"], "Force": True}))
        else:
            warnings.append(f"Switch {state.switch['name']} is {state.switch.get('switch_type')}, not an internal switch this module creates: left in place")
            after["switch"] = before["switch"]
    return Plan(operations, before, after, warnings, [], [])


def _remove_address(interface_index: int, ip_address: str) -> dict[str, t.Any]:
    return _cmdlet("Remove-NetIPAddress", {"InterfaceIndex": interface_index, "IPAddress": ip_address, "Confirm": False})


def _check_host_conflicts(spec: NatSpec, state: _HostState, network_section: dict[str, t.Any]) -> tuple[bool, bool]:
    """Fail on what must not be touched; return (recreate switch, recreate NAT)."""
    recreate_switch = False
    if state.switch is not None and not _same(state.switch.get("switch_type"), "Internal"):
        kind = state.switch.get("switch_type")
        if _same(kind, "External"):
            raise PlanError(
                f"switch_name: a switch named {state.switch['name']} exists and is External; it carries a physical network "
                "(maybe this host's own connection), so it is never replaced: choose another switch_name"
            )
        if not spec.replace:
            raise PlanError(
                f"switch_name: a switch named {state.switch['name']} exists and is {kind}, not Internal; "
                "set replace: true to replace it or choose another switch_name"
            )
        recreate_switch = True

    recreate_nat = False
    if state.nat is not None:
        current = state.nat.get("internal_ip_interface_address_prefix")
        if not _same_prefix(current, spec.network):
            if not spec.replace:
                raise PlanError(
                    f"prefix: NAT {state.nat['name']} exists with prefix {current}, not {spec.network}; "
                    "set replace: true to replace it or choose another nat_name"
                )
            recreate_nat = True

    others = _other_nats(spec, network_section)
    if state.nat is None and others and not spec.allow_multiple_nats:
        first = others[0]
        raise PlanError(
            f"nat_name: this host already has the NAT network {_nat_list(others)}, which this task does not manage, so "
            f"{spec.nat_name} is not added: Windows supports one NAT network per host (Microsoft, 'Set up a NAT network': "
            "'Multiple NAT networks are not supported'). Manage that one instead "
            f"(nat_name: {first.get('name')}, prefix: {first.get('internal_ip_interface_address_prefix')}), remove it, "
            "or set allow_multiple_nats: true"
        )

    for nat in network_section.get("nats") or []:
        if _same(nat.get("name"), spec.nat_name):
            continue
        other = prefix_overlaps(spec.network, nat.get("internal_ip_interface_address_prefix") or "")
        if other is not None:
            raise PlanError(f"prefix: {spec.network} overlaps {other} of NAT {nat.get('name')}, which this task does not manage")

    for entry in network_section.get("ip_addresses") or []:
        if not _same(entry.get("address_family") or "IPv4", "IPv4"):
            continue
        if state.adapter_index is not None and entry.get("interface_index") == state.adapter_index and not recreate_switch:
            continue
        if _same(entry.get("interface_alias"), spec.interface_alias) and not recreate_switch:
            continue
        other = overlaps(spec.network, str(entry.get("ip_address")), int(entry.get("prefix_length") or 32))
        if other is not None:
            raise PlanError(
                f"prefix: {spec.network} overlaps the network {other} of {entry.get('ip_address')} "
                f"on {entry.get('interface_alias')}, which is already on this host"
            )
    return recreate_switch, recreate_nat


def _plan_present(spec: NatSpec, state: _HostState, network_section: dict[str, t.Any], probe: dict[str, t.Any]) -> Plan:
    recreate_switch, recreate_nat = _check_host_conflicts(spec, state, network_section)
    guests = _resolve_guests(spec, probe)
    addresses = allocate(
        spec.network,
        spec.gateway,
        [Request(guest.spec.ip, guest.current_in_prefix) for guest in guests],
        reserved=[a for a in (_ipv4(entry) for entry in state.addresses) if a is not None],
    )
    by_vm = {guest.spec.vm.casefold(): address for guest, address in zip(guests, addresses, strict=True)}
    wanted_mappings = _wanted_mappings(spec, by_vm)
    _check_mapping_conflicts(spec, wanted_mappings, network_section)

    operations: list[dict[str, t.Any]] = []
    warnings: list[str] = []
    before = _describe_host(spec, state, network_section)
    others = _other_nats(spec, network_section)
    if others:
        mine = state.nat or {"name": spec.nat_name, "internal_ip_interface_address_prefix": str(spec.network)}
        warnings.append(
            f"This host has {len(others) + 1} NAT networks: {_nat_list([mine, *others])}. Windows supports one NAT network per host "
            "(Microsoft, 'Set up a NAT network': 'Multiple NAT networks are not supported'); guests may lose their connection."
        )
    prefix_length = spec.network.prefixlen
    gateway_text = f"{spec.gateway}/{prefix_length}"
    after: dict[str, t.Any] = {
        "switch": {"name": spec.switch_name, "switch_type": "Internal"},
        "nat": {"name": spec.nat_name, "prefix": str(spec.network)},
        "host_addresses": [gateway_text],
    }
    if state.switch is not None and not recreate_switch:
        after["switch"]["name"] = state.switch["name"]
    if state.nat is not None and not recreate_nat:
        after["nat"]["name"] = state.nat["name"]

    # Mappings first: a replaced NAT takes its mappings along, a kept one may have stale ones.
    existing = [] if recreate_nat else list(state.mappings)
    kept: list[dict[str, t.Any]] = []
    stale: list[dict[str, t.Any]] = []
    to_add: list[dict[str, t.Any]] = []
    for wanted in wanted_mappings:
        same_key = [m for m in existing if _mapping_key(m) == _mapping_key(wanted)]
        if len(same_key) == 1 and _mapping_target(same_key[0]) == _mapping_target(wanted):
            kept.append(same_key[0])
        else:
            stale.extend(same_key)
            to_add.append(wanted)
    unlisted = [m for m in existing if m not in kept and m not in stale]
    if spec.purge_port_mappings:
        stale.extend(unlisted)
        unlisted = []
    rules = _firewall_rules(network_section) if spec.firewall_rules else {}
    wanted_rules = {_firewall_rule_name(m).casefold() for m in wanted_mappings}
    dropped = stale + (list(state.mappings) if recreate_nat else [])
    for mapping in dropped:
        # Closed before its mapping goes; a mapping retargeted under the same key keeps its rule.
        name = _firewall_rule_name(mapping)
        if name.casefold() in rules and name.casefold() not in wanted_rules:
            operations.append(_remove_firewall_rule(name))
            del rules[name.casefold()]
    for mapping in stale:
        operations.append(
            _cmdlet(
                "Remove-NetNatStaticMapping",
                {"NatName": mapping["nat_name"], "StaticMappingID": int(mapping["static_mapping_id"]), "Confirm": False},
            )
        )
    after["port_mappings"] = sorted(_mapping_text(m) for m in kept + unlisted + to_add)
    if spec.firewall_rules:
        kept_rules = [_firewall_rule_name(m) for m in unlisted if _firewall_rule_name(m).casefold() in rules]
        after["firewall_rules"] = sorted({*kept_rules, *(_firewall_rule_name(m) for m in wanted_mappings)})

    if recreate_nat and state.nat is not None:
        operations.append(_cmdlet("Remove-NetNat", {"Name": state.nat["name"], "Confirm": False}))
    if recreate_switch and state.switch is not None:
        operations.append(_cmdlet("Remove-VMSwitch", {"Name": state.switch["name"], "Force": True}))
    switch_new = state.switch is None or recreate_switch
    if switch_new:
        operations.append(_cmdlet("New-VMSwitch", {"Name": spec.switch_name, "SwitchType": "Internal"}))
    if state.nat is None or recreate_nat:
        operations.append(_cmdlet("New-NetNat", {"Name": spec.nat_name, "InternalIPInterfaceAddressPrefix": str(spec.network)}))

    gateway_ok = False
    if not switch_new and state.adapter_index is not None:
        if recreate_nat and state.nat is not None:
            # The replaced NAT's gateway address on our adapter goes with it.
            old_prefix = state.nat.get("internal_ip_interface_address_prefix")
            for entry in _addresses_in(network_section, int(state.adapter_index), old_prefix):
                if entry not in state.addresses:
                    operations.append(_remove_address(int(state.adapter_index), entry["ip_address"]))
        for entry in state.addresses:
            if _ipv4(entry) == spec.gateway and int(entry.get("prefix_length") or 0) == prefix_length and not gateway_ok:
                gateway_ok = True
            else:
                operations.append(_remove_address(int(state.adapter_index), entry["ip_address"]))
    if not gateway_ok:
        gateway_address = {"IPAddress": str(spec.gateway), "PrefixLength": prefix_length, "AddressFamily": "IPv4"}
        if state.adapter_index is not None and not switch_new:
            operations.append(_cmdlet("New-NetIPAddress", {"InterfaceIndex": int(state.adapter_index), **gateway_address}))
        else:
            # A new switch's adapter: the executor waits for it and finds it through the switch (wire protocol §3).
            operations.append(_cmdlet("New-NetIPAddress", gateway_address, switch_adapter=spec.switch_name))

    for wanted in to_add:
        operations.append(
            _cmdlet(
                "Add-NetNatStaticMapping",
                {
                    "NatName": spec.nat_name,
                    "Protocol": wanted["protocol"],
                    "ExternalIPAddress": wanted["external_ip_address"],
                    "ExternalPort": wanted["external_port"],
                    "InternalIPAddress": wanted["internal_ip_address"],
                    "InternalPort": wanted["internal_port"],
                },
            )
        )
    if spec.firewall_rules:
        # Opened once its mapping exists; a rule that does not admit the mapping is replaced.
        for wanted in wanted_mappings:
            rule = rules.get(_firewall_rule_name(wanted).casefold())
            if rule is not None and _rule_admits(rule, wanted):
                continue
            if rule is not None:
                operations.append(_remove_firewall_rule(str(rule["name"])))
            operations.append(_new_firewall_rule(spec, wanted))

    guest_results: list[dict[str, t.Any]] = []
    before_guests: dict[str, t.Any] = {}
    after_guests: dict[str, t.Any] = {}
    planned_guests = [(guest, address, *_plan_guest(spec, guest, address, switch_new)) for guest, address in zip(guests, addresses, strict=True)]
    guest_changed = {guest.spec.vm: bool(guest_ops or host_ops) for guest, _address, guest_ops, host_ops in planned_guests}
    # An address one guest gives up and another one takes is released in a first pass, so that
    # no address is ever on two guests at once (Windows would mark the newcomer as a duplicate).
    for guest, address, guest_ops, _host_ops in planned_guests:
        taken_by_others = {str(other) for other in addresses if other != address}
        release = [op for op in guest_ops if op["cmdlet"] == "Remove-NetIPAddress" and op["parameters"]["IPAddress"] in taken_by_others]
        if release:
            guest_ops[:] = [op for op in guest_ops if op not in release]
            operations.append(_guest_op(guest.spec, release))
    for guest, address, guest_ops, host_ops in planned_guests:
        operations.extend(host_ops)
        if guest_ops:
            operations.append(_guest_op(guest.spec, guest_ops))
        before_guests[guest.spec.vm] = guest.describe()
        after_guests[guest.spec.vm] = {
            "adapter": guest.vm_adapter.get("name"),
            "switch": spec.switch_name,
            "addresses": sorted({f"{address}/{prefix_length}"} | {f"{a['ip_address']}/{a.get('prefix_length')}" for a in guest.kept_outside_prefix}),
            "default_gateway": str(spec.gateway),
            "dns_servers": [str(server) for server in guest.spec.dns or ()],
            "dhcp": False,
        }
        guest_results.append(
            {
                "vm": guest.spec.vm,
                "ip": str(address),
                "prefix_length": prefix_length,
                "gateway": str(spec.gateway),
                "dns": [str(server) for server in guest.spec.dns or ()],
                "adapter": guest.vm_adapter.get("name"),
                "interface_alias": guest.os_adapter.get("interface_alias"),
                "changed": guest_changed[guest.spec.vm],
            }
        )
    if guests:
        before["guests"] = before_guests
        after["guests"] = after_guests

    mapping_results = [
        {
            "protocol": w["protocol"],
            "external_ip": w["external_ip_address"],
            "external_port": w["external_port"],
            "internal_ip": w["internal_ip_address"],
            "internal_port": w["internal_port"],
            "firewall_rule": _firewall_rule_name(w) if spec.firewall_rules else None,
        }
        for w in wanted_mappings
    ]
    return Plan(operations, before, after, warnings, guest_results, mapping_results)


def _guest_op(guest: GuestSpec, operations: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    return {"kind": "guest", "vm": guest.vm, "username": guest.username, "password": guest.password, "operations": operations}


def _mapping_key(mapping: dict[str, t.Any]) -> tuple[str, str, int]:
    return (str(mapping["protocol"]).upper(), str(mapping["external_ip_address"]), int(mapping["external_port"]))


def _mapping_target(mapping: dict[str, t.Any]) -> tuple[str, int]:
    return (str(mapping["internal_ip_address"]), int(mapping["internal_port"]))


def _wanted_mappings(spec: NatSpec, by_vm: dict[str, IPv4Address]) -> list[dict[str, t.Any]]:
    wanted = []
    for mapping in spec.port_mappings:
        internal = mapping.internal_ip if mapping.internal_ip is not None else by_vm[str(mapping.vm).casefold()]
        wanted.append(
            {
                "protocol": mapping.protocol,
                "external_ip_address": str(mapping.external_ip),
                "external_port": mapping.external_port,
                "internal_ip_address": str(internal),
                "internal_port": mapping.internal_port,
            }
        )
    return wanted


def _check_mapping_conflicts(spec: NatSpec, wanted: list[dict[str, t.Any]], network_section: dict[str, t.Any]) -> None:
    """A port another NAT already forwards cannot be forwarded here too."""
    any_ip = "0.0.0.0"
    for index, mapping in enumerate(wanted):
        for other in network_section.get("static_mappings") or []:
            if _same(other.get("nat_name"), spec.nat_name):
                continue
            if str(other.get("protocol")).upper() != mapping["protocol"] or int(other.get("external_port") or 0) != mapping["external_port"]:
                continue
            ips = {str(other.get("external_ip_address")), mapping["external_ip_address"]}
            if any_ip in ips or len(ips) == 1:
                raise PlanError(
                    f"port_mappings[{index}].external_port: {mapping['protocol']} port {mapping['external_port']} is already "
                    f"forwarded by NAT {other.get('nat_name')} to {other.get('internal_ip_address')}:{other.get('internal_port')}"
                )


# --------------------------------------------------------------------------- guests


@dataclass
class _Guest:
    spec: GuestSpec
    vm_adapter: dict[str, t.Any]
    os_adapter: dict[str, t.Any]
    network: IPv4Network

    @property
    def ipv4(self) -> list[dict[str, t.Any]]:
        return list(self.os_adapter.get("ipv4") or [])

    @property
    def current_in_prefix(self) -> tuple[IPv4Address, ...]:
        found = []
        for entry in self.ipv4:
            address = _ipv4(entry)
            if address is not None and address in self.network and not _same(entry.get("prefix_origin"), "Dhcp"):
                found.append(address)
        return tuple(found)

    @property
    def kept_outside_prefix(self) -> list[dict[str, t.Any]]:
        """Addresses outside the prefix are never touched (DHCP ones go with DHCP)."""
        dhcp = bool(self.os_adapter.get("dhcp"))
        kept = []
        for entry in self.ipv4:
            address = _ipv4(entry)
            if address is None or address in self.network:
                continue
            if dhcp and _same(entry.get("prefix_origin"), "Dhcp"):
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


def _resolve_guests(spec: NatSpec, probe: dict[str, t.Any]) -> list[_Guest]:
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
            raise PlanError(f"{where}.vm: more than one VM is named {guest.vm} on this host")
        vm = vms.get(key)
        if vm is None:
            known = ", ".join(vms_section.get("all_names") or []) or "none"
            raise PlanError(f"{where}.vm: no VM named {guest.vm} on this host (VMs: {known})")
        if vm.get("state") != "Running":
            raise PlanError(
                f"{where}.vm: {guest.vm} is {vm.get('state')}; start it first (its network is configured through PowerShell Direct, which needs the VM running)"
            )
        vm_adapter = _choose_adapter(spec, guest, vm)
        report = reports.get(key)
        if report is None or not report.get("reachable"):
            reason = (report or {}).get("error") or "the probe returned nothing for it"
            raise PlanError(f"{where}: cannot reach {guest.vm} through PowerShell Direct: {reason}")
        os_adapters = [a for a in report.get("adapters") or [] if _mac(a.get("mac_address")) == _mac(vm_adapter.get("mac_address"))]
        if len(os_adapters) != 1:
            raise PlanError(
                f"{where}: found no network adapter inside {guest.vm} with the MAC address {vm_adapter.get('mac_address')} "
                f"of its VM adapter {vm_adapter.get('name')}"
            )
        resolved.append(_Guest(guest, vm_adapter, os_adapters[0], spec.network))
    return resolved


def _choose_adapter(spec: NatSpec, guest: GuestSpec, vm: dict[str, t.Any]) -> dict[str, t.Any]:
    where = f"guests[{guest.index}]"
    adapters = list(vm.get("adapters") or [])
    if guest.adapter is not None:
        named = [a for a in adapters if a.get("name") == guest.adapter]
        if len(named) != 1:
            names = ", ".join(str(a.get("name")) for a in adapters) or "none"
            raise PlanError(f"{where}.adapter: {guest.vm} has {'no' if not named else 'more than one'} adapter named {guest.adapter} (adapters: {names})")
        chosen: dict[str, t.Any] = named[0]
    else:
        ours = [a for a in adapters if _same(a.get("switch_name"), spec.switch_name)]
        if len(ours) == 1:
            chosen = ours[0]
        elif len(adapters) == 1:
            chosen = adapters[0]
        elif not adapters:
            raise PlanError(f"{where}.vm: {guest.vm} has no network adapter")
        else:
            names = ", ".join(str(a.get("name")) for a in adapters)
            raise PlanError(f"{where}.adapter: {guest.vm} has several network adapters ({names}); name the one for switch {spec.switch_name}")
    connected = chosen.get("switch_name")
    if connected and not _same(connected, spec.switch_name):
        raise PlanError(
            f"{where}.adapter: adapter {chosen.get('name')} of {guest.vm} is connected to switch {connected}; "
            f"moving it to {spec.switch_name} would cut it off that network: disconnect it first or name another adapter"
        )
    return chosen


def _plan_guest(spec: NatSpec, guest: _Guest, address: IPv4Address, switch_new: bool) -> tuple[list[dict[str, t.Any]], list[dict[str, t.Any]]]:
    """Host ops (connect the VM adapter) and guest ops (address, gateway, DNS on its own adapter)."""
    host_ops = []
    if switch_new or not _same(guest.vm_adapter.get("switch_name"), spec.switch_name):
        host_ops.append(_cmdlet("Connect-VMNetworkAdapter", {"SwitchName": spec.switch_name}, vm=guest.spec.vm, adapter_id=guest.vm_adapter.get("id")))

    index = int(guest.os_adapter.get("interface_index") or 0)
    prefix_length = spec.network.prefixlen
    ops: list[dict[str, t.Any]] = []
    dhcp = bool(guest.os_adapter.get("dhcp"))

    # Everything is removed while it certainly exists (as probed), before DHCP is turned off.
    present = False
    for entry in guest.ipv4:
        current = _ipv4(entry)
        if current is None:
            continue
        if dhcp and _same(entry.get("prefix_origin"), "Dhcp"):
            ops.append(_remove_address(index, str(current)))  # a lease of the DHCP client being turned off
            continue
        if current not in spec.network:
            continue
        if current == address and int(entry.get("prefix_length") or 0) == prefix_length and not present:
            present = True
            continue
        ops.append(_remove_address(index, str(current)))

    gateway = guest.os_adapter.get("default_gateway")
    gateway_right = str(gateway or "") == str(spec.gateway) and not dhcp
    readd = not present or not gateway_right
    if readd and gateway:
        # New-NetIPAddress -DefaultGateway fails while the interface has a default route.
        ops.append(_cmdlet("Remove-NetRoute", {"InterfaceIndex": index, "DestinationPrefix": "0.0.0.0/0", "Confirm": False}))
    if present and readd:
        # New-NetIPAddress is the only allowed way to set a default gateway: re-add the address with it.
        ops.append(_remove_address(index, str(address)))
        present = False
    if dhcp:
        ops.append(_cmdlet("Set-NetIPInterface", {"InterfaceIndex": index, "AddressFamily": "IPv4", "Dhcp": "Disabled"}))
    if not present:
        ops.append(
            _cmdlet(
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
        ops.append(_cmdlet("Set-DnsClientServerAddress", {"InterfaceIndex": index, "ServerAddresses": wanted_dns}))
    return ops, host_ops
