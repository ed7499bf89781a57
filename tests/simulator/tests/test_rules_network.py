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


# ---- Windows Firewall for NAT port mappings (RULES #38) ----

GROUP = "hyperv.nested NAT port mappings"


def _rule(name: str = "hyperv.nested-nat-TCP-0.0.0.0-50022", port: str = "50022", **extra: object) -> dict:
    parameters = {"Name": name, "DisplayName": f"TCP {port}", "Group": GROUP, "Direction": "Inbound", "Action": "Allow",
                  "Enabled": "True", "Profile": "Any", "Protocol": "TCP", "LocalPort": [port], **extra}
    return cmdlet("New-NetFirewallRule", **parameters)


def _mapped_guest():  # type: ignore[no-untyped-def]
    """lab-vm1 on a working NAT of lab-hv1, with TCP 0.0.0.0:50022 mapped to its port 22."""
    from test_model_connectivity import address_guest, nat_setup

    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    nat_setup(fleet)
    address_guest(fleet)
    mapping = cmdlet("Add-NetNatStaticMapping", NatName="LocalNAT", Protocol="TCP", ExternalIPAddress="0.0.0.0",
                     ExternalPort=50022, InternalIPAddress="192.168.100.2", InternalPort=22)
    assert execute(fleet, "lab-hv1", mapping)["failed_index"] is None
    return fleet


def test_a_mapped_port_without_a_firewall_rule_is_unreachable() -> None:
    fleet = _mapped_guest()
    report = fleet.connectivity("lab-vm1")
    assert report["connected"] is True     # outbound works: the firewall admits what the guest starts
    (mapping,) = report["port_mappings"]
    assert mapping["reachable"] is False
    assert mapping["reasons"] == ["the firewall of lab-hv1 admits no inbound TCP traffic to port 50022"]


def test_an_inbound_allow_rule_makes_it_reachable_and_removing_it_closes_it_again() -> None:
    fleet = _mapped_guest()
    assert execute(fleet, "lab-hv1", _rule())["failed_index"] is None
    assert fleet.connectivity("lab-vm1")["port_mappings"][0]["reachable"] is True
    assert execute(fleet, "lab-hv1", cmdlet("Remove-NetFirewallRule", Name="hyperv.nested-nat-TCP-0.0.0.0-50022"))["failed_index"] is None
    assert fleet.connectivity("lab-vm1")["port_mappings"][0]["reachable"] is False


def test_rules_that_do_not_admit_the_port_do_not_count() -> None:
    for change in ({"Enabled": "False"}, {"Action": "Block"}, {"Direction": "Outbound"}, {"LocalAddress": ["10.9.9.9"]}):
        fleet = _mapped_guest()
        assert execute(fleet, "lab-hv1", _rule(**change))["failed_index"] is None
        assert fleet.connectivity("lab-vm1")["port_mappings"][0]["reachable"] is False, change
    fleet = _mapped_guest()
    execute(fleet, "lab-hv1", _rule(name="other", port="8080"))
    assert fleet.connectivity("lab-vm1")["port_mappings"][0]["reachable"] is False


def test_a_block_rule_wins_over_an_allow_rule() -> None:
    fleet = _mapped_guest()
    execute(fleet, "lab-hv1", _rule(), _rule(name="deny", Action="Block"))
    assert fleet.connectivity("lab-vm1")["port_mappings"][0]["reachable"] is False


def test_firewall_rule_names_are_unique_and_removal_of_nothing_fails() -> None:
    fleet = fleet_of(nested_ready_lab())
    assert execute(fleet, "lab-hv1", _rule())["failed_index"] is None
    # Real output: "New-NetFirewallRule : Cannot create a file when that file already exists."
    assert only_failure(execute(fleet, "lab-hv1", _rule())) == "Cannot create a file when that file already exists."
    message = only_failure(execute(fleet, "lab-hv1", cmdlet("Remove-NetFirewallRule", Name="nope")))
    assert message.startswith("No MSFT_NetFirewallRule objects found with property 'InstanceID' equal to 'nope'.")


def test_the_enabled_parameter_takes_the_strings_true_and_false_not_booleans() -> None:
    # New-NetFirewallRule page: "the type of this parameter is not boolean, therefore $true and $false ... are not acceptable".
    fleet = fleet_of(nested_ready_lab())
    message = only_failure(execute(fleet, "lab-hv1", _rule(Enabled=True)))
    assert message.startswith("Cannot bind parameter 'Enabled'.") and message.endswith('True, False"')


def test_the_probe_lists_only_the_rules_of_the_modules_group() -> None:
    fleet = fleet_of(nested_ready_lab())
    execute(fleet, "lab-hv1", _rule(), cmdlet("New-NetFirewallRule", Name="web", DisplayName="Web", Protocol="TCP", LocalPort=["80"]))
    rules = call(fleet, "lab-hv1", "probe", {"sections": ["network"]})["network"]["firewall_rules"]
    assert rules == [{"name": "hyperv.nested-nat-TCP-0.0.0.0-50022", "display_name": "TCP 50022", "enabled": True,
                      "direction": "Inbound", "action": "Allow", "protocol": "TCP", "local_port": ["50022"],
                      "local_address": ["Any"]}]


def test_several_nat_networks_can_be_created_as_windows_allows() -> None:
    # The NAT page: "Multiple NAT networks are not supported ... places the system into an unknown state":
    # New-NetNat does not refuse a second, non-overlapping one; win_nested_nat does (RULES #20).
    fleet = fleet_of(nested_ready_lab())
    for name, prefix in (("A", "192.168.100.0/24"), ("B", "172.20.0.0/16")):
        assert execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name=name, InternalIPInterfaceAddressPrefix=prefix))["failed_index"] is None
    host = call(fleet, "lab-hv1", "probe", {"sections": ["host"]})["host"]
    assert [n["name"] for n in host["nats"]] == ["A", "B"]


def test_the_if_available_sections_answer_like_theirs_or_say_why_rule_62() -> None:
    guest = {"vm": "LAB-VM1", "username": "Administrator", "password": "Passw0rd!"}
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    plain = call(fleet, "lab-hv1", "probe", {"sections": ["network", "guests"], "guests": [guest]})
    available = call(fleet, "lab-hv1", "probe", {"sections": ["network_if_available", "guests_if_available"], "guests": [guest]})
    assert available == plain
    # Hyper-V not installed in the L1 host: the network answers (no switches), the guests cannot be read.
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    fleet._world.host("lab-hv1").os_state.hyperv_feature = "Disabled"
    answer = call(fleet, "lab-hv1", "probe", {"sections": ["host", "network_if_available", "guests_if_available"], "guests": [guest]})
    assert answer["network"]["switches"] == [] and "guests" not in answer
    assert answer["guests_unavailable"].startswith("The term 'Hyper-V\\Get-VM' is not recognized")
    assert answer["host"]["hyperv_feature"] == "Disabled"
    # Installed, not restarted yet: vmms does not answer (RULES #43).
    fleet._world.host("lab-hv1").os_state.hyperv_feature = "EnablePending"
    answer = call(fleet, "lab-hv1", "probe", {"sections": ["guests_if_available"], "guests": [guest]})
    assert "Virtual Machine Management service" in answer["guests_unavailable"]
    # No guest asked: nothing to read, nothing fails.
    assert call(fleet, "lab-hv1", "probe", {"sections": ["guests_if_available"], "guests": []}) == {"guests": []}
