from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_planner import Options, PlannedVms, parse_version, plan

from ...probe_fixtures import GB, NESTED, probe_host, probe_vm, vms_section

# test_vm_planner_restart_marks.py imports GB, NESTED, kinds, make_host, make_vm and run from here.
make_vm = probe_vm


def make_host(**overrides: t.Any) -> dict[str, t.Any]:
    """A host with 16 logical processors and 64GB of memory, the sizes the tests name."""
    return probe_host(**{"logical_processor_count": 16, "memory_capacity_bytes": 64 * GB, **overrides})


def run(vms: list[dict[str, t.Any]], host: dict[str, t.Any] | None = None, **options: t.Any) -> PlannedVms:
    names = options.pop("names", [vm["name"] for vm in vms])
    return plan(host or make_host(), vms_section(*vms), Options(names=names, **options), min_version=(8, 0))


def problems(vms: list[dict[str, t.Any]], **options: t.Any) -> list[str]:
    with pytest.raises(PlanningError) as caught:
        run(vms, **options)
    return caught.value.problems


def kinds(result: PlannedVms) -> list[str]:
    """Each operation as a short token: the op kind, or the cmdlet name."""
    return [op["cmdlet"] if op["kind"] == "cmdlet" else f"{op['kind']}:{op.get('mode', '')}".rstrip(":") for op in result.operations]


# ---- state x current power x power policy -> operation sequence -------------------------------

POWER_TABLE = [
    # (id, vm overrides, options, expected op tokens, expected final power state)
    ("off-enable", {"state": "Off"}, {}, ["Set-VMMemory", "Set-VMProcessor"], "Off"),
    ("running-enable-shutdown", {}, {"power": "shutdown"}, ["stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor", "start_vm"], "Running"),
    ("running-enable-turn_off", {}, {"power": "turn_off"}, ["stop_vm:turn_off", "Set-VMMemory", "Set-VMProcessor", "start_vm"], "Running"),
    ("running-enable-stay-off", {}, {"power": "shutdown", "power_after": "off"}, ["stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor"], "Off"),
    (
        "running-enable-running",
        {},
        {"power": "turn_off", "power_after": "running"},
        ["stop_vm:turn_off", "Set-VMMemory", "Set-VMProcessor", "start_vm"],
        "Running",
    ),
    ("off-enable-running", {"state": "Off"}, {"power_after": "running"}, ["Set-VMMemory", "Set-VMProcessor", "start_vm"], "Running"),
    ("off-converged-running", {"state": "Off", **NESTED}, {"power_after": "running"}, ["start_vm"], "Running"),
    ("running-converged", NESTED, {"power": "fail"}, [], "Running"),
    ("off-converged-previous", {"state": "Off", **NESTED}, {}, [], "Off"),
    ("running-converged-off-never-stops", NESTED, {"power": "turn_off", "power_after": "off"}, [], "Running"),
    ("saved-enable-discard", {"state": "Saved"}, {"saved_state": "discard"}, ["Remove-VMSavedState", "Set-VMMemory", "Set-VMProcessor"], "Off"),
    (
        "saved-enable-discard-running",
        {"state": "Saved"},
        {"saved_state": "discard", "power_after": "running"},
        ["Remove-VMSavedState", "Set-VMMemory", "Set-VMProcessor", "start_vm"],
        "Running",
    ),
    ("saved-converged-untouched", {"state": "Saved", **NESTED}, {}, [], "Saved"),
    (
        "saved-spoofing-needs-the-saved-state-gone",
        {"state": "Saved", **NESTED},
        {"mac_address_spoofing": "on", "saved_state": "discard"},
        ["Remove-VMSavedState", "Set-VMNetworkAdapter"],
        "Off",
    ),
    ("running-disable", NESTED, {"state": "disabled", "power": "shutdown"}, ["stop_vm:shutdown", "Set-VMProcessor", "start_vm"], "Running"),
    ("off-disable-keeps-memory", {"state": "Off", **NESTED}, {"state": "disabled"}, ["Set-VMProcessor"], "Off"),
    ("disabled-converged", {}, {"state": "disabled"}, [], "Running"),
    ("running-spoofing-only-no-power-cycle", NESTED, {"mac_address_spoofing": "on"}, ["Set-VMNetworkAdapter"], "Running"),
    (
        "running-processor-count",
        NESTED,
        {"processor_count": 4, "power": "shutdown"},
        ["stop_vm:shutdown", "Set-VMProcessor", "start_vm"],
        "Running",
    ),
    (
        "running-memory-with-hyperv-inside",
        NESTED,
        {"startup_memory": 8 * GB, "power": "shutdown"},
        ["stop_vm:shutdown", "Set-VMMemory", "start_vm"],
        "Running",
    ),
    (
        "running-static-memory-resize-without-nesting-is-live",
        {"dynamic_memory_enabled": False},
        {"state": "disabled", "startup_memory": 8 * GB},
        ["Set-VMMemory"],
        "Running",
    ),
    (
        "running-dynamic-memory-resize-needs-off",
        {},
        {"state": "disabled", "startup_memory": 8 * GB, "power": "shutdown"},
        ["stop_vm:shutdown", "Set-VMMemory", "start_vm"],
        "Running",
    ),
    (
        "everything-in-one-window",
        {"version": "7.0"},
        {"processor_count": 4, "startup_memory": 8 * GB, "mac_address_spoofing": "on", "upgrade_version": True, "power": "shutdown"},
        ["stop_vm:shutdown", "Update-VMVersion", "Set-VMMemory", "Set-VMProcessor", "Set-VMNetworkAdapter", "start_vm"],
        "Running",
    ),
]


