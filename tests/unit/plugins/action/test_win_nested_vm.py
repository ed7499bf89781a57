from __future__ import annotations

import copy
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.action.win_nested_vm import ActionModule
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError

from ...probe_fixtures import GB, NESTED, probe_host, probe_vm, vms_section
from .action_harness import ActionHarness


def vm(name: str, state: str = "Running", nested: bool = False, **overrides: t.Any) -> dict[str, t.Any]:
    return probe_vm(name, state=state, **{**(NESTED if nested else {}), **overrides})


def probe(*vms: dict[str, t.Any], host: dict[str, t.Any] | None = None, missing: list[str] | None = None) -> dict[str, t.Any]:
    return {"host": copy.deepcopy(host or probe_host()), "vms": vms_section(*vms, missing=missing)}


def executed(
    count: int, states: dict[str, str], failed_index: int | None = None, message: str | None = None, restore: list[str] | None = None
) -> dict[str, t.Any]:
    operations = []
    for index in range(count):
        status = "ok" if failed_index is None or index < failed_index else ("failed" if index == failed_index else "not_run")
        operations.append({"index": index, "status": status, "message": message if index == failed_index else None, "duration_ms": 1})
    return {
        "operations": operations,
        "failed_index": failed_index,
        "on_failure": [{"index": i, "status": status, "message": None, "duration_ms": 1} for i, status in enumerate(restore or [])],
        "vm_states": states,
    }


def harness(args: dict[str, t.Any], **kwargs: t.Any) -> ActionHarness:
    return ActionHarness(ActionModule, args, **kwargs)


def test_converged_is_one_probe_and_unchanged() -> None:
    h = harness({"name": ["LAB-HV1", "LAB-HV2"]}).respond(probe(vm("LAB-HV1", nested=True), vm("LAB-HV2", "Off", nested=True)))
    result = h.run()
    assert h.calls == [("probe", {"sections": ["host", "vms"], "vm_names": ["LAB-HV1", "LAB-HV2"]})]
    assert result["changed"] is False
    assert "failed" not in result
    assert result["commands"] == []
    assert [entry["actions"] for entry in result["vms"]] == [[], []]
    assert result["msg"] == "All 2 VMs are already as requested; nothing to do."


def test_change_is_probe_plus_one_execute_with_planned_ops() -> None:
    h = harness({"name": "LAB-HV1", "power": "shutdown", "startup_memory": "8GB"}).respond(probe(vm("LAB-HV1")), executed(4, {"LAB-HV1": "Running"}))
    result = h.run()
    assert h.scripts_called == ["probe", "execute"]
    sent = h.calls[1][1]
    assert [op["kind"] for op in sent["operations"]] == ["stop_vm", "cmdlet", "cmdlet", "start_vm"]
    assert sent["operations"][1]["parameters"] == {"DynamicMemoryEnabled": False, "StartupBytes": 8 * GB}
    assert sent["on_failure"] == [{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 300}]
    assert result["changed"] is True and "failed" not in result
    assert result["commands"] == [
        "Stop-VM -VM (Get-VM -Name 'LAB-HV1') -Force",
        f"Set-VMMemory -VM (Get-VM -Name 'LAB-HV1') -DynamicMemoryEnabled $false -StartupBytes {8 * GB}",
        "Set-VMProcessor -VM (Get-VM -Name 'LAB-HV1') -ExposeVirtualizationExtensions $true",
        "Start-VM -VM (Get-VM -Name 'LAB-HV1')",
    ]
    assert result["vms"][0]["after"]["expose_virtualization_extensions"] is True
    assert result["msg"].startswith("Changed 1 of 1 VM (LAB-HV1)")


def test_check_mode_sends_no_executor_call_and_reports_changes() -> None:
    h = harness({"name": ["LAB-HV1"], "power": "turn_off"}, check_mode=True, diff=True).respond(probe(vm("LAB-HV1")))
    result = h.run()
    assert h.scripts_called == ["probe"]
    assert result["changed"] is True
    assert result["msg"].startswith("Would change 1 of 1 VM")
    assert result["vms"][0]["actions"][0] == "turn off (unsaved guest data is lost)"
    assert result["diff"]["before"]["LAB-HV1"]["expose_virtualization_extensions"] is False
    assert result["diff"]["after"]["LAB-HV1"]["expose_virtualization_extensions"] is True
    assert result["diff"]["after"]["LAB-HV1"]["power_state"] == "Running"
    assert result["diff"]["after_header"] == "LAB-HV1 stopped and started"


