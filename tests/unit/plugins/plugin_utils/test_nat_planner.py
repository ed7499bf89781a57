from __future__ import annotations

import copy
import json
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner import (
    build_spec,
    plan,
    probe_parameters,
    require_credentials,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError

from ...probe_fixtures import (
    AZURE_PLATFORM,
    HYPERV_VM_PLATFORM,
    firewall_rule,
    guest_adapter,
    guest_report,
    host_ip_address,
    host_nat,
    host_net_adapter,
    host_switch,
    network_section,
    probe_vm,
    static_mapping,
    vm_adapter,
    vms_section,
)

SECRET = "S3cret-guest-pw"

DEFAULTS: dict[str, t.Any] = {
    "switch_name": "VmNAT",
    "nat_name": "LocalNAT",
    "prefix": "192.168.100.0/24",
    "gateway": None,
    "state": "present",
    "guests": [],
    "guest_username": "Administrator",
    "guest_password": SECRET,
    "guest_dns": ["1.1.1.1", "8.8.8.8"],
    "port_mappings": [],
    "purge_port_mappings": False,
    "replace": False,
    # Firewall rules have tests of their own below; the tests of mappings leave them out.
    "firewall_rules": False,
    "allow_multiple_nats": False,
}


def args(**overrides: t.Any) -> dict[str, t.Any]:
    return {**copy.deepcopy(DEFAULTS), **overrides}


def guest(vm: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"vm": vm, "ip": None, "dns": None, "adapter": None, "username": None, "password": None, **extra}


def mapping(**extra: t.Any) -> dict[str, t.Any]:
    return {"protocol": "tcp", "external_ip": "0.0.0.0", "external_port": 50022, "internal_ip": None, "vm": None, "internal_port": 22, **extra}


def network(converged: bool = False, **extra: t.Any) -> dict[str, t.Any]:
    """The host's network: Ethernet on 10.0.0.0/24 and, when converged, VmNAT and LocalNAT with their gateway address."""
    section = network_section(
        ip_addresses=[host_ip_address(interface_alias="Ethernet", interface_index=4, ip_address="10.0.0.5", prefix_origin="Dhcp")],
        adapters=[host_net_adapter(name="Ethernet", interface_index=4, mac_address="00-15-5D-00-00-01")],
    )
    if converged:
        section["switches"].append(host_switch())
        section["nats"].append(host_nat())
        section["ip_addresses"].append(host_ip_address())
        section["adapters"].append(host_net_adapter())
    section.update(extra)
    return section


def vm(name: str, mac: str, switch: str | None = None, state: str = "Running", adapters: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    if adapters is None:
        adapters = [vm_adapter(name, switch_name=switch, mac_address=mac)]
    return probe_vm(name, state=state, adapters=adapters)


def report(
    name: str, mac: str, ipv4: list[tuple[str, int, str]] = (), gateway: str | None = None, dns: list[str] | None = None, dhcp: bool = False
) -> dict[str, t.Any]:  # type: ignore[assignment]
    dashed = "-".join(mac[i : i + 2] for i in range(0, 12, 2))
    return guest_report(
        name,
        [
            guest_adapter(interface_alias="Loopback", interface_index=1, mac_address=""),
            guest_adapter(
                mac_address=dashed,
                ipv4=[{"ip_address": ip, "prefix_length": length, "prefix_origin": origin} for ip, length, origin in ipv4],
                default_gateway=gateway,
                dns_servers=dns or [],
                dhcp=dhcp,
            ),
        ],
    )


MAC1, MAC2 = "00155D000101", "00155D000102"


def probe(net: dict[str, t.Any], vms: list[dict[str, t.Any]] = (), reports: list[dict[str, t.Any]] = ()) -> dict[str, t.Any]:  # type: ignore[assignment]
    return {"network": net, "vms": vms_section(*vms), "guests": list(reports)}


def cmdlets(operations: list[dict[str, t.Any]]) -> list[str]:
    out = []
    for op in operations:
        if op["kind"] == "guest":
            out.append("guest:" + op["vm"] + ":" + ",".join(n["cmdlet"] for n in op["operations"]))
        else:
            out.append(op["cmdlet"])
    return out


# ----------------------------------------------------------------------------- build_spec


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prefix": "192.168.100.7/24"}, "prefix: '192.168.100.7/24' has host bits set; did you mean 192.168.100.0/24?"),
        ({"gateway": "10.0.0.1"}, "gateway: 10.0.0.1 is outside prefix 192.168.100.0/24"),
        ({"switch_name": "Vm*"}, "switch_name: 'Vm*' contains a wildcard character (* ? [ ]); use a plain name"),
        ({"nat_name": "  "}, "nat_name: the name '  ' is empty"),
        ({"nat_name": "Local\x00NAT"}, "nat_name: the name 'Local\\x00NAT' contains the control character U+0000"),
        ({"switch_name": "VmNAT\nX"}, "switch_name: the name 'VmNAT\\nX' contains the control character U+000A"),
        ({"guests": [guest("A"), guest("B", ip="192.168.200.5")]}, "guests[1].ip: 192.168.200.5 is outside prefix 192.168.100.0/24"),
        ({"guests": [guest("A", ip="192.168.100.1")]}, "guests[0].ip: 192.168.100.1 is the gateway address of 192.168.100.0/24"),
        ({"guests": [guest("A", ip="192.168.100.9"), guest("B", ip="192.168.100.9")]}, "guests[1].ip: 192.168.100.9 is already the address of guests[0]"),
        ({"guests": [guest("A"), guest("a")]}, "guests[1].vm: a is already listed as guests[0]"),
        ({"guests": [guest("")]}, "guests[0].vm: the VM name '' is empty"),
        ({"guests": [guest("A", dns=["8.8.8.8", "dns.example"])]}, "guests[0].dns[1]: 'dns.example' is not an IPv4 address"),
        ({"guests": [guest("A", dns=[])]}, "guests[0].dns: give at least one DNS server address"),
        ({"guest_dns": ["1.1.1.1", "1.1.1.1"]}, "guest_dns: lists the same server more than once"),
        (
            {"port_mappings": [mapping(internal_ip="192.168.100.2", external_port=0)]},
            "port_mappings[0].external_port: 0 is not a port number between 1 and 65535",
        ),
        (
            {"port_mappings": [mapping(internal_ip="192.168.100.2", internal_port=70000)]},
            "port_mappings[0].internal_port: 70000 is not a port number between 1 and 65535",
        ),
        ({"port_mappings": [mapping(internal_ip="192.168.101.2")]}, "port_mappings[0].internal_ip: 192.168.101.2 is outside prefix 192.168.100.0/24"),
        ({"port_mappings": [mapping(vm="NOPE")]}, "port_mappings[0].vm: NOPE is not one of the guests; list it under guests or give internal_ip"),
        ({"port_mappings": [mapping()]}, "port_mappings[0]: give internal_ip or vm (a guest listed under guests)"),
        ({"port_mappings": [mapping(internal_ip="192.168.100.2", vm="A")], "guests": [guest("A")]}, "port_mappings[0]: give internal_ip or vm, not both"),
        ({"port_mappings": [mapping(protocol="icmp", internal_ip="192.168.100.2")]}, "port_mappings[0].protocol: 'icmp' is not tcp or udp"),
        ({"port_mappings": [mapping(external_ip="1.2.3", internal_ip="192.168.100.2")]}, "port_mappings[0].external_ip: '1.2.3' is not an IPv4 address"),
        (
            {"port_mappings": [mapping(internal_ip="192.168.100.2"), mapping(internal_ip="192.168.100.3", protocol="TCP")]},
            "port_mappings[1]: TCP 0.0.0.0:50022 is already mapped by port_mappings[0]",
        ),
    ],
)
def test_bad_arguments_fail_naming_the_option(overrides: dict[str, t.Any], message: str) -> None:
    with pytest.raises(PlanningError) as caught:
        build_spec(args(**overrides))
    assert caught.value.msg == message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"guests": [guest("A")], "guest_username": None}, "guests[0].username: no user for A; set it or guest_username"),
        ({"guests": [guest("A", username="u")], "guest_password": None}, "guests[0].password: no password for A; set it or guest_password"),
    ],
)
def test_missing_credentials(overrides: dict[str, t.Any], message: str) -> None:
    with pytest.raises(PlanningError) as caught:
        require_credentials(build_spec(args(**overrides)))
    assert caught.value.msg == message


