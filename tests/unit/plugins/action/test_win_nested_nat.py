from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.action.win_nested_nat import ActionModule
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError

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
from .action_harness import ActionHarness

SECRET = "Gu3st-Secret!"


def network(converged: bool) -> dict[str, t.Any]:
    if not converged:
        return network_section()
    return network_section(
        switches=[host_switch()],
        nats=[host_nat()],
        ip_addresses=[host_ip_address()],
        static_mappings=[static_mapping()],
        adapters=[host_net_adapter()],
        firewall_rules=[firewall_rule()],
    )


def guest_probe(converged: bool, platform: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    # The VM's adapter and the guest's adapter have the same MAC address (00155D000101).
    vm_nic = vm_adapter("LAB-VM1", switch_name="VmNAT" if converged else None)
    guest_nic = guest_adapter(interface_index=5)
    if converged:
        guest_nic.update(
            ipv4=[{"ip_address": "192.168.100.2", "prefix_length": 24, "prefix_origin": "Manual"}],
            default_gateway="192.168.100.1",
            dns_servers=["1.1.1.1", "8.8.8.8"],
        )
    return {
        "network": network(converged),
        "vms": vms_section(probe_vm("LAB-VM1", adapters=[vm_nic])),
        "guests": [guest_report("LAB-VM1", [guest_nic])],
        "platform": dict(platform or HYPERV_VM_PLATFORM),
    }


GUEST_ARGS = {
    "guests": [{"vm": "LAB-VM1"}],
    "guest_username": "Administrator",
    "guest_password": SECRET,
    "port_mappings": [{"external_port": 50022, "vm": "LAB-VM1", "internal_port": 22}],
}


def executed(operations: list[dict[str, t.Any]], failed_index: int | None = None, message: str = "boom") -> dict[str, t.Any]:
    reports = []
    for index in range(len(operations)):
        if failed_index is None or index < failed_index:
            reports.append({"index": index, "status": "ok", "message": None, "duration_ms": 1})
        elif index == failed_index:
            reports.append({"index": index, "status": "failed", "message": message, "duration_ms": 1})
        else:
            reports.append({"index": index, "status": "not_run", "message": None, "duration_ms": 0})
    return {"operations": reports, "failed_index": failed_index, "on_failure": [], "vm_states": {}}


class ScriptedHarness(ActionHarness):
    """Answers the executor with a per-op report built from the operations actually sent."""

    def __init__(self, *args: t.Any, failed_index: int | None = None, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.failed_index = failed_index
        self.failed_message = "boom"

    def _call_target(self, script_name: str, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
        if script_name == "execute":
            self.calls.append((script_name, parameters))
            return executed(parameters["operations"], self.failed_index, self.failed_message)
        return super()._call_target(script_name, parameters)


def scripted(args: dict[str, t.Any], probe: dict[str, t.Any], **kwargs: t.Any) -> ScriptedHarness:
    harness = ScriptedHarness(ActionModule, args, **kwargs)
    harness.action.call_target = harness._call_target
    harness.respond(probe)
    return harness


def test_converged_run_is_one_probe_and_unchanged() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=True), diff=True)
    result = harness.run()
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert harness.scripts_called == ["probe"]
    assert result["commands"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["msg"] == "NAT networking is already as requested."


def test_probe_asks_for_network_vms_and_guests_once() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=True))
    harness.run()
    assert harness.calls == [
        (
            "probe",
            {
                # platform: the guests' default DNS depends on it (Azure); guest_dns is not set.
                "sections": ["network", "vms", "guests", "platform"],
                "vm_names": ["LAB-VM1"],
                "guests": [{"vm": "LAB-VM1", "username": "Administrator", "password": SECRET}],
            },
        )
    ]


