"""The guest proof: reason codes from the probe, inside (PowerShell Direct) or from the L1's view."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._guest_proof import FIXES, judge, probe_parameters

from ...probe_fixtures import (
    guest_adapter,
    guest_report,
    host_ip_address,
    host_nat,
    host_switch,
    network_section,
    probe_vm,
    vm_adapter,
    vms_section,
)

HEALTHY_NETWORK = network_section(switches=[host_switch()], nats=[host_nat()], ip_addresses=[host_ip_address()])


def probe(*vms: dict[str, t.Any], network: dict[str, t.Any] | None = None,
          guests: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    answer = {"vms": vms_section(*vms), "network": HEALTHY_NETWORK if network is None else network}
    if guests is not None:
        answer["guests"] = guests
    return answer


def linux(ip_addresses: list[str], switch: str = "VmNAT", state: str = "Running") -> dict[str, t.Any]:
    return probe_vm("LAB-LNX1", state=state, adapters=[vm_adapter("LAB-LNX1", switch_name=switch, ip_addresses=ip_addresses)])


def codes(row: dict[str, t.Any]) -> list[str]:
    return [finding["code"] for finding in row["findings"]]


def test_a_dhcp_guest_with_its_reserved_address_passes_from_the_l1_view() -> None:
    (row,) = judge([{"vm": "LAB-LNX1", "ip": "192.168.100.20"}], probe(linux(["192.168.100.20"])), "192.168.100.0/24", "VmNAT")
    assert row["ok"] and row["view"] == "l1" and row["address"] == "192.168.100.20"


def test_each_problem_has_its_code_and_a_fix() -> None:
    rows = judge([{"vm": "LAB-LNX1", "ip": "192.168.100.20"}], probe(linux([])), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["guest.no_address"] and rows[0]["findings"][0]["fix"] == FIXES["guest.no_address"]
    rows = judge([{"vm": "LAB-LNX1", "ip": "192.168.100.20"}], probe(linux(["192.168.100.99"])), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["guest.wrong_address"]
    rows = judge([{"vm": "LAB-LNX1"}], probe(linux(["10.0.0.5"], switch="External")), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["guest.not_on_nat_switch", "guest.no_address"]
    rows = judge([{"vm": "LAB-LNX1"}], probe(linux([], state="Off")), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["guest.not_running"]
    rows = judge([{"vm": "NOPE"}], probe(linux([])), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["guest.vm_missing"]


def test_a_missing_nat_or_gateway_is_a_finding_for_every_guest() -> None:
    no_nat = network_section(switches=[host_switch()], ip_addresses=[host_ip_address()])
    rows = judge([{"vm": "LAB-LNX1"}], probe(linux(["192.168.100.20"]), network=no_nat), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["nat.missing"]
    no_gateway = network_section(switches=[host_switch()], nats=[host_nat()])
    rows = judge([{"vm": "LAB-LNX1"}], probe(linux(["192.168.100.20"]), network=no_gateway), "192.168.100.0/24", "VmNAT")
    assert codes(rows[0]) == ["nat.gateway_missing"]


def test_a_windows_guest_is_read_from_inside() -> None:
    vm = probe_vm("LAB-VM1", adapters=[vm_adapter("LAB-VM1", switch_name="VmNAT")])
    nic = guest_adapter(ipv4=[{"ip_address": "192.168.100.10", "prefix_length": 24, "prefix_origin": "Manual"}],
                        default_gateway="192.168.100.9", dns_servers=[])
    guest = {"vm": "LAB-VM1", "ip": "192.168.100.10", "username": "Administrator", "password": "pw"}
    assert probe_parameters([guest])["sections"] == ["vms", "network", "guests"]
    (row,) = judge([guest], probe(vm, guests=[guest_report("LAB-VM1", [nic])]), "192.168.100.0/24", "VmNAT")
    assert row["view"] == "inside" and codes(row) == ["guest.wrong_gateway", "guest.no_dns"]
    assert "pw" not in str(row)


def test_ipv6_addresses_windows_lists_beside_the_gateway_and_the_guests_are_passed_over() -> None:
    # Get-NetIPAddress lists every family: IPv6 is on by default, so each interface has a link-local address.
    link_local = host_ip_address(ip_address="fe80::5d2a:1b7c:9e1f:3a40%12", prefix_length=64, address_family="IPv6", prefix_origin="WellKnown")
    network = network_section(switches=[host_switch()], nats=[host_nat()], ip_addresses=[link_local, host_ip_address()])
    (row,) = judge([{"vm": "LAB-LNX1", "ip": "192.168.100.20"}],
                   probe(linux(["fe80::215:5dff:fe00:1%3", "192.168.100.20"]), network=network), "192.168.100.0/24", "VmNAT")
    assert row["ok"] and row["address"] == "192.168.100.20" and codes(row) == [], row


def test_the_switch_name_matches_its_vethernet_adapter_whatever_the_case_as_hyper_v_matches_names() -> None:
    (row,) = judge([{"vm": "LAB-LNX1", "ip": "192.168.100.20"}], probe(linux(["192.168.100.20"])), "192.168.100.0/24", "vmnat")
    assert "nat.gateway_missing" not in codes(row), row