def test_guest_defaults_and_own_values() -> None:
    spec = build_spec(args(guests=[guest("A"), guest("B", dns=["10.0.0.53"], username="me", password="pw", ip="192.168.100.20")]))
    first, second = spec.guests
    assert (first.username, first.password, [str(d) for d in first.dns], first.ip) == ("Administrator", SECRET, ["1.1.1.1", "8.8.8.8"], None)
    assert (second.username, second.password, [str(d) for d in second.dns], str(second.ip)) == ("me", "pw", ["10.0.0.53"], "192.168.100.20")
    assert str(spec.gateway) == "192.168.100.1"


def test_probe_parameters() -> None:
    assert probe_parameters(build_spec(args())) == {"sections": ["network"], "vm_names": [], "guests": []}
    assert probe_parameters(build_spec(args(state="absent", guests=[guest("A")]))) == {"sections": ["network"], "vm_names": [], "guests": []}
    params = probe_parameters(build_spec(args(guests=[guest("A"), guest("B", password="pw")])))
    assert params["sections"] == ["network", "vms", "guests"]
    assert params["vm_names"] == ["A", "B"]
    assert params["guests"] == [{"vm": "A", "username": "Administrator", "password": SECRET}, {"vm": "B", "username": "Administrator", "password": "pw"}]


# ----------------------------------------------------------------------------- host side


def test_fresh_host_gets_switch_nat_and_gateway_in_the_guides_order() -> None:
    result = plan(build_spec(args()), probe(network()))
    assert result.operations == [
        {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "VmNAT", "SwitchType": "Internal"}},
        {"kind": "cmdlet", "cmdlet": "New-NetNat", "parameters": {"Name": "LocalNAT", "InternalIPInterfaceAddressPrefix": "192.168.100.0/24"}},
        {
            "kind": "cmdlet",
            "cmdlet": "New-NetIPAddress",
            # Found through the new switch, waited for by the executor: never by its alias (issue 18 item 9).
            "switch_adapter": "VmNAT",
            "parameters": {"IPAddress": "192.168.100.1", "PrefixLength": 24, "AddressFamily": "IPv4"},
        },
    ]
    assert result.before == {"switch": None, "nat": None, "host_addresses": [], "port_mappings": []}
    assert result.after == {
        "switch": {"name": "VmNAT", "switch_type": "Internal"},
        "nat": {"name": "LocalNAT", "prefix": "192.168.100.0/24"},
        "host_addresses": ["192.168.100.1/24"],
        "port_mappings": [],
    }


def test_converged_host_plans_nothing_and_before_equals_after() -> None:
    result = plan(build_spec(args()), probe(network(converged=True)))
    assert result.operations == []
    assert result.before == result.after


