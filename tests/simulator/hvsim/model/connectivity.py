"""Does an L2 guest really have a network? Only when one of the two documented options is in place.

(a) MAC address spoofing: the L1 VM's adapter at L0 has spoofing On and sits on an external L0
    switch; the L2 guest sits on an L1 external switch bound to that very adapter.
(b) NAT inside L1: internal switch + NetNat whose prefix holds the guest's address, the gateway
    address on the switch's vEthernet adapter, the guest statically addressed in the prefix with
    that gateway and a DNS server.

Inbound, through a NAT static mapping of its host (`port_mappings` of the answer): the guest must
have its network as in (b), and the host's firewall must admit the mapping's external port
(RULES #38): with the firewall on, unsolicited inbound traffic is blocked unless a rule allows it.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from .lifecycle import guest_booted, hypervisor_running
from .network import firewall_admits
from .objects import VM, Host, NetAdapter
from .world import World


def connectivity(world: World, guest_name: str, now: float) -> dict[str, Any]:
    host, vm = world.guest(guest_name)
    result = _outbound(world, host, vm, guest_name, now)
    result["port_mappings"] = _port_mappings(host, vm, result)
    return result


def _port_mappings(host: Host, vm: VM, outbound: dict[str, Any]) -> list[dict[str, Any]]:
    """Each static mapping of the guest's host that targets one of the guest's addresses, and
    whether it reaches the guest from outside."""
    addresses = {a.ip_address for adapter in (vm.guest.adapters if vm.guest else []) for a in adapter.ipv4}
    found = []
    for mapping in host.static_mappings:
        if mapping.internal_ip_address not in addresses:
            continue
        reasons = []
        if not outbound["connected"] or outbound["path"] != "nat":
            reasons.append(f"the guest is not on a working NAT network of {host.name}")
        if not firewall_admits(host, mapping.protocol, mapping.external_ip_address, mapping.external_port):
            reasons.append(f"the firewall of {host.name} admits no inbound {mapping.protocol} traffic to port "
                           f"{mapping.external_port}" + ("" if mapping.external_ip_address == "0.0.0.0"
                                                         else f" of {mapping.external_ip_address}"))
        found.append({"nat_name": mapping.nat_name, "protocol": mapping.protocol,
                      "external_ip": mapping.external_ip_address, "external_port": mapping.external_port,
                      "internal_ip": mapping.internal_ip_address, "internal_port": mapping.internal_port,
                      "reachable": not reasons, "reasons": reasons})
    return found


def _outbound(world: World, host: Host, vm: VM, guest_name: str, now: float) -> dict[str, Any]:
    result: dict[str, Any] = {"guest": guest_name, "connected": False, "path": "none", "reasons": []}
    reasons: list[str] = result["reasons"]
    if not guest_booted(vm, now):
        reasons.append(f"VM {vm.name} is not running (state {vm.state})")
    if not hypervisor_running(world, host):
        reasons.append(f"the hypervisor of its host {host.name} is not running")
    if not vm.adapters or vm.guest is None or not vm.guest.adapters:
        reasons.append(f"VM {vm.name} has no network adapter")
        return result
    vm_adapter, os_adapter = vm.adapters[0], vm.guest.adapters[0]
    switch = next((s for s in host.switches if s.name == vm_adapter.switch_name), None)
    if switch is None:
        reasons.append(f"adapter '{vm_adapter.name}' of {vm.name} is not connected to a switch on {host.name}")
        return result
    if switch.switch_type == "External":
        result["path"] = "mac_spoofing"
        reasons.extend(_spoofing_reasons(world, host, switch.net_adapter, os_adapter))
    elif switch.switch_type == "Internal":
        result["path"] = "nat"
        reasons.extend(_nat_reasons(world, host, vm, switch.name, os_adapter))
    else:
        reasons.append(f"switch '{switch.name}' on {host.name} is Private: it reaches no network")
    result["connected"] = not reasons
    return result


def _spoofing_reasons(world: World, host: Host, net_adapter: str | None, os_adapter: NetAdapter) -> list[str]:
    reasons: list[str] = []
    parent = world.parent_of(host)
    if parent is None:
        return reasons   # a guest of an L0 on an external switch: the physical network
    parent_host, l1_vm = parent
    names = [a.name for a in host.os_state.adapters]
    if net_adapter not in names:
        return [f"external switch on {host.name} is bound to no adapter of {host.name}"]
    index = names.index(net_adapter)
    l1_os_adapter = host.os_state.adapters[index]
    l1_vm_adapter = next((a for a in l1_vm.adapters if a.mac_address.upper()
                          == l1_os_adapter.mac_address.replace("-", "").upper()), None)
    if l1_vm_adapter is None:
        return [f"adapter '{net_adapter}' of {host.name} is not a VM network adapter of {l1_vm.name}"]
    if l1_vm_adapter.mac_address_spoofing != "On":
        reasons.append(f"MAC address spoofing is Off on adapter '{l1_vm_adapter.name}' of VM {l1_vm.name} "
                       f"on {parent_host.name}")
    outer = next((s for s in parent_host.switches if s.name == l1_vm_adapter.switch_name), None)
    if outer is None:
        reasons.append(f"adapter '{l1_vm_adapter.name}' of {l1_vm.name} is not connected to a switch on "
                       f"{parent_host.name}")
    elif outer.switch_type != "External":
        reasons.append(f"adapter '{l1_vm_adapter.name}' of {l1_vm.name} is on {outer.switch_type} switch "
                       f"'{outer.name}' of {parent_host.name}, which reaches no external network")
    if not os_adapter.dhcp and not os_adapter.ipv4:
        reasons.append("the guest adapter has neither DHCP nor a static address")
    return reasons


def _nat_reasons(world: World, host: Host, vm: VM, switch_name: str, os_adapter: NetAdapter) -> list[str]:
    vnic = next((a for a in host.os_state.adapters if a.switch_name == switch_name
                 and a.name == f"vEthernet ({switch_name})"), None)
    if vnic is None:
        return [f"internal switch '{switch_name}' has no vEthernet adapter on {host.name}"]
    for nat in host.nats:
        network = ipaddress.IPv4Network(nat.internal_ip_interface_address_prefix, strict=False)
        gateways = [a for a in vnic.ipv4 if ipaddress.IPv4Address(a.ip_address) in network]
        if gateways:
            return _guest_nat_reasons(world, host, vm, network, gateways[0], os_adapter)
    if not host.nats:
        return [f"no NetNat exists on {host.name}"]
    return [f"no NetNat prefix on {host.name} contains an address of {vnic.name}"]


def _guest_nat_reasons(world: World, host: Host, vm: VM, network: ipaddress.IPv4Network, gateway: Any,
                       os_adapter: NetAdapter) -> list[str]:
    reasons: list[str] = []
    gateway_ip = ipaddress.IPv4Address(gateway.ip_address)
    if gateway.prefix_length != network.prefixlen:
        reasons.append(f"the gateway address {gateway_ip} has prefix length {gateway.prefix_length}, the NAT "
                       f"prefix is {network}")
    candidates = [a for a in os_adapter.ipv4 if ipaddress.IPv4Address(a.ip_address) in network]
    if not candidates:
        reasons.append(f"the guest has no address in the NAT prefix {network}")
    else:
        address = candidates[0]
        ip = ipaddress.IPv4Address(address.ip_address)
        if ip in (network.network_address, network.broadcast_address, gateway_ip):
            reasons.append(f"the guest address {ip} is the network, broadcast or gateway address of {network}")
        if address.prefix_length != network.prefixlen:
            reasons.append(f"the guest address has prefix length {address.prefix_length}, expected "
                           f"{network.prefixlen}")
        for _unused, other_host, other in world.guests():
            if other is not vm and other_host is host and other.guest is not None and other.state == "Running" \
                    and any(a.ip_address == address.ip_address for o in other.guest.adapters for a in o.ipv4):
                reasons.append(f"address {ip} is also used by {other.name}")
    if os_adapter.default_gateway != str(gateway_ip):
        reasons.append(f"the guest's default gateway is {os_adapter.default_gateway or 'not set'}, "
                       f"expected {gateway_ip}")
    if not os_adapter.dns_servers:
        reasons.append("the guest has no DNS server")
    return reasons
