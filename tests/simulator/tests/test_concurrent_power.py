"""Powering several VMs at once (wire protocol §3): stop_vm/start_vm with "wait": false, wait_vm, and
ensure_running waiting for a stop that the same executor call left pending."""
from __future__ import annotations

import time
from typing import Any

import pytest
from hvsim.fleet import Fleet
from hvsim.model import lifecycle
from hvsim.model.objects import VM
from lab_dicts import cmdlet, execute, fleet_of, l0, lab, only_failure, vm, vm_info, windows_guest

SHUTDOWN = 0.4
BOOT = 0.4
ENSURE = {"kind": "ensure_running", "vm": "VM-A", "timeout_seconds": 5}
FAILING = cmdlet("Set-VMProcessor", "VM-A", Count=999)       # fails: VM-A runs, or has more processors than hv01


def power_lab() -> dict[str, Any]:
    """hv01 with VM-A and VM-B (Windows guests, Running) and VM-C (a Windows guest, Off); guests take
    SHUTDOWN seconds to shut down and BOOT seconds to boot, long enough to see them half way."""
    spec = lab(l0(vms=[vm("VM-A", state="Running", guest=windows_guest()),
                       vm("VM-B", state="Running", guest=windows_guest()),
                       vm("VM-C", guest=windows_guest())]))
    spec["timing"].update({"shutdown_seconds": SHUTDOWN, "boot_seconds": BOOT})
    return spec


def _stop(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "stop_vm", "vm": name, "mode": "shutdown", "timeout_seconds": 5, **extra}


def _start(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "start_vm", "vm": name, "timeout_seconds": 5, **extra}


def _wait_vm(name: str, state: Any, timeout: float = 5) -> dict[str, Any]:
    return {"kind": "wait_vm", "vm": name, "state": state, "timeout_seconds": timeout}


def _model_vm(fleet: Fleet, name: str) -> VM:
    """The model's VM, for what the wire does not show (a pending shutdown, a guest still booting)."""
    return next(v for v in fleet._world.host("hv01").vms if v.name == name)


def _shutting_down(fleet: Fleet, name: str) -> bool:
    machine = _model_vm(fleet, name)
    return machine.state == "Running" and machine.shutdown_at is not None


def _boots(fleet: Fleet, name: str) -> int:
    guest = _model_vm(fleet, name).guest
    assert guest is not None
    return guest.boot_count


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["failed_index"] is None, result
    return result