@pytest.mark.parametrize(("vm", "options", "expected", "final"), [row[1:] for row in POWER_TABLE], ids=[row[0] for row in POWER_TABLE])
def test_power_table(vm: dict[str, t.Any], options: dict[str, t.Any], expected: list[str], final: str) -> None:
    result = run([probe_vm(**vm)], **options)
    assert kinds(result) == expected
    assert result.vms[0].after["power_state"] == final
    assert result.changed is bool(expected)
    assert len(result.vms[0].actions) == len(expected)


# ---- requests that must fail before anything is sent ------------------------------------------

FAIL_TABLE = [
    # (id, vm overrides, options, words the problem must contain)
    (
        "running-power-fail-names-option",
        {},
        {},
        ["'LAB-HV1' is running", "ExposeVirtualizationExtensions", "DynamicMemoryEnabled", "power=shutdown", "power=turn_off"],
    ),
    ("saved-default-fail", {"state": "Saved"}, {}, ["saved state", "saved_state=discard"]),
    ("saved-spoofing-default-fail", {"state": "Saved", **NESTED}, {"mac_address_spoofing": "on"}, ["saved state", "off: MAC address spoofing."]),
    ("paused", {"state": "Paused"}, {"power": "turn_off"}, ["is Paused"]),
    (
        "shutdown-without-integration-service",
        {"integration_services": [{"name": "Shutdown", "enabled": False, "primary_status": "OK"}]},
        {"power": "shutdown"},
        ["Shutdown integration service", "power=turn_off"],
    ),
    ("version-too-low", {"version": "7.0", "state": "Off"}, {}, ["configuration version 7.0", "Intel", "8.0 or higher", "upgrade_version=true"]),
    ("checkpoints-fail", {"state": "Off", "checkpoints": [{"name": "cp", "id": "1"}]}, {"checkpoints": "fail"}, ["1 checkpoint", "checkpoints=note"]),
    (
        "clustered-needs-a-stop",
        {"is_clustered": True},
        {"power": "shutdown"},
        ["'LAB-HV1' is a clustered role", "does not stop a clustered VM with Stop-VM", "Stop-ClusterGroup", "clustered=allow"],
    ),
    ("clustered-turn-off-too", {"is_clustered": True}, {"power": "turn_off"}, ["clustered role", "clustered=allow"]),
    ("unknown-adapter", {"state": "Off"}, {"mac_address_spoofing": "on", "adapters": ["Nope"]}, ["'Nope'", "(adapters)", "'Network Adapter'"]),
    ("memory-below-dynamic-minimum", {"state": "Off"}, {"state": "disabled", "startup_memory": GB // 2}, ["dynamic memory minimum", "startup_memory=512MB"]),
    ("memory-above-dynamic-maximum", {"state": "Off"}, {"state": "disabled", "startup_memory": 32 * GB}, ["dynamic memory maximum"]),
    ("processors-above-host", {"state": "Off"}, {"processor_count": 17}, ["processor_count=17", "16 logical processors of HV01"]),
    ("memory-above-host", {"state": "Off"}, {"startup_memory": 128 * GB}, ["startup_memory=128GB", "64GB of memory of HV01"]),
]


@pytest.mark.parametrize(("vm", "options", "words"), [row[1:] for row in FAIL_TABLE], ids=[row[0] for row in FAIL_TABLE])
def test_fail_table(vm: dict[str, t.Any], options: dict[str, t.Any], words: list[str]) -> None:
    text = " ".join(problems([probe_vm(**vm)], **options))
    for word in words:
        assert word in text


def test_problems_of_every_vm_are_reported_together() -> None:
    found = problems([probe_vm("A"), probe_vm("B", state="Saved"), probe_vm("C", state="Off")])
    assert len(found) == 2
    assert "'A' is running" in found[0] and "'B' is in a saved state" in found[1]


def test_upgrade_version_beyond_host_default_is_refused() -> None:
    found = problems([probe_vm(version="7.0", state="Off")], host=make_host(default_version="7.5"), upgrade_version=True)
    assert "upgrades VMs only to version 7.5" in found[0]


def test_amd_host_needs_93() -> None:
    host = make_host(processor={"manufacturer": "AuthenticAMD"})
    with pytest.raises(PlanningError) as caught:
        plan(host, vms_section(probe_vm(version="9.0", state="Off")), Options(names=["LAB-HV1"]), min_version=(9, 3))
    assert "this AMD host needs 9.3 or higher" in caught.value.problems[0]


def test_upgrade_sets_after_version_to_host_default() -> None:
    result = run([probe_vm(version="7.0", state="Off")], upgrade_version=True)
    assert result.vms[0].after["version"] == "10.0"
    assert result.operations[0] == {"kind": "cmdlet", "cmdlet": "Update-VMVersion", "vm": "LAB-HV1", "parameters": {"Force": True}}
    assert "irreversible" in result.vms[0].actions[0]


def test_version_is_not_checked_when_disabling() -> None:
    result = run([probe_vm(version="5.0", state="Off", **NESTED)], state="disabled")
    assert kinds(result) == ["Set-VMProcessor"]


def test_host_problems_block_enabling_only() -> None:
    vms = vms_section(probe_vm(state="Off"))
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), vms, Options(names=["LAB-HV1"]), min_version=(8, 0), host_problems=["host.vbs_running: VBS is running."])
    assert caught.value.problems == ["host.vbs_running: VBS is running."]
    disabling = plan(make_host(), vms_section(probe_vm(state="Off", **NESTED)), Options(names=["LAB-HV1"], state="disabled"), host_problems=["x"])
    assert kinds(disabling) == ["Set-VMProcessor"]