def test_diff_header_only_names_power_cycles() -> None:
    h = harness({"name": ["LAB-HV1", "LAB-HV2"], "mac_address_spoofing": "on", "power_after": "running"}, check_mode=True, diff=True)
    result = h.respond(probe(vm("LAB-HV1", nested=True), vm("LAB-HV2", "Off", nested=True))).run()
    assert result["diff"]["after_header"] == "LAB-HV2 started"
    converged = harness({"name": ["LAB-HV1"]}, diff=True).respond(probe(vm("LAB-HV1", nested=True))).run()
    assert "after_header" not in converged["diff"]


def test_diff_only_when_asked() -> None:
    result = harness({"name": ["LAB-HV1"]}).respond(probe(vm("LAB-HV1", nested=True))).run()
    assert "diff" not in result
    assert result["msg"] == "VM LAB-HV1 is already as requested; nothing to do."


def test_diff_after_uses_power_states_the_executor_reported() -> None:
    h = harness({"name": ["LAB-HV1"], "power": "shutdown", "power_after": "off"}, diff=True)
    result = h.respond(probe(vm("LAB-HV1")), executed(3, {"LAB-HV1": "Off"})).run()
    assert result["diff"]["before"]["LAB-HV1"]["power_state"] == "Running"
    assert result["diff"]["after"]["LAB-HV1"]["power_state"] == "Off"


def test_running_vm_with_default_power_fails_before_execute() -> None:
    h = harness({"name": ["LAB-HV1", "LAB-HV2"]}).respond(probe(vm("LAB-HV1"), vm("LAB-HV2", "Off")))
    result = h.run()
    assert h.scripts_called == ["probe"]
    assert result["failed"] is True and result["changed"] is False
    assert "'LAB-HV1' is running" in result["msg"] and "power=shutdown" in result["msg"]
    assert result["problems"] == [result["msg"]]


def test_failure_part_way_says_what_was_applied_and_restores_power() -> None:
    h = harness({"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown", "mac_address_spoofing": "on"})
    h.respond(
        probe(vm("LAB-HV1"), vm("LAB-HV2")),
        # Both stops first (0, 1); LAB-HV1: wait, memory, processor, adapter, start (2-6); LAB-HV2: wait (7) fails.
        executed(14, {"LAB-HV1": "Running", "LAB-HV2": "Running"}, failed_index=7, message="did not shut down within 300 seconds", restore=["ok", "ok"]),
    )
    result = h.run()
    assert h.scripts_called == ["probe", "execute"]
    assert result["failed"] is True
    assert result["changed"] is True
    msg = result["msg"]
    assert msg.startswith("VM 'LAB-HV2': 'wait until it is off (up to 300s)' failed: did not shut down within 300 seconds.")
    assert "Applied: LAB-HV1: shut down through the guest (up to 300s); wait until it is off (up to 300s); turn dynamic memory off;" in msg
    assert "| LAB-HV2: shut down through the guest (up to 300s)." in msg
    assert "Not applied: LAB-HV1: wait until it runs (up to 300s) | LAB-HV2: wait until it is off (up to 300s); turn dynamic memory off;" in msg
    assert "Running again as before: LAB-HV1, LAB-HV2." in msg
    assert "LAB-HV2 Running" in msg
    progress = {entry["name"]: entry for entry in result["vms"]}
    assert len(progress["LAB-HV1"]["applied"]) == 6 and len(progress["LAB-HV1"]["not_applied"]) == 1
    assert len(progress["LAB-HV2"]["applied"]) == 1 and len(progress["LAB-HV2"]["not_applied"]) == 6
    assert len(result["commands"]) == 14
    assert [entry["status"] for entry in result["operations"]][6:9] == ["ok", "failed", "not_run"]


def test_failure_at_first_operation_reports_unchanged() -> None:
    h = harness({"name": ["LAB-HV1"], "state": "disabled", "mac_address_spoofing": "on"})
    h.respond(probe(vm("LAB-HV1", nested=True, state="Off")), executed(2, {"LAB-HV1": "Off"}, failed_index=0, message="Access denied."))
    result = h.run()
    assert result["failed"] is True and result["changed"] is False
    assert "Applied: nothing." in result["msg"]
    assert "Running again" not in result["msg"]


