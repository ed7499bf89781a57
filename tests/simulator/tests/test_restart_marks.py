"""Restart marks (wire protocol §3.1): the collection's ProgramData file per stopped VM, in the executor,
the probe and the saved state."""
from __future__ import annotations

import calendar
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hvsim.fleet import Fleet
from hvsim.persistence import StatePersister, read_json
from lab_dicts import basic_lab, cmdlet, execute, fleet_of, l0, lab, nested_ready_lab, only_failure, vm_info

STOPPED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _stop(name: str = "LAB-HV1", mode: str = "turn_off", **extra: Any) -> dict[str, Any]:
    return {"kind": "stop_vm", "vm": name, "mode": mode, "timeout_seconds": 5, **extra}


def _marked_stop(name: str = "LAB-HV1", mode: str = "turn_off") -> dict[str, Any]:
    return _stop(name, mode, mark_for_restart=True)


def _marks(fleet: Fleet, root: int = 0) -> dict[str, Any]:
    return dict(fleet.export_state()["roots"][root]["restart_marks"])


def _vm_id(fleet: Fleet, host: str, name: str) -> str:
    return str(vm_info(fleet, host, name)["id"])


def _without_marks(data: Any) -> Any:
    """A state document as written before restart marks existed."""
    if isinstance(data, dict):
        return {k: _without_marks(v) for k, v in data.items() if k != "restart_marks"}
    if isinstance(data, list):
        return [_without_marks(v) for v in data]
    return data


