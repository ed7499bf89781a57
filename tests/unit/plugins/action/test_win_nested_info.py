from __future__ import annotations

import copy
import importlib
import typing as t

import pytest
import yaml

from ansible_collections.hyperv.nested.plugins.action.win_nested_info import ActionModule
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError

from ...probe_fixtures import probe_host, probe_vm, vms_section
from .action_harness import ActionHarness


def probe(
    *vms: dict[str, t.Any], host: dict[str, t.Any] | None = None, all_names: list[str] | None = None, missing: list[str] | None = None
) -> dict[str, t.Any]:
    return {"host": copy.deepcopy(host or probe_host()), "vms": vms_section(*vms, missing=missing, all_names=all_names)}


@pytest.mark.parametrize("check_mode", [False, True])
def test_one_probe_and_nothing_changed_in_either_mode(check_mode: bool) -> None:
    harness = ActionHarness(ActionModule, {}, check_mode=check_mode).respond(probe(probe_vm("LAB-HV1")))
    result = harness.run()
    assert harness.calls == [("probe", {"sections": ["host", "vms"], "vm_names": None})]
    assert result["changed"] is False
    assert "failed" not in result


def test_result_shape_for_a_vm_that_is_not_yet_nested() -> None:
    result = ActionHarness(ActionModule, {"name": ["LAB-HV1"]}).respond(probe(probe_vm("LAB-HV1"))).run()
    assert result["ready"] is False
    assert result["missing"] == []
    assert result["host"]["os"]["build"] == 20348
    assert [v["name"] for v in result["vms"]] == ["LAB-HV1"]
    verdict = result["verdict"]
    assert verdict["ready"] is False
    assert verdict["host"] == {"ready": True, "blockers": [], "warnings": [], "notes": []}
    entry = verdict["vms"]["LAB-HV1"]
    assert [b["code"] for b in entry["blockers"]] == ["vm.extensions_not_exposed"]
    assert [w["code"] for w in entry["warnings"]] == ["vm.dynamic_memory_enabled", "vm.mac_spoofing_off"]
    assert entry["notes"] == []
    assert entry["why_not_starting"] == []
    assert all(set(b) == {"code", "msg", "fix"} for b in entry["blockers"] + entry["warnings"])
    assert "can run nested virtualization" in result["msg"]
    assert "LAB-HV1 is not: vm.extensions_not_exposed." in result["msg"]
    assert result["platform"] == {"virtual": False, "hypervisor": None, "cloud": None}
    assert "warnings" not in result


def test_names_are_validated_and_deduplicated_before_the_probe() -> None:
    harness = ActionHarness(ActionModule, {"name": ["LAB-HV1", "lab-hv1"]}).respond(probe(probe_vm("LAB-HV1")))
    harness.run()
    assert harness.calls[0][1]["vm_names"] == ["LAB-HV1"]


@pytest.mark.parametrize("bad", ["", "x" * 101, "a\x00b"])
def test_bad_name_fails_naming_the_option_without_contacting_the_host(bad: str) -> None:
    harness = ActionHarness(ActionModule, {"name": ["LAB-HV1", bad]})
    result = harness.run()
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Option 'name': item 2")
    assert harness.calls == []


def test_unknown_option_fails_without_contacting_the_host() -> None:
    harness = ActionHarness(ActionModule, {"names": ["LAB-HV1"]})
    result = harness.run()
    assert result["failed"] is True and "names" in result["msg"]
    assert harness.calls == []


def test_empty_list_checks_the_host_only() -> None:
    harness = ActionHarness(ActionModule, {"name": []}).respond(probe(all_names=["LAB-HV1"]))
    result = harness.run()
    assert harness.calls[0][1]["vm_names"] == []
    assert result["verdict"]["vms"] == {} and result["ready"] is True


def test_missing_name_warns_with_suggestion_and_is_not_ready() -> None:
    harness = ActionHarness(ActionModule, {"name": ["LAB-HV1", "LAB-HV"]})
    result = harness.respond(probe(probe_vm("LAB-HV1"), all_names=["LAB-HV1", "LAB-HV2"], missing=["LAB-HV"])).run()
    assert "failed" not in result
    assert result["missing"] == ["LAB-HV"]
    assert result["verdict"]["vms"]["LAB-HV"]["blockers"][0]["code"] == "vm.not_found"
    (warning,) = result["warnings"]
    assert warning.startswith("No VM named 'LAB-HV' exists on this host. Did you mean")
    assert "Not found: LAB-HV." in result["msg"]


def test_amd_2019_host_is_refused_with_the_reason() -> None:
    host = probe_host()
    host["processor"]["manufacturer"] = "AuthenticAMD"
    host["os"].update(build=17763, caption="Microsoft Windows Server 2019 Datacenter")
    result = ActionHarness(ActionModule, {}).respond(probe(probe_vm("LAB-OLD1", version="9.0"), host=host)).run()
    assert [b["code"] for b in result["verdict"]["host"]["blockers"]] == ["host.processor_unsupported"]
    assert "vm.version_too_low" in [b["code"] for b in result["verdict"]["vms"]["LAB-OLD1"]["blockers"]]
    assert "cannot run nested virtualization" in result["msg"]