# ---- selection -------------------------------------------------------------------------------


def test_missing_vm_suggests_close_names() -> None:
    vms = vms_section(probe_vm("LAB-HV1"), probe_vm("LAB-HV2"), missing=["LAB-HV3x"], all_names=["LAB-HV1", "LAB-HV2", "DC01"])
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), vms, Options(names=["LAB-HV3x"]))
    (problem,) = caught.value.problems
    assert problem.startswith("No VM named 'LAB-HV3x' on HV01 (name). Did you mean ")
    assert "'LAB-HV1'" in problem and "'LAB-HV2'" in problem and "DC01" not in problem


def test_missing_vm_without_close_names_has_no_hint() -> None:
    vms = vms_section(probe_vm("LAB-HV1"), missing=["zzz"])
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), vms, Options(names=["zzz"]))
    assert caught.value.problems == ["No VM named 'zzz' on HV01 (name)."]


def test_duplicate_vm_names_on_host_fail() -> None:
    vms = vms_section(duplicates=["DUP"], all_names=["DUP", "DUP"])
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), vms, Options(names=["DUP"]))
    assert "More than one VM on HV01 is named 'DUP'" in caught.value.problems[0]


def test_vm_the_probe_did_not_mention_is_a_problem_not_a_silent_skip() -> None:
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), vms_section(probe_vm("A", state="Off")), Options(names=["A", "B"]))
    assert caught.value.problems == ["The host did not report VM 'B' (name)."]


def test_missing_hyperv_module() -> None:
    with pytest.raises(PlanningError) as caught:
        plan(make_host(), {"hyperv_module": False}, Options(names=["A"]))
    assert "Hyper-V PowerShell module is not available on HV01" in caught.value.problems[0]


