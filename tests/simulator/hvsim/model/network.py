"""Host networking (switches, NetNat, static mappings) and OS IP configuration (any OSState)."""
from __future__ import annotations

import ipaddress
import uuid

from .errors import HyperVError
from .lab import MacAllocator, dashed
from .objects import FirewallRule, Host, IPv4Address, Nat, NetAdapter, OSState, StaticMapping, Switch

_MACS = MacAllocator(start=0xA00000)


def _win32(code: int, message: str, category: str = "InvalidArgument") -> HyperVError:
    # CIM cmdlets report Win32 errors as "Windows System Error <code>".
    return HyperVError(message, category, f"Windows System Error {code}")


def find_adapter(os_state: OSState, alias: str | None = None, index: int | None = None) -> NetAdapter:
    for adapter in os_state.adapters:
        if alias is not None and adapter.name.lower() == alias.lower():
            return adapter
        if index is not None and adapter.interface_index == index:
            return adapter
    what = f"'{alias}'" if alias is not None else f"InterfaceIndex {index}"
    raise HyperVError(f"No MSFT_NetAdapter objects found with property 'Name' equal to {what}. Verify the value "
                      "of the property and retry.", "ObjectNotFound", "CmdletizationQuery_NotFound_Name")


def _add_vnic(os_state: OSState, switch: Switch) -> None:
    # Windows never gives two connections one name: a second "vEthernet (X)" becomes "vEthernet (X) 2" (RULES #48).
    name = f"vEthernet ({switch.name})"
    taken = {adapter.name.lower() for adapter in os_state.adapters}
    number = 2
    while name.lower() in taken:
        name = f"vEthernet ({switch.name}) {number}"
        number += 1
    adapter = NetAdapter(name=name, interface_index=os_state.next_interface_index,
                         mac_address=dashed(_MACS.next()), interface_description="Hyper-V Virtual Ethernet Adapter",
                         switch_name=switch.name, dhcp=True)
    os_state.next_interface_index += 1
    os_state.adapters.append(adapter)


def new_switch(host: Host, name: str, switch_type: str | None, net_adapter: str | None,
               allow_management_os: bool | None) -> Switch:
    # Hyper-V allows several switches with one name; each gets its own Id (and its own vEthernet).
    if net_adapter is not None:
        physical = find_adapter(host.os_state, alias=net_adapter)
        if physical.bound_switch is not None or physical.switch_name is not None:
            raise HyperVError(f"Failed while adding virtual Ethernet switch connections. The network adapter "
                              f"'{physical.name}' is already bound to a virtual switch.",
                              "InvalidOperation", "OperationFailed")
        switch = Switch(name=name, id=str(uuid.uuid4()).upper(), switch_type="External", net_adapter=physical.name,
                        net_adapter_interface_description=physical.interface_description,
                        allow_management_os=True if allow_management_os is None else allow_management_os)
        physical.bound_switch = name
        host.switches.append(switch)
        if switch.allow_management_os:
            _add_vnic(host.os_state, switch)
            vnic = host.os_state.adapters[-1]
            # The management OS keeps its configuration: it moves from the NIC to the vNIC.
            vnic.ipv4, physical.ipv4 = physical.ipv4, []
            vnic.default_gateway, physical.default_gateway = physical.default_gateway, None
            vnic.dns_servers, physical.dns_servers = physical.dns_servers, []
            vnic.dhcp = physical.dhcp
        return switch
    switch = Switch(name=name, id=str(uuid.uuid4()).upper(), switch_type=switch_type or "Internal")
    host.switches.append(switch)
    if switch.switch_type == "Internal":
        _add_vnic(host.os_state, switch)
    return switch


def remove_switch(host: Host, switch: Switch) -> None:
    host.switches.remove(switch)
    if not any(s.name == switch.name for s in host.switches):
        host.os_state.adapters = [a for a in host.os_state.adapters if a.switch_name != switch.name]
        for vm in host.vms:
            for vm_adapter in vm.adapters:
                if vm_adapter.switch_name == switch.name:
                    vm_adapter.switch_name = None
    for os_adapter in host.os_state.adapters:
        if os_adapter.bound_switch == switch.name:
            os_adapter.bound_switch = None


