"""win_nested_nat against the simulated fleet: a real WinRM round trip to an L1 that already is a
Hyper-V host (tests/lab/labs/nat-ready.yml), its L2 guests reached through PowerShell Direct."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab, PlaybookRun

LAB_FILE = Path(__file__).parent / "labs" / "nat-ready.yml"
L1 = "lab-hv1"
GUEST_PASSWORD = "GuestPassw0rd!"
GUESTS = {"guest_username": "Administrator", "guest_password": GUEST_PASSWORD, "guests": [{"vm": "LAB-VM1"}, {"vm": "LAB-VM2"}]}


@pytest.fixture
def lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    # lab_factory joins the name to the shipped labs' folder: an absolute path selects our own lab.
    return lab_factory(str(LAB_FILE.with_suffix("")))


class Nat:
    """Runs one win_nested_nat task per playbook and reads its result and what the L1 received."""

    def __init__(self, lab: Lab, tmp_path: Path) -> None:
        self.lab = lab
        self.tmp_path = tmp_path
        self.runs = 0

    def __call__(self, *flags: str, **args: t.Any) -> tuple[dict[str, t.Any], list[str], PlaybookRun]:
        self.runs += 1
        playbook = self.tmp_path / f"nat-{self.runs}.yml"
        task = {"hyperv.nested.win_nested_nat": args, "register": "nat"}
        playbook.write_text(yaml.safe_dump([{"hosts": L1, "gather_facts": False, "tasks": [task]}]), encoding="utf-8")
        seen = len(self.lab.transcript(L1))
        run = self.lab.playbook(playbook, *flags)
        assert GUEST_PASSWORD not in run.stdout, "a guest password reached the task output"
        document = json.loads(run.stdout)
        result = document["plays"][0]["tasks"][0]["hosts"][L1]
        sent = [json.loads(entry["stdin"])["script_name"] for entry in self.lab.transcript(L1)[seen:]]
        return result, sent, run


@pytest.fixture
def nat(lab: Lab, tmp_path: Path) -> Nat:
    return Nat(lab, tmp_path)


def network(lab: Lab) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], lab.show(L1)["network"])


def test_guests_get_connectivity_and_the_second_run_is_one_probe(lab: Lab, nat: Nat) -> None:
    assert lab.connectivity("lab-vm1")["connected"] is False

    result, sent, run = nat("--diff", **GUESTS, port_mappings=[{"external_port": 50022, "vm": "LAB-VM1", "internal_port": 22}])
    assert run.rc == 0, result
    assert result["changed"] is True
    assert sent == ["probe", "execute"]
    assert [g["ip"] for g in result["guests"]] == ["192.168.100.2", "192.168.100.77"]  # VM2 keeps the address it had
    assert result["diff"]["before"]["guests"]["LAB-VM2"]["default_gateway"] == "192.168.100.254"
    assert result["diff"]["after"]["guests"]["LAB-VM2"]["addresses"] == ["192.168.100.77/24"]
    assert all(op["status"] == "ok" for op in result["operations"])

    for guest in ("lab-vm1", "lab-vm2"):
        report = lab.connectivity(guest)
        assert report["connected"] is True, report
        assert report["path"] == "nat"
    state = network(lab)
    assert {"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"} in state["nats"]
    assert [(m["external_port"], m["internal_ip_address"], m["internal_port"]) for m in state["static_mappings"]] == [(50022, "192.168.100.2", 22)]
    assert any(a["interface_alias"] == "vEthernet (VmNAT)" and a["ip_address"] == "192.168.100.1" and a["prefix_length"] == 24 for a in state["ip_addresses"])

    again, sent, run = nat("--diff", **GUESTS, port_mappings=[{"external_port": 50022, "vm": "LAB-VM1", "internal_port": 22}])
    assert run.rc == 0
    assert again["changed"] is False
    assert again["commands"] == []
    assert sent == ["probe"]
    assert [g["ip"] for g in again["guests"]] == ["192.168.100.2", "192.168.100.77"]


def test_check_mode_changes_nothing(lab: Lab, nat: Nat) -> None:
    result, sent, run = nat("--check", "--diff", **GUESTS)
    assert run.rc == 0
    assert result["changed"] is True
    assert sent == ["probe"]
    assert result["commands"][0] == "New-VMSwitch -Name 'VmNAT' -SwitchType 'Internal'"
    assert network(lab)["nats"] == []
    assert lab.connectivity("lab-vm1")["connected"] is False


def test_absent_removes_in_order_and_then_is_unchanged(lab: Lab, nat: Nat) -> None:
    nat(**GUESTS, port_mappings=[{"protocol": "udp", "external_port": 5353, "vm": "LAB-VM2", "internal_port": 53}])
    assert lab.connectivity("lab-vm1")["connected"] is True

    result, sent, run = nat("--diff", state="absent")
    assert run.rc == 0, result
    assert result["changed"] is True
    assert sent == ["probe", "execute"]
    assert [command.split(" ", 1)[0] for command in result["commands"]] == [
        "Remove-NetFirewallRule",
        "Remove-NetNatStaticMapping",
        "Remove-NetIPAddress",
        "Remove-NetNat",
        "Remove-VMSwitch",
    ]
    state = network(lab)
    assert state["nats"] == [] and state["static_mappings"] == [] and state["firewall_rules"] == []
    assert [s["name"] for s in state["switches"]] == ["Isolated"]  # never created by us, never removed
    assert not any(a["ip_address"].startswith("192.168.100.") for a in state["ip_addresses"])
    assert lab.connectivity("lab-vm1")["connected"] is False

    again, sent, _run = nat(state="absent")
    assert again["changed"] is False
    assert sent == ["probe"]


def test_conflicts_fail_with_nothing_sent(lab: Lab, nat: Nat) -> None:
    result, sent, _run = nat(switch_name="Isolated")
    assert result["failed"] is True
    assert result["msg"] == (
        "switch_name: a switch named Isolated exists and is Private, not Internal; set replace: true to replace it or choose another switch_name"
    )
    assert sent == ["probe"]

    created, _sent, run = nat(switch_name="Other", nat_name="OtherNAT", prefix="192.168.0.0/16")
    assert run.rc == 0 and created["changed"] is True
    # One NAT network per host: a second NetNat is refused with a sentence that names the existing one.
    result, sent, _run = nat(**GUESTS)
    assert result["failed"] is True
    assert result["msg"].startswith(
        "nat_name: this host already has the NAT network OtherNAT (192.168.0.0/16), which this task does not manage, so LocalNAT is not added"
    )
    assert "allow_multiple_nats: true" in result["msg"]
    assert sent == ["probe"]
    result, sent, _run = nat(**GUESTS, allow_multiple_nats=True)
    assert result["failed"] is True
    assert result["msg"] == "prefix: 192.168.100.0/24 overlaps 192.168.0.0/16 of NAT OtherNAT, which this task does not manage"
    assert sent == ["probe"]

    result, sent, _run = nat(switch_name="Other", nat_name="OtherNAT", prefix="10.10.0.0/24")
    assert result["failed"] is True
    assert result["msg"].startswith("prefix: NAT OtherNAT exists with prefix 192.168.0.0/16, not 10.10.0.0/24; set replace: true")
    assert sent == ["probe"]

    result, sent, run = nat(switch_name="Other", nat_name="OtherNAT", prefix="10.10.0.0/24", replace=True)
    assert run.rc == 0, result
    assert {"name": "OtherNAT", "internal_ip_interface_address_prefix": "10.10.0.0/24"} in network(lab)["nats"]

    result, sent, run = nat(switch_name="Isolated", replace=True, allow_multiple_nats=True, **GUESTS)
    assert run.rc == 0, result
    assert any("2 NAT networks" in warning for warning in result["warnings"])
    assert [s["switch_type"] for s in network(lab)["switches"] if s["name"] == "Isolated"] == ["Internal"]
    assert lab.connectivity("lab-vm2")["connected"] is True


def test_bad_input_is_refused_before_contacting_the_host(lab: Lab, nat: Nat) -> None:
    result, sent, _run = nat(**{**GUESTS, "guests": [{"vm": "LAB-VM1"}, {"vm": "LAB-VM2", "ip": "192.168.200.5"}]})
    assert result["failed"] is True
    assert result["msg"] == "guests[1].ip: 192.168.200.5 is outside prefix 192.168.100.0/24"
    assert sent == []

    result, sent, _run = nat(port_mappings=[{"external_port": 0, "internal_ip": "192.168.100.2", "internal_port": 22}])
    assert result["msg"] == "port_mappings[0].external_port: 0 is not a port number between 1 and 65535"
    assert sent == []


def test_wrong_guest_password_fails_naming_the_guest(lab: Lab, nat: Nat) -> None:
    result, sent, _run = nat(**{**GUESTS, "guests": [{"vm": "LAB-VM1", "password": "not-it"}]})
    assert result["failed"] is True
    assert result["msg"].startswith("guests[0]: cannot reach LAB-VM1 through PowerShell Direct")
    assert sent == ["probe"]
    assert network(lab)["switches"] == [{"name": "Isolated", "switch_type": "Private", "net_adapter_interface_description": None, "host_interface_index": None}]


def test_port_mappings_are_retargeted_and_purged(lab: Lab, nat: Nat) -> None:
    first = [
        {"external_port": 50022, "vm": "LAB-VM1", "internal_port": 22},
        {"external_port": 8080, "internal_ip": "192.168.100.77", "internal_port": 80},
    ]
    nat(**GUESTS, port_mappings=first)
    moved = [{"external_port": 50022, "vm": "LAB-VM2", "internal_port": 2222}]
    result, sent, run = nat(**GUESTS, port_mappings=moved)
    assert run.rc == 0, result
    assert sent == ["probe", "execute"]
    mappings = {m["external_port"]: (m["internal_ip_address"], m["internal_port"]) for m in network(lab)["static_mappings"]}
    assert mappings == {50022: ("192.168.100.77", 2222), 8080: ("192.168.100.77", 80)}  # unlisted one kept

    assert sorted(rule["name"] for rule in network(lab)["firewall_rules"]) == [
        "hyperv.nested-nat-TCP-0.0.0.0-50022",  # kept: its mapping was retargeted under the same port
        "hyperv.nested-nat-TCP-0.0.0.0-8080",
    ]

    result, _sent, run = nat(**GUESTS, port_mappings=moved, purge_port_mappings=True)
    assert run.rc == 0 and result["changed"] is True
    assert [m["external_port"] for m in network(lab)["static_mappings"]] == [50022]
    assert [rule["name"] for rule in network(lab)["firewall_rules"]] == ["hyperv.nested-nat-TCP-0.0.0.0-50022"]


def test_part_way_failure_is_reported_and_the_next_run_finishes(lab: Lab, nat: Nat) -> None:
    lab.fault("fail_cmdlet_once", host=L1, cmdlet="New-NetNat", message="The parameter is incorrect.")
    result, sent, run = nat(**GUESTS)
    assert run.rc != 0
    assert result["failed"] is True
    assert result["changed"] is True  # the switch was created before New-NetNat failed
    assert result["msg"].startswith("Operation 2 of ")
    assert "New-NetNat -Name 'LocalNAT'" in result["msg"] and "The parameter is incorrect." in result["msg"]
    assert [op["status"] for op in result["operations"]][:3] == ["ok", "failed", "not_run"]
    assert sent == ["probe", "execute"]

    result, _sent, run = nat(**GUESTS)
    assert run.rc == 0, result
    assert not any(c.startswith("New-VMSwitch") for c in result["commands"])
    assert lab.connectivity("lab-vm1")["connected"] is True


MAPPING = [{"external_port": 50022, "vm": "LAB-VM1", "internal_port": 22}]


def mapped(lab: Lab, guest: str = "lab-vm1") -> dict[str, t.Any]:
    (report,) = lab.connectivity(guest)["port_mappings"]
    return t.cast(dict[str, t.Any], report)


def test_a_port_mapping_is_reachable_through_the_firewall_and_its_rule_goes_with_it(lab: Lab, nat: Nat) -> None:
    result, sent, run = nat(**GUESTS, port_mappings=MAPPING)
    assert run.rc == 0, result
    assert result["port_mappings"][0]["firewall_rule"] == "hyperv.nested-nat-TCP-0.0.0.0-50022"
    assert any(command.startswith("New-NetFirewallRule -Name 'hyperv.nested-nat-TCP-0.0.0.0-50022'") for command in result["commands"])
    (rule,) = network(lab)["firewall_rules"]
    assert (rule["direction"], rule["action"], rule["enabled"], rule["protocol"], rule["local_port"]) == ("Inbound", "Allow", True, "TCP", ["50022"])
    assert mapped(lab)["reachable"] is True

    converged, sent, _run = nat(**GUESTS, port_mappings=MAPPING)
    assert converged["changed"] is False and sent == ["probe"]

    # The mapping goes (purged): its rule is closed before it, and nothing is reachable any more.
    result, sent, run = nat(**GUESTS, purge_port_mappings=True)
    assert run.rc == 0, result
    assert [command.split(" ", 1)[0] for command in result["commands"]] == ["Remove-NetFirewallRule", "Remove-NetNatStaticMapping"]
    assert network(lab)["firewall_rules"] == [] and network(lab)["static_mappings"] == []
    assert lab.connectivity("lab-vm1")["port_mappings"] == []


def test_without_firewall_rules_a_mapped_port_is_unreachable(lab: Lab, nat: Nat) -> None:
    result, _sent, run = nat(**GUESTS, port_mappings=MAPPING, firewall_rules=False)
    assert run.rc == 0, result
    assert network(lab)["firewall_rules"] == []
    report = mapped(lab)
    assert report["reachable"] is False
    assert report["reasons"] == ["the firewall of lab-hv1 admits no inbound TCP traffic to port 50022"]
    # Turned on again, the next run opens the rule for the mapping that is already there.
    result, _sent, run = nat(**GUESTS, port_mappings=MAPPING)
    assert [command.split(" ", 1)[0] for command in result["commands"]] == ["New-NetFirewallRule"]
    assert mapped(lab)["reachable"] is True


def test_a_rule_that_failed_to_open_is_opened_by_the_next_run(lab: Lab, nat: Nat) -> None:
    nat(**GUESTS, port_mappings=MAPPING)
    lab.fault("fail_cmdlet_once", host=L1, cmdlet="New-NetFirewallRule", message="Access is denied.")
    result, sent, run = nat(**GUESTS, port_mappings=[*MAPPING, {"external_port": 8080, "vm": "LAB-VM1", "internal_port": 80}])
    assert run.rc != 0 and "Access is denied." in result["msg"]
    assert sent == ["probe", "execute"]
    # The mapping was added, its rule was not: the next run opens only the missing rule.
    result, _sent, run = nat(**GUESTS, port_mappings=[*MAPPING, {"external_port": 8080, "vm": "LAB-VM1", "internal_port": 80}])
    assert run.rc == 0, result
    assert [command.split(" ", 1)[0] for command in result["commands"]] == ["New-NetFirewallRule"]
    assert sorted(rule["name"] for rule in network(lab)["firewall_rules"]) == [
        "hyperv.nested-nat-TCP-0.0.0.0-50022",
        "hyperv.nested-nat-TCP-0.0.0.0-8080",
    ]


def test_on_an_azure_l1_the_guests_get_azures_resolver_and_the_module_says_so(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("azure-l1")
    playbook = tmp_path / "azure.yml"
    args = {"guest_username": "Administrator", "guest_password": GUEST_PASSWORD, "guests": [{"vm": "AZ-VM1"}, {"vm": "AZ-VM2", "dns": ["10.0.0.53"]}]}
    playbook.write_text(yaml.safe_dump([{"hosts": "az-hv1", "gather_facts": False, "tasks": [{"hyperv.nested.win_nested_nat": args}]}]), encoding="utf-8")
    run = lab.playbook(playbook)
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["az-hv1"]
    assert run.rc == 0, result.get("msg")
    assert [guest["dns"] for guest in result["guests"]] == [["168.63.129.16"], ["10.0.0.53"]]
    (note,) = result["notes"]
    assert "Azure VM" in note and "168.63.129.16" in note and "AZ-VM1" in note and "AZ-VM2" not in note
    assert "warnings" not in result
    for guest in ("az-vm1", "az-vm2"):
        assert lab.connectivity(guest)["connected"] is True, guest
    request = lab.requests("az-hv1", "probe")[0]
    assert request["parameters"]["sections"] == ["network", "vms", "guests", "platform"]