class RecordingFleet(Fleet):
    """Keeps what a save would write at every generation bump (the persister saves on a bump)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshots: list[dict[str, Any]] = []

    def _changed(self) -> None:
        super()._changed()
        root = self.export_state()["roots"][0]
        self.snapshots.append({"state": root["vms"][0]["state"], "marked": bool(root["restart_marks"])})


# -- written ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["turn_off", "shutdown"])
def test_stop_with_mark_writes_the_mark_and_the_probe_reports_it(mode: str) -> None:
    fleet = fleet_of(basic_lab())
    vm_id = _vm_id(fleet, "hv01", "LAB-HV1")
    before = time.time()
    result = execute(fleet, "hv01", _marked_stop(mode=mode))
    assert result["failed_index"] is None and result["vm_states"] == {"LAB-HV1": "Off"}
    info = vm_info(fleet, "hv01", "LAB-HV1")
    assert info["state"] == "Off"
    assert set(info["restart_mark"]) == {"stopped_at"}
    stopped_at = info["restart_mark"]["stopped_at"]
    assert STOPPED_AT.match(stopped_at), stopped_at
    written = calendar.timegm(time.strptime(stopped_at, "%Y-%m-%dT%H:%M:%SZ"))
    assert before - 2 <= written <= time.time() + 1
    assert _marks(fleet) == {vm_id.lower(): {"vm_id": vm_id.lower(), "vm_name": "LAB-HV1", "stopped_at": stopped_at,
                                             "stopped_by": "hyperv.nested.win_nested_vm"}}
    assert vm_info(fleet, "hv01", "PLAIN")["restart_mark"] is None


def test_the_mark_is_saved_before_the_vm_stops() -> None:
    fleet = RecordingFleet.from_lab(basic_lab())
    assert isinstance(fleet, RecordingFleet)
    fleet.snapshots = []
    assert execute(fleet, "hv01", _marked_stop())["failed_index"] is None
    # A save between the two steps finds the mark with the VM still running, never the VM off without it.
    assert fleet.snapshots[0] == {"state": "Running", "marked": True}
    assert all(s["marked"] for s in fleet.snapshots if s["state"] == "Off")
    assert fleet.snapshots[-1] == {"state": "Off", "marked": True}


def test_a_graceful_stop_that_times_out_leaves_the_mark_on_the_running_vm() -> None:
    fleet = fleet_of(basic_lab())
    fleet.inject({"kind": "ignore_shutdown", "host": "hv01", "vm": "LAB-HV1", "value": True})
    result = execute(fleet, "hv01", _stop(mode="shutdown", mark_for_restart=True, timeout_seconds=0.2))
    assert only_failure(result) == "VM 'LAB-HV1' did not shut down within 0 seconds."
    info = vm_info(fleet, "hv01", "LAB-HV1")
    assert info["state"] == "Running" and info["restart_mark"] is not None   # written before Stop-VM: stale now


def test_a_mark_that_cannot_be_written_fails_the_stop_and_the_vm_keeps_running() -> None:
    fleet = fleet_of(basic_lab())
    fleet.inject({"kind": "deny_restart_marks", "host": "hv01"})
    result = execute(fleet, "hv01", _marked_stop(mode="shutdown"))
    assert "Access to the path" in only_failure(result) and "restart-marks" in only_failure(result)
    assert vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Running"
    assert _marks(fleet) == {}
    # Unmarked stops (power_after=off) do not write a mark and are not affected.
    assert execute(fleet, "hv01", _stop())["vm_states"] == {"LAB-HV1": "Off"}
    fleet.inject({"kind": "deny_restart_marks", "host": "hv01", "value": False})
    assert execute(fleet, "hv01", _marked_stop("PLAIN"))["failed_index"] is None


@pytest.mark.parametrize("extra", [{}, {"mark_for_restart": False}], ids=["absent", "false"])
def test_no_mark_without_mark_for_restart(extra: dict[str, Any]) -> None:
    fleet = fleet_of(basic_lab())
    assert execute(fleet, "hv01", _stop(**extra))["vm_states"] == {"LAB-HV1": "Off"}
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    assert _marks(fleet) == {}


def test_no_mark_for_a_vm_that_is_not_running() -> None:
    fleet = fleet_of(basic_lab())
    assert execute(fleet, "hv01", _marked_stop("PLAIN"))["vm_states"] == {"PLAIN": "Off"}
    assert execute(fleet, "hv01", cmdlet("Stop-VM", "LAB-HV1", Save=True))["failed_index"] is None
    assert execute(fleet, "hv01", _marked_stop())["vm_states"] == {"LAB-HV1": "Off"}   # Saved -> Off
    assert vm_info(fleet, "hv01", "PLAIN")["restart_mark"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    assert _marks(fleet) == {}


@pytest.mark.parametrize("value", ["true", 1, 0, None, [True]])
def test_mark_for_restart_must_be_a_boolean(value: Any) -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", _stop(mark_for_restart=value))
    assert "mark_for_restart" in only_failure(result)
    assert result["vm_states"] == {"LAB-HV1": "Running"}       # not stopped
    assert _marks(fleet) == {}


def test_marks_live_on_the_host_that_runs_the_vm() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    vm_id = _vm_id(fleet, "lab-hv1", "LAB-VM1")
    assert execute(fleet, "lab-hv1", _marked_stop("LAB-VM1"))["failed_index"] is None
    assert vm_info(fleet, "lab-hv1", "LAB-VM1")["restart_mark"] is not None
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    root = fleet.export_state()["roots"][0]
    assert root["restart_marks"] == {}
    assert set(root["vms"][0]["nested_host"]["restart_marks"]) == {vm_id.lower()}


# -- removed ---------------------------------------------------------------------------------


def test_start_vm_removes_the_mark_once_the_vm_runs() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    generation = fleet.generation()
    result = execute(fleet, "hv01", {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 5})
    assert result["failed_index"] is None and result["vm_states"] == {"LAB-HV1": "Running"}
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    assert _marks(fleet) == {}
    assert fleet.generation() > generation


def test_a_start_that_fails_keeps_the_mark() -> None:
    spec = basic_lab()
    spec["hosts"][0]["bcd_offer_nested_virt_disabled"] = True     # exposing extensions makes LAB-HV1 unstartable
    fleet = fleet_of(spec)
    execute(fleet, "hv01", _marked_stop(), cmdlet("Set-VMProcessor", "LAB-HV1", ExposeVirtualizationExtensions=True))
    result = execute(fleet, "hv01", {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 2})
    assert "failed to start" in only_failure(result)
    info = vm_info(fleet, "hv01", "LAB-HV1")
    assert info["state"] == "Off" and info["restart_mark"] is not None


def test_a_start_vm_cmdlet_alone_keeps_the_mark() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    assert execute(fleet, "hv01", cmdlet("Start-VM", "LAB-HV1"))["vm_states"] == {"LAB-HV1": "Running"}
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is not None


def test_ensure_running_removes_the_mark_when_it_starts_the_vm_and_when_it_already_runs() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    ensure = {"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 5}
    assert execute(fleet, "hv01", ensure)["vm_states"] == {"LAB-HV1": "Running"}
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    # Already running (started by a plain Start-VM, which leaves the file alone).
    execute(fleet, "hv01", _marked_stop(), cmdlet("Start-VM", "LAB-HV1"))
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is not None
    assert execute(fleet, "hv01", ensure)["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    assert _marks(fleet) == {}


def test_ensure_running_in_on_failure_removes_the_mark() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", _marked_stop(), cmdlet("Set-VMProcessor", "LAB-HV1", Count=999),
                     on_failure=[{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 5}])
    assert result["failed_index"] == 1 and result["on_failure"][0]["status"] == "ok"
    assert result["vm_states"] == {"LAB-HV1": "Running"}
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None


def test_clear_restart_mark_removes_the_mark_and_nothing_else() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    generation = fleet.generation()
    result = execute(fleet, "hv01", {"kind": "clear_restart_mark", "vm": "lab-hv1"})   # exact, case-insensitive
    assert result["failed_index"] is None
    assert result["operations"] == [{"index": 0, "status": "ok", "message": None,
                                     "duration_ms": result["operations"][0]["duration_ms"]}]
    assert result["vm_states"] == {"LAB-HV1": "Off"}                    # named VMs include this op's
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is None
    assert _marks(fleet) == {}
    assert fleet.generation() > generation


def test_clear_restart_mark_without_a_mark_is_not_an_error() -> None:
    fleet = fleet_of(basic_lab())
    generation = fleet.generation()
    result = execute(fleet, "hv01", {"kind": "clear_restart_mark", "vm": "PLAIN"},
                     {"kind": "clear_restart_mark", "vm": "LAB-HV1"})
    assert result["failed_index"] is None
    assert result["vm_states"] == {"PLAIN": "Off", "LAB-HV1": "Running"}
    assert fleet.generation() == generation


def test_clear_restart_mark_only_touches_its_vm() -> None:
    spec = lab(l0(vms=[basic_lab()["hosts"][0]["vms"][0], {**basic_lab()["hosts"][0]["vms"][1], "state": "Running"}]))
    fleet = fleet_of(spec)
    execute(fleet, "hv01", _marked_stop(), _marked_stop("PLAIN"))
    assert len(_marks(fleet)) == 2
    execute(fleet, "hv01", {"kind": "clear_restart_mark", "vm": "PLAIN"})
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is not None
    assert vm_info(fleet, "hv01", "PLAIN")["restart_mark"] is None


@pytest.mark.parametrize("name", ["NOPE", "LAB-HV*", "LAB-HV[1]", None, 7])
def test_clear_restart_mark_of_an_unknown_vm_fails_like_other_ops(name: Any) -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    message = only_failure(execute(fleet, "hv01", {"kind": "clear_restart_mark", "vm": name}))
    assert message == only_failure(execute(fleet, "hv01", {"kind": "start_vm", "vm": name}))
    assert message.startswith(("No virtual machine named", "Invalid VM name"))
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is not None


def test_clear_restart_mark_needs_the_hyperv_module() -> None:
    fleet = fleet_of(lab(l0(hyperv_feature="Disabled", hypervisor_present=False)))
    message = only_failure(execute(fleet, "hv01", {"kind": "clear_restart_mark", "vm": "ANY"}))
    assert message.startswith("The term 'Get-VM' is not recognized")


def test_guest_operations_cannot_clear_marks() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop("LAB-HV1"), cmdlet("Start-VM", "LAB-HV1"))
    time.sleep(0.1)
    guest = {"kind": "guest", "vm": "LAB-HV1", "username": "Administrator", "password": "Passw0rd!",
             "operations": [{"kind": "clear_restart_mark", "vm": "LAB-HV1"}]}
    assert "cmdlet operations" in only_failure(execute(fleet, "hv01", guest))
    assert vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"] is not None


# -- saved, loaded, shown --------------------------------------------------------------------


def test_marks_survive_a_save_and_load_through_state_json(tmp_path: Path) -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    execute(fleet, "hv01", _marked_stop("LAB-HV1", mode="shutdown"))
    execute(fleet, "hv01", {"kind": "start_vm", "vm": "LAB-HV1"})
    execute(fleet, "hv01", _marked_stop("LAB-HV1"))                 # L1 off again, with a mark
    path = tmp_path / "state.json"
    StatePersister(fleet, path).save()
    restored = Fleet.from_state(read_json(path))
    assert restored.export_state() == fleet.export_state()
    mark = vm_info(fleet, "hv01", "LAB-HV1")["restart_mark"]
    assert mark is not None and vm_info(restored, "hv01", "LAB-HV1")["restart_mark"] == mark
    assert execute(restored, "hv01", {"kind": "start_vm", "vm": "LAB-HV1"})["failed_index"] is None
    assert vm_info(restored, "hv01", "LAB-HV1")["restart_mark"] is None


def test_nested_host_marks_survive_a_round_trip() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    execute(fleet, "lab-hv1", _marked_stop("LAB-VM1"))
    restored = Fleet.from_state(json.loads(json.dumps(fleet.export_state())))
    assert vm_info(restored, "lab-hv1", "LAB-VM1")["restart_mark"] == vm_info(fleet, "lab-hv1", "LAB-VM1")["restart_mark"]
    assert vm_info(restored, "lab-hv1", "LAB-VM1")["restart_mark"] is not None


def test_old_state_without_marks_loads(tmp_path: Path) -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    old = _without_marks(fleet.export_state())
    assert "restart_marks" not in json.dumps(old)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    restored = Fleet.from_state(read_json(path))
    assert vm_info(restored, "hv01", "LAB-HV1")["restart_mark"] is None
    assert vm_info(restored, "lab-hv1", "LAB-VM1")["restart_mark"] is None
    assert execute(restored, "lab-hv1", _marked_stop("LAB-VM1"))["failed_index"] is None
    assert vm_info(restored, "lab-hv1", "LAB-VM1")["restart_mark"] is not None


@pytest.mark.parametrize("broken", ["not json", {"stopped_at": 5}, {}])
def test_an_unreadable_mark_is_reported_without_a_time(broken: Any) -> None:
    fleet = fleet_of(basic_lab())
    state = fleet.export_state()
    vm_id = state["roots"][0]["vms"][0]["id"]
    state["roots"][0]["restart_marks"] = {vm_id.upper(): broken}
    restored = Fleet.from_state(json.loads(json.dumps(state)))
    assert vm_info(restored, "hv01", "LAB-HV1")["restart_mark"] == {"stopped_at": None}
    assert execute(restored, "hv01", {"kind": "clear_restart_mark", "vm": "LAB-HV1"})["failed_index"] is None
    assert vm_info(restored, "hv01", "LAB-HV1")["restart_mark"] is None


def test_show_reports_the_marks() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", _marked_stop())
    shown = {v["name"]: v["restart_mark"] for v in fleet.host_state("hv01")["vms"]["vms"]}
    assert shown["PLAIN"] is None
    assert STOPPED_AT.match(shown["LAB-HV1"]["stopped_at"])
