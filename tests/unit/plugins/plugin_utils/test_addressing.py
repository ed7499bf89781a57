from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import (
    AddressError,
    Request,
    allocate,
    overlaps,
    parse_address,
    parse_gateway,
    parse_guest_address,
    parse_prefix,
    prefix_overlaps,
)

A = ipaddress.IPv4Address
NET = ipaddress.IPv4Network("192.168.100.0/24")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.168.100.0/24", "192.168.100.0/24"),
        (" 10.0.0.0/8 ", "10.0.0.0/8"),
        ("172.16.5.4/30", "172.16.5.4/30"),
    ],
)
def test_parse_prefix_accepts(value: str, expected: str) -> None:
    assert parse_prefix(value) == ipaddress.IPv4Network(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("192.168.100.0", "prefix: '192.168.100.0' is not a network in CIDR form"),
        ("192.168.100.5/24", "prefix: '192.168.100.5/24' has host bits set; did you mean 192.168.100.0/24?"),
        ("192.168.300.0/24", "prefix: '192.168.300.0/24' is not an IPv4 network"),
        ("fd00::/64", "prefix: 'fd00::/64' is an IPv6 network"),
        ("10.0.0.0/31", "prefix: 10.0.0.0/31 is too small"),
        ("10.0.0.1/32", "prefix: 10.0.0.1/32 is too small"),
        ("garbage/24", "prefix: 'garbage/24' is not an IPv4 network"),
    ],
)
def test_parse_prefix_rejects_naming_the_option(value: str, message: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_prefix(value)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("value", "network", "expected"),
    [
        (None, "192.168.100.0/24", "192.168.100.1"),
        ("", "10.1.2.0/30", "10.1.2.1"),
        ("192.168.100.254", "192.168.100.0/24", "192.168.100.254"),
    ],
)
def test_gateway_defaults_to_first_usable(value: str | None, network: str, expected: str) -> None:
    assert parse_gateway(value, ipaddress.IPv4Network(network)) == A(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("192.168.200.1", "gateway: 192.168.200.1 is outside prefix 192.168.100.0/24"),
        ("192.168.100.0", "gateway: 192.168.100.0 is the network address of 192.168.100.0/24"),
        ("192.168.100.255", "gateway: 192.168.100.255 is the broadcast address of 192.168.100.0/24"),
        ("router", "gateway: 'router' is not an IPv4 address"),
    ],
)
def test_gateway_rejects(value: str, message: str) -> None:
    with pytest.raises(AddressError, match="^" + message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_gateway(value, NET)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("192.168.200.5", "guests[1].ip: 192.168.200.5 is outside prefix 192.168.100.0/24"),
        ("192.168.100.1", "guests[1].ip: 192.168.100.1 is the gateway address of 192.168.100.0/24"),
        ("192.168.100.0", "guests[1].ip: 192.168.100.0 is the network address of 192.168.100.0/24"),
        ("192.168.100.255", "guests[1].ip: 192.168.100.255 is the broadcast address of 192.168.100.0/24"),
        ("::1", "guests[1].ip: '::1' is an IPv6 address; only IPv4 is supported"),
        ("192.168.100.2/24", "guests[1].ip: '192.168.100.2/24' is not an IPv4 address"),
    ],
)
def test_guest_address_rejects(value: str, message: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_guest_address(value, NET, A("192.168.100.1"), "guests[1].ip")
    assert str(caught.value) == message


def test_guest_address_accepts_last_usable() -> None:
    assert parse_guest_address("192.168.100.254", NET, A("192.168.100.1"), "ip") == A("192.168.100.254")


def test_parse_address_strips() -> None:
    assert parse_address(" 8.8.8.8 ", "dns") == A("8.8.8.8")


@pytest.mark.parametrize(
    ("ip", "length", "expected"),
    [
        ("192.168.100.7", 24, "192.168.100.0/24"),
        ("192.168.0.1", 16, "192.168.0.0/16"),  # contains the prefix
        ("192.168.100.130", 25, "192.168.100.128/25"),  # inside the prefix
        ("192.168.101.1", 24, None),
        ("10.0.0.1", 8, None),
        ("not-an-ip", 24, None),
        ("fe80::1", 64, None),
    ],
)
def test_overlaps(ip: str, length: int, expected: str | None) -> None:
    found = overlaps(NET, ip, length)
    assert (str(found) if found else None) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("192.168.100.0/24", True), ("192.168.0.0/16", True), ("192.168.100.64/26", True), ("192.168.101.0/24", False), ("bad", False)],
)
def test_prefix_overlaps(prefix: str, expected: bool) -> None:
    assert (prefix_overlaps(NET, prefix) is not None) is expected