def test_names_match_case_insensitively_and_keep_request_order() -> None:
    result = plan(make_host(), vms_section(probe_vm("B", state="Off"), probe_vm("A", state="Off")), Options(names=["a", "b"]), min_version=(8, 0))
    assert [vm.name for vm in result.vms] == ["A", "B"]
    assert [op["vm"] for op in result.operations] == ["A", "A", "B", "B"]


# ---- operations and their shape ----------------------------------------------------------------


def test_enable_running_vm_operations_exactly() -> None:
    result = run([probe_vm(processor_count=2)], power="shutdown", shutdown_timeout=120, start_timeout=60, processor_count=4, startup_memory=8 * GB)
    assert result.operations == [
        {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 120, "mark_for_restart": True},
        {"kind": "cmdlet", "cmdlet": "Set-VMMemory", "vm": "LAB-HV1", "parameters": {"DynamicMemoryEnabled": False, "StartupBytes": 8 * GB}},
        {"kind": "cmdlet", "cmdlet": "Set-VMProcessor", "vm": "LAB-HV1", "parameters": {"ExposeVirtualizationExtensions": True, "Count": 4}},
        {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 60},
    ]
    assert result.on_failure == [{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 60}]
    vm = result.vms[0]
    assert vm.before == {
        "power_state": "Running",
        "version": "10.0",
        "expose_virtualization_extensions": False,
        "dynamic_memory_enabled": True,
        "startup_memory_bytes": 4 * GB,
        "processor_count": 2,
        "adapters": [{"name": "Network Adapter", "id": "Microsoft:LAB-HV1\\A1", "mac_address_spoofing": "Off"}],
    }
    assert vm.after == {
        **vm.before,
        "expose_virtualization_extensions": True,
        "dynamic_memory_enabled": False,
        "startup_memory_bytes": 8 * GB,
        "processor_count": 4,
    }
    assert vm.actions == [
        "shut down through the guest (up to 120s)",
        "turn dynamic memory off; set startup memory 4GB -> 8GB",
        "expose virtualization extensions; set processor count 2 -> 4",
        "start",
    ]