def test_custom_prefix_and_gateway() -> None:
    result = plan(build_spec(args(prefix="10.20.0.0/16", gateway="10.20.255.254", switch_name="Lab", nat_name="LabNAT")), probe(network()))
    assert result.operations[-1]["switch_adapter"] == "Lab"
    assert result.operations[-1]["parameters"] == {
        "IPAddress": "10.20.255.254",
        "PrefixLength": 16,
        "AddressFamily": "IPv4",
    }
    assert result.operations[1]["parameters"] == {"Name": "LabNAT", "InternalIPInterfaceAddressPrefix": "10.20.0.0/16"}


def test_names_match_case_insensitively() -> None:
    net = network(converged=True)
    net["switches"][0]["name"] = "vmnat"
    net["nats"][0]["name"] = "LOCALNAT"
    assert plan(build_spec(args()), probe(net)).operations == []


def test_wrong_gateway_address_in_prefix_is_replaced_addresses_outside_are_kept() -> None:
    net = network(converged=True)
    net["ip_addresses"][1]["ip_address"] = "192.168.100.77"
    net["ip_addresses"].append(host_ip_address(ip_address="172.31.0.1"))
    result = plan(build_spec(args()), probe(net))
    assert result.operations == [
        {"kind": "cmdlet", "cmdlet": "Remove-NetIPAddress", "parameters": {"InterfaceIndex": 12, "IPAddress": "192.168.100.77", "Confirm": False}},
        {
            "kind": "cmdlet",
            "cmdlet": "New-NetIPAddress",
            "parameters": {"InterfaceIndex": 12, "IPAddress": "192.168.100.1", "PrefixLength": 24, "AddressFamily": "IPv4"},
        },
    ]
    assert result.before["host_addresses"] == ["192.168.100.77/24"]
    assert result.after["host_addresses"] == ["192.168.100.1/24"]


def test_gateway_with_wrong_prefix_length_is_readded() -> None:
    net = network(converged=True)
    net["ip_addresses"][1]["prefix_length"] = 16
    # a /16 on our own adapter is not a foreign network
    assert cmdlets(plan(build_spec(args()), probe(net)).operations) == ["Remove-NetIPAddress", "New-NetIPAddress"]


def _failure(overrides: dict[str, t.Any], net: dict[str, t.Any]) -> str:
    with pytest.raises(PlanningError) as caught:
        plan(build_spec(args(**overrides)), probe(net))
    return caught.value.msg


@pytest.mark.parametrize("replace", [False, True])
def test_external_switch_of_that_name_is_never_replaced(replace: bool) -> None:
    net = network(switches=[host_switch(switch_type="External", net_adapter_interface_description="NIC")])
    assert _failure({"replace": replace}, net).startswith("switch_name: a switch named VmNAT exists and is External")


def test_private_switch_needs_replace() -> None:
    net = network(switches=[host_switch(switch_type="Private")])
    assert _failure({}, net) == (
        "switch_name: a switch named VmNAT exists and is Private, not Internal; set replace: true to replace it or choose another switch_name"
    )
    result = plan(build_spec(args(replace=True)), probe(net))
    assert cmdlets(result.operations) == ["Remove-VMSwitch", "New-VMSwitch", "New-NetNat", "New-NetIPAddress"]
    assert result.operations[0]["parameters"] == {"Name": "VmNAT", "Force": True}


def test_nat_with_other_prefix_needs_replace() -> None:
    net = network(converged=True)
    net["nats"][0]["internal_ip_interface_address_prefix"] = "192.168.50.0/24"
    net["static_mappings"] = [static_mapping(static_mapping_id=3, external_port=80, internal_ip_address="192.168.50.2", internal_port=80)]
    assert _failure({}, net) == (
        "prefix: NAT LocalNAT exists with prefix 192.168.50.0/24, not 192.168.100.0/24; set replace: true to replace it or choose another nat_name"
    )
    result = plan(build_spec(args(replace=True)), probe(net))
    # the old NAT's mappings go with it; the gateway address is in the new prefix already
    assert cmdlets(result.operations) == ["Remove-NetNat", "New-NetNat"]
    assert result.operations[0]["parameters"] == {"Name": "LocalNAT", "Confirm": False}


def test_replaced_nat_takes_its_old_gateway_address_along() -> None:
    net = network(converged=True)
    net["nats"][0]["internal_ip_interface_address_prefix"] = "10.5.0.0/16"
    net["ip_addresses"][1].update({"ip_address": "10.5.0.1", "prefix_length": 16})
    # an address of our adapter outside both prefixes is never touched
    net["ip_addresses"].append(host_ip_address(ip_address="172.31.0.1"))
    result = plan(build_spec(args(replace=True)), probe(net))
    assert [(op["cmdlet"], op["parameters"].get("IPAddress")) for op in result.operations] == [
        ("Remove-NetNat", None),
        ("New-NetNat", None),
        ("Remove-NetIPAddress", "10.5.0.1"),
        ("New-NetIPAddress", "192.168.100.1"),
    ]


@pytest.mark.parametrize("replace", [False, True])
def test_overlap_with_another_nat_always_fails(replace: bool) -> None:
    net = network(nats=[host_nat(name="DockerNAT", internal_ip_interface_address_prefix="192.168.0.0/16")])
    overrides = {"replace": replace, "allow_multiple_nats": True}
    assert _failure(overrides, net) == "prefix: 192.168.100.0/24 overlaps 192.168.0.0/16 of NAT DockerNAT, which this task does not manage"