def test_changes_are_one_executor_call_with_commands_and_diff() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=False), diff=True)
    result = harness.run()
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert harness.scripts_called == ["probe", "execute"]
    sent = harness.calls[1][1]
    assert sent["on_failure"] == []
    assert [op.get("cmdlet", op["kind"]) for op in sent["operations"]] == [
        "New-VMSwitch",
        "New-NetNat",
        "New-NetIPAddress",
        "Add-NetNatStaticMapping",
        "New-NetFirewallRule",
        "Connect-VMNetworkAdapter",
        "guest",
    ]
    assert sent["operations"][-1]["password"] == SECRET  # the target needs it ...
    assert result["commands"][0] == "New-VMSwitch -Name 'VmNAT' -SwitchType 'Internal'"
    assert result["commands"][-1].startswith("Invoke-Command -VMId (Get-VM -Name 'LAB-VM1').Id -Credential (Get-Credential 'Administrator')")
    assert "New-NetIPAddress -InterfaceIndex 5 -IPAddress '192.168.100.2' -PrefixLength 24 -DefaultGateway '192.168.100.1'" in result["commands"][-1]
    assert [entry["status"] for entry in result["operations"]] == ["ok"] * 7
    assert result["guests"][0]["ip"] == "192.168.100.2"
    assert result["port_mappings"] == [
        {
            "protocol": "TCP",
            "external_ip": "0.0.0.0",
            "external_port": 50022,
            "internal_ip": "192.168.100.2",
            "internal_port": 22,
            "firewall_rule": "hyperv.nested-nat-TCP-0.0.0.0-50022",
        }
    ]
    assert "New-NetFirewallRule -Name 'hyperv.nested-nat-TCP-0.0.0.0-50022'" in result["commands"][4]
    assert result["diff"]["after"]["firewall_rules"] == ["hyperv.nested-nat-TCP-0.0.0.0-50022"]
    assert result["diff"]["before"]["switch"] is None
    assert result["diff"]["after"]["guests"]["LAB-VM1"]["addresses"] == ["192.168.100.2/24"]
    assert SECRET not in json.dumps(result)  # ... the user never sees it


def test_check_mode_sends_no_executor_call() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=False), check_mode=True, diff=True)
    result = harness.run()
    assert result["changed"] is True
    assert harness.scripts_called == ["probe"]
    assert len(result["commands"]) == 7
    assert "operations" not in result
    assert "check mode" in result["msg"]
    assert SECRET not in json.dumps(result)


def test_no_diff_unless_asked() -> None:
    assert "diff" not in scripted({}, {"network": network(converged=False)}).run()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"prefix": "192.168.100.0/33"}, "prefix: '192.168.100.0/33' is not an IPv4 network"),
        ({"guests": [{"vm": "A", "ip": "192.168.200.5"}], "guest_username": "u", "guest_password": SECRET}, "guests[0].ip: 192.168.200.5 is outside prefix"),
        ({"guests": [{"vm": "A"}], "guest_username": "u"}, "guests[0].password: no password for A"),
        ({"port_mappings": [{"external_port": 70000, "internal_ip": "192.168.100.2", "internal_port": 22}]}, "port_mappings[0].external_port: 70000"),
        ({"guest_dns": ["one.one.one.one"]}, "guest_dns[0]: 'one.one.one.one' is not an IPv4 address"),
        ({"state": "gone"}, "state"),
        ({"colour": "red"}, "colour"),
        ({"port_mappings": [{"external_port": 1, "internal_ip": "192.168.100.2"}]}, "internal_port"),
    ],
)
def test_bad_input_fails_before_anything_is_sent(args: dict[str, t.Any], message: str) -> None:
    harness = ActionHarness(ActionModule, args)
    result = harness.run()
    assert result["failed"] is True
    assert message in result["msg"]
    assert result["changed"] is False
    assert harness.calls == []
    assert SECRET not in json.dumps(result)


def test_conflict_fails_after_the_probe_with_nothing_sent() -> None:
    probe = {"network": network_section(nats=[host_nat(name="Other", internal_ip_interface_address_prefix="192.168.0.0/16")])}
    harness = scripted({"allow_multiple_nats": True}, probe)
    result = harness.run()
    assert result["failed"] is True
    assert result["msg"] == "prefix: 192.168.100.0/24 overlaps 192.168.0.0/16 of NAT Other, which this task does not manage"
    assert harness.scripts_called == ["probe"]


def test_a_second_nat_is_refused_with_a_sentence_naming_the_existing_one() -> None:
    probe = {"network": network_section(nats=[host_nat(name="DockerNAT", internal_ip_interface_address_prefix="172.20.0.0/16")])}
    harness = scripted({}, probe)
    result = harness.run()
    assert result["failed"] is True and result["changed"] is False
    assert "already has the NAT network DockerNAT (172.20.0.0/16)" in result["msg"]
    assert harness.scripts_called == ["probe"]