def test_turn_off_op_has_no_timeout() -> None:
    result = run([probe_vm()], power="turn_off")
    assert result.operations[0] == {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off", "mark_for_restart": True}
    assert "unsaved guest data" in result.vms[0].actions[0]


def test_several_vms_are_stopped_together_and_each_changed_as_soon_as_it_is_off() -> None:
    result = run([probe_vm("A"), probe_vm("B", state="Off"), probe_vm("C")], power="turn_off")
    # B is off already and gets no power step: it is changed first, while nothing is off.
    assert [(op["vm"], op.get("cmdlet") or op["kind"] + ":" + op.get("state", "")) for op in result.operations] == [
        ("B", "Set-VMMemory"),
        ("B", "Set-VMProcessor"),
        ("A", "stop_vm:"),
        ("C", "stop_vm:"),
        ("A", "wait_vm:Off"),
        ("A", "Set-VMMemory"),
        ("A", "Set-VMProcessor"),
        ("A", "start_vm:"),
        ("C", "wait_vm:Off"),
        ("C", "Set-VMMemory"),
        ("C", "Set-VMProcessor"),
        ("C", "start_vm:"),
        ("A", "wait_vm:Running"),
        ("C", "wait_vm:Running"),
    ]
    assert all(op["wait"] is False for op in result.operations if op["kind"] in ("stop_vm", "start_vm"))
    assert [op["vm"] for op in result.on_failure] == ["A", "C"]


def test_on_failure_is_empty_when_power_after_off_or_nothing_stopped() -> None:
    assert run([probe_vm()], power="turn_off", power_after="off").on_failure == []
    assert run([probe_vm(state="Off")], power_after="running").on_failure == []
    assert run([probe_vm(**NESTED)], mac_address_spoofing="on").on_failure == []


def test_spoofing_addresses_adapters_by_id_including_repeated_names() -> None:
    adapters = [
        {"name": "NIC", "id": "Microsoft:X\\1", "mac_address_spoofing": "Off"},
        {"name": "NIC", "id": "Microsoft:X\\2", "mac_address_spoofing": "Off"},
        {"name": "Mgmt", "id": "Microsoft:X\\3", "mac_address_spoofing": "Off"},
        {"name": "Done", "id": "Microsoft:X\\4", "mac_address_spoofing": "On"},
    ]
    result = run([probe_vm(adapters=adapters, **NESTED)], mac_address_spoofing="on", adapters=["nic", "Done"])
    assert result.operations == [
        {"kind": "cmdlet", "cmdlet": "Set-VMNetworkAdapter", "vm": "LAB-HV1", "adapter_id": "Microsoft:X\\1", "parameters": {"MacAddressSpoofing": "On"}},
        {"kind": "cmdlet", "cmdlet": "Set-VMNetworkAdapter", "vm": "LAB-HV1", "adapter_id": "Microsoft:X\\2", "parameters": {"MacAddressSpoofing": "On"}},
    ]
    assert [adapter["mac_address_spoofing"] for adapter in result.vms[0].after["adapters"]] == ["On", "On", "Off", "On"]
    assert [adapter["mac_address_spoofing"] for adapter in result.vms[0].before["adapters"]] == ["Off", "Off", "Off", "On"]


def test_spoofing_off_on_all_adapters_by_default() -> None:
    adapters = [{"name": "A", "id": "1", "mac_address_spoofing": "On"}, {"name": "B", "id": "2", "mac_address_spoofing": "On"}]
    result = run([probe_vm(adapters=adapters, **NESTED)], mac_address_spoofing="off")
    assert [op["adapter_id"] for op in result.operations] == ["1", "2"]
    assert all(op["parameters"] == {"MacAddressSpoofing": "Off"} for op in result.operations)


def test_spoofing_unchanged_ignores_adapters() -> None:
    adapters = [{"name": "A", "id": "1", "mac_address_spoofing": "On"}]
    assert run([probe_vm(adapters=adapters, **NESTED)]).operations == []


def test_converged_vm_plans_nothing_and_after_equals_before() -> None:
    result = run([probe_vm(**NESTED, processor_count=4, startup_memory_bytes=8 * GB)], processor_count=4, startup_memory=8 * GB)
    assert result.operations == [] and result.on_failure == [] and not result.changed
    assert result.vms[0].after == result.vms[0].before


def test_memory_goes_first_when_enabling_and_last_when_disabling() -> None:
    # A stable order, so that `commands` read the same every run (either order would start).
    enabling = run([probe_vm(state="Off")], startup_memory=8 * GB)
    assert kinds(enabling) == ["Set-VMMemory", "Set-VMProcessor"]
    disabling = run([probe_vm(state="Off", **NESTED)], state="disabled", startup_memory=8 * GB)
    assert kinds(disabling) == ["Set-VMProcessor", "Set-VMMemory"]


def test_enabling_keeps_memory_size_when_not_given() -> None:
    result = run([probe_vm(state="Off", startup_memory_bytes=2 * GB)])
    assert result.operations[0]["parameters"] == {"DynamicMemoryEnabled": False}
    assert result.vms[0].after["startup_memory_bytes"] == 2 * GB


# ---- warnings --------------------------------------------------------------------------------


def test_checkpoints_are_a_note_only_when_turning_nesting_on() -> None:
    checkpoints = [{"name": "a", "id": "1"}, {"name": "b", "id": "2"}]
    enabling = run([probe_vm(state="Off", checkpoints=checkpoints)])
    assert enabling.warnings == []
    (note,) = enabling.notes
    assert "2 checkpoint(s)" in note and "work with nested virtualization" in note and "never deletes" in note
    assert "not supported" not in note
    already = run([probe_vm(state="Off", checkpoints=checkpoints, **NESTED)])
    assert already.warnings == [] and already.notes == []


def test_checkpoints_warn_asks_for_an_ansible_warning_instead() -> None:
    result = run([probe_vm(state="Off", checkpoints=[{"name": "a", "id": "1"}])], checkpoints="warn")
    assert result.notes == [] and len(result.warnings) == 1 and "1 checkpoint(s)" in result.warnings[0]


def test_a_running_vm_with_a_checkpoint_is_nested_in_one_plan() -> None:
    vm = probe_vm(checkpoints=[{"name": "before-nesting", "id": "1"}], version="12.0")
    host = make_host(vbs={"configured": True, "running": True, "status": 2}, os={"caption": "Microsoft Windows Server 2025 Datacenter", "build": 26100})
    result = run([vm], host=host, power="shutdown")
    assert kinds(result) == ["stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor", "start_vm"]
    assert result.vms[0].after["power_state"] == "Running"


def test_dynamic_memory_unchanged_keeps_it_on_and_says_what_happens() -> None:
    vm = probe_vm(state="Off", startup_memory_bytes=4 * GB)
    result = run([vm], dynamic_memory="unchanged")
    assert kinds(result) == ["Set-VMProcessor"]
    assert result.vms[0].after["dynamic_memory_enabled"] is True
    (warning,) = result.warnings
    assert "dynamic memory stays on" in warning and "keeps the 4GB" in warning and "neither grows nor shrinks" in warning


def test_dynamic_memory_unchanged_on_a_converged_vm_warns_but_changes_nothing() -> None:
    vm = probe_vm(state="Off", expose_virtualization_extensions=True, dynamic_memory_enabled=True)
    result = run([vm], dynamic_memory="unchanged")
    assert result.operations == [] and len(result.warnings) == 1


def test_dynamic_memory_off_is_the_default() -> None:
    result = run([probe_vm(state="Off")])
    assert result.operations[0]["parameters"] == {"DynamicMemoryEnabled": False}


def test_a_clustered_vm_may_be_power_cycled_when_allowed() -> None:
    result = run([probe_vm(is_clustered=True)], power="shutdown", clustered="allow")
    assert kinds(result) == ["stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor", "start_vm"]
    assert any("clustered role" in warning for warning in result.warnings)


def test_a_clustered_vm_needing_no_stop_is_changed_without_refusal() -> None:
    result = run([probe_vm(is_clustered=True, **NESTED)], mac_address_spoofing="on")
    assert kinds(result) == ["Set-VMNetworkAdapter"]


def test_small_sizes_warn() -> None:
    result = run([probe_vm(state="Off")], startup_memory=2 * GB, processor_count=1)
    assert any("startup_memory=2GB" in warning and "4GB" in warning for warning in result.warnings)
    assert any("processor_count=1" in warning for warning in result.warnings)


def test_power_after_running_on_paused_vm_warns_and_leaves_it() -> None:
    result = run([probe_vm(state="Paused", **NESTED)], power_after="running")
    assert result.operations == []
    assert "Paused" in result.warnings[0]


@pytest.mark.parametrize(("text", "expected"), [("9.0", (9, 0)), ("10.0", (10, 0)), ("9.3", (9, 3)), ("x", None), (None, None), ("9", None)])
def test_parse_version(text: t.Any, expected: tuple[int, int] | None) -> None:
    assert parse_version(text) == expected


def test_versions_compare_numerically_not_as_strings() -> None:
    # "10.0" < "8.0" as strings: the bug Microsoft's own status script had with build numbers.
    assert kinds(run([probe_vm(version="10.0", state="Off")])) == ["Set-VMMemory", "Set-VMProcessor"]


def test_shutdown_without_any_service_list_is_refused() -> None:
    text = " ".join(problems([probe_vm(integration_services=[])], power="shutdown"))
    assert "Shutdown integration service is disabled" in text


def test_unreadable_version_warns_and_does_not_upgrade() -> None:
    result = run([probe_vm(version="vNext", state="Off")], upgrade_version=True)
    assert "Update-VMVersion" not in kinds(result)
    assert "configuration version 'vNext'" in result.warnings[0]


# ---- state=unchanged: power and sizes only ------------------------------------------------------


@pytest.mark.parametrize("nested", [True, False])
def test_unchanged_state_keeps_nested_settings_whatever_they_are(nested: bool) -> None:
    settings = NESTED if nested else {}
    result = run([probe_vm(state="Off", **settings)], state="unchanged", power_after="running")
    assert kinds(result) == ["start_vm"]
    assert result.vms[0].after["expose_virtualization_extensions"] is nested
    assert result.vms[0].after["dynamic_memory_enabled"] is (not nested)


def test_unchanged_state_ignores_host_problems_and_versions() -> None:
    vm = probe_vm(state="Off", version="7.0")
    result = plan(make_host(), vms_section(vm), Options(names=["LAB-HV1"], state="unchanged", power_after="running"),
                  min_version=(8, 0), host_problems=["host.vbs_running: VBS runs."])
    assert kinds(result) == ["start_vm"]


def test_unchanged_state_still_manages_processor_count_with_a_power_cycle() -> None:
    result = run([probe_vm(**NESTED)], state="unchanged", processor_count=4, power="turn_off")
    assert kinds(result) == ["stop_vm:turn_off", "Set-VMProcessor", "start_vm"]
    assert result.operations[1]["parameters"] == {"Count": 4}
