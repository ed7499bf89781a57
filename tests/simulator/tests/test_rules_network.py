"""Networking rules: NetNat prefixes, IP addresses, static mappings, switches, PowerShell Direct."""
from __future__ import annotations

from lab_dicts import call, cmdlet, execute, fleet_of, nested_ready_lab, only_failure


def test_net_nat_prefixes_may_not_overlap() -> None:
    fleet = fleet_of(nested_ready_lab())
    assert execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name="A", InternalIPInterfaceAddressPrefix="192.168.100.0/24")
                   )["failed_index"] is None
    # WinNAT answers an overlapping prefix with Win32 error 87 (MicrosoftDocs/Virtualization-Documentation#361).
    result = execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name="B", InternalIPInterfaceAddressPrefix="192.168.0.0/16"))
    assert only_failure(result) == "The parameter is incorrect."
    assert execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name="C", InternalIPInterfaceAddressPrefix="10.0.0.0/24")
                   )["failed_index"] is None
    nats = call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["nats"]
    assert [n["name"] for n in nats] == ["A", "C"]


def test_duplicate_ip_address_is_rejected() -> None:
    fleet = fleet_of(nested_ready_lab())
    op = cmdlet("New-NetIPAddress", InterfaceAlias="vEthernet (VmNAT)", IPAddress="192.168.100.1", PrefixLength=24)
    assert execute(fleet, "lab-hv1", op)["failed_index"] is None
    assert only_failure(execute(fleet, "lab-hv1", op)) == "Instance MSFT_NetIPAddress already exists"
    network = call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]
    assert [a for a in network["ip_addresses"] if a["ip_address"] == "192.168.100.1"] == [
        {"interface_alias": "vEthernet (VmNAT)", "interface_index": network["adapters"][-1]["interface_index"],
         "ip_address": "192.168.100.1", "prefix_length": 24, "address_family": "IPv4", "prefix_origin": "Manual"}]


def test_internal_switch_creates_a_vethernet_adapter_and_removal_deletes_it() -> None:
    fleet = fleet_of(nested_ready_lab(l1_switches=[]))
    execute(fleet, "lab-hv1", cmdlet("New-VMSwitch", Name="VmNAT", SwitchType="Internal"))
    names = [a["name"] for a in call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["adapters"]]
    assert "vEthernet (VmNAT)" in names
    execute(fleet, "lab-hv1", cmdlet("Remove-VMSwitch", Name="VmNAT", Force=True))
    names = [a["name"] for a in call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["adapters"]]
    assert "vEthernet (VmNAT)" not in names


def test_static_mappings_need_their_nat_and_are_listed() -> None:
    fleet = fleet_of(nested_ready_lab())
    mapping = cmdlet("Add-NetNatStaticMapping", NatName="LocalNAT", Protocol="TCP", ExternalIPAddress="0.0.0.0",
                     ExternalPort=50022, InternalIPAddress="192.168.100.2", InternalPort=22)
    assert only_failure(execute(fleet, "lab-hv1", mapping)) == "The system cannot find the file specified."
    execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix="192.168.100.0/24"),
            mapping)
    mappings = call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["static_mappings"]
    assert mappings == [{"nat_name": "LocalNAT", "static_mapping_id": 0, "protocol": "TCP",
                         "external_ip_address": "0.0.0.0", "external_port": 50022,
                         "internal_ip_address": "192.168.100.2", "internal_port": 22}]
    execute(fleet, "lab-hv1", cmdlet("Remove-NetNatStaticMapping", NatName="LocalNAT", StaticMappingID=0,
                                     Confirm=False))
    assert call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["static_mappings"] == []


def test_powershell_direct_needs_a_running_guest_and_valid_credentials() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Off"))
    guest = {"vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}
    answer = call(fleet, "lab-hv1", "probe", {"sections": ["guests"], "guests": [guest]})["guests"][0]
    assert answer["reachable"] is False and "not in running state" in answer["error"]
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    answer = call(fleet, "lab-hv1", "probe", {"sections": ["guests"], "guests": [guest | {"password": "nope"}]})
    assert answer["guests"][0]["error"] == "The credential is invalid."
    answer = call(fleet, "lab-hv1", "probe", {"sections": ["guests"], "guests": [guest]})["guests"][0]
    assert answer["reachable"] is True and answer["adapters"][0]["interface_alias"] == "Ethernet"
    assert answer["adapters"][0]["dhcp"] is True
    assert "Passw0rd!" not in str(answer)
    result = execute(fleet, "lab-hv1", {"kind": "guest", "vm": "LAB-VM1", "username": "Administrator",
                                        "password": "nope", "operations": []})
    assert only_failure(result) == "The credential is invalid."


def test_guest_ops_use_the_guest_allow_list() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    result = execute(fleet, "lab-hv1", {"kind": "guest", "vm": "LAB-VM1", "username": "Administrator",
                                        "password": "Passw0rd!",
                                        "operations": [cmdlet("New-NetNat", Name="x",
                                                              InternalIPInterfaceAddressPrefix="10.0.0.0/24")]})
    assert only_failure(result) == "Cmdlet 'New-NetNat' is not in the executor's allow-list."


def test_guest_dhcp_reset_and_default_route_removal() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    creds = {"kind": "guest", "vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}
    execute(fleet, "lab-hv1", creds | {"operations": [
        cmdlet("New-NetIPAddress", InterfaceAlias="Ethernet", IPAddress="192.168.100.2", PrefixLength=24,
               DefaultGateway="192.168.100.1")]})
    result = execute(fleet, "lab-hv1", creds | {"operations": [
        cmdlet("Remove-NetRoute", InterfaceAlias="Ethernet", DestinationPrefix="0.0.0.0/0", Confirm=False),
        cmdlet("Remove-NetIPAddress", InterfaceAlias="Ethernet", IPAddress="192.168.100.2", Confirm=False),
        cmdlet("Set-NetIPInterface", InterfaceAlias="Ethernet", Dhcp="Enabled")]})
    assert result["failed_index"] is None, result
    adapter = call(fleet, "lab-hv1", "probe", {"sections": ["guests"], "guests": [
        {"vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}]})["guests"][0]["adapters"][0]
    assert adapter["ipv4"] == [] and adapter["default_gateway"] is None and adapter["dhcp"] is True