def test_failed_restore_is_loud() -> None:
    h = harness({"name": ["LAB-HV1"], "power": "turn_off"})
    h.respond(probe(vm("LAB-HV1")), executed(4, {"LAB-HV1": "Off"}, failed_index=2, message="boom", restore=["failed"]))
    result = h.run()
    assert "Could NOT start again: LAB-HV1" in result["msg"]
    assert "LAB-HV1 Off" in result["msg"]


def test_missing_vm_suggests_names_and_changes_nothing() -> None:
    h = harness({"name": ["LAB-HV"]}).respond(probe(vm("LAB-HV1", nested=True), missing=["LAB-HV"]))
    result = h.run()
    assert result["failed"] is True
    assert result["msg"] == "No VM named 'LAB-HV' on HV01 (name). Did you mean 'LAB-HV1'?"
    assert h.scripts_called == ["probe"]


def test_host_that_cannot_nest_fails_naming_the_reason() -> None:
    host = probe_host(bcd_offer_nested_virt_disabled=True)
    h = harness({"name": ["LAB-HV1"]}).respond(probe(vm("LAB-HV1", "Off"), host=host))
    result = h.run()
    assert result["failed"] is True
    assert "host.bcd_nested_disabled" in result["msg"]
    assert h.scripts_called == ["probe"]


def test_a_host_running_vbs_nests_like_any_other() -> None:
    # Credential Guard is on by default on Windows Server 2025; Microsoft's current guide sets no VBS restriction.
    host = probe_host(vbs={"configured": True, "running": True, "status": 2}, os={"caption": "Microsoft Windows Server 2025 Datacenter", "build": 26100})
    h = harness({"name": ["LAB-HV1"]}).respond(probe(vm("LAB-HV1", "Off"), host=host), executed(2, {"LAB-HV1": "Off"}))
    result = h.run()
    assert "failed" not in result, result.get("msg")
    assert h.scripts_called == ["probe", "execute"]


def test_host_findings_do_not_block_disabling() -> None:
    host = probe_host(bcd_offer_nested_virt_disabled=True)
    h = harness({"name": ["LAB-HV1"], "state": "disabled"}).respond(probe(vm("LAB-HV1", "Off", nested=True), host=host), executed(1, {"LAB-HV1": "Off"}))
    result = h.run()
    assert "failed" not in result, result.get("msg")
    assert h.scripts_called == ["probe", "execute"]


def test_host_without_hyperv_powershell_fails_for_any_state() -> None:
    answer = {"host": probe_host(supported_versions=[], default_version=None), "vms": {"hyperv_module": False}}
    h = harness({"name": ["LAB-HV1"], "state": "disabled"}).respond(answer)
    result = h.run()
    assert result["failed"] is True
    assert result["msg"].startswith("host.hyperv_powershell_missing: ")
    assert h.scripts_called == ["probe"]


def test_old_version_fails_with_exact_requirement() -> None:
    amd = probe_host(processor={"manufacturer": "AuthenticAMD"})
    result = harness({"name": ["LAB-HV1"]}).respond(probe(vm("LAB-HV1", "Off", version="9.0"), host=amd)).run()
    assert "configuration version 9.0; nested virtualization on this AMD host needs 9.3 or higher" in result["msg"]


def test_not_a_hyperv_administrator() -> None:
    host = probe_host(is_administrator=False, is_hyperv_administrator=False)
    result = harness({"name": ["LAB-HV1"]}).respond(probe(vm("LAB-HV1", nested=True), host=host)).run()
    assert result["failed"] is True and "Hyper-V Administrators" in result["msg"]
    assert result["msg"].startswith("host.not_hyperv_admin: ")


def test_warnings_reach_the_result() -> None:
    result = harness({"name": ["LAB-HV1"], "startup_memory": "2GB"}, check_mode=True).respond(probe(vm("LAB-HV1", "Off"))).run()
    assert any("startup_memory=2GB" in warning for warning in result["warnings"])


