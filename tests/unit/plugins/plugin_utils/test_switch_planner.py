"""win_nested_switch: the planner (pure) and the action plugin against a scripted target."""

from __future__ import annotations

import copy
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.action.win_nested_switch import ActionModule
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._switch_planner import build_spec, plan, probe_parameters

from ..action.action_harness import ActionHarness

ADAPTER_ID = "Microsoft:11111111-1111-1111-1111-111111111111\\22222222-2222-2222-2222-222222222222"


def vm(name: str, *adapters: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"name": name, "id": f"id-{name}", "state": "Off", "adapters": list(adapters)}


def adapter(name: str = "Network Adapter", switch: str | None = None, adapter_id: str = ADAPTER_ID) -> dict[str, t.Any]:
    return {"name": name, "id": adapter_id, "switch_name": switch, "mac_address": "00155D000201", "mac_address_spoofing": "Off"}


def probe(switches: list[dict[str, t.Any]] | None = None, vms: list[dict[str, t.Any]] | None = None, **vms_extra: t.Any) -> dict[str, t.Any]:
    return {
        "network": {
            "hyperv_module": True,
            "switches": switches or [],
            "nats": [],
            "static_mappings": [],
            "ip_addresses": [],
            "adapters": [{"name": "Ethernet", "interface_index": 4, "status": "Up", "mac_address": "00-15-5D-00-01-02"}],
        },
        "vms": {
            "hyperv_module": True,
            "missing": [],
            "duplicates": [],
            "all_names": [v["name"] for v in vms or []],
            "vms": vms or [],
            **vms_extra,
        },
    }


EXTERNAL = {"name": "NestedExternal", "switch_type": "External", "net_adapter_interface_description": "Microsoft Hyper-V Network Adapter"}
ARGS: dict[str, t.Any] = {
    "name": "NestedExternal",
    "state": "present",
    "net_adapter_name": "Ethernet",
    "allow_management_os": True,
    "vms": ["LAB-VM3"],
    "adapters": None,
}


def test_probe_asks_for_network_and_the_named_vms_only() -> None:
    assert probe_parameters(build_spec(ARGS)) == {"sections": ["vms", "network"], "vm_names": ["LAB-VM3"]}
    assert probe_parameters(build_spec({**ARGS, "vms": []})) == {"sections": ["network"], "vm_names": []}
    assert probe_parameters(build_spec({**ARGS, "state": "absent"})) == {"sections": ["network"], "vm_names": []}


def test_missing_switch_is_created_then_adapters_connected() -> None:
    planned = plan(build_spec(ARGS), probe(vms=[vm("LAB-VM3", adapter())]))
    assert planned.operations == [
        {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "NestedExternal", "NetAdapterName": "Ethernet", "AllowManagementOS": True}},
        {"kind": "cmdlet", "cmdlet": "Connect-VMNetworkAdapter", "vm": "LAB-VM3", "adapter_id": ADAPTER_ID, "parameters": {"SwitchName": "NestedExternal"}},
    ]
    assert planned.values["switch"] == {"name": "NestedExternal", "present": True, "created": True}
    assert planned.values["connected"] == [{"vm": "LAB-VM3", "adapter": "Network Adapter", "adapter_id": ADAPTER_ID, "previous_switch": None}]
    assert any("interrupted" in warning for warning in planned.warnings)
    assert planned.before["vms"] == {"LAB-VM3": {"Network Adapter": None}}
    assert planned.after["vms"] == {"LAB-VM3": {"Network Adapter": "NestedExternal"}}


def test_converged_state_plans_nothing() -> None:
    planned = plan(build_spec(ARGS), probe([EXTERNAL], [vm("LAB-VM3", adapter(switch="NestedExternal"))]))
    assert planned.operations == []
    assert not planned.changed
    assert planned.warnings == []
    assert planned.before == planned.after


def test_existing_switch_matches_case_insensitively_and_keeps_its_spelling() -> None:
    planned = plan(build_spec({**ARGS, "name": "nestedexternal"}), probe([EXTERNAL], [vm("LAB-VM3", adapter(switch="Other"))]))
    assert planned.operations[0]["parameters"] == {"SwitchName": "NestedExternal"}
    assert planned.values["connected"][0]["previous_switch"] == "Other"