def _network(prefix: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(prefix, strict=False)
    except ValueError:
        raise _win32(87, "The parameter is incorrect.") from None


def new_nat(host: Host, name: str, prefix: str | None) -> Nat:
    if prefix is None:
        raise _win32(87, "The parameter is incorrect.")
    network = _network(prefix)
    for nat in host.nats:
        if nat.name.lower() == name.lower():
            raise _win32(183, "Cannot create a file when that file already exists.", "ResourceExists")
        if _network(nat.internal_ip_interface_address_prefix).overlaps(network):
            raise _win32(87, "The parameter is incorrect.")
    nat = Nat(name=name, internal_ip_interface_address_prefix=str(network) if "/" in prefix else prefix)
    host.nats.append(nat)
    return nat


def remove_nat(host: Host, names: list[str] | None) -> None:
    doomed = [n for n in host.nats if names is None or n.name.lower() in (x.lower() for x in names)]
    if names is not None and not doomed:
        raise HyperVError(f"No MSFT_NetNat objects found with property 'Name' equal to '{names[0]}'. Verify the "
                          "value of the property and retry.", "ObjectNotFound", "CmdletizationQuery_NotFound_Name")
    for nat in doomed:
        host.nats.remove(nat)
        host.static_mappings = [m for m in host.static_mappings if m.nat_name != nat.name]


def add_static_mapping(host: Host, nat_name: str, protocol: str, external_ip: str, external_port: int,
                       internal_ip: str, internal_port: int | None) -> StaticMapping:
    if not any(n.name.lower() == nat_name.lower() for n in host.nats):
        raise _win32(2, "The system cannot find the file specified.", "ObjectNotFound")
    for mapping in host.static_mappings:
        if mapping.protocol == protocol and mapping.external_port == external_port \
                and mapping.external_ip_address == external_ip:
            raise _win32(183, "Cannot create a file when that file already exists.", "ResourceExists")
    next_id = max((m.static_mapping_id for m in host.static_mappings), default=-1) + 1
    mapping = StaticMapping(nat_name=nat_name, static_mapping_id=next_id, protocol=protocol,
                            external_ip_address=external_ip, external_port=external_port,
                            internal_ip_address=internal_ip,
                            internal_port=external_port if internal_port is None else internal_port)
    host.static_mappings.append(mapping)
    return mapping


def remove_static_mappings(host: Host, ids: list[int] | None, nat_names: list[str] | None) -> None:
    def selected(m: StaticMapping) -> bool:
        return (ids is None or m.static_mapping_id in ids) and \
            (nat_names is None or m.nat_name.lower() in (n.lower() for n in nat_names))
    doomed = [m for m in host.static_mappings if selected(m)]
    if (ids is not None or nat_names is not None) and not doomed:
        raise HyperVError("No matching MSFT_NetNatStaticMapping objects found by CIM query for instances of the "
                          "ROOT/StandardCimv2/MSFT_NetNatStaticMapping class on the  CIM server. Verify query "
                          "parameters and retry.", "ObjectNotFound", "CmdletizationQuery_NotFound")
    host.static_mappings = [m for m in host.static_mappings if m not in doomed]


def new_ip_address(os_state: OSState, adapter: NetAdapter, ip: str, prefix_length: int | None,
                   gateway: str | None) -> None:
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:
        raise _win32(87, "The parameter is incorrect.") from None
    length = 32 if prefix_length is None else prefix_length
    if not 0 <= length <= 32:
        raise _win32(87, "The parameter is incorrect.")
    for other in os_state.adapters:
        if any(a.ip_address == ip for a in other.ipv4):
            raise _win32(87, "Instance MSFT_NetIPAddress already exists")
    if gateway is not None:
        if adapter.default_gateway is not None and adapter.default_gateway != gateway:
            raise _win32(87, "Instance MSFT_NetRoute already exists")
        try:
            ipaddress.IPv4Address(gateway)
        except ValueError:
            raise _win32(87, "The parameter is incorrect.") from None
        adapter.default_gateway = gateway
    adapter.ipv4.append(IPv4Address(str(address), length, "Manual"))
    adapter.dhcp = False


def remove_ip_address(os_state: OSState, ip: str | None, alias: str | None, index: int | None) -> None:
    removed = False
    for adapter in os_state.adapters:
        if alias is not None and adapter.name.lower() != alias.lower():
            continue
        if index is not None and adapter.interface_index != index:
            continue
        keep = [a for a in adapter.ipv4 if ip is not None and a.ip_address != ip]
        removed = removed or len(keep) != len(adapter.ipv4)
        adapter.ipv4 = keep
    if not removed:
        raise HyperVError(f"No matching MSFT_NetIPAddress objects found by CIM query for instances of the "
                          "ROOT/StandardCimv2/MSFT_NetIPAddress class on the  CIM server: SELECT * FROM "
                          f"MSFT_NetIPAddress  WHERE ((IPAddress LIKE '{ip}')). Verify query parameters and retry.",
                          "ObjectNotFound", "CmdletizationQuery_NotFound")


def remove_default_route(os_state: OSState, alias: str | None, index: int | None, next_hop: str | None) -> None:
    removed = False
    for adapter in os_state.adapters:
        if alias is not None and adapter.name.lower() != alias.lower():
            continue
        if index is not None and adapter.interface_index != index:
            continue
        if adapter.default_gateway is not None and next_hop in (None, adapter.default_gateway):
            adapter.default_gateway = None
            removed = True
    if not removed:
        raise HyperVError("No matching MSFT_NetRoute objects found by CIM query for instances of the "
                          "ROOT/StandardCimv2/MSFT_NetRoute class on the  CIM server. Verify query parameters "
                          "and retry.", "ObjectNotFound", "CmdletizationQuery_NotFound")


def set_dns(adapter: NetAdapter, servers: list[str] | None, reset: bool) -> None:
    if reset:
        adapter.dns_servers = []
        return
    for server in servers or []:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise _win32(87, "The parameter is incorrect.") from None
    adapter.dns_servers = list(servers or [])


def set_dhcp(adapter: NetAdapter, enabled: bool) -> None:
    adapter.dhcp = enabled
    if enabled:
        adapter.ipv4 = [a for a in adapter.ipv4 if a.prefix_origin != "Manual"]
        adapter.default_gateway = None


# ---- Windows Firewall (NetSecurity): the inbound rules that admit NAT port mappings (RULES #38) ----

def new_firewall_rule(host: Host, rule: FirewallRule) -> FirewallRule:
    """New-NetFirewallRule: rule names are unique per policy store ("only one rule with a given name
    may exist in a policy store at a time", New-NetFirewallRule page)."""
    if any(existing.name.lower() == rule.name.lower() for existing in host.firewall_rules):
        raise _win32(183, "Cannot create a file when that file already exists.", "ResourceExists")
    if rule.direction not in ("Inbound", "Outbound"):
        raise _win32(87, "The parameter is incorrect.")
    for port in rule.local_port:
        if port.lower() != "any" and not _is_port_or_range(port):
            raise _win32(87, "The parameter is incorrect.")
    if any(port.lower() != "any" for port in rule.local_port) and rule.protocol.upper() not in ("TCP", "UDP", "6", "17"):
        # Ports are a TCP/UDP condition ("If a port number is identified ..., then this parameter must be set to TCP or UDP").
        raise _win32(87, "The parameter is incorrect.")
    host.firewall_rules.append(rule)
    return rule


def _is_port_or_range(text: str) -> bool:
    low, _dash, high = text.partition("-")
    try:
        numbers = [int(low)] + ([int(high)] if high else [])
    except ValueError:
        return False
    return all(0 <= number <= 65535 for number in numbers)


def remove_firewall_rules(host: Host, selected: list[FirewallRule], query: tuple[str, str]) -> None:
    """Remove-NetFirewallRule: nothing selected is an error naming the query ("No MSFT_NetFirewallRule
    objects found with property 'InstanceID' equal to '<Name>'", as Get-/Remove-NetFirewallRule print it)."""
    if not selected:
        prop, value = query
        raise HyperVError(f"No MSFT_NetFirewallRule objects found with property '{prop}' equal to '{value}'. Verify the "
                          "value of the property and retry.", "ObjectNotFound", f"CmdletizationQuery_NotFound_{prop}")
    host.firewall_rules = [rule for rule in host.firewall_rules if rule not in selected]


def firewall_admits(host: Host, protocol: str, address: str, port: int) -> bool:
    """Whether an enabled inbound Allow rule lets unsolicited traffic to `address:port` in; with the
    firewall on, everything else is blocked (default inbound action Block)."""
    if not host.firewall_enabled:
        return True
    blocked = allowed = False
    for rule in host.firewall_rules:
        if not rule.enabled or rule.direction != "Inbound" or not _rule_matches(rule, protocol, address, port):
            continue
        if rule.action == "Block":
            blocked = True
        elif rule.action == "Allow":
            allowed = True
    return allowed and not blocked      # a matching block rule wins over allow rules


def _rule_matches(rule: FirewallRule, protocol: str, address: str, port: int) -> bool:
    if rule.protocol.lower() != "any" and rule.protocol.upper() not in (protocol.upper(), {"TCP": "6", "UDP": "17"}[protocol.upper()]):
        return False
    if not any(_port_matches(entry, port) for entry in rule.local_port):
        return False
    return any(entry.lower() == "any" or _address_matches(entry, address) for entry in rule.local_address)


def _port_matches(entry: str, port: int) -> bool:
    if entry.lower() == "any":
        return True
    low, _dash, high = entry.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _address_matches(entry: str, address: str) -> bool:
    if address == "0.0.0.0":
        return False      # a mapping on every address needs a rule for every address
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return False