def test_target_error_is_a_failed_result_with_the_sentence() -> None:
    result = ActionHarness(ActionModule, {}).respond(TargetError("Could not list the virtual machines: Access denied.")).run()
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "Could not list the virtual machines: Access denied."


def test_documented_return_values_match_the_result() -> None:
    module = importlib.import_module("ansible_collections.hyperv.nested.plugins.modules.win_nested_info")
    documented = set(yaml.safe_load(module.RETURN))
    result = ActionHarness(ActionModule, {}).respond(probe(probe_vm("LAB-HV1"))).run()
    conditional = {"network", "guests", "network_unavailable", "guests_unavailable"}
    assert documented - conditional == set(result) - {"changed", "invocation", "warnings"}
    asked = {"network": True, "guests": [{"vm": "LAB-VM1", "username": "Administrator", "password": "S3cret!x"}]}
    read = ActionHarness(ActionModule, asked).respond({**probe(), "network": {"switches": []}, "guests": []}).run()
    unavailable = ActionHarness(ActionModule, asked).respond({**probe(), "network_unavailable": "no", "guests_unavailable": "no"}).run()
    assert conditional == (set(read) | set(unavailable)) - set(result)
    host_doc = set(yaml.safe_load(module.RETURN)["host"]["contains"])
    assert host_doc == set(probe_host())
    vm_doc = set(yaml.safe_load(module.RETURN)["vms"]["contains"])
    assert vm_doc == set(probe_vm("X"))


def test_network_modes_turn_spoofing_off_into_a_note_for_nat_vms() -> None:
    args = {"name": ["LAB-HV1"], "network_modes": {"lab-hv1": "nat"}}
    result = ActionHarness(ActionModule, args).respond(probe(probe_vm("LAB-HV1"))).run()
    entry = result["verdict"]["vms"]["LAB-HV1"]
    assert "vm.mac_spoofing_off" not in [w["code"] for w in entry["warnings"]]
    assert [n["code"] for n in entry["notes"]] == ["vm.mac_spoofing_off"]


@pytest.mark.parametrize(
    ("modes", "text"),
    [({"LAB-HV1": "bridge"}, "'bridge'"), ({"LAB-HV1": None}, "None"), ({"": "nat"}, "is empty")],
)
def test_bad_network_modes_fail_naming_the_option_without_contacting_the_host(modes: dict[str, t.Any], text: str) -> None:
    harness = ActionHarness(ActionModule, {"network_modes": modes})
    result = harness.run()
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Option 'network_modes'") and text in result["msg"]
    assert harness.calls == []


def test_azure_l1_is_reported_with_its_platform() -> None:
    host = probe_host(
        is_virtual_machine=True,
        platform={"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": "7783-7084-3265-9085-8269-3286-77"},
    )
    result = ActionHarness(ActionModule, {"name": []}).respond(probe(host=host)).run()
    assert result["platform"] == {"virtual": True, "hypervisor": "Hyper-V", "cloud": "Azure"}
    assert [n["code"] for n in result["verdict"]["host"]["notes"]] == ["host.azure_vm"]
    assert result["ready"] is True
    assert "a VM on Azure" in result["msg"]


def test_the_networking_and_guests_are_read_in_the_same_command_and_recorded_without_the_password() -> None:
    args = {"network": True, "guests": [{"vm": "LAB-VM1", "username": "Administrator", "password": "S3cret!x"}]}
    harness = ActionHarness(ActionModule, args, task_vars={"inventory_hostname": "lab-hv1"})
    guest = {"vm": "LAB-VM1", "state": "Running", "reachable": True, "error": None, "adapters": []}
    result = harness.respond({**probe(), "network": {"switches": [], "nats": []}, "guests": [guest]}).run()
    assert harness.calls == [("probe", {"sections": ["host", "vms", "network_if_available", "guests_if_available"], "vm_names": None,
                                        "guests": [{"vm": "LAB-VM1", "username": "Administrator", "password": "S3cret!x"}]})]
    assert result["network"] == {"switches": [], "nats": []} and result["guests"] == [guest]
    assert result["read"]["host"] == "lab-hv1" and result["read"]["sections"] == ["host", "vms", "network", "guests"]
    assert result["read"]["guests"] == [{"vm": "LAB-VM1", "username": "Administrator"}]
    assert "S3cret!x" not in repr(result)


def test_a_host_without_hyperv_yet_answers_without_its_networking() -> None:
    args = {"network": True, "guests": [{"vm": "LAB-VM1", "username": "Administrator", "password": "S3cret!x"}]}
    result = ActionHarness(ActionModule, args).respond(
        {**probe(), "network_unavailable": "The term 'Hyper-V\\Get-VMSwitch' is not recognized", "guests_unavailable": "x"}).run()
    assert not result.get("failed") and result["read"]["sections"] == ["host", "vms"]
    assert "network" not in result and result["network_unavailable"].startswith("The term")


def test_a_guest_name_that_is_not_a_vm_name_fails_naming_the_option() -> None:
    args = {"guests": [{"vm": "  ", "username": "Administrator", "password": "S3cret!x"}]}
    harness = ActionHarness(ActionModule, args)
    result = harness.run()
    assert result["failed"] is True and "guests[0].vm" in result["msg"] and harness.calls == []
