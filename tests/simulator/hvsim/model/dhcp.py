"""The DHCP Server role inside a host (RULES #58-#60): scopes, their router and DNS options,
reservations by client id (the MAC address), and the leases DHCP clients on the host's internal
switches get. Kept in `Host.storage["dhcp"]`: {"installed": bool, "scopes": {scope id: {...}}}."""
from __future__ import annotations

import ipaddress
from typing import Any

from .errors import HyperVError
from .lab import dashed
from .objects import Host, IPv4Address
from .world import World


def _dhcp(host: Host) -> dict[str, Any]:
    return host.storage.setdefault("dhcp", {"installed": False, "scopes": {}})


def installed(host: Host) -> bool:
    return bool(host.storage.get("dhcp", {}).get("installed"))


def install(host: Host) -> bool:
    """Install-WindowsFeature DHCP: True when it was not installed (no restart needed)."""
    state = _dhcp(host)
    done = not state["installed"]
    state["installed"] = True
    return done


def scopes(host: Host) -> dict[str, dict[str, Any]]:
    return dict(_dhcp(host)["scopes"]) if installed(host) else {}


def _require(host: Host) -> dict[str, Any]:
    if not installed(host):
        raise HyperVError("The term 'DhcpServer\\Add-DhcpServerv4Scope' is not recognized as the name of a cmdlet.",
                          "ObjectNotFound", "CommandNotFoundException")
    return _dhcp(host)


def add_scope(host: Host, name: str, start: str, end: str, mask: str, state: str | None) -> None:
    dhcp = _require(host)
    network = ipaddress.IPv4Network(f"{start}/{mask}", strict=False)
    scope_id = str(network.network_address)
    if scope_id in dhcp["scopes"]:
        raise HyperVError(f"Failed to add scope {scope_id} on DHCP server. The specified scope already exists.",
                          "ResourceExists", "DhcpServerv4Scope,Add-DhcpServerv4Scope")
    if ipaddress.IPv4Address(end) not in network or int(ipaddress.IPv4Address(start)) > int(ipaddress.IPv4Address(end)):
        raise HyperVError(f"Failed to add scope {scope_id}: the range {start}-{end} is not valid for mask {mask}.",
                          "InvalidArgument", "DhcpServerv4Scope,Add-DhcpServerv4Scope")
    dhcp["scopes"][scope_id] = {"scope_id": scope_id, "name": name, "subnet_mask": mask, "start_range": start,
                                "end_range": end, "state": state or "Active", "router": [], "dns_server": [],
                                "reservations": {}}


def _scope(host: Host, scope_id: str) -> dict[str, Any]:
    found = _require(host)["scopes"].get(scope_id)
    if found is None:
        raise HyperVError(f"Failed to get scope {scope_id}. The specified DHCP scope does not exist.",
                          "ObjectNotFound", "DhcpServerv4Scope")
    return found  # type: ignore[no-any-return]


def set_options(host: Host, scope_id: str, router: list[str] | None, dns: list[str] | None) -> None:
    scope = _scope(host, scope_id)
    if router is not None:
        scope["router"] = list(router)
    if dns is not None:
        scope["dns_server"] = list(dns)


def add_reservation(host: Host, scope_id: str, ip: str, client_id: str, name: str | None) -> None:
    scope = _scope(host, scope_id)
    address = int(ipaddress.IPv4Address(ip))
    if not int(ipaddress.IPv4Address(scope["start_range"])) <= address <= int(ipaddress.IPv4Address(scope["end_range"])):
        raise HyperVError(f"Failed to add reservation {ip} to scope {scope_id}: the address is not in the scope's "
                          "range.", "InvalidArgument", "DhcpServerv4Reservation,Add-DhcpServerv4Reservation")
    client = client_id.replace(":", "-").upper()
    for reserved_ip, entry in scope["reservations"].items():
        if reserved_ip == ip or entry["client_id"] == client:
            raise HyperVError(f"Failed to add reservation {ip} to scope {scope_id}: the address or the client "
                              f"{client} is reserved already.", "ResourceExists",
                              "DhcpServerv4Reservation,Add-DhcpServerv4Reservation")
    scope["reservations"][ip] = {"client_id": client, "name": name or ""}


def renew(world: World) -> bool:
    """DHCP clients on a host's internal switches get their lease (a reservation for their MAC, else the
    first free address of the range). True when an address changed."""
    changed = False
    for host in world.hosts():
        served = scopes(host)
        if not served:
            continue
        for vm in host.vms:
            if vm.state != "Running" or vm.guest is None or vm.booted_at is None:
                continue
            for vm_adapter, os_adapter in zip(vm.adapters, vm.guest.adapters, strict=False):
                if not os_adapter.dhcp or vm_adapter.switch_name is None:
                    continue
                lease = _lease(host, served, vm_adapter.switch_name, dashed(vm_adapter.mac_address))
                if lease is None:
                    continue
                ip, prefix, router, dns = lease
                wanted = [IPv4Address(ip, prefix, "Dhcp")]
                if os_adapter.ipv4 != wanted or os_adapter.default_gateway != router or os_adapter.dns_servers != dns:
                    os_adapter.ipv4, os_adapter.default_gateway, os_adapter.dns_servers = wanted, router, dns
                    changed = True
    return changed


def _lease(host: Host, served: dict[str, dict[str, Any]], switch_name: str,
           mac: str) -> tuple[str, int, str | None, list[str]] | None:
    switch = next((s for s in host.switches if s.name.lower() == switch_name.lower()), None)
    if switch is None or switch.switch_type != "Internal":
        return None     # the server answers through its own interfaces: the internal switch's vEthernet
    vnic = next((a for a in host.os_state.adapters if a.switch_name == switch.name), None)
    if vnic is None:
        return None
    for address in vnic.ipv4:
        network = ipaddress.IPv4Network(f"{address.ip_address}/{address.prefix_length}", strict=False)
        scope = served.get(str(network.network_address))
        if scope is None or scope["state"] != "Active" or scope["subnet_mask"] != str(network.netmask):
            continue
        reserved = next((ip for ip, entry in scope["reservations"].items() if entry["client_id"] == mac.upper()), None)
        if reserved is None:
            return None   # dynamic leases of the range are not modelled: only reservations are handed out
        return reserved, network.prefixlen, (scope["router"] or [None])[0], list(scope["dns_server"])
    return None
