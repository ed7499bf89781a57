# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan NAT networking on a nested Hyper-V host (L1) and its guests (L2): `plan` compares the spec
with one probe answer (sections network, vms, guests, platform) and returns the `Planned`
operations, the before/after state for diff mode, and the warnings.
"""

from __future__ import annotations

import dataclasses
import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    IPv4Address,
    Request,
    allocate,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.guests import Guest, guest_op, plan_guest, resolve_guests
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.host import (
    HostState,
    addresses_in,
    check_host_conflicts,
    check_mapping_conflicts,
    cmdlet,
    firewall_rule_name,
    firewall_rules,
    host_state,
    ipv4_of,
    mapping_key,
    mapping_target,
    mapping_text,
    mappings_to_forward,
    nat_list,
    new_firewall_rule,
    other_nats,
    remove_address,
    remove_firewall_rule,
    rule_admits,
    same_prefix,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.report import describe_host, guest_after, guest_result, mapping_results, module_values
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.spec import NatSpec, with_default_dns
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    FirewallRule,
    NatInfo,
    NetworkSection,
    Operation,
    ProbeAnswer,
    StaticMapping,
    same_name,
)


def plan(spec: NatSpec, probe: ProbeAnswer) -> Planned:
    network_section = probe.get("network") or {}
    if network_section.get("hyperv_module") is False:
        raise PlanningError("Hyper-V is not installed on this host (no Hyper-V PowerShell module): install it and reboot before configuring NAT")
    if network_section.get("service_unavailable"):
        raise PlanningError(
            "The Hyper-V PowerShell module is installed but the Virtual Machine Management service does not answer "
            f"(Hyper-V waits for a restart, or only its management tools are installed): {network_section['service_unavailable']}"
        )
    state = host_state(spec, network_section)
    if spec.state == "absent":
        return _plan_absent(spec, state, network_section)
    spec, notes = with_default_dns(spec, probe.get("platform"))
    result = _plan_present(spec, state, network_section, probe)
    return dataclasses.replace(result, notes=notes + result.notes)


def _plan_absent(spec: NatSpec, state: HostState, network_section: NetworkSection) -> Planned:
    operations: list[Operation] = []
    warnings: list[str] = []
    before = describe_host(spec, state, network_section)
    after: dict[str, t.Any] = {"switch": None, "nat": None, "host_addresses": [], "port_mappings": []}
    if spec.firewall_rules:
        after["firewall_rules"] = []

    nat_ours = state.nat is not None
    if state.nat is not None:
        if not same_prefix(state.nat.get("internal_ip_interface_address_prefix"), spec.network) and not spec.replace:
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
        rules = firewall_rules(network_section) if spec.firewall_rules else {}
        for mapping in state.mappings:
            if firewall_rule_name(mapping).casefold() in rules:
                operations.append(remove_firewall_rule(firewall_rule_name(mapping)))
            operations.append(
                cmdlet(
                    "Remove-NetNatStaticMapping",
                    {"NatName": mapping["nat_name"], "StaticMappingID": int(mapping["static_mapping_id"]), "Confirm": False},
                )
            )
    if state.adapter_index is not None:
        for address in state.addresses:
            operations.append(remove_address(int(state.adapter_index), address["ip_address"]))
    if nat_ours and state.nat is not None:
        operations.append(cmdlet("Remove-NetNat", {"Name": state.nat["name"], "Confirm": False}))
    if state.switch is not None:
        if same_name(state.switch.get("switch_type"), "Internal"):
            operations.append(cmdlet("Remove-VMSwitch", {"Name": state.switch["name"], "Force": True}))
        else:
            warnings.append(f"Switch {state.switch['name']} is {state.switch.get('switch_type')}, not an internal switch this module creates: left in place")
            after["switch"] = before["switch"]
    return Planned(operations, before, after, warnings, values=module_values(spec, [], []))


def _plan_present(spec: NatSpec, state: HostState, network_section: NetworkSection, probe: ProbeAnswer) -> Planned:
    """The phases, in the order their operations run: stale port mappings, the switch and NAT,
    the gateway address, the new mappings and their firewall rules, then the guests."""
    recreate_switch, recreate_nat = check_host_conflicts(spec, state, network_section)
    guests = resolve_guests(spec, probe)
    addresses = allocate(
        spec.network,
        spec.gateway,
        [Request(guest.spec.ip, guest.current_in_prefix) for guest in guests],
        reserved=[a for a in (ipv4_of(entry) for entry in state.addresses) if a is not None],
    )
    by_vm = {guest.spec.vm.casefold(): address for guest, address in zip(guests, addresses, strict=True)}
    wanted_mappings = mappings_to_forward(spec, by_vm)
    check_mapping_conflicts(spec, wanted_mappings, network_section)

    before = describe_host(spec, state, network_section)
    after = _host_after(spec, state, recreate_switch, recreate_nat)
    mappings = _plan_mappings(spec, state, network_section, wanted_mappings, recreate_nat)
    after.update(mappings.after)
    switch_new = state.switch is None or recreate_switch
    guest_plan = _plan_guests(spec, guests, addresses, switch_new)
    operations = [
        *mappings.removals,
        *_plan_switch_and_nat(spec, state, recreate_switch, recreate_nat),
        *_plan_gateway(spec, state, network_section, switch_new, recreate_nat),
        *mappings.additions,
        *guest_plan.operations,
    ]
    if guests:
        before["guests"] = guest_plan.before
        after["guests"] = guest_plan.after
    values = module_values(spec, guest_plan.results, mapping_results(spec, wanted_mappings))
    return Planned(operations, before, after, _multiple_nats_warnings(spec, state, network_section), values=values)


def _multiple_nats_warnings(spec: NatSpec, state: HostState, network_section: NetworkSection) -> list[str]:
    others = other_nats(spec, network_section)
    if not others:
        return []
    mine: NatInfo = state.nat or {"name": spec.nat_name, "internal_ip_interface_address_prefix": str(spec.network)}
    return [
        f"This host has {len(others) + 1} NAT networks: {nat_list([mine, *others])}. Windows supports one NAT network per host "
        "(Microsoft, 'Set up a NAT network': 'Multiple NAT networks are not supported'); guests may lose their connection."
    ]


def _host_after(spec: NatSpec, state: HostState, recreate_switch: bool, recreate_nat: bool) -> dict[str, t.Any]:
    after: dict[str, t.Any] = {
        "switch": {"name": spec.switch_name, "switch_type": "Internal"},
        "nat": {"name": spec.nat_name, "prefix": str(spec.network)},
        "host_addresses": [f"{spec.gateway}/{spec.network.prefixlen}"],
    }
    if state.switch is not None and not recreate_switch:
        after["switch"]["name"] = state.switch["name"]
    if state.nat is not None and not recreate_nat:
        after["nat"]["name"] = state.nat["name"]
    return after


@dataclass(frozen=True)
class _MappingPlan:
    removals: list[Operation]  # rules closed and mappings removed: before the NAT changes
    additions: list[Operation]  # mappings added and rules opened: once the NAT exists
    after: dict[str, t.Any]  # port_mappings (and firewall_rules) for diff mode


def _plan_mappings(
    spec: NatSpec, state: HostState, network_section: NetworkSection, wanted_mappings: list[StaticMapping], recreate_nat: bool
) -> _MappingPlan:
    kept, stale, to_add, unlisted = _sort_mappings(spec, state, wanted_mappings, recreate_nat)
    rules = firewall_rules(network_section) if spec.firewall_rules else {}
    wanted_rules = {firewall_rule_name(m).casefold() for m in wanted_mappings}
    removals: list[Operation] = []
    for mapping in stale + (list(state.mappings) if recreate_nat else []):
        # Closed before its mapping goes; a mapping retargeted under the same key keeps its rule.
        name = firewall_rule_name(mapping)
        if name.casefold() in rules and name.casefold() not in wanted_rules:
            removals.append(remove_firewall_rule(name))
            del rules[name.casefold()]
    for mapping in stale:
        removals.append(
            cmdlet(
                "Remove-NetNatStaticMapping",
                {"NatName": mapping["nat_name"], "StaticMappingID": int(mapping["static_mapping_id"]), "Confirm": False},
            )
        )
    after: dict[str, t.Any] = {"port_mappings": sorted(mapping_text(m) for m in kept + unlisted + to_add)}
    if spec.firewall_rules:
        kept_rules = [firewall_rule_name(m) for m in unlisted if firewall_rule_name(m).casefold() in rules]
        after["firewall_rules"] = sorted({*kept_rules, *(firewall_rule_name(m) for m in wanted_mappings)})
    return _MappingPlan(removals, _mapping_additions(spec, to_add, wanted_mappings, rules), after)


def _sort_mappings(
    spec: NatSpec, state: HostState, wanted_mappings: list[StaticMapping], recreate_nat: bool
) -> tuple[list[StaticMapping], list[StaticMapping], list[StaticMapping], list[StaticMapping]]:
    """The NAT's mappings as (kept, stale, to add, unlisted-and-left-alone)."""
    # Mappings first: a replaced NAT takes its mappings along, a kept one may have stale ones.
    existing = [] if recreate_nat else list(state.mappings)
    kept: list[StaticMapping] = []
    stale: list[StaticMapping] = []
    to_add: list[StaticMapping] = []
    for wanted in wanted_mappings:
        same_key = [m for m in existing if mapping_key(m) == mapping_key(wanted)]
        if len(same_key) == 1 and mapping_target(same_key[0]) == mapping_target(wanted):
            kept.append(same_key[0])
        else:
            stale.extend(same_key)
            to_add.append(wanted)
    unlisted = [m for m in existing if m not in kept and m not in stale]
    if spec.purge_port_mappings:
        return kept, stale + unlisted, to_add, []
    return kept, stale, to_add, unlisted