def test_target_error_on_probe_is_msg() -> None:
    result = harness({"name": ["LAB-HV1"]}).respond(TargetError("Hyper-V module is not installed on this host.")).run()
    assert result == {**result, "failed": True, "changed": False, "msg": "Hyper-V module is not installed on this host."}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"name": ["A"], "startup_memory": "lots"}, ["startup_memory", "'lots'"]),
        ({"name": ["A"], "startup_memory": "1GB", "processor_count": 0}, ["processor_count must be 1 or more"]),
        ({"name": ["A"], "startup_memory": 3 * 1024**2}, ["startup_memory must be a multiple of 2MB"]),
        ({"name": ["A"], "adapters": ["NIC"]}, ["adapters", "mac_address_spoofing"]),
        ({"name": ["A"], "mac_address_spoofing": "on", "adapters": []}, ["adapters must name at least one adapter"]),
        ({"name": ["A"], "shutdown_timeout": 0}, ["shutdown_timeout must be 1 or more"]),
        ({"name": ["A"], "power_concurrency": -1}, ["power_concurrency must be 0 (every VM at once) or more, got -1"]),
        ({"name": ["A"], "power_concurrency": "two"}, ["power_concurrency"]),
        ({"name": ["A"], "power": "reboot"}, ["power", "fail, shutdown, turn_off"]),
        ({"name": ["A"], "power_after": "on"}, ["power_after", "previous, off, running"]),
        ({"name": [""]}, ["'name'", "is empty"]),
        ({"name": []}, ["'name' must list at least one VM"]),
        ({}, ["name"]),
    ],
)
def test_bad_input_names_the_option_and_never_reaches_the_target(args: dict[str, t.Any], words: list[str]) -> None:
    h = harness(args)
    result = h.run()
    assert result["failed"] is True
    assert h.calls == []
    for word in words:
        assert word in result["msg"]


def test_repeated_names_are_probed_once() -> None:
    h = harness({"name": ["LAB-HV1", "lab-hv1"]}).respond(probe(vm("LAB-HV1", nested=True)))
    h.run()
    assert h.calls[0][1]["vm_names"] == ["LAB-HV1"]


def test_message_counts_changed_and_unchanged_and_shortens_long_lists() -> None:
    vms = [vm(f"VM{index:02d}", "Off") for index in range(12)] + [vm("DONE", nested=True)]
    result = harness({"name": [v["name"] for v in vms]}, check_mode=True).respond(probe(*vms)).run()
    assert result["msg"] == (
        "Would change 12 of 13 VMs (VM00, VM01, VM02, VM03, VM04, VM05, VM06, VM07, VM08, VM09 and 2 more); "
        "1 already as requested. See vms[].actions for what would happen."
    )


def test_executor_report_that_does_not_match_the_plan_is_still_a_sentence() -> None:
    h = harness({"name": ["LAB-HV1"], "power": "turn_off"})
    h.respond(probe(vm("LAB-HV1")), {"operations": [], "failed_index": 7, "on_failure": [], "vm_states": {}})
    result = h.run()
    assert result["failed"] is True
    assert result["msg"].startswith("The host reported a failure at operation 7 of 4: no reason given.")
    assert result["changed"] is False


def test_probe_answer_outside_the_contract_is_a_sentence() -> None:
    broken = vm("LAB-HV1")
    del broken["state"]
    h = harness({"name": ["LAB-HV1"]}).respond(probe(broken))
    result = h.run()
    assert result["failed"] is True
    assert result["msg"] == "The host's probe answer is not what this module expects (KeyError: 'state'); nothing was changed."
    assert h.scripts_called == ["probe"]


def test_a_checkpoint_is_a_note_in_the_result_not_a_warning() -> None:
    h = harness({"name": ["LAB-HV1"]}).respond(
        probe(vm("LAB-HV1", "Off", checkpoints=[{"name": "cp", "id": "1"}])), executed(2, {"LAB-HV1": "Off"})
    )
    result = h.run()
    assert "failed" not in result, result.get("msg")
    assert "warnings" not in result
    assert len(result["notes"]) == 1 and "1 checkpoint(s)" in result["notes"][0]


def test_a_clustered_vm_is_refused_a_stop_before_anything_is_sent() -> None:
    h = harness({"name": ["LAB-HV1"], "power": "shutdown"}).respond(probe(vm("LAB-HV1", is_clustered=True)))
    result = h.run()
    assert result["failed"] is True and result["changed"] is False
    assert "clustered role" in result["msg"] and "clustered=allow" in result["msg"]
    assert h.scripts_called == ["probe"]