def test_existing_internal_switch_of_that_name_is_refused() -> None:
    with pytest.raises(PlanningError, match="exists but is Internal, not External"):
        plan(build_spec(ARGS), probe([{"name": "NestedExternal", "switch_type": "Internal", "net_adapter_interface_description": None}], [vm("LAB-VM3")]))


def test_switch_bound_to_another_adapter_is_refused_when_the_probe_can_tell() -> None:
    answer = probe([EXTERNAL], [vm("LAB-VM3", adapter())])
    answer["network"]["adapters"][0]["interface_description"] = "Intel(R) 82574L"
    with pytest.raises(PlanningError, match="is bound to 'Microsoft Hyper-V Network Adapter'"):
        plan(build_spec(ARGS), answer)


def test_unknown_net_adapter_lists_the_adapters() -> None:
    with pytest.raises(PlanningError, match=r"no network adapter named 'Ethernet 9' \(its adapters: Ethernet\)"):
        plan(build_spec({**ARGS, "net_adapter_name": "Ethernet 9"}), probe(vms=[vm("LAB-VM3")]))


def test_creating_needs_a_net_adapter_name() -> None:
    with pytest.raises(PlanningError, match="set net_adapter_name"):
        plan(build_spec({**ARGS, "net_adapter_name": None}), probe(vms=[vm("LAB-VM3")]))


def test_missing_vm_lists_the_vms_there() -> None:
    with pytest.raises(PlanningError, match=r"vms: no virtual machine named 'LAB-VM9' on this host \(VMs here: LAB-VM3\)"):
        plan(build_spec({**ARGS, "vms": ["LAB-VM9"]}), probe([EXTERNAL], [vm("LAB-VM3")], missing=["LAB-VM9"]))


def test_duplicate_vm_names_are_refused() -> None:
    with pytest.raises(PlanningError, match="vms: more than one virtual machine is named 'LAB-VM3'"):
        plan(build_spec(ARGS), probe([EXTERNAL], [vm("LAB-VM3")], duplicates=["LAB-VM3"]))


def test_named_adapters_only_and_missing_adapter_is_an_error() -> None:
    second = adapter("Second", adapter_id="Microsoft:2")
    planned = plan(build_spec({**ARGS, "adapters": ["second"]}), probe([EXTERNAL], [vm("LAB-VM3", adapter(), second)]))
    assert [op["adapter_id"] for op in planned.operations] == ["Microsoft:2"]
    with pytest.raises(PlanningError, match="has no network adapter named 'Third'"):
        plan(build_spec({**ARGS, "adapters": ["Third"]}), probe([EXTERNAL], [vm("LAB-VM3", adapter(), second)]))


def test_two_adapters_with_one_name_are_both_connected_by_id() -> None:
    twins = [adapter(adapter_id="Microsoft:1"), adapter(adapter_id="Microsoft:2")]
    planned = plan(build_spec(ARGS), probe([EXTERNAL], [vm("LAB-VM3", *twins)]))
    assert [op["adapter_id"] for op in planned.operations] == ["Microsoft:1", "Microsoft:2"]
    assert set(planned.after["vms"]["LAB-VM3"]) == {"Network Adapter (Microsoft:1)", "Network Adapter (Microsoft:2)"}


def test_saved_vm_is_refused_before_anything_runs() -> None:
    saved = {**vm("LAB-VM3", adapter()), "state": "Saved"}
    with pytest.raises(PlanningError, match="'LAB-VM3' is Saved, and Hyper-V cannot change its network adapters"):
        plan(build_spec(ARGS), probe(vms=[saved]))
    connected = {**vm("LAB-VM3", adapter(switch="NestedExternal")), "state": "Saved"}
    assert plan(build_spec(ARGS), probe([EXTERNAL], [connected])).operations == []


def test_vm_without_adapters_is_a_warning() -> None:
    planned = plan(build_spec(ARGS), probe([EXTERNAL], [vm("LAB-VM3")]))
    assert planned.operations == []
    assert planned.warnings == ["The VM 'LAB-VM3' has no network adapter to connect to the switch 'NestedExternal'."]


def test_without_hyperv_the_error_says_to_install_it() -> None:
    answer = probe()
    answer["network"] = {"hyperv_module": False}
    with pytest.raises(PlanningError, match="nested_hyperv"):
        plan(build_spec(ARGS), answer)


