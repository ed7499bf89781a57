# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The NAT host (L1) as probed: its switch, NAT, gateway addresses, port mappings and their firewall
rules, the conflicts that stop a task, and the operations that change them.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    AddressError,
    IPv4Address,
    IPv4Network,
    overlaps,
    parse_address,
    parse_prefix,
    prefix_overlaps,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.spec import NatSpec
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    FirewallRule,
    GuestIpv4,
    IpAddress,
    NatInfo,
    NetworkSection,
    Operation,
    StaticMapping,
    SwitchInfo,
    same_name,
)

# The inbound rules opened for port mappings: this group, one rule per mapping, named after the
# mapping's protocol, external address and port (unique on a host: Windows maps each only once).
FIREWALL_GROUP = "hyperv.nested NAT port mappings"


_ANY_ADDRESS = "0.0.0.0"


def same_prefix(value: t.Any, network: IPv4Network) -> bool:
    try:
        return parse_prefix(str(value)) == network
    except AddressError:
        return False


def cmdlet(
    cmdlet: str, parameters: dict[str, t.Any], *, vm: str | None = None, adapter_id: str | None = None, switch_adapter: str | None = None
) -> Operation:
    operation: Operation = {"kind": "cmdlet", "cmdlet": cmdlet}
    if vm is not None:
        operation["vm"] = vm
    if adapter_id is not None:
        operation["adapter_id"] = adapter_id
    if switch_adapter is not None:
        operation["switch_adapter"] = switch_adapter
    operation["parameters"] = parameters
    return operation


def mapping_text(mapping: StaticMapping) -> str:
    return (
        f"{str(mapping['protocol']).upper()} {mapping['external_ip_address']}:{mapping['external_port']}"
        f" -> {mapping['internal_ip_address']}:{mapping['internal_port']}"
    )


def ipv4_of(entry: IpAddress | GuestIpv4) -> IPv4Address | None:
    try:
        return parse_address(entry.get("ip_address"), "ip_address")
    except AddressError:
        return None


@dataclass
class HostState:
    switch: SwitchInfo | None
    nat: NatInfo | None
    adapter_index: int | None
    addresses: list[IpAddress]  # IPv4 addresses of vEthernet (switch) inside the prefix
    mappings: list[StaticMapping]  # static mappings of our NAT


def host_state(spec: NatSpec, network_section: NetworkSection) -> HostState:
    switches = [s for s in network_section.get("switches") or [] if same_name(s.get("name"), spec.switch_name)]
    if len(switches) > 1:
        # Hyper-V allows that, and Remove-VMSwitch -Name would take all of them.
        kinds = ", ".join(str(s.get("switch_type")) for s in switches)
        raise PlanningError(f"switch_name: {len(switches)} switches are named {spec.switch_name} ({kinds}); rename or remove the extra ones first")
    nats = [n for n in network_section.get("nats") or [] if same_name(n.get("name"), spec.nat_name)]
    # The switch's own host adapter, as the probe found it through the switch; the alias
    # "vEthernet (<switch>)" only for probes that do not say (Windows may suffix it with " 2").
    adapter_index = switches[0].get("host_interface_index") if switches else None
    by_switch = adapter_index is not None
    if not by_switch:
        for adapter in network_section.get("adapters") or []:
            if same_name(adapter.get("name"), spec.interface_alias):
                adapter_index = adapter.get("interface_index")
    addresses = []
    for entry in network_section.get("ip_addresses") or []:
        address = ipv4_of(entry)
        on_ours = (adapter_index is not None and entry.get("interface_index") == adapter_index) or (
            not by_switch and same_name(entry.get("interface_alias"), spec.interface_alias)
        )
        if on_ours and address is not None and address in spec.network:
            addresses.append(entry)
            if adapter_index is None:
                adapter_index = entry.get("interface_index")
    mappings = [m for m in network_section.get("static_mappings") or [] if same_name(m.get("nat_name"), spec.nat_name)]
    return HostState(switches[0] if switches else None, nats[0] if nats else None, adapter_index, addresses, mappings)


def addresses_in(network_section: NetworkSection, interface_index: int, prefix: t.Any) -> list[IpAddress]:
    try:
        network = parse_prefix(str(prefix))
    except AddressError:
        return []
    found = []
    for entry in network_section.get("ip_addresses") or []:
        address = ipv4_of(entry)
        if entry.get("interface_index") == interface_index and address is not None and address in network:
            found.append(entry)
    return found


def firewall_rule_name(mapping: StaticMapping) -> str:
    protocol, address, port = mapping_key(mapping)
    return f"hyperv.nested-nat-{protocol}-{address}-{port}"


def rule_admits(rule: FirewallRule, mapping: StaticMapping) -> bool:
    """Whether a probed rule (wire protocol `firewall_rules`) admits the mapping's inbound traffic."""
    protocol, address, port = mapping_key(mapping)
    addresses = [str(value).casefold() for value in rule.get("local_address") or []]
    wanted_addresses = ([], ["any"]) if address == _ANY_ADDRESS else ([address],)
    return (
        rule.get("enabled") is True
        and same_name(rule.get("direction"), "Inbound")
        and same_name(rule.get("action"), "Allow")
        and same_name(rule.get("protocol"), protocol)
        and [str(value) for value in rule.get("local_port") or []] == [str(port)]
        and addresses in wanted_addresses
    )


