"""An L2 guest has network only through a networking option really in place (MAC spoofing or NAT)."""
from __future__ import annotations

from typing import Any

from hvsim.fleet import Fleet
from lab_dicts import cmdlet, execute, fleet_of, nested_ready_lab, vm_info

CREDS = {"username": "Administrator", "password": "Passw0rd!"}


def nat_setup(fleet: Fleet, prefix: str = "192.168.100.0/24", gateway: str = "192.168.100.1") -> None:
    result = execute(fleet, "lab-hv1",
                     cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix=prefix),
                     cmdlet("New-NetIPAddress", InterfaceAlias="vEthernet (VmNAT)", IPAddress=gateway,
                            PrefixLength=24, AddressFamily="IPv4"))
    assert result["failed_index"] is None, result


def guest_ops(fleet: Fleet, *ops: dict[str, Any]) -> dict[str, Any]:
    return execute(fleet, "lab-hv1", {"kind": "guest", "vm": "LAB-VM1", **CREDS, "operations": list(ops)})


def address_guest(fleet: Fleet, ip: str = "192.168.100.2", gateway: str = "192.168.100.1", prefix: int = 24,
                  dns: list[str] | None = None) -> None:
    result = guest_ops(fleet, cmdlet("New-NetIPAddress", InterfaceAlias="Ethernet", IPAddress=ip, PrefixLength=prefix,
                                     DefaultGateway=gateway, AddressFamily="IPv4"),
                       cmdlet("Set-DnsClientServerAddress", InterfaceAlias="Ethernet",
                              ServerAddresses=dns if dns is not None else ["1.1.1.1"]))
    assert result["failed_index"] is None, result


def test_nat_path_connects_when_everything_is_in_place() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    assert fleet.connectivity("lab-vm1")["connected"] is False
    nat_setup(fleet)
    address_guest(fleet)
    assert fleet.connectivity("lab-vm1") == {"guest": "lab-vm1", "connected": True, "path": "nat", "reasons": [], "port_mappings": []}


def test_nat_path_reasons() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    assert fleet.connectivity("lab-vm1")["reasons"] == ["no NetNat exists on lab-hv1"]
    nat_setup(fleet)
    address_guest(fleet, ip="192.168.100.1", gateway="192.168.100.254", dns=[])
    reasons = fleet.connectivity("lab-vm1")["reasons"]
    assert any("network, broadcast or gateway" in r for r in reasons)
    assert any("default gateway is 192.168.100.254" in r for r in reasons)
    assert "the guest has no DNS server" in reasons


def test_guest_address_outside_the_prefix_or_wrong_length_is_not_connected() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    nat_setup(fleet)
    address_guest(fleet, ip="192.168.100.7", prefix=25)
    assert fleet.connectivity("lab-vm1")["reasons"] == ["the guest address has prefix length 25, expected 24"]
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    nat_setup(fleet)
    address_guest(fleet, ip="10.0.0.5", gateway="192.168.100.1")
    assert "the guest has no address in the NAT prefix 192.168.100.0/24" in fleet.connectivity("lab-vm1")["reasons"]


def test_guest_that_is_off_has_no_network() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Off"))
    nat_setup(fleet)
    result = fleet.connectivity("lab-vm1")
    assert result["connected"] is False and any("not running" in r for r in result["reasons"])


def spoofing_lab() -> Fleet:
    spec = nested_ready_lab(l2_state="Running", l1_switches=[{"name": "L1-External", "switch_type": "External",
                                                              "net_adapter": "Ethernet"}])
    spec["hosts"][0]["vms"][0]["guest"]["nested_host"]["vms"][0]["adapters"][0]["switch"] = "L1-External"
    return fleet_of(spec)


def test_mac_spoofing_path_needs_spoofing_on_the_l1_adapter_at_l0() -> None:
    fleet = spoofing_lab()
    result = fleet.connectivity("lab-vm1")
    assert result["path"] == "mac_spoofing" and result["connected"] is False
    assert result["reasons"] == ["MAC address spoofing is Off on adapter 'Network Adapter' of VM LAB-HV1 on hv01"]
    op = cmdlet("Set-VMNetworkAdapter", "LAB-HV1", MacAddressSpoofing="On")
    op["adapter_id"] = vm_info(fleet, "hv01", "LAB-HV1")["adapters"][0]["id"]
    assert execute(fleet, "hv01", op)["failed_index"] is None
    assert fleet.connectivity("lab-vm1") == {"guest": "lab-vm1", "connected": True, "path": "mac_spoofing",
                                             "reasons": [], "port_mappings": []}


def test_mac_spoofing_path_needs_an_external_switch_at_l0() -> None:
    fleet = spoofing_lab()
    adapter_id = vm_info(fleet, "hv01", "LAB-HV1")["adapters"][0]["id"]
    spoof = cmdlet("Set-VMNetworkAdapter", "LAB-HV1", MacAddressSpoofing="On")
    connect = cmdlet("Connect-VMNetworkAdapter", "LAB-HV1", SwitchName="Lonely")
    spoof["adapter_id"] = connect["adapter_id"] = adapter_id
    result = execute(fleet, "hv01", cmdlet("New-VMSwitch", Name="Lonely", SwitchType="Private"), spoof, connect)
    assert result["failed_index"] is None, result
    reasons = fleet.connectivity("lab-vm1")["reasons"]
    assert reasons == ["adapter 'Network Adapter' of LAB-HV1 is on Private switch 'Lonely' of hv01, which reaches "
                       "no external network"]


def test_an_l1_external_switch_created_by_the_executor_is_bound_to_the_l1_adapter() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running", l1_switches=[]))
    result = execute(fleet, "lab-hv1", cmdlet("New-VMSwitch", Name="L1-External", NetAdapterName="Ethernet",
                                              AllowManagementOS=True))
    assert result["failed_index"] is None, result
    again = execute(fleet, "lab-hv1", cmdlet("New-VMSwitch", Name="Second", NetAdapterName="Ethernet"))
    assert "already bound" in again["operations"][0]["message"]
