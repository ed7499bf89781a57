"""Several VMs that need a power cycle are stopped and started at once (wire protocol §3: `wait: false`
and `wait_vm`); one VM keeps the plain stop, change, start order."""

from __future__ import annotations

import typing as t

from ...probe_fixtures import NESTED, probe_vm
from .test_vm_planner import run

MARK = {"stopped_at": "2026-11-25T23:40:00Z"}


def tokens(operations: list[dict[str, t.Any]]) -> list[str]:
    return [f"{op['vm']}:{op.get('cmdlet') or op['kind']}{':' + op['state'] if 'state' in op else ''}" for op in operations]


def test_one_vm_keeps_the_waiting_stop_and_start() -> None:
    result = run([probe_vm("A")], power="shutdown")
    assert tokens(result.operations) == ["A:stop_vm", "A:Set-VMMemory", "A:Set-VMProcessor", "A:start_vm"]
    assert not any("wait" in op for op in result.operations)


def test_each_vm_reads_its_own_actions_in_order_with_the_waits() -> None:
    result = run([probe_vm("A"), probe_vm("B")], power="shutdown", shutdown_timeout=120, start_timeout=60)
    assert result.vms[0].actions == [
        "shut down through the guest (up to 120s)",
        "wait until it is off (up to 120s)",
        "turn dynamic memory off",
        "expose virtualization extensions",
        "start",
        "wait until it runs (up to 60s)",
    ]
    waits = [op for op in result.operations if op["kind"] == "wait_vm"]
    expected = [("A", "Off", 120), ("B", "Off", 120), ("A", "Running", 60), ("B", "Running", 60)]
    assert [(op["vm"], op["state"], op["timeout_seconds"]) for op in waits] == expected


def test_vms_that_only_start_are_started_together() -> None:
    result = run([probe_vm("A", state="Off", **NESTED), probe_vm("B", state="Off", **NESTED)], power_after="running")
    assert tokens(result.operations) == ["A:start_vm", "B:start_vm", "A:wait_vm:Running", "B:wait_vm:Running"]


def test_a_vm_without_a_power_cycle_is_changed_first_while_nothing_is_off() -> None:
    result = run([probe_vm("A"), probe_vm("B", **NESTED), probe_vm("C")], power="turn_off", mac_address_spoofing="on")
    assert tokens(result.operations)[:3] == ["B:Set-VMNetworkAdapter", "A:stop_vm", "C:stop_vm"]


def test_power_concurrency_powers_the_vms_in_batches() -> None:
    vms = [probe_vm(name, state="Off", **NESTED) for name in "ABCDE"]
    result = run(vms, power_after="running", power_concurrency=2)
    assert tokens(result.operations) == [
        "A:start_vm", "B:start_vm", "A:wait_vm:Running", "B:wait_vm:Running",
        "C:start_vm", "D:start_vm", "C:wait_vm:Running", "D:wait_vm:Running",
        "E:start_vm",
    ]  # fmt: skip
    assert "wait" not in result.operations[-1]  # a batch of one VM waits in its own start


def test_power_concurrency_one_is_one_vm_after_another() -> None:
    result = run([probe_vm("A"), probe_vm("B")], power="turn_off", power_concurrency=1)
    assert tokens(result.operations) == [
        "A:stop_vm", "A:Set-VMMemory", "A:Set-VMProcessor", "A:start_vm",
        "B:stop_vm", "B:Set-VMMemory", "B:Set-VMProcessor", "B:start_vm",
    ]  # fmt: skip
    assert not any("wait" in op for op in result.operations)


def test_a_stale_restart_mark_is_removed_before_any_stop() -> None:
    result = run([probe_vm("A", restart_mark=MARK), probe_vm("B")], power="shutdown", power_after="off")
    assert tokens(result.operations)[:3] == ["A:clear_restart_mark", "A:stop_vm", "B:stop_vm"]
    assert result.on_failure == []


def test_every_step_is_in_the_order_once() -> None:
    result = run([probe_vm("A"), probe_vm("B", state="Off", restart_mark=MARK), probe_vm("C")], power="shutdown", processor_count=4)
    ordered = [id(step) for _name, step in result.steps]
    own = [id(step) for vm in result.vms for step in vm.steps]
    assert sorted(ordered) == sorted(own) and len(set(ordered)) == len(ordered)