@pytest.mark.parametrize("replace", [False, True])
def test_overlap_with_a_network_on_the_host_always_fails(replace: bool) -> None:
    net = network()
    net["ip_addresses"][0].update({"ip_address": "192.168.100.50", "prefix_length": 24})
    assert _failure({"replace": replace}, net) == (
        "prefix: 192.168.100.0/24 overlaps the network 192.168.100.0/24 of 192.168.100.50 on Ethernet, which is already on this host"
    )


def test_ipv6_addresses_do_not_count_as_overlap() -> None:
    net = network()
    net["ip_addresses"].append(host_ip_address(interface_alias="Ethernet", interface_index=4, ip_address="fe80::1", prefix_length=64, address_family="IPv6"))
    assert len(plan(build_spec(args()), probe(net)).operations) == 3


def test_no_hyperv_module() -> None:
    assert _failure({}, {"hyperv_module": False}).startswith("Hyper-V is not installed on this host")


# ----------------------------------------------------------------------------- absent


def test_absent_removes_in_order_mappings_address_nat_switch() -> None:
    net = network(converged=True)
    net["static_mappings"] = [
        static_mapping(),
        static_mapping(nat_name="Other", static_mapping_id=1, external_port=80, internal_ip_address="10.1.0.2", internal_port=80),
    ]
    net["nats"].append(host_nat(name="Other", internal_ip_interface_address_prefix="10.1.0.0/24"))
    result = plan(build_spec(args(state="absent")), probe(net))
    assert result.operations == [
        {"kind": "cmdlet", "cmdlet": "Remove-NetNatStaticMapping", "parameters": {"NatName": "LocalNAT", "StaticMappingID": 0, "Confirm": False}},
        {"kind": "cmdlet", "cmdlet": "Remove-NetIPAddress", "parameters": {"InterfaceIndex": 12, "IPAddress": "192.168.100.1", "Confirm": False}},
        {"kind": "cmdlet", "cmdlet": "Remove-NetNat", "parameters": {"Name": "LocalNAT", "Confirm": False}},
        {"kind": "cmdlet", "cmdlet": "Remove-VMSwitch", "parameters": {"Name": "VmNAT", "Force": True}},
    ]
    assert result.after == {"switch": None, "nat": None, "host_addresses": [], "port_mappings": []}


def test_absent_when_nothing_is_there() -> None:
    result = plan(build_spec(args(state="absent")), probe(network()))
    assert result.operations == [] and result.before == result.after


def test_absent_leaves_what_it_does_not_manage() -> None:
    net = network(
        switches=[host_switch(switch_type="External", net_adapter_interface_description="NIC")],
        nats=[host_nat(internal_ip_interface_address_prefix="10.0.0.0/24")],
    )
    result = plan(build_spec(args(state="absent")), probe(net))
    assert result.operations == []
    assert len(result.warnings) == 2
    assert "left in place (set replace: true to remove it anyway)" in result.warnings[0]
    assert result.before == result.after
    forced = plan(build_spec(args(state="absent", replace=True)), probe(net))
    assert cmdlets(forced.operations) == ["Remove-NetNat"]


# ----------------------------------------------------------------------------- port mappings


def test_mappings_added_kept_replaced_and_purged() -> None:
    net = network(converged=True)

    net["static_mappings"] = [
        static_mapping(static_mapping_id=0, external_port=8080, internal_ip_address="192.168.100.2", internal_port=80),
        static_mapping(static_mapping_id=1, external_port=50022, internal_ip_address="192.168.100.9", internal_port=22),
        static_mapping(static_mapping_id=2, external_port=3389, internal_ip_address="192.168.100.5", internal_port=3389),
    ]
    wanted = [
        mapping(external_port=8080, internal_ip="192.168.100.2", internal_port=80),  # kept
        mapping(external_port=50022, internal_ip="192.168.100.2", internal_port=22),  # retargeted
        mapping(protocol="udp", external_port=53, internal_ip="192.168.100.3", internal_port=53),  # new
    ]
    result = plan(build_spec(args(port_mappings=wanted)), probe(net))
    assert result.operations == [
        {"kind": "cmdlet", "cmdlet": "Remove-NetNatStaticMapping", "parameters": {"NatName": "LocalNAT", "StaticMappingID": 1, "Confirm": False}},
        {
            "kind": "cmdlet",
            "cmdlet": "Add-NetNatStaticMapping",
            "parameters": {
                "NatName": "LocalNAT",
                "Protocol": "TCP",
                "ExternalIPAddress": "0.0.0.0",
                "ExternalPort": 50022,
                "InternalIPAddress": "192.168.100.2",
                "InternalPort": 22,
            },
        },
        {
            "kind": "cmdlet",
            "cmdlet": "Add-NetNatStaticMapping",
            "parameters": {
                "NatName": "LocalNAT",
                "Protocol": "UDP",
                "ExternalIPAddress": "0.0.0.0",
                "ExternalPort": 53,
                "InternalIPAddress": "192.168.100.3",
                "InternalPort": 53,
            },
        },
    ]
    assert "TCP 0.0.0.0:3389 -> 192.168.100.5:3389" in result.after["port_mappings"]  # unlisted: kept
    purged = plan(build_spec(args(port_mappings=wanted, purge_port_mappings=True)), probe(net))
    removed = [op["parameters"]["StaticMappingID"] for op in purged.operations if op["cmdlet"] == "Remove-NetNatStaticMapping"]
    assert removed == [1, 2]
    assert "TCP 0.0.0.0:3389 -> 192.168.100.5:3389" not in purged.after["port_mappings"]

    converged = plan(build_spec(args(port_mappings=wanted[:1])), probe(net))
    assert converged.operations == []


