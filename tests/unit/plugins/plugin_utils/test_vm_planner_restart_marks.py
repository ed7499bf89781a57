"""Restart marks in win_nested_vm plans (docs/internals/wire-protocol.md §3.1): a VM found Off with
a mark was running before a run that was cut off between its stop and its start."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import render

from .test_vm_planner import GB, NESTED, kinds, make_host, make_vm, run

MARK = {"stopped_at": "2026-11-25T23:40:00Z"}


def test_a_stop_that_is_followed_by_a_start_leaves_a_mark() -> None:
    result = run([make_vm()], power="shutdown")
    stop = result.operations[0]
    assert stop["kind"] == "stop_vm"
    assert stop["mark_for_restart"] is True


@pytest.mark.parametrize("power", ["shutdown", "turn_off"])
def test_a_stop_that_leaves_the_vm_off_leaves_no_mark(power: str) -> None:
    result = run([make_vm()], power=power, power_after="off")
    assert result.operations[0]["kind"] == "stop_vm"
    assert result.operations[0]["mark_for_restart"] is False
    assert result.on_failure == []


def test_an_interrupted_vm_with_its_settings_done_is_started_again() -> None:
    result = run([make_vm(state="Off", restart_mark=MARK, **NESTED)])
    assert kinds(result) == ["start_vm"]
    vm = result.vms[0]
    assert vm.before["power_state"] == "Off"
    assert vm.after["power_state"] == "Running"
    assert "2026-11-25T23:40:00Z" in vm.actions[0]
    assert result.on_failure == [{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 300}]


def test_an_interrupted_vm_gets_its_settings_then_starts_without_another_stop() -> None:
    result = run([make_vm(state="Off", restart_mark=MARK)], power="shutdown", processor_count=4)
    assert kinds(result) == ["Set-VMMemory", "Set-VMProcessor", "start_vm"]


def test_an_interrupted_vm_is_started_even_with_state_unchanged_and_power_fail() -> None:
    result = run([make_vm(state="Off", restart_mark=MARK)], state="unchanged")
    assert kinds(result) == ["start_vm"]


def test_an_off_vm_without_a_mark_stays_off() -> None:
    result = run([make_vm(state="Off", **NESTED)])
    assert not result.changed
    assert result.on_failure == []


def test_power_after_running_starts_an_interrupted_vm_once() -> None:
    result = run([make_vm(state="Off", restart_mark=MARK, **NESTED)], power_after="running")
    assert kinds(result) == ["start_vm"]


def test_power_after_off_forgets_the_mark_and_keeps_the_vm_off() -> None:
    result = run([make_vm(state="Off", restart_mark=MARK, **NESTED)], power_after="off")
    assert result.operations == [{"kind": "clear_restart_mark", "vm": "LAB-HV1"}]
    assert result.vms[0].after["power_state"] == "Off"
    assert result.on_failure == []


@pytest.mark.parametrize("state", ["Running", "Paused"])
def test_a_stale_mark_on_a_started_vm_is_removed(state: str) -> None:
    result = run([make_vm(state=state, restart_mark=MARK, **NESTED)])
    assert result.operations == [{"kind": "clear_restart_mark", "vm": "LAB-HV1"}]
    assert "started since" in result.vms[0].actions[0]
    assert result.on_failure == []


def test_a_stale_mark_is_left_to_the_plans_own_stop_and_start() -> None:
    result = run([make_vm(restart_mark=MARK)], power="shutdown")
    assert kinds(result) == ["stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor", "start_vm"]


def test_a_stale_mark_goes_before_a_stop_that_leaves_the_vm_off() -> None:
    result = run([make_vm(restart_mark=MARK)], power="shutdown", power_after="off")
    assert kinds(result) == ["clear_restart_mark", "stop_vm:shutdown", "Set-VMMemory", "Set-VMProcessor"]


def test_a_stale_mark_on_a_saved_vm_whose_state_is_discarded_is_removed() -> None:
    result = run([make_vm(state="Saved", restart_mark=MARK)], saved_state="discard")
    assert kinds(result) == ["clear_restart_mark", "Remove-VMSavedState", "Set-VMMemory", "Set-VMProcessor"]
    assert result.vms[0].after["power_state"] == "Off"


@pytest.mark.parametrize("state", ["Stopping", "Starting"])
def test_a_mark_on_a_vm_in_transition_is_left_alone(state: str) -> None:
    result = run([make_vm(state=state, restart_mark=MARK, **NESTED)])
    assert not result.changed


def test_only_the_interrupted_vm_is_brought_back_on_failure() -> None:
    result = run([make_vm("A", state="Off", restart_mark=MARK), make_vm("B", state="Off")])
    assert [operation["vm"] for operation in result.on_failure] == ["A"]


def test_an_unreadable_mark_still_counts() -> None:
    result = run([make_vm(state="Off", restart_mark={"stopped_at": None}, **NESTED)])
    assert kinds(result) == ["start_vm"]
    assert "an unknown time" in result.vms[0].actions[0]


def test_clearing_a_mark_renders_as_the_file_it_removes() -> None:
    line = render({"kind": "clear_restart_mark", "vm": "lab[1]"})
    assert line == (
        "Remove-Item -LiteralPath (Join-Path $env:ProgramData ('hyperv.nested\\restart-marks\\' + "
        "(Get-VM | Where-Object Name -eq 'lab[1]').Id + '.json'))"
    )


# ---- the 225 virtual processor limit of Windows Server 2019 guests -----------------------------


def big_host() -> dict[str, t.Any]:
    return make_host(logical_processor_count=512, memory_capacity_bytes=1024 * GB)


def test_more_than_225_processors_for_nested_warns() -> None:
    result = run([make_vm(state="Off", guest_os="Windows Server 2019 Datacenter")], host=big_host(), processor_count=240)
    assert any("240" in warning and "225" in warning and "Windows Server 2019" in warning for warning in result.warnings)


@pytest.mark.parametrize(("count", "state"), [(225, "enabled"), (240, "disabled")])
def test_no_225_warning_at_the_limit_or_without_nested(count: int, state: str) -> None:
    result = run([make_vm(state="Off")], host=big_host(), processor_count=count, state=state)
    assert not any("225" in warning for warning in result.warnings)