def test_on_azure_the_guests_get_azures_resolver_and_a_note_says_so() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=False, platform=AZURE_PLATFORM))
    result = harness.run()
    assert result.get("failed") is not True, result
    assert result["guests"][0]["dns"] == ["168.63.129.16"]
    assert any("168.63.129.16" in note for note in result["notes"])
    assert "warnings" not in result


def test_firewall_rules_can_be_turned_off() -> None:
    harness = scripted({**GUEST_ARGS, "firewall_rules": False}, guest_probe(converged=False), check_mode=True)
    result = harness.run()
    assert not any(command.startswith("New-NetFirewallRule") for command in result["commands"])
    assert result["port_mappings"][0]["firewall_rule"] is None


def test_part_way_failure_is_reported_per_operation() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=False), failed_index=2)
    result = harness.run()
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("Operation 3 of 7 failed: New-NetIPAddress -InterfaceAlias 'vEthernet (VmNAT)' -IPAddress")
    assert "boom" in result["msg"] and "2 operation(s) before it were applied" in result["msg"]
    assert [entry["status"] for entry in result["operations"]] == ["ok", "ok", "failed", "not_run", "not_run", "not_run", "not_run"]
    assert SECRET not in json.dumps(result)


def test_target_words_never_carry_a_guest_password() -> None:
    harness = scripted(GUEST_ARGS, guest_probe(converged=False), failed_index=6)
    harness.failed_message = f"Logon failure for password {SECRET}"
    result = harness.run()
    assert result["failed"] is True
    assert "Logon failure for password ********" in result["msg"]
    assert SECRET not in json.dumps(result)

    probe_failure = ActionHarness(ActionModule, GUEST_ARGS).respond(TargetError(f"PowerShell on the target failed: {SECRET}"))
    result = probe_failure.run()
    assert result["msg"] == "PowerShell on the target failed: ********"


def test_failure_of_the_first_operation_changes_nothing() -> None:
    result = scripted({}, {"network": network(converged=False)}, failed_index=0).run()
    assert (result["failed"], result["changed"]) == (True, False)


def test_target_error_is_a_sentence() -> None:
    harness = ActionHarness(ActionModule, {}).respond(TargetError("Could not reach the host: timed out", unreachable=True))
    result = harness.run()
    assert result["failed"] is True and result["unreachable"] is True
    assert result["msg"] == "Could not reach the host: timed out"


def test_absent_commands_use_confirm_false() -> None:
    result = scripted({"state": "absent"}, {"network": network(converged=True)}, check_mode=True).run()
    assert result["commands"] == [
        "Remove-NetFirewallRule -Name 'hyperv.nested-nat-TCP-0.0.0.0-50022'",
        "Remove-NetNatStaticMapping -NatName 'LocalNAT' -StaticMappingID 0 -Confirm:$false",
        "Remove-NetIPAddress -InterfaceIndex 12 -IPAddress '192.168.100.1' -Confirm:$false",
        "Remove-NetNat -Name 'LocalNAT' -Confirm:$false",
        "Remove-VMSwitch -Name 'VmNAT' -Force",
    ]


def test_every_password_option_is_no_log() -> None:
    spec = ActionModule.argument_spec
    assert spec["guest_password"]["no_log"] is True
    assert spec["guests"]["options"]["password"]["no_log"] is True


def test_absent_warns_about_what_it_leaves() -> None:
    probe = {"network": network_section(switches=[host_switch(switch_type="External", net_adapter_interface_description="NIC")])}
    result = scripted({"state": "absent"}, probe).run()
    assert result["changed"] is False
    assert result["warnings"] == ["Switch VmNAT is External, not an internal switch this module creates: left in place"]
    assert result["msg"] == "Nothing of the NAT network to remove."


def test_connection_lost_during_the_changes_says_they_may_be_made() -> None:
    harness = ActionHarness(ActionModule, GUEST_ARGS).respond(
        guest_probe(converged=False),
        TargetError(f"Could not reach the host: lost ({SECRET}).", unreachable=True, changes_unknown=True),
    )
    result = harness.run()
    assert (result["failed"], result["unreachable"], result["changed"]) == (True, True, True)
    assert SECRET not in result["msg"]