@pytest.mark.parametrize(("other_ip", "ours", "conflict"), [("0.0.0.0", "0.0.0.0", True), ("10.0.0.5", "0.0.0.0", True), ("10.0.0.5", "10.0.0.6", False)])
def test_port_forwarded_by_another_nat_conflicts(other_ip: str, ours: str, conflict: bool) -> None:
    net = network(
        nats=[host_nat(name="Other", internal_ip_interface_address_prefix="10.1.0.0/24")],
        static_mappings=[static_mapping(nat_name="Other", static_mapping_id=4, external_ip_address=other_ip, internal_ip_address="10.1.0.2")],
    )
    overrides = {"port_mappings": [mapping(external_ip=ours, internal_ip="192.168.100.2")], "allow_multiple_nats": True}
    if conflict:
        assert _failure(overrides, net) == "port_mappings[0].external_port: TCP port 50022 is already forwarded by NAT Other to 10.1.0.2:22"
    else:
        assert cmdlets(plan(build_spec(args(**overrides)), probe(net)).operations)[-1] == "Add-NetNatStaticMapping"


# ----------------------------------------------------------------------------- guests


def test_new_guests_are_connected_and_addressed_with_allocation_in_order() -> None:
    spec = build_spec(args(guests=[guest("LAB-VM1"), guest("LAB-VM2", ip="192.168.100.2")], port_mappings=[mapping(vm="LAB-VM1")]))
    result = plan(spec, probe(network(), [vm("LAB-VM1", MAC1), vm("LAB-VM2", MAC2)], [report("LAB-VM1", MAC1), report("LAB-VM2", MAC2)]))
    assert cmdlets(result.operations) == [
        "New-VMSwitch",
        "New-NetNat",
        "New-NetIPAddress",
        "Add-NetNatStaticMapping",
        "Connect-VMNetworkAdapter",
        "guest:LAB-VM1:New-NetIPAddress,Set-DnsClientServerAddress",
        "Connect-VMNetworkAdapter",
        "guest:LAB-VM2:New-NetIPAddress,Set-DnsClientServerAddress",
    ]
    connect = result.operations[4]
    assert connect == {
        "kind": "cmdlet",
        "cmdlet": "Connect-VMNetworkAdapter",
        "vm": "LAB-VM1",
        "adapter_id": "Microsoft:LAB-VM1\\A1",
        "parameters": {"SwitchName": "VmNAT"},
    }
    first = result.operations[5]
    assert (first["username"], first["password"]) == ("Administrator", SECRET)
    assert first["operations"] == [
        {
            "kind": "cmdlet",
            "cmdlet": "New-NetIPAddress",
            "parameters": {"InterfaceIndex": 6, "IPAddress": "192.168.100.3", "PrefixLength": 24, "DefaultGateway": "192.168.100.1", "AddressFamily": "IPv4"},
        },
        {"kind": "cmdlet", "cmdlet": "Set-DnsClientServerAddress", "parameters": {"InterfaceIndex": 6, "ServerAddresses": ["1.1.1.1", "8.8.8.8"]}},
    ]
    assert result.operations[3]["parameters"]["InternalIPAddress"] == "192.168.100.3"
    assert [g["ip"] for g in result.values["guests"]] == ["192.168.100.3", "192.168.100.2"]
    assert result.values["port_mappings"][0]["internal_ip"] == "192.168.100.3"
    assert result.after["guests"]["LAB-VM1"] == {
        "adapter": "Network Adapter",
        "switch": "VmNAT",
        "addresses": ["192.168.100.3/24"],
        "default_gateway": "192.168.100.1",
        "dns_servers": ["1.1.1.1", "8.8.8.8"],
        "dhcp": False,
    }
    assert SECRET not in json.dumps([result.before, result.after, result.values["guests"], result.warnings, result.values["port_mappings"]])