def new_firewall_rule(spec: NatSpec, mapping: StaticMapping) -> Operation:
    protocol, address, port = mapping_key(mapping)
    parameters: dict[str, t.Any] = {
        "Name": firewall_rule_name(mapping),
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
    return cmdlet("New-NetFirewallRule", parameters)


def remove_firewall_rule(name: str) -> Operation:
    return cmdlet("Remove-NetFirewallRule", {"Name": name})


def firewall_rules(network_section: NetworkSection) -> dict[str, FirewallRule]:
    """The probed rules of our group, by name (case-insensitively, as Windows compares them)."""
    return {str(rule.get("name")).casefold(): rule for rule in network_section.get("firewall_rules") or [] if rule.get("name")}


def other_nats(spec: NatSpec, network_section: NetworkSection) -> list[NatInfo]:
    return [nat for nat in network_section.get("nats") or [] if not same_name(nat.get("name"), spec.nat_name)]


def nat_list(nats: list[NatInfo]) -> str:
    return ", ".join(f"{nat.get('name')} ({nat.get('internal_ip_interface_address_prefix')})" for nat in nats)


def remove_address(interface_index: int, ip_address: str) -> Operation:
    return cmdlet("Remove-NetIPAddress", {"InterfaceIndex": interface_index, "IPAddress": ip_address, "Confirm": False})


def check_host_conflicts(spec: NatSpec, state: HostState, network_section: NetworkSection) -> tuple[bool, bool]:
    """Fail on what must not be touched; return (recreate switch, recreate NAT)."""
    recreate_switch = False
    if state.switch is not None and not same_name(state.switch.get("switch_type"), "Internal"):
        kind = state.switch.get("switch_type")
        if same_name(kind, "External"):
            raise PlanningError(
                f"switch_name: a switch named {state.switch['name']} exists and is External; it carries a physical network "
                "(maybe this host's own connection), so it is never replaced: choose another switch_name"
            )
        if not spec.replace:
            raise PlanningError(
                f"switch_name: a switch named {state.switch['name']} exists and is {kind}, not Internal; "
                "set replace: true to replace it or choose another switch_name"
            )
        recreate_switch = True

    recreate_nat = False
    if state.nat is not None:
        current = state.nat.get("internal_ip_interface_address_prefix")
        if not same_prefix(current, spec.network):
            if not spec.replace:
                raise PlanningError(
                    f"prefix: NAT {state.nat['name']} exists with prefix {current}, not {spec.network}; "
                    "set replace: true to replace it or choose another nat_name"
                )
            recreate_nat = True

    others = other_nats(spec, network_section)
    if state.nat is None and others and not spec.allow_multiple_nats:
        first = others[0]
        raise PlanningError(
            f"nat_name: this host already has the NAT network {nat_list(others)}, which this task does not manage, so "
            f"{spec.nat_name} is not added: Windows supports one NAT network per host (Microsoft, 'Set up a NAT network': "
            "'Multiple NAT networks are not supported'). Manage that one instead "
            f"(nat_name: {first.get('name')}, prefix: {first.get('internal_ip_interface_address_prefix')}), remove it, "
            "or set allow_multiple_nats: true"
        )

    for nat in network_section.get("nats") or []:
        if same_name(nat.get("name"), spec.nat_name):
            continue
        other = prefix_overlaps(spec.network, nat.get("internal_ip_interface_address_prefix") or "")
        if other is not None:
            raise PlanningError(f"prefix: {spec.network} overlaps {other} of NAT {nat.get('name')}, which this task does not manage")

    for entry in network_section.get("ip_addresses") or []:
        if not same_name(entry.get("address_family") or "IPv4", "IPv4"):
            continue
        if state.adapter_index is not None and entry.get("interface_index") == state.adapter_index and not recreate_switch:
            continue
        if same_name(entry.get("interface_alias"), spec.interface_alias) and not recreate_switch:
            continue
        other = overlaps(spec.network, str(entry.get("ip_address")), int(entry.get("prefix_length") or 32))
        if other is not None:
            raise PlanningError(
                f"prefix: {spec.network} overlaps the network {other} of {entry.get('ip_address')} "
                f"on {entry.get('interface_alias')}, which is already on this host"
            )
    return recreate_switch, recreate_nat


def mapping_key(mapping: StaticMapping) -> tuple[str, str, int]:
    return (str(mapping["protocol"]).upper(), str(mapping["external_ip_address"]), int(mapping["external_port"]))


def mapping_target(mapping: StaticMapping) -> tuple[str, int]:
    return (str(mapping["internal_ip_address"]), int(mapping["internal_port"]))


def mappings_to_forward(spec: NatSpec, by_vm: dict[str, IPv4Address]) -> list[StaticMapping]:
    wanted: list[StaticMapping] = []
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


def check_mapping_conflicts(spec: NatSpec, wanted: list[StaticMapping], network_section: NetworkSection) -> None:
    """A port another NAT already forwards cannot be forwarded here too."""
    any_ip = "0.0.0.0"
    for index, mapping in enumerate(wanted):
        for other in network_section.get("static_mappings") or []:
            if same_name(other.get("nat_name"), spec.nat_name):
                continue
            if str(other.get("protocol")).upper() != mapping["protocol"] or int(other.get("external_port") or 0) != mapping["external_port"]:
                continue
            ips = {str(other.get("external_ip_address")), mapping["external_ip_address"]}
            if any_ip in ips or len(ips) == 1:
                raise PlanningError(
                    f"port_mappings[{index}].external_port: {mapping['protocol']} port {mapping['external_port']} is already "
                    f"forwarded by NAT {other.get('nat_name')} to {other.get('internal_ip_address')}:{other.get('internal_port')}"
                )