class RecordingFleet(Fleet):
    """Keeps, at every generation bump, which of VM-A and VM-B are shutting down at that moment."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shutting_down: list[set[str]] = []

    def _changed(self) -> None:
        super()._changed()
        self.shutting_down.append({name for name in ("VM-A", "VM-B") if _shutting_down(self, name)})


# -- stop_vm with "wait": false ----------------------------------------------------------------


def test_two_stops_without_wait_shut_both_vms_down_at_once() -> None:
    fleet = fleet_of(power_lab())
    result = _ok(execute(fleet, "hv01", _stop("VM-A", wait=False), _stop("VM-B", wait=False)))
    # Both stops were issued and neither waited: both guests are shutting down now.
    assert result["vm_states"] == {"VM-A": "Running", "VM-B": "Running"}
    assert _shutting_down(fleet, "VM-A") and _shutting_down(fleet, "VM-B")
    result = _ok(execute(fleet, "hv01", _wait_vm("VM-A", "Off"), _wait_vm("VM-B", "Off")))
    assert result["vm_states"] == {"VM-A": "Off", "VM-B": "Off"}


def test_one_call_stops_both_then_waits_for_both() -> None:
    fleet = RecordingFleet.from_lab(power_lab())
    assert isinstance(fleet, RecordingFleet)
    fleet.shutting_down = []
    result = _ok(execute(fleet, "hv01", _stop("VM-A", wait=False), _stop("VM-B", wait=False),
                         _wait_vm("VM-A", "Off"), _wait_vm("VM-B", "Off")))
    assert result["vm_states"] == {"VM-A": "Off", "VM-B": "Off"}
    assert [r["status"] for r in result["operations"]] == ["ok"] * 4
    # Waiting stops would shut VM-A down before VM-B's stop is issued: never both at once.
    assert {"VM-A", "VM-B"} in fleet.shutting_down
    assert fleet.shutting_down[-1] == set()


def test_a_waiting_stop_is_unchanged() -> None:
    fleet = fleet_of(power_lab())
    for extra in ({}, {"wait": True}):
        result = _ok(execute(fleet, "hv01", _stop("VM-A", **extra)))
        assert result["vm_states"] == {"VM-A": "Off"} and not _shutting_down(fleet, "VM-A")
        _ok(execute(fleet, "hv01", _start("VM-A")))


def test_turn_off_without_wait_is_off_at_once() -> None:
    fleet = fleet_of(power_lab())
    result = _ok(execute(fleet, "hv01", _stop("VM-A", mode="turn_off", wait=False), _wait_vm("VM-A", "Off", 0)))
    assert result["vm_states"] == {"VM-A": "Off"}


def test_a_stop_without_wait_writes_the_mark_before_it_stops() -> None:
    fleet = fleet_of(power_lab())
    _ok(execute(fleet, "hv01", _stop("VM-A", wait=False, mark_for_restart=True)))
    assert _shutting_down(fleet, "VM-A")
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is not None
    _ok(execute(fleet, "hv01", _wait_vm("VM-A", "Off")))
    info = vm_info(fleet, "hv01", "VM-A")
    assert info["state"] == "Off" and info["restart_mark"] is not None


def test_a_stop_without_wait_that_cannot_be_issued_fails() -> None:
    spec = power_lab()
    spec["hosts"][0]["vms"][0]["integration_services"] = {"Shutdown": False}
    fleet = fleet_of(spec)
    result = execute(fleet, "hv01", _stop("VM-A", wait=False), _wait_vm("VM-A", "Off", timeout=30))
    # -AsJob: Hyper-V's refusal is an error record of the job, which wait_vm reports at once (RULES #42).
    assert result["operations"][0]["status"] == "ok"
    assert result["failed_index"] == 1 and "Shutdown integration service" in only_failure(result)
    assert only_failure(result).startswith("Stop-VM failed for 'VM-A': ")
    assert result["operations"][1]["duration_ms"] < 5000
    assert result["vm_states"] == {"VM-A": "Running"}


# -- wait_vm -------------------------------------------------------------------------------------


def test_wait_vm_off_times_out_when_the_guest_ignores_the_shutdown() -> None:
    fleet = fleet_of(power_lab())
    fleet.inject({"kind": "ignore_shutdown", "host": "hv01", "vm": "VM-A", "value": True})
    result = execute(fleet, "hv01", _stop("VM-A", wait=False), _wait_vm("VM-A", "Off", timeout=1))
    assert result["operations"][0]["status"] == "ok"
    assert result["failed_index"] == 1
    assert only_failure(result) == "VM 'VM-A' did not shut down within 1 seconds."
    assert result["vm_states"] == {"VM-A": "Running"}
    # The same text as a waiting stop that times out.
    waiting = execute(fleet, "hv01", _stop("VM-A", timeout_seconds=1))
    assert only_failure(waiting) == only_failure(result)
    assert vm_info(fleet, "hv01", "VM-A")["state"] == "Running"


def test_wait_vm_running_waits_for_the_heartbeat_after_a_start_without_wait() -> None:
    fleet = fleet_of(power_lab())
    guest = {"kind": "guest", "vm": "VM-C", "username": "Administrator", "password": "Passw0rd!", "operations": []}
    # Without wait_vm the guest is still booting when the next op needs it...
    result = execute(fleet, "hv01", _start("VM-C", wait=False), guest)
    assert result["operations"][0]["status"] == "ok"
    assert result["failed_index"] == 1 and "still starting" in only_failure(result)
    _ok(execute(fleet, "hv01", _stop("VM-C", mode="turn_off")))
    # ...with it, the guest has booted.
    result = _ok(execute(fleet, "hv01", _start("VM-C", wait=False), _wait_vm("VM-C", "Running"), guest))
    assert result["vm_states"] == {"VM-C": "Running"}
    assert lifecycle.guest_booted(_model_vm(fleet, "VM-C"), time.time())


def test_start_without_wait_returns_once_start_vm_returned() -> None:
    fleet = fleet_of(power_lab())
    result = _ok(execute(fleet, "hv01", _start("VM-C", wait=False)))
    assert result["vm_states"] == {"VM-C": "Running"}
    assert not lifecycle.guest_booted(_model_vm(fleet, "VM-C"), time.time())     # no heartbeat wait
    _ok(execute(fleet, "hv01", _wait_vm("VM-C", "Running")))
    assert lifecycle.guest_booted(_model_vm(fleet, "VM-C"), time.time())


def test_wait_vm_running_times_out_with_the_start_message() -> None:
    fleet = fleet_of(power_lab())
    result = execute(fleet, "hv01", _wait_vm("VM-C", "Running", timeout=0.2))
    assert only_failure(result) == "VM 'VM-C' did not report Running with a healthy heartbeat within 0 seconds."
    assert result["vm_states"] == {"VM-C": "Off"}


def test_wait_vm_changes_nothing() -> None:
    fleet = fleet_of(power_lab())
    generation = fleet.generation()
    result = _ok(execute(fleet, "hv01", _wait_vm("VM-C", "Off"), _wait_vm("VM-A", "Running")))
    assert result["vm_states"] == {"VM-C": "Off", "VM-A": "Running"}
    assert fleet.generation() == generation
    assert _boots(fleet, "VM-A") == 1


@pytest.mark.parametrize("state", ["off", "running", "Stopped", "Saved", "", None, 1, ["Off"]])
def test_wait_vm_state_must_be_off_or_running(state: Any) -> None:
    fleet = fleet_of(power_lab())
    result = execute(fleet, "hv01", _wait_vm("VM-C", state))
    assert only_failure(result).startswith("wait_vm state must be 'Off' or 'Running'")
    op = {"kind": "wait_vm", "vm": "VM-C", "timeout_seconds": 1}
    assert only_failure(execute(fleet, "hv01", op)) == "wait_vm state must be 'Off' or 'Running', not None."


@pytest.mark.parametrize("name", ["NOPE", "VM-*", "VM-[A]", None, 7])
def test_wait_vm_resolves_the_vm_exactly(name: Any) -> None:
    fleet = fleet_of(power_lab())
    message = only_failure(execute(fleet, "hv01", _wait_vm(name, "Off", 1)))
    assert message == only_failure(execute(fleet, "hv01", _start(name)))
    assert message.startswith(("No virtual machine named", "Invalid VM name"))


# -- start_vm with "wait": false and the restart mark -------------------------------------------


def test_start_without_wait_removes_the_mark() -> None:
    fleet = fleet_of(power_lab())
    _ok(execute(fleet, "hv01", _stop("VM-A", mode="turn_off", mark_for_restart=True)))
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is not None
    _ok(execute(fleet, "hv01", _start("VM-A", wait=False)))
    assert not lifecycle.guest_booted(_model_vm(fleet, "VM-A"), time.time())     # removed before the boot ends
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is None


def test_a_start_without_wait_that_fails_keeps_the_mark() -> None:
    spec = power_lab()
    spec["hosts"][0]["bcd_offer_nested_virt_disabled"] = True   # a VM with exposed extensions cannot start (RULES #10)
    fleet = fleet_of(spec)
    _ok(execute(fleet, "hv01", _stop("VM-A", mode="turn_off", mark_for_restart=True),
                cmdlet("Set-VMProcessor", "VM-A", ExposeVirtualizationExtensions=True)))
    result = execute(fleet, "hv01", _start("VM-A", wait=False))
    assert "failed to start" in only_failure(result)
    info = vm_info(fleet, "hv01", "VM-A")
    assert info["state"] == "Off" and info["restart_mark"] is not None


# -- ensure_running after a pending stop ---------------------------------------------------------


def test_ensure_running_waits_for_a_pending_graceful_stop_and_starts_the_vm_again() -> None:
    fleet = fleet_of(power_lab())
    result = execute(fleet, "hv01", _stop("VM-A", wait=False, mark_for_restart=True), FAILING, on_failure=[ENSURE])
    assert result["failed_index"] == 1 and result["on_failure"][0]["status"] == "ok"
    assert result["vm_states"] == {"VM-A": "Running"}
    # Not the old shutdown still under way, which would take the VM down after the call: it went
    # Off and was started again.
    assert not _shutting_down(fleet, "VM-A")
    assert _boots(fleet, "VM-A") == 2
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is None
    time.sleep(SHUTDOWN + 0.1)
    assert vm_info(fleet, "hv01", "VM-A")["state"] == "Running"


def test_ensure_running_after_a_pending_stop_of_a_guest_that_ignores_it_starts_nothing_and_keeps_the_mark() -> None:
    fleet = fleet_of(power_lab())
    fleet.inject({"kind": "ignore_shutdown", "host": "hv01", "vm": "VM-A", "value": True})
    ensure = {**ENSURE, "timeout_seconds": 1}
    result = execute(fleet, "hv01", _stop("VM-A", wait=False, mark_for_restart=True), FAILING, on_failure=[ensure])
    assert result["failed_index"] == 1
    # The stop has not ended and may still power the VM off: the mark stays (RULES #41).
    assert result["on_failure"][0]["status"] == "failed" and "restart mark is kept" in result["on_failure"][0]["message"]
    assert result["on_failure"][0]["duration_ms"] >= 900        # it waited for the stop up to its timeout
    assert result["vm_states"] == {"VM-A": "Running"}
    assert _boots(fleet, "VM-A") == 1                            # running all along: nothing started
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is not None


def test_ensure_running_waits_no_longer_than_the_stops_own_timeout() -> None:
    # The guest ignores the shutdown; wait_vm gave it the stop's 1 s. ensure_running (30 s) must
    # not wait for that stop again: the VM runs, and is left running at once.
    fleet = fleet_of(power_lab())
    fleet.inject({"kind": "ignore_shutdown", "host": "hv01", "vm": "VM-A", "value": True})
    ensure = {**ENSURE, "timeout_seconds": 30}
    result = execute(fleet, "hv01", _stop("VM-A", wait=False, timeout_seconds=1), _wait_vm("VM-A", "Off", timeout=1), on_failure=[ensure])
    assert result["failed_index"] == 1 and result["on_failure"][0]["status"] == "failed"   # the stop may still end
    assert result["on_failure"][0]["duration_ms"] < 10_000, result["on_failure"]   # not the 30 s of its own timeout
    assert result["vm_states"] == {"VM-A": "Running"} and _boots(fleet, "VM-A") == 1


def test_ensure_running_after_a_stop_that_already_ended() -> None:
    fleet = fleet_of(power_lab())
    result = execute(fleet, "hv01", _stop("VM-A", wait=False), _wait_vm("VM-A", "Off"), FAILING,
                     on_failure=[ENSURE])
    assert result["failed_index"] == 2 and result["on_failure"][0]["status"] == "ok"
    assert result["vm_states"] == {"VM-A": "Running"} and _boots(fleet, "VM-A") == 2


def test_ensure_running_without_a_pending_stop_is_unchanged() -> None:
    fleet = fleet_of(power_lab())
    # Running: left alone at once.
    result = _ok(execute(fleet, "hv01", ENSURE))
    assert result["vm_states"] == {"VM-A": "Running"} and _boots(fleet, "VM-A") == 1
    assert result["operations"][0]["duration_ms"] < SHUTDOWN * 1000
    # Off: started.
    assert _ok(execute(fleet, "hv01", {**ENSURE, "vm": "VM-C"}))["vm_states"] == {"VM-C": "Running"}
    # Another VM's pending stop is not this VM's.
    result = execute(fleet, "hv01", _stop("VM-B", wait=False), FAILING, on_failure=[ENSURE])
    assert result["on_failure"][0]["status"] == "ok" and _boots(fleet, "VM-A") == 1
    assert result["on_failure"][0]["duration_ms"] < SHUTDOWN * 1000


def test_pending_stops_last_one_executor_call() -> None:
    fleet = fleet_of(power_lab())
    _ok(execute(fleet, "hv01", _stop("VM-A", wait=False)))
    # A later call knows nothing of it (the script's jobs end with its run): found Running, left alone.
    result = _ok(execute(fleet, "hv01", ENSURE))
    assert result["vm_states"] == {"VM-A": "Running"} and _shutting_down(fleet, "VM-A")


# -- strict "wait" -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["false", 0, 1, None, [False]])
def test_wait_must_be_a_boolean(value: Any) -> None:
    fleet = fleet_of(power_lab())
    result = execute(fleet, "hv01", _stop("VM-A", wait=value, mark_for_restart=True))
    assert only_failure(result) == f"wait must be true or false, not {value!r}."
    assert result["vm_states"] == {"VM-A": "Running"} and not _shutting_down(fleet, "VM-A")   # nothing stopped
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is None                             # nor marked
    result = execute(fleet, "hv01", _start("VM-C", wait=value))
    assert only_failure(result) == f"wait must be true or false, not {value!r}."
    assert result["vm_states"] == {"VM-C": "Off"}                                            # nothing started