def _mapping_additions(
    spec: NatSpec, to_add: list[StaticMapping], wanted_mappings: list[StaticMapping], rules: dict[str, FirewallRule]
) -> list[Operation]:
    """The mappings to add, then the firewall rules that admit them (`rules`: the ones left in place)."""
    additions = [
        cmdlet(
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
        for wanted in to_add
    ]
    if spec.firewall_rules:
        # Opened once its mapping exists; a rule that does not admit the mapping is replaced.
        for wanted in wanted_mappings:
            rule = rules.get(firewall_rule_name(wanted).casefold())
            if rule is not None and rule_admits(rule, wanted):
                continue
            if rule is not None:
                additions.append(remove_firewall_rule(str(rule["name"])))
            additions.append(new_firewall_rule(spec, wanted))
    return additions


def _plan_switch_and_nat(spec: NatSpec, state: HostState, recreate_switch: bool, recreate_nat: bool) -> list[Operation]:
    operations: list[Operation] = []
    if recreate_nat and state.nat is not None:
        operations.append(cmdlet("Remove-NetNat", {"Name": state.nat["name"], "Confirm": False}))
    if recreate_switch and state.switch is not None:
        operations.append(cmdlet("Remove-VMSwitch", {"Name": state.switch["name"], "Force": True}))
    if state.switch is None or recreate_switch:
        operations.append(cmdlet("New-VMSwitch", {"Name": spec.switch_name, "SwitchType": "Internal"}))
    if state.nat is None or recreate_nat:
        operations.append(cmdlet("New-NetNat", {"Name": spec.nat_name, "InternalIPInterfaceAddressPrefix": str(spec.network)}))
    return operations


def _plan_gateway(spec: NatSpec, state: HostState, network_section: NetworkSection, switch_new: bool, recreate_nat: bool) -> list[Operation]:
    """The gateway address on vEthernet (switch): exactly one, every other address in the prefix removed."""
    operations: list[Operation] = []
    prefix_length = spec.network.prefixlen
    gateway_ok = False
    if not switch_new and state.adapter_index is not None:
        if recreate_nat and state.nat is not None:
            # The replaced NAT's gateway address on our adapter goes with it.
            old_prefix = state.nat.get("internal_ip_interface_address_prefix")
            for entry in addresses_in(network_section, int(state.adapter_index), old_prefix):
                if entry not in state.addresses:
                    operations.append(remove_address(int(state.adapter_index), entry["ip_address"]))
        for entry in state.addresses:
            if ipv4_of(entry) == spec.gateway and int(entry.get("prefix_length") or 0) == prefix_length and not gateway_ok:
                gateway_ok = True
            else:
                operations.append(remove_address(int(state.adapter_index), entry["ip_address"]))
    if not gateway_ok:
        gateway_address = {"IPAddress": str(spec.gateway), "PrefixLength": prefix_length, "AddressFamily": "IPv4"}
        if state.adapter_index is not None and not switch_new:
            operations.append(cmdlet("New-NetIPAddress", {"InterfaceIndex": int(state.adapter_index), **gateway_address}))
        else:
            # A new switch's adapter: the executor waits for it and finds it through the switch (wire protocol §3).
            operations.append(cmdlet("New-NetIPAddress", gateway_address, switch_adapter=spec.switch_name))
    return operations


@dataclass(frozen=True)
class _GuestsPlan:
    operations: list[Operation]
    before: dict[str, t.Any]
    after: dict[str, t.Any]
    results: list[dict[str, t.Any]]  # the module's `guests`


def _plan_guests(spec: NatSpec, guests: list[Guest], addresses: list[IPv4Address], switch_new: bool) -> _GuestsPlan:
    planned_guests = [(guest, address, *plan_guest(spec, guest, address, switch_new)) for guest, address in zip(guests, addresses, strict=True)]
    operations: list[Operation] = []
    # An address one guest gives up and another one takes is released in a first pass, so that
    # no address is ever on two guests at once (Windows would mark the newcomer as a duplicate).
    remaining: dict[str, list[Operation]] = {}
    for guest, address, guest_ops, _host_ops in planned_guests:
        taken_by_others = {str(other) for other in addresses if other != address}
        release = [op for op in guest_ops if op["cmdlet"] == "Remove-NetIPAddress" and op["parameters"]["IPAddress"] in taken_by_others]
        remaining[guest.spec.vm] = [op for op in guest_ops if op not in release]
        if release:
            operations.append(guest_op(guest.spec, release))
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    results: list[dict[str, t.Any]] = []
    for guest, address, guest_ops, host_ops in planned_guests:
        operations.extend(host_ops)
        if remaining[guest.spec.vm]:
            operations.append(guest_op(guest.spec, remaining[guest.spec.vm]))
        before[guest.spec.vm] = guest.describe()
        after[guest.spec.vm] = guest_after(spec, guest, address)
        results.append(guest_result(spec, guest, address, changed=bool(guest_ops or host_ops)))
    return _GuestsPlan(operations, before, after, results)