def test_converged_guests_plan_nothing() -> None:
    spec = build_spec(args(guests=[guest("LAB-VM1")]))
    result = plan(
        spec,
        probe(
            network(converged=True),
            [vm("LAB-VM1", MAC1, switch="VmNAT")],
            [report("LAB-VM1", MAC1, [("192.168.100.40", 24, "Manual")], "192.168.100.1", ["1.1.1.1", "8.8.8.8"])],
        ),
    )
    assert result.operations == []
    assert result.values["guests"][0]["ip"] == "192.168.100.40"  # kept, not moved to the lowest free
    assert result.before == result.after


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        # wrong address in the prefix: removed first, then the right one with the gateway
        (
            {"ipv4": [("192.168.100.9", 24, "Manual")], "gateway": "192.168.100.1", "dns": ["1.1.1.1", "8.8.8.8"]},
            ["Remove-NetIPAddress 192.168.100.9", "Remove-NetRoute", "New-NetIPAddress 192.168.100.5"],
        ),
        # right address, wrong gateway: the route goes and the address is re-added with the gateway
        (
            {"ipv4": [("192.168.100.5", 24, "Manual")], "gateway": "192.168.100.254", "dns": ["1.1.1.1", "8.8.8.8"]},
            ["Remove-NetRoute", "Remove-NetIPAddress 192.168.100.5", "New-NetIPAddress 192.168.100.5"],
        ),
        # right address, wrong prefix length
        (
            {"ipv4": [("192.168.100.5", 16, "Manual")], "gateway": "192.168.100.1", "dns": ["1.1.1.1", "8.8.8.8"]},
            ["Remove-NetIPAddress 192.168.100.5", "Remove-NetRoute", "New-NetIPAddress 192.168.100.5"],
        ),
        # only DNS differs
        ({"ipv4": [("192.168.100.5", 24, "Manual")], "gateway": "192.168.100.1", "dns": ["8.8.8.8"]}, ["Set-DnsClientServerAddress"]),
        # DHCP: its lease and route are removed while they exist, then it is turned off; an APIPA address is left alone
        (
            {"ipv4": [("10.0.0.7", 24, "Dhcp"), ("169.254.3.4", 16, "WellKnown")], "gateway": "10.0.0.1", "dns": ["10.0.0.1"], "dhcp": True},
            ["Remove-NetIPAddress 10.0.0.7", "Remove-NetRoute", "Set-NetIPInterface", "New-NetIPAddress 192.168.100.5", "Set-DnsClientServerAddress"],
        ),
        # DHCP that leased the very address wanted: it becomes a manual address with the gateway
        (
            {"ipv4": [("192.168.100.5", 24, "Dhcp")], "gateway": "192.168.100.1", "dns": ["1.1.1.1", "8.8.8.8"], "dhcp": True},
            ["Remove-NetIPAddress 192.168.100.5", "Remove-NetRoute", "Set-NetIPInterface", "New-NetIPAddress 192.168.100.5"],
        ),
        # DHCP on but no lease yet (APIPA only)
        (
            {"ipv4": [("169.254.3.4", 16, "WellKnown")], "gateway": None, "dns": [], "dhcp": True},
            ["Set-NetIPInterface", "New-NetIPAddress 192.168.100.5", "Set-DnsClientServerAddress"],
        ),
        # a manual address outside the prefix is never touched
        (
            {"ipv4": [("172.16.0.5", 24, "Manual")], "gateway": None, "dns": ["1.1.1.1", "8.8.8.8"]},
            ["New-NetIPAddress 192.168.100.5"],
        ),
    ],
)
def test_guest_repairs(current: dict[str, t.Any], expected: list[str]) -> None:
    spec = build_spec(args(guests=[guest("LAB-VM1", ip="192.168.100.5")]))
    rep = report("LAB-VM1", MAC1, current["ipv4"], current["gateway"], current["dns"], current.get("dhcp", False))
    result = plan(spec, probe(network(converged=True), [vm("LAB-VM1", MAC1, switch="VmNAT")], [rep]))
    assert len(result.operations) == 1 and result.operations[0]["kind"] == "guest"
    seen = []
    for op in result.operations[0]["operations"]:
        address = op["parameters"].get("IPAddress")
        seen.append(f"{op['cmdlet']} {address}" if address else op["cmdlet"])
        assert op["parameters"]["InterfaceIndex"] == 6  # the guest's own adapter, never the switch adapter
    assert seen == expected


def test_guest_addresses_after_dhcp_keep_outside_addresses() -> None:
    spec = build_spec(args(guests=[guest("LAB-VM1", ip="192.168.100.5")]))
    rep = report("LAB-VM1", MAC1, [("10.0.0.7", 24, "Dhcp"), ("169.254.3.4", 16, "WellKnown")], "10.0.0.1", ["10.0.0.1"], True)
    result = plan(spec, probe(network(converged=True), [vm("LAB-VM1", MAC1, switch="VmNAT")], [rep]))
    assert result.after["guests"]["LAB-VM1"]["addresses"] == ["169.254.3.4/16", "192.168.100.5/24"]


def test_switch_created_reconnects_even_connected_adapters() -> None:
    net = network(switches=[host_switch(switch_type="Private")])
    spec = build_spec(args(replace=True, guests=[guest("LAB-VM1")]))
    result = plan(spec, probe(net, [vm("LAB-VM1", MAC1, switch="VmNAT")], [report("LAB-VM1", MAC1)]))
    assert "Connect-VMNetworkAdapter" in cmdlets(result.operations)


def _guest_failure(spec_overrides: dict[str, t.Any], vms: list[dict[str, t.Any]], reports: list[dict[str, t.Any]]) -> str:
    with pytest.raises(PlanningError) as caught:
        plan(build_spec(args(**spec_overrides)), probe(network(converged=True), vms, reports))
    return caught.value.msg


def test_guest_failures_name_the_guest() -> None:
    one = {"guests": [guest("LAB-VM1")]}
    assert _guest_failure(one, [], []) == "guests[0].vm: no VM named LAB-VM1 on this host (VMs: none)"
    assert _guest_failure(one, [vm("LAB-VM1", MAC1, state="Off")], []).startswith("guests[0].vm: LAB-VM1 is Off; start it first")
    unreachable = {**report("LAB-VM1", MAC1), "reachable": False, "error": "The credential is invalid."}
    assert _guest_failure(one, [vm("LAB-VM1", MAC1)], [unreachable]) == "guests[0]: cannot reach LAB-VM1 through PowerShell Direct: The credential is invalid."
    assert _guest_failure(one, [vm("LAB-VM1", MAC1)], [report("LAB-VM1", MAC2)]).startswith(
        "guests[0]: found no network adapter inside LAB-VM1 with the MAC address 00155D000101"
    )
    elsewhere = vm("LAB-VM1", MAC1, switch="External")
    assert _guest_failure(one, [elsewhere], [report("LAB-VM1", MAC1)]).startswith(
        "guests[0].adapter: adapter Network Adapter of LAB-VM1 is connected to switch External"
    )
    two = vm(
        "LAB-VM1",
        MAC1,
        adapters=[
            vm_adapter(name="A", id="a", switch_name=None, mac_address=MAC1),
            vm_adapter(name="B", id="b", switch_name=None, mac_address=MAC2),
        ],
    )
    assert _guest_failure(one, [two], [report("LAB-VM1", MAC1)]) == (
        "guests[0].adapter: LAB-VM1 has several network adapters (A, B); name the one for switch VmNAT"
    )
    assert _guest_failure({"guests": [guest("LAB-VM1", adapter="C")]}, [two], [report("LAB-VM1", MAC1)]) == (
        "guests[0].adapter: LAB-VM1 has no adapter named C (adapters: A, B)"
    )
    chosen = plan(build_spec(args(guests=[guest("LAB-VM1", adapter="B")])), probe(network(converged=True), [two], [report("LAB-VM1", MAC2)]))
    assert chosen.operations[0]["adapter_id"] == "b"