def _alloc(requests: list[tuple[str | None, tuple[str, ...]]], reserved: tuple[str, ...] = (), network: str = "192.168.100.0/24") -> list[str]:
    net = ipaddress.IPv4Network(network)
    built = [Request(A(wanted) if wanted else None, tuple(A(c) for c in current)) for wanted, current in requests]
    return [str(a) for a in allocate(net, net.network_address + 1, built, [A(r) for r in reserved])]


@pytest.mark.parametrize(
    ("requests", "reserved", "expected"),
    [
        # nobody has anything: lowest free in guest order, after the gateway
        ([(None, ()), (None, ())], (), ["192.168.100.2", "192.168.100.3"]),
        # explicit addresses are never given to automatic guests
        ([(None, ()), ("192.168.100.2", ())], (), ["192.168.100.3", "192.168.100.2"]),
        # a guest keeps what it has, even when a lower address is free
        ([(None, ("192.168.100.50",)), (None, ())], (), ["192.168.100.50", "192.168.100.2"]),
        # an address another guest holds now is not handed out (no duplicate while changing)
        ([(None, ()), ("192.168.100.9", ("192.168.100.2",))], (), ["192.168.100.3", "192.168.100.9"]),
        # keeping loses to an explicit claim of the same address
        ([(None, ("192.168.100.9",)), ("192.168.100.9", ())], (), ["192.168.100.2", "192.168.100.9"]),
        # two guests holding the same address: the first in order keeps it
        ([(None, ("192.168.100.7",)), (None, ("192.168.100.7",))], (), ["192.168.100.7", "192.168.100.2"]),
        # current addresses outside the usable range are not kept
        ([(None, ("192.168.100.1", "192.168.100.255"))], (), ["192.168.100.2"]),
        # of several current addresses the lowest is kept
        ([(None, ("192.168.100.20", "192.168.100.10"))], (), ["192.168.100.10"]),
        # reserved (host) addresses are skipped and never kept
        ([(None, ("192.168.100.2",))], ("192.168.100.2",), ["192.168.100.3"]),
        # a /30 has exactly two usable addresses: gateway and one guest
        ([(None, ())], (), ["10.9.9.2"]),
    ],
)
def test_allocate(requests: list[tuple[str | None, tuple[str, ...]]], reserved: tuple[str, ...], expected: list[str]) -> None:
    network = "10.9.9.0/30" if expected == ["10.9.9.2"] else "192.168.100.0/24"
    assert _alloc(requests, reserved, network) == expected


def test_allocate_is_stable_when_rerun_with_the_result() -> None:
    first = _alloc([(None, ()), (None, ()), ("192.168.100.3", ())])
    again = _alloc([(None, (first[0],)), (None, (first[1],)), ("192.168.100.3", ("192.168.100.3",))])
    assert first == again == ["192.168.100.2", "192.168.100.4", "192.168.100.3"]


def test_allocate_runs_out_naming_the_guest() -> None:
    with pytest.raises(AddressError, match=r"^guests\[1\]\.ip: no free address left in 10\.9\.9\.0/30"):
        _alloc([(None, ()), (None, ())], network="10.9.9.0/30")
