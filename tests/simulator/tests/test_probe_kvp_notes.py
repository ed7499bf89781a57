"""What the probe reports for the inventory plugin: VM notes, and what a guest reports through the KVP
exchange (its DNS name, its adapters' addresses) only while it runs with the service on."""
from __future__ import annotations

import time
from typing import Any

from hvsim.fleet import Fleet
from hvsim.powershell.probe import link_local
from lab_dicts import cmdlet, execute, fleet_of, l0, lab, nested_ready_lab, vm, vm_info, windows_guest


def guest_with_address(address: str, **os_extra: Any) -> dict[str, Any]:
    guest = windows_guest()
    guest["os"].update(os_extra)
    guest["adapters"] = [{"ipv4": [{"ip_address": address, "prefix_length": 24}], "default_gateway": "10.0.0.1"}]
    return guest


def wait_booted(fleet: Fleet, host: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        info = vm_info(fleet, host, name)
        if info["guest_os"] is not None or time.monotonic() > deadline:
            return info
        time.sleep(0.01)


def test_notes_are_reported_as_written_and_empty_without_notes() -> None:
    fleet = fleet_of(lab(l0(vms=[vm("WITH", notes="Owner: lab team\nnested: nat"), vm("WITHOUT")])))
    assert vm_info(fleet, "hv01", "WITH")["notes"] == "Owner: lab team\nnested: nat"
    assert vm_info(fleet, "hv01", "WITHOUT")["notes"] == ""


def test_notes_survive_a_restart_of_the_simulator() -> None:
    fleet = fleet_of(lab(l0(vms=[vm("WITH", notes="nested: mac_spoofing")])))
    again = Fleet.from_state(fleet.export_state())
    assert vm_info(again, "hv01", "WITH")["notes"] == "nested: mac_spoofing"


def test_a_running_guest_reports_its_dns_name_and_addresses_through_kvp() -> None:
    fleet = fleet_of(lab(l0(vms=[
        vm("WEB1", state="Running", guest=guest_with_address("10.0.0.21", dns_name="web1.corp.example")),
        vm("PLAIN1", state="Running", guest=guest_with_address("10.0.0.22")),
    ])))
    web = vm_info(fleet, "hv01", "WEB1")
    assert web["guest_dns_name"] == "web1.corp.example"
    # IPv4 first, then the adapter's IPv6 link-local address (RULES #63).
    assert [adapter["ip_addresses"] for adapter in web["adapters"]] == [["10.0.0.21", link_local(web["adapters"][0]["mac_address"])]]
    assert vm_info(fleet, "hv01", "PLAIN1")["guest_dns_name"] == "PLAIN1"  # a workgroup guest: its computer name


def test_nothing_is_reported_while_the_vm_is_off_or_the_kvp_service_is_off() -> None:
    services = {"Key-Value Pair Exchange": False}
    fleet = fleet_of(lab(l0(vms=[
        vm("OFF1", state="Off", guest=guest_with_address("10.0.0.21")),
        vm("NOKVP", state="Running", integration_services=services, guest=guest_with_address("10.0.0.22")),
        vm("NOLOGIN", state="Running"),
    ])))
    for name in ("OFF1", "NOKVP", "NOLOGIN"):
        info = vm_info(fleet, "hv01", name)
        assert info["guest_dns_name"] is None and info["guest_os"] is None, name
        assert [adapter["ip_addresses"] for adapter in info["adapters"]] == [[]], name


def test_an_l1_reports_its_endpoint_address_and_keeps_it_when_an_external_switch_takes_the_adapter() -> None:
    spec = nested_ready_lab()
    l1 = spec["hosts"][0]["vms"][0]
    l1["guest"]["adapters"] = [{"ipv4": [{"ip_address": "10.0.0.31", "prefix_length": 24}]}]
    fleet = fleet_of(spec)
    before = wait_booted(fleet, "hv01", "LAB-HV1")
    assert before["adapters"][0]["ip_addresses"][:2] == ["127.0.0.2", "10.0.0.31"]
    assert [ip for ip in before["adapters"][0]["ip_addresses"][2:] if not ip.startswith("fe80::")] == []

    # Inside the L1, an External switch on its Ethernet: Windows moves the address to vEthernet.
    result = execute(fleet, "lab-hv1", cmdlet("New-VMSwitch", Name="Ext", NetAdapterName="Ethernet", AllowManagementOS=True))
    assert result["failed_index"] is None, result
    after = vm_info(fleet, "hv01", "LAB-HV1")["adapters"][0]["ip_addresses"]
    assert after[:2] == ["127.0.0.2", "10.0.0.31"] and len(after) == 3 and after[2].startswith("fe80::"), after
