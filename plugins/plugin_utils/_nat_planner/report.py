# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""What win_nested_nat returns and shows in diff mode: the host as it is, and its own return values.
"""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import IPv4Address
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.guests import Guest
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.host import HostState, firewall_rule_name, firewall_rules, mapping_text
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.spec import NatSpec
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    NetworkSection,
    StaticMapping,
)


def describe_host(spec: NatSpec, state: HostState, network_section: NetworkSection) -> dict[str, t.Any]:
    described = {
        "switch": {"name": state.switch["name"], "switch_type": state.switch.get("switch_type")} if state.switch else None,
        "nat": {"name": state.nat["name"], "prefix": state.nat.get("internal_ip_interface_address_prefix")} if state.nat else None,
        "host_addresses": sorted(f"{a['ip_address']}/{a.get('prefix_length')}" for a in state.addresses),
        "port_mappings": sorted(mapping_text(m) for m in state.mappings),
    }
    if spec.firewall_rules:
        # The rules admitting this NAT's mappings (each named after its mapping).
        rules = firewall_rules(network_section)
        names = {firewall_rule_name(m).casefold(): firewall_rule_name(m) for m in state.mappings}
        described["firewall_rules"] = sorted(names[key] for key in rules if key in names)
    return described


def module_values(spec: NatSpec, guests: list[dict[str, t.Any]], port_mappings: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The module's own return values: the NAT network, the guests' addresses, the port mappings."""
    nat = {
        "switch_name": spec.switch_name,
        "nat_name": spec.nat_name,
        "prefix": str(spec.network),
        "gateway": str(spec.gateway),
        "interface_alias": spec.interface_alias,
        "state": spec.state,
    }
    return {"nat": nat, "guests": guests, "port_mappings": port_mappings}


def guest_after(spec: NatSpec, guest: Guest, address: IPv4Address) -> dict[str, t.Any]:
    """The guest's adapter as diff mode shows it once planned."""
    prefix_length = spec.network.prefixlen
    return {
        "adapter": guest.vm_adapter.get("name"),
        "switch": spec.switch_name,
        "addresses": sorted({f"{address}/{prefix_length}"} | {f"{a['ip_address']}/{a.get('prefix_length')}" for a in guest.kept_outside_prefix}),
        "default_gateway": str(spec.gateway),
        "dns_servers": [str(server) for server in guest.spec.dns or ()],
        "dhcp": False,
    }


def guest_result(spec: NatSpec, guest: Guest, address: IPv4Address, *, changed: bool) -> dict[str, t.Any]:
    """One entry of the module's `guests`."""
    return {
        "vm": guest.spec.vm,
        "ip": str(address),
        "prefix_length": spec.network.prefixlen,
        "gateway": str(spec.gateway),
        "dns": [str(server) for server in guest.spec.dns or ()],
        "adapter": guest.vm_adapter.get("name"),
        "interface_alias": guest.os_adapter.get("interface_alias"),
        "changed": changed,
    }


def mapping_results(spec: NatSpec, wanted_mappings: list[StaticMapping]) -> list[dict[str, t.Any]]:
    """The module's `port_mappings`."""
    return [
        {
            "protocol": w["protocol"],
            "external_ip": w["external_ip_address"],
            "external_port": w["external_port"],
            "internal_ip": w["internal_ip_address"],
            "internal_port": w["internal_port"],
            "firewall_rule": firewall_rule_name(w) if spec.firewall_rules else None,
        }
        for w in wanted_mappings
    ]