def test_swapped_addresses_are_released_before_they_are_taken() -> None:
    spec = build_spec(args(guests=[guest("LAB-VM1", ip="192.168.100.6"), guest("LAB-VM2", ip="192.168.100.5"), guest("LAB-VM3")]))
    vms = [vm("LAB-VM1", MAC1, switch="VmNAT"), vm("LAB-VM2", MAC2, switch="VmNAT"), vm("LAB-VM3", "00155D000103", switch="VmNAT")]
    reports = [
        report("LAB-VM1", MAC1, [("192.168.100.5", 24, "Manual")], "192.168.100.1", ["1.1.1.1", "8.8.8.8"]),
        report("LAB-VM2", MAC2, [("192.168.100.6", 24, "Manual")], "192.168.100.1", ["1.1.1.1", "8.8.8.8"]),
        report("LAB-VM3", "00155D000103", [("192.168.100.2", 24, "Manual")], "192.168.100.1", ["1.1.1.1", "8.8.8.8"]),
    ]
    result = plan(spec, probe(network(converged=True), vms, reports))
    steps = [(op["vm"], [(n["cmdlet"], n["parameters"].get("IPAddress")) for n in op["operations"]]) for op in result.operations]
    assert steps == [
        ("LAB-VM1", [("Remove-NetIPAddress", "192.168.100.5")]),
        ("LAB-VM2", [("Remove-NetIPAddress", "192.168.100.6")]),
        ("LAB-VM1", [("Remove-NetRoute", None), ("New-NetIPAddress", "192.168.100.6")]),
        ("LAB-VM2", [("Remove-NetRoute", None), ("New-NetIPAddress", "192.168.100.5")]),
    ]
    assert [g["changed"] for g in result.values["guests"]] == [True, True, False]


@pytest.mark.parametrize("state", ["present", "absent"])
def test_two_switches_of_that_name_are_refused(state: str) -> None:
    net = network(converged=True)
    net["switches"].append(host_switch(switch_type="External", net_adapter_interface_description="NIC"))
    assert _failure({"state": state}, net) == "switch_name: 2 switches are named VmNAT (Internal, External); rename or remove the extra ones first"


# ----------------------------------------------------------------------------- one NAT per host


def test_a_second_nat_is_refused_naming_the_existing_one_and_its_prefix() -> None:
    net = network(nats=[host_nat(name="DockerNAT", internal_ip_interface_address_prefix="172.20.0.0/16")])
    message = _failure({}, net)
    assert message.startswith("nat_name: this host already has the NAT network DockerNAT (172.20.0.0/16), which this task does not manage")
    assert "Multiple NAT networks are not supported" in message
    assert "allow_multiple_nats: true" in message


def test_a_second_nat_is_added_when_allowed_with_a_warning() -> None:
    net = network(nats=[host_nat(name="DockerNAT", internal_ip_interface_address_prefix="172.20.0.0/16")])
    result = plan(build_spec(args(allow_multiple_nats=True)), probe(net))
    assert "New-NetNat" in cmdlets(result.operations)
    assert any("2 NAT networks" in warning and "DockerNAT (172.20.0.0/16)" in warning for warning in result.warnings)


def test_managing_our_nat_beside_another_only_warns() -> None:
    net = network(converged=True)
    net["nats"].append(host_nat(name="DockerNAT", internal_ip_interface_address_prefix="172.20.0.0/16"))
    result = plan(build_spec(args()), probe(net))
    assert result.operations == []
    assert any("DockerNAT (172.20.0.0/16)" in warning for warning in result.warnings)


def test_replacing_our_own_nat_is_not_a_second_one() -> None:
    net = network(converged=True)
    net["nats"][0]["internal_ip_interface_address_prefix"] = "192.168.50.0/24"
    assert cmdlets(plan(build_spec(args(replace=True)), probe(net)).operations) == ["Remove-NetNat", "New-NetNat"]


# ----------------------------------------------------------------------------- firewall rules of port mappings

RULE = "hyperv.nested-nat-TCP-0.0.0.0-50022"


def firewall_args(**overrides: t.Any) -> dict[str, t.Any]:
    return args(firewall_rules=True, port_mappings=[mapping(internal_ip="192.168.100.2")], **overrides)


def test_a_new_mapping_opens_a_matching_inbound_rule_after_it() -> None:
    result = plan(build_spec(firewall_args()), probe(network(converged=True)))
    assert cmdlets(result.operations) == ["Add-NetNatStaticMapping", "New-NetFirewallRule"]
    assert result.operations[1]["parameters"] == {
        "Name": RULE,
        "DisplayName": "hyperv.nested NAT: TCP port 50022",
        "Description": "Admits the port mapping TCP 0.0.0.0:50022 of the NAT LocalNAT (hyperv.nested.win_nested_nat).",
        "Group": "hyperv.nested NAT port mappings",
        "Direction": "Inbound",
        "Action": "Allow",
        "Enabled": "True",
        "Profile": "Any",
        "Protocol": "TCP",
        "LocalPort": ["50022"],
    }
    assert result.after["firewall_rules"] == [RULE]
    assert result.values["port_mappings"][0]["firewall_rule"] == RULE


