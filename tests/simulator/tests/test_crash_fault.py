"""Fault crash_when_stopped: the host goes away at the exact change that turns one of its running
VMs off (tests/reliability/test_faults.py uses it instead of racing a timer)."""
from __future__ import annotations

from typing import Any

from lab_dicts import execute, fleet_of, l0, lab, vm, windows_guest


def test_the_crash_comes_at_the_change_that_turns_a_watched_vm_off() -> None:
    spec = lab(l0(vms=[vm("VM-A", state="Running", guest=windows_guest()), vm("VM-OFF")]))
    fleet = fleet_of(spec)
    seen: list[dict[str, Any]] = []

    def crash() -> None:
        # What a save at this instant would write: VM-A Off with its mark, nothing started again.
        root = fleet.export_state()["roots"][0]
        seen.append({"states": {v["name"]: v["state"] for v in root["vms"]}, "marks": len(root["restart_marks"])})

    fleet.on_crash = crash
    fleet.inject({"kind": "crash_when_stopped", "host": "hv01"})
    execute(fleet, "hv01", {"kind": "stop_vm", "vm": "VM-A", "mode": "shutdown", "timeout_seconds": 5, "mark_for_restart": True},
            {"kind": "start_vm", "vm": "VM-A", "timeout_seconds": 5})
    assert seen == [{"states": {"VM-A": "Off", "VM-OFF": "Off"}, "marks": 1}]      # once, at the stop


def test_a_vm_that_was_off_when_armed_does_not_trigger_it() -> None:
    fleet = fleet_of(lab(l0(vms=[vm("VM-OFF")])))
    calls: list[int] = []
    fleet.on_crash = lambda: calls.append(1)
    fleet.inject({"kind": "crash_when_stopped", "host": "hv01"})
    execute(fleet, "hv01", {"kind": "cmdlet", "cmdlet": "Set-VMProcessor", "vm": "VM-OFF", "parameters": {"Count": 4}})
    assert calls == []