def test_absent_removes_an_existing_switch_and_nothing_otherwise() -> None:
    planned = plan(build_spec({**ARGS, "state": "absent"}), probe([EXTERNAL]))
    assert planned.operations == [{"kind": "cmdlet", "cmdlet": "Remove-VMSwitch", "parameters": {"Name": "NestedExternal", "Force": True}}]
    assert planned.values["switch"] == {"name": "NestedExternal", "present": False, "removed": True}
    assert plan(build_spec({**ARGS, "state": "absent"}), probe()).operations == []


def test_absent_refuses_a_name_that_is_a_wildcard_pattern() -> None:
    with pytest.raises(PlanningError, match="wildcard"):
        plan(build_spec({**ARGS, "name": "lab[1]", "state": "absent"}), probe([{**EXTERNAL, "name": "lab[1]"}]))


# The action plugin, with a scripted target.


def run(args: dict[str, t.Any], *answers: dict[str, t.Any], check: bool = False, diff: bool = False) -> tuple[ActionHarness, dict[str, t.Any]]:
    harness = ActionHarness(ActionModule, args, check_mode=check, diff=diff).respond(*answers)
    return harness, harness.run()


def executed(count: int, failed_index: int | None = None) -> dict[str, t.Any]:
    reports = [{"index": i, "status": "ok", "message": None, "duration_ms": 1} for i in range(count)]
    if failed_index is not None:
        reports[failed_index] = {"index": failed_index, "status": "failed", "message": "The adapter is in use.", "duration_ms": 1}
        for later in reports[failed_index + 1 :]:
            later["status"] = "not_run"
    return {"operations": reports, "failed_index": failed_index, "on_failure": [], "vm_states": {}}


def test_converged_run_is_one_probe() -> None:
    harness, result = run({"name": "NestedExternal", "vms": ["LAB-VM3"]}, probe([EXTERNAL], [vm("LAB-VM3", adapter(switch="NestedExternal"))]))
    assert harness.scripts_called == ["probe"]
    assert result["changed"] is False
    assert result["commands"] == []


def test_change_is_probe_then_execute_with_commands() -> None:
    harness, result = run({"name": "NestedExternal", "net_adapter_name": "Ethernet", "vms": ["LAB-VM3"]}, probe(vms=[vm("LAB-VM3", adapter())]), executed(2))
    assert harness.scripts_called == ["probe", "execute"]
    assert harness.calls[1][1]["operations"][0]["cmdlet"] == "New-VMSwitch"
    assert result["changed"] is True
    assert result["commands"][0] == "New-VMSwitch -Name 'NestedExternal' -NetAdapterName 'Ethernet' -AllowManagementOS $true"
    assert result["commands"][1].startswith("Connect-VMNetworkAdapter -VMNetworkAdapter (Get-VMNetworkAdapter -VM (Get-VM -Name 'LAB-VM3')")
    assert result["warnings"]


def test_check_mode_plans_without_executing_and_shows_a_diff() -> None:
    answer = probe(vms=[vm("LAB-VM3", adapter())])
    harness, result = run({"name": "NestedExternal", "net_adapter_name": "Ethernet", "vms": ["LAB-VM3"]}, copy.deepcopy(answer), check=True, diff=True)
    assert harness.scripts_called == ["probe"]
    assert result["changed"] is True
    assert result["diff"]["before"]["switch"] == {"NestedExternal": {"present": False}}
    assert result["diff"]["after"]["vms"] == {"LAB-VM3": {"Network Adapter": "NestedExternal"}}


def test_failed_operation_names_the_command_and_keeps_changed() -> None:
    _harness, result = run(
        {"name": "NestedExternal", "net_adapter_name": "Ethernet", "vms": ["LAB-VM3"]}, probe(vms=[vm("LAB-VM3", adapter())]), executed(2, failed_index=1)
    )
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("Operation 2 of 2 failed: Connect-VMNetworkAdapter ")
    assert result["msg"].endswith(": The adapter is in use. (1 operation(s) before it were applied; the rest were not run).")
    assert [report["status"] for report in result["operations"]] == ["ok", "failed"]
    assert result["operations"][0]["command"] == result["commands"][0]


def test_planning_error_is_a_failed_task_without_execute() -> None:
    harness, result = run({"name": "NestedExternal", "vms": ["LAB-VM3"]}, probe(vms=[vm("LAB-VM3")]))
    assert result["failed"] is True
    assert "net_adapter_name" in result["msg"]
    assert harness.scripts_called == ["probe"]