def test_a_mapping_on_one_address_opens_the_port_on_that_address_only() -> None:
    udp = mapping(protocol="udp", external_ip="10.0.0.5", external_port=53, internal_ip="192.168.100.2", internal_port=53)
    result = plan(build_spec(args(firewall_rules=True, port_mappings=[udp])), probe(network(converged=True)))
    rule = result.operations[1]["parameters"]
    assert (rule["Name"], rule["Protocol"], rule["LocalPort"], rule["LocalAddress"]) == ("hyperv.nested-nat-UDP-10.0.0.5-53", "UDP", ["53"], ["10.0.0.5"])


def test_mapping_and_rule_in_place_is_converged() -> None:
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule()])
    result = plan(build_spec(firewall_args()), probe(net))
    assert result.operations == []
    assert result.before == result.after


def test_a_kept_mapping_without_its_rule_gets_it() -> None:
    net = network(converged=True, static_mappings=[static_mapping()])
    assert cmdlets(plan(build_spec(firewall_args()), probe(net)).operations) == ["New-NetFirewallRule"]


@pytest.mark.parametrize(
    "change",
    [{"enabled": False}, {"action": "Block"}, {"direction": "Outbound"}, {"local_port": ["50023"]}, {"protocol": "UDP"}, {"local_address": ["10.9.9.9"]}],
)
def test_a_rule_that_does_not_admit_the_mapping_is_replaced(change: dict[str, t.Any]) -> None:
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule(**change)])
    result = plan(build_spec(firewall_args()), probe(net))
    assert cmdlets(result.operations) == ["Remove-NetFirewallRule", "New-NetFirewallRule"]
    assert result.operations[0]["parameters"] == {"Name": RULE}


def test_a_retargeted_mapping_keeps_its_rule() -> None:
    net = network(converged=True, static_mappings=[static_mapping(internal_ip_address="192.168.100.9")], firewall_rules=[firewall_rule()])
    assert cmdlets(plan(build_spec(firewall_args()), probe(net)).operations) == ["Remove-NetNatStaticMapping", "Add-NetNatStaticMapping"]


def test_a_purged_mapping_closes_its_rule_first() -> None:
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule()])
    result = plan(build_spec(args(firewall_rules=True, purge_port_mappings=True)), probe(net))
    assert cmdlets(result.operations) == ["Remove-NetFirewallRule", "Remove-NetNatStaticMapping"]
    assert result.after["firewall_rules"] == []


def test_an_unlisted_mapping_kept_without_purge_keeps_its_rule_as_it_is() -> None:
    net = network(converged=True, static_mappings=[static_mapping()])
    assert plan(build_spec(args(firewall_rules=True)), probe(net)).operations == []


def test_absent_closes_the_rules_of_the_mappings_it_removes() -> None:
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule()])
    result = plan(build_spec(args(state="absent", firewall_rules=True)), probe(net))
    assert cmdlets(result.operations)[:2] == ["Remove-NetFirewallRule", "Remove-NetNatStaticMapping"]
    assert result.after["firewall_rules"] == []


def test_firewall_rules_false_leaves_the_firewall_alone() -> None:
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule(enabled=False)])
    assert plan(build_spec(args(port_mappings=[mapping(internal_ip="192.168.100.2")])), probe(net)).operations == []
    absent = plan(build_spec(args(state="absent")), probe(net))
    assert "Remove-NetFirewallRule" not in cmdlets(absent.operations)


def test_rules_of_other_mappings_are_never_touched() -> None:
    other = firewall_rule(name="hyperv.nested-nat-TCP-0.0.0.0-8080", local_port=["8080"], enabled=False)
    net = network(converged=True, static_mappings=[static_mapping()], firewall_rules=[firewall_rule(), other])
    assert plan(build_spec(firewall_args()), probe(net)).operations == []


# ----------------------------------------------------------------------------- Azure as the nested host


def test_the_platform_is_probed_only_when_the_guests_dns_is_left_to_the_module() -> None:
    without = probe_parameters(build_spec(args(guest_dns=None, guests=[guest("A")])))
    assert without["sections"] == ["network", "vms", "guests", "platform"]
    assert probe_parameters(build_spec(args(guests=[guest("A")])))["sections"] == ["network", "vms", "guests"]
    assert probe_parameters(build_spec(args(guest_dns=None)))["sections"] == ["network"]


def _dns_plan(platform: dict[str, t.Any], **overrides: t.Any) -> t.Any:
    spec = build_spec(args(guests=[guest("LAB-VM1")], **{"guest_dns": None, **overrides}))
    answer = {**probe(network(converged=True), [vm("LAB-VM1", MAC1, switch="VmNAT")], [report("LAB-VM1", MAC1)]), "platform": platform}
    return plan(spec, answer)


def test_on_azure_the_guests_use_azures_resolver_and_the_module_says_so() -> None:
    result = _dns_plan(AZURE_PLATFORM)
    assert result.values["guests"][0]["dns"] == ["168.63.129.16"]
    (note,) = result.notes
    assert "Azure" in note and "168.63.129.16" in note and "guest_dns" in note


def test_elsewhere_the_default_dns_stays_the_public_pair() -> None:
    result = _dns_plan(HYPERV_VM_PLATFORM)
    assert result.values["guests"][0]["dns"] == ["1.1.1.1", "8.8.8.8"]
    assert result.notes == []


def test_dns_given_by_the_user_wins_on_azure() -> None:
    result = _dns_plan(AZURE_PLATFORM, guest_dns=["10.0.0.53"])
    assert result.values["guests"][0]["dns"] == ["10.0.0.53"] and result.notes == []
