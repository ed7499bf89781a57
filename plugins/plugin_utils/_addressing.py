# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""IPv4 address arithmetic for NAT networks: validation with messages that name the option,
and stable, collision-free allocation of guest addresses."""

from __future__ import annotations

import ipaddress
import typing as t
from dataclasses import dataclass

IPv4Address = ipaddress.IPv4Address
IPv4Network = ipaddress.IPv4Network


class AddressError(ValueError):
    """A value the user gave is not usable; the message names the option."""


def parse_prefix(value: str, option: str = "prefix") -> IPv4Network:
    """An IPv4 network in CIDR form with room for a gateway and at least one guest."""
    text = str(value).strip()
    if "/" not in text:
        raise AddressError(f"{option}: {value!r} is not a network in CIDR form such as 192.168.100.0/24")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AddressError(f"{option}: {value!r} is not an IPv4 network in CIDR form such as 192.168.100.0/24") from None
    if not isinstance(network, IPv4Network):
        raise AddressError(f"{option}: {value!r} is an IPv6 network; NetNat here is configured for IPv4 only")
    if ipaddress.ip_interface(text).ip != network.network_address:
        raise AddressError(f"{option}: {value!r} has host bits set; did you mean {network}?")
    if network.prefixlen > 30:
        raise AddressError(f"{option}: {network} is too small; use a prefix length of 30 or less (room for a gateway and guests)")
    return network


def parse_address(value: t.Any, option: str) -> IPv4Address:
    """Any IPv4 address in dotted form (DNS servers, external addresses)."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise AddressError(f"{option}: {value!r} is not an IPv4 address") from None
    if not isinstance(address, IPv4Address):
        raise AddressError(f"{option}: {value!r} is an IPv6 address; only IPv4 is supported")
    return address


def usable(network: IPv4Network) -> tuple[IPv4Address, IPv4Address]:
    """First and last address a host can use (network and broadcast excluded)."""
    return network.network_address + 1, network.broadcast_address - 1


def parse_gateway(value: t.Any, network: IPv4Network, option: str = "gateway") -> IPv4Address:
    """The gateway: the given address, or the prefix's first usable address when None."""
    if value is None or value == "":
        return usable(network)[0]
    address = parse_address(value, option)
    _require_host_address(address, network, option)
    return address


def parse_guest_address(value: t.Any, network: IPv4Network, gateway: IPv4Address, option: str) -> IPv4Address:
    """A guest's address: inside the prefix, not its network, broadcast or gateway address."""
    address = parse_address(value, option)
    _require_host_address(address, network, option)
    if address == gateway:
        raise AddressError(f"{option}: {address} is the gateway address of {network}")
    return address


def _require_host_address(address: IPv4Address, network: IPv4Network, option: str) -> None:
    if address not in network:
        raise AddressError(f"{option}: {address} is outside prefix {network}")
    if address == network.network_address:
        raise AddressError(f"{option}: {address} is the network address of {network}")
    if address == network.broadcast_address:
        raise AddressError(f"{option}: {address} is the broadcast address of {network}")


def overlaps(network: IPv4Network, ip_address: str, prefix_length: int) -> IPv4Network | None:
    """The network of an interface address when it overlaps `network`, else None."""
    try:
        other = ipaddress.ip_network(f"{ip_address}/{int(prefix_length)}", strict=False)
    except ValueError:
        return None
    if isinstance(other, IPv4Network) and other.overlaps(network):
        return other
    return None


def prefix_overlaps(network: IPv4Network, prefix: str) -> IPv4Network | None:
    """The other prefix (as a network) when it overlaps `network`, else None."""
    try:
        other = ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:
        return None
    if isinstance(other, IPv4Network) and other.overlaps(network):
        return other
    return None


@dataclass(frozen=True)
class Request:
    """One guest's address request: `wanted` when the user gave one, plus what it has now."""

    wanted: IPv4Address | None
    current: tuple[IPv4Address, ...] = ()


def allocate(
    network: IPv4Network,
    gateway: IPv4Address,
    requests: t.Sequence[Request],
    reserved: t.Iterable[IPv4Address] = (),
) -> list[IPv4Address]:
    """Give every request an address, stable across runs and never colliding.

    Explicit addresses first; then each automatic request keeps its lowest current address in
    the prefix when nobody else claims it; the rest take the lowest free address, in request
    order. Addresses any guest holds now are never handed to another guest, so no address is
    ever on two machines at once while the change runs.
    """
    first, last = usable(network)
    held = set(reserved)
    taken: set[IPv4Address] = {gateway, *held}
    for request in requests:
        taken.update(request.current)
    chosen: list[IPv4Address | None] = [request.wanted for request in requests]
    claimed = {address for address in chosen if address is not None}

    for index, request in enumerate(requests):
        if request.wanted is not None:
            continue
        for address in sorted(request.current):
            if first <= address <= last and address != gateway and address not in claimed and address not in held:
                chosen[index] = address
                claimed.add(address)
                break

    candidate = int(first)
    for index in range(len(requests)):
        if chosen[index] is not None:
            continue
        while candidate <= int(last) and (IPv4Address(candidate) in taken or IPv4Address(candidate) in claimed):
            candidate += 1
        if candidate > int(last):
            raise AddressError(f"guests[{index}].ip: no free address left in {network} for automatic allocation")
        address = IPv4Address(candidate)
        chosen[index] = address
        claimed.add(address)
    return [address for address in chosen if address is not None]
