"""script_name "execute": run an ordered list of operations (docs/internals/wire-protocol.md §3)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..model import hyperv_service, lifecycle
from ..model.accounts import Rights, check_password
from ..model.culture import error_text
from ..model.objects import VM
from .cmdlets import adapter_ref, run_cmdlet, select_vms, vm_ref
from .errors import PSError, command_not_found, hyperv_permission_denied, vmms_unavailable
from .session import Session

HOST_ALLOW = {"Set-VMProcessor", "Set-VMMemory", "Set-VMNetworkAdapter", "Connect-VMNetworkAdapter",
              "Update-VMVersion", "Remove-VMSavedState", "Start-VM", "Stop-VM", "New-VMSwitch", "Remove-VMSwitch",
              "New-NetNat", "Remove-NetNat", "New-NetIPAddress", "Remove-NetIPAddress", "Add-NetNatStaticMapping",
              "Remove-NetNatStaticMapping", "Set-VMSecurity", "New-NetFirewallRule", "Remove-NetFirewallRule"}
GUEST_ALLOW = {"New-NetIPAddress", "Remove-NetIPAddress", "Set-DnsClientServerAddress", "Set-NetIPInterface",
               "Remove-NetRoute"}
_SELECTORS = {"vmname", "name", "vm"}
MARKED_BY = "hyperv.nested.win_nested_vm"


class OpFailed(Exception):
    pass


@dataclass
class PendingStop:
    """A stop_vm this call issued (the script's `$script:stops` entry): with or without "wait", kept
    until the VM is seen Off or the stop is seen to end without it (RULES #30, #41)."""

    mode: str
    timeout: float
    deadline: float     # time.monotonic() at which the stop's own timeout_seconds run out
    # The Stop-VM -AsJob job's error records. Hyper-V reports a refused shutdown as a
    # non-terminating error: the job ends Completed with them, the VM still Running (RULES #42).
    errors: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        """The job ended without turning the VM off (a turn-off ends at once, with the VM Off)."""
        return self.mode == "turn_off" or bool(self.errors)


# Per execute call, VM Id (lower case) -> its pending stop: like the job table of one script run,
# it lives for one call only (wire protocol §3).
Pending = dict[str, PendingStop]


def _resolve_vm(session: Session, name: Any) -> VM:
    """Exact, case-insensitive name match (Get-VM | Where-Object Name -eq), never a wildcard."""
    if session.host.os_state.hyperv_feature != "Enabled":
        if not hyperv_service.module_present(session.host.os_state):
            raise command_not_found("Get-VM")     # the exact resolution runs Get-VM
        raise vmms_unavailable("Get-VM", session.computer_name)
    if not session.rights.hyperv_administrator:
        raise hyperv_permission_denied("Get-VM", session.computer_name)   # Get-VM itself is refused
    if not isinstance(name, str):
        raise OpFailed(f"Invalid VM name {name!r}.")
    matches = [vm for vm in session.host.vms if vm.name.lower() == name.lower()]
    if not matches:
        raise OpFailed(f"No virtual machine named '{name}' exists on this host.")
    if len(matches) > 1:
        raise OpFailed(f"More than one virtual machine is named '{name}'.")
    return matches[0]


def _cmdlet_op(session: Session, op: dict[str, Any], allow: set[str], os_state: Any = None,
               fault_host: str | None = None, rights: Rights | None = None) -> None:
    cmdlet = op.get("cmdlet")
    if not isinstance(cmdlet, str) or cmdlet not in allow:
        raise OpFailed(f"Cmdlet '{cmdlet}' is not in the executor's allow-list.")
    parameters = op.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise OpFailed("Operation parameters must be a JSON object.")
    parameters = dict(parameters)
    with session.lock:
        if op.get("vm") is not None:
            if any(key.lower() in _SELECTORS for key in parameters):
                raise OpFailed("An operation that names its VM must not carry VMName, Name or VM parameters.")
            vm = _resolve_vm(session, op["vm"])
            if op.get("adapter_id") is not None:
                adapter = next((a for a in vm.adapters if a.id == op["adapter_id"]), None)
                if adapter is None:
                    raise OpFailed(f"VM '{vm.name}' has no network adapter with Id '{op['adapter_id']}'.")
                parameters["VMNetworkAdapter"] = adapter_ref(vm, adapter)
            else:
                parameters["VM"] = [vm_ref(vm)]
        if op.get("switch_adapter") is not None:
            parameters["InterfaceIndex"] = _switch_adapter_index(session, op["switch_adapter"], parameters)
        parameters["ErrorAction"] = "Stop"
        bound = run_cmdlet(session, cmdlet, parameters, os_state=os_state, fault_host=fault_host, rights=rights)
        waiting = bound.cmdlet == "Stop-VM" and not any(bound.get(k) for k in ("TurnOff", "Save", "AsJob"))
        stopping = select_vms(session, bound, "Name") if waiting else []
    # A synchronous Stop-VM returns only once the guest has shut down.
    timeout = max(1.0, 20 * session.world.timing["shutdown_seconds"])
    for vm in stopping:
        if not _wait(session, vm, lambda v: v.state == "Off", timeout):
            raise OpFailed(f"'{vm.name}' failed to shut down: the guest operating system did not respond "
                           "within the time allowed.")


def _switch_adapter_index(session: Session, name: Any, parameters: dict[str, Any]) -> int:
    """Wait-SwitchAdapter: the host adapter of the one switch named `name`, found through the switch
    (its management-OS adapter), never by the "vEthernet (<name>)" alias Windows may suffix."""
    if any(key.lower() in ("interfacealias", "interfaceindex") for key in parameters):
        raise OpFailed("An operation with switch_adapter must not carry InterfaceAlias or InterfaceIndex.")
    switches = [s for s in session.host.switches if isinstance(name, str) and s.name.lower() == name.lower()]
    if len(switches) != 1:
        raise OpFailed(f"There is no single virtual switch named '{name}' on this host (found {len(switches)}).")
    adapters = [a for a in session.host.os_state.adapters if a.switch_name == switches[0].name]
    if not adapters:
        raise OpFailed(f"The virtual switch '{name}' has no adapter in the management operating system.")
    return adapters[-1].interface_index


def _wait(session: Session, vm: VM, done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with session.lock:
            session.refresh()
            if done(vm):
                return True
        if time.monotonic() >= deadline:
            return False
        session.sleep()


def _is_off(vm: VM) -> bool:
    return vm.state == "Off"


def _shutdown_timeout(vm: VM, timeout: float) -> OpFailed:
    return OpFailed(f"VM '{vm.name}' did not shut down within {int(timeout)} seconds.")


def _boot_timeout(vm: VM, timeout: float) -> OpFailed:
    return OpFailed(f"VM '{vm.name}' did not report Running with a healthy heartbeat within {int(timeout)} seconds.")


def _flag(op: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean field of an op; present and not a JSON boolean (even null) fails the op before it does anything."""
    value = op.get(name, default)
    if not isinstance(value, bool):
        raise OpFailed(f"{name} must be true or false, not {value!r}.")
    return value


def _booted(session: Session) -> Any:
    def check(vm: VM) -> bool:
        if vm.state != "Running":
            return False
        heartbeat = vm.integration_services.get("Heartbeat", False)
        # Without integration components in the guest the heartbeat never reads Ok (RULES #42).
        return not heartbeat or (vm.integration_components and lifecycle.guest_booted(vm, session.clock()))
    return check


def _write_restart_mark(session: Session, vm: VM) -> None:
    """$env:ProgramData\\hyperv.nested\\restart-marks\\<VM Id>.json (wire protocol §3.1). Call with the lock held."""
    if session.host.program_data_read_only:
        raise OpFailed("Access to the path 'C:\\ProgramData\\hyperv.nested\\restart-marks' is denied.")
    vm_id = vm.id.lower()
    stopped_at = datetime.fromtimestamp(session.clock(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    session.host.restart_marks[vm_id] = {"vm_id": vm_id, "vm_name": vm.name, "stopped_at": stopped_at,
                                         "stopped_by": MARKED_BY}
    # Saved no later than the stop that follows: the mark must outlive a crash right after Stop-VM.
    session.changed()


def _remove_restart_mark(session: Session, vm: VM) -> None:
    """Delete the VM's mark file if there is one. Call with the lock held."""
    if session.host.restart_marks.pop(vm.id.lower(), None) is not None:
        session.changed()


def _stop_op(session: Session, op: dict[str, Any], pending: Pending) -> None:
    timeout = float(op.get("timeout_seconds", 300))
    mode = op.get("mode", "shutdown")
    if mode not in ("shutdown", "turn_off"):
        raise OpFailed(f"Unknown stop mode '{mode}'.")
    mark = _flag(op, "mark_for_restart", False)
    wait = _flag(op, "wait", True)
    with session.lock:
        vm = _resolve_vm(session, op.get("vm"))
        if mark and vm.state == "Running":
            # Written before Stop-VM; a Stop-VM that then fails leaves it (the VM is Running, so
            # the next run sees a stale mark and clears it).
            _write_restart_mark(session, vm)
        params: dict[str, Any] = {"VM": [vm_ref(vm)], "Force": True, "ErrorAction": "Stop"}
        stop = PendingStop(mode, timeout, time.monotonic() + timeout)
        if mode == "turn_off":
            run_cmdlet(session, "Stop-VM", {**params, "TurnOff": True})
        else:
            try:
                run_cmdlet(session, "Stop-VM", {**params, "AsJob": True})
            except PSError as error:
                # -AsJob: what Hyper-V refuses lands in the job as error records (RULES #42).
                stop.errors.append(error.message)
        # Every stop is recorded, waited for or not: ensure_running must know it was issued (#41).
        pending[vm.id.lower()] = stop
        if not wait:
            return
    _wait_for_stop(session, vm, stop, timeout)
    pending.pop(vm.id.lower(), None)


def _wait_for_stop(session: Session, vm: VM, stop: PendingStop | None, timeout: float) -> None:
    """Wait-VMState Off: the VM Off, or at once the job's errors when it ended with the VM still on."""
    deadline = time.monotonic() + timeout
    while True:
        with session.lock:
            session.refresh()
            if vm.state == "Off":
                return
            if stop is not None and stop.errors:
                raise OpFailed(f"Stop-VM failed for '{vm.name}': {' '.join(stop.errors)}")
        if time.monotonic() >= deadline:
            raise _shutdown_timeout(vm, timeout)
        session.sleep()


def _start_op(session: Session, op: dict[str, Any], only_if_needed: bool, pending: Pending) -> None:
    timeout = float(op.get("timeout_seconds", 300))
    wait = True if only_if_needed else _flag(op, "wait", True)
    with session.lock:
        vm = _resolve_vm(session, op.get("vm"))
        stop = pending.get(vm.id.lower()) if only_if_needed else None
    if stop is not None and not stop.ended:
        # A stop this call issued may still be shutting the guest down: found "Running" now, the
        # VM would be left alone and then go Off. Wait for the stop to end, as long as the stop's
        # own timeout (from when it was issued) allows: a guest that ignores the shutdown is then
        # left running, after shutdown_timeout and not shutdown + start timeouts.
        remaining = min(timeout, stop.deadline - time.monotonic())
        if _wait(session, vm, _is_off, max(0.0, remaining)):
            pending.pop(vm.id.lower(), None)
    with session.lock:
        if stop is not None:
            session.refresh()
            if vm.state == "Running" and not stop.ended and vm.id.lower() in pending:
                # Never clear the mark while that stop may still power the VM off (RULES #41).
                raise OpFailed(_still_stopping(vm))
            pending.pop(vm.id.lower(), None)
        if not (only_if_needed and vm.state == "Running"):
            run_cmdlet(session, "Start-VM", {"VM": [vm_ref(vm)], "ErrorAction": "Stop"})
            pending.pop(vm.id.lower(), None)      # started again: any stop of it has ended
        if not wait:
            _remove_restart_mark(session, vm)     # once Start-VM returned (§3.1); no heartbeat wait
            return
    if not _wait(session, vm, _booted(session), timeout):
        raise _boot_timeout(vm, timeout)
    with session.lock:
        _remove_restart_mark(session, vm)


def _still_stopping(vm: VM) -> str:
    # The same sentence as the executor script's (plugins/plugin_utils/powershell/execute.ps1).
    return (f"VM '{vm.name}' still runs, but the shutdown this run asked of it has not ended: it may "
            "still power off. Its restart mark is kept, so that a later run starts it again if it does.")


def _wait_vm_op(session: Session, op: dict[str, Any], pending: Pending) -> None:
    """Wait for an earlier stop_vm/start_vm with "wait": false; changes nothing itself."""
    timeout = float(op.get("timeout_seconds", 300))
    state = op.get("state")
    if not isinstance(state, str) or state not in ("Off", "Running"):
        raise OpFailed(f"wait_vm state must be 'Off' or 'Running', not {state!r}.")
    with session.lock:
        vm = _resolve_vm(session, op.get("vm"))
    if state == "Off":
        _wait_for_stop(session, vm, pending.get(vm.id.lower()), timeout)   # on timeout its stop stays pending
        pending.pop(vm.id.lower(), None)
    elif not _wait(session, vm, _booted(session), timeout):
        raise _boot_timeout(vm, timeout)


def _clear_mark_op(session: Session, op: dict[str, Any]) -> None:
    with session.lock:
        vm = _resolve_vm(session, op.get("vm"))
        _remove_restart_mark(session, vm)


def _guest_op(session: Session, op: dict[str, Any]) -> None:
    with session.lock:
        vm = _resolve_vm(session, op.get("vm"))
        guest_rights = check_powershell_direct(session, vm, op.get("username"), op.get("password"))
        os_state = vm.guest
        fault_host = vm.inventory_name or vm.name
    for nested in op.get("operations") or []:
        if nested.get("kind", "cmdlet") != "cmdlet" or nested.get("vm") is not None:
            raise OpFailed("Guest operations are cmdlet operations without 'vm'.")
        _cmdlet_op(session, nested, GUEST_ALLOW, os_state=os_state, fault_host=fault_host, rights=guest_rights)


def check_powershell_direct(session: Session, vm: VM, username: Any, password: Any) -> Rights:
    """Invoke-Command -VMId: the VM must run a booted Windows guest that accepts the credential.
    The caller resolved the VM with Get-VM, so the host account is a Hyper-V administrator (RULES #34).
    Returns the rights of the guest account the commands then run as."""
    if vm.state != "Running":
        raise OpFailed(f"The virtual machine {vm.name} is not in running state.")
    if vm.guest is None:
        raise OpFailed(f"An error has occurred which Windows PowerShell cannot handle. A remote session might "
                       f"have ended. (PowerShell Direct cannot reach the guest operating system of {vm.name}.)")
    if not lifecycle.guest_booted(vm, session.clock()):
        raise OpFailed(f"The virtual machine {vm.name} is not ready: its guest operating system is still "
                       "starting.")
    rights = check_password(vm.guest, username, password)
    if rights is None:
        raise OpFailed("The credential is invalid.")
    return rights


def _run_one(session: Session, op: Any, pending: Pending) -> None:
    if not isinstance(op, dict):
        raise OpFailed("An operation must be a JSON object.")
    kind = op.get("kind")
    if kind == "cmdlet":
        _cmdlet_op(session, op, HOST_ALLOW)
    elif kind == "stop_vm":
        _stop_op(session, op, pending)
    elif kind == "start_vm":
        _start_op(session, op, only_if_needed=False, pending=pending)
    elif kind == "ensure_running":
        _start_op(session, op, only_if_needed=True, pending=pending)
    elif kind == "wait_vm":
        _wait_vm_op(session, op, pending)
    elif kind == "clear_restart_mark":
        _clear_mark_op(session, op)
    elif kind == "guest":
        _guest_op(session, op)
    else:
        raise OpFailed(f"Unknown operation kind '{kind}'.")


def _run_list(session: Session, ops: list[Any], stop_at_failure: bool,
              pending: Pending) -> tuple[list[dict[str, Any]], int | None]:
    results: list[dict[str, Any]] = []
    failed: int | None = None
    for index, op in enumerate(ops):
        if failed is not None and stop_at_failure:
            results.append({"index": index, "status": "not_run", "message": None, "duration_ms": 0})
            continue
        started = time.monotonic()
        try:
            _run_one(session, op, pending)
            status, message = "ok", None
        except (PSError, OpFailed) as error:
            # Windows words its errors in the host's language; the collection passes them on as they are.
            status, message = "failed", error_text(session.host.os_state.culture, str(error))
            failed = index if failed is None else failed
        results.append({"index": index, "status": status, "message": message,
                        "duration_ms": int((time.monotonic() - started) * 1000)})
    return results, failed


def _named_vms(ops: list[Any]) -> list[str]:
    names: list[str] = []
    for op in ops:
        if isinstance(op, dict) and isinstance(op.get("vm"), str) and op["vm"] not in names:
            names.append(op["vm"])
    return names


def execute(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    operations = parameters.get("operations") or []
    on_failure = parameters.get("on_failure") or []
    pending: Pending = {}       # the stops issued with "wait": false in this call (wire protocol §3)
    results, failed = _run_list(session, operations, stop_at_failure=True, pending=pending)
    recovery: list[dict[str, Any]] = []
    if failed is not None and on_failure:
        recovery, _unused = _run_list(session, on_failure, stop_at_failure=False, pending=pending)
    states: dict[str, str] = {}
    with session.lock:
        for name in _named_vms(operations + on_failure):
            matches = [vm for vm in session.host.vms if vm.name.lower() == name.lower()]
            if len(matches) == 1:
                states[matches[0].name] = matches[0].state
    return {"operations": results, "failed_index": failed, "on_failure": recovery, "vm_states": states}
