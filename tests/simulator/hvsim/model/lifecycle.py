"""Power state: start, graceful shutdown, turn off, save, boots and reboots of guest OSes.

Time is wall-clock (time.time()); deadlines are applied lazily by settle(), which the Fleet calls
under its lock before every access, so nothing here ever sleeps.
"""
from __future__ import annotations

from .errors import HyperVError
from .lab import filetime
from .objects import VM, Host
from .platform import nested_blockers
from .provisioning import prepare_boot
from .world import World


def hypervisor_running(world: World, host: Host) -> bool:
    if host.rebooting_until is not None:
        return False
    parent = world.parent_of(host)
    if parent is None:
        return host.hypervisor_present
    _unused, vm = parent
    return vm.state == "Running" and vm.hypervisor_running


def guest_booted(vm: VM, now: float) -> bool:
    return vm.state == "Running" and vm.booted_at is not None and now >= vm.booted_at


def host_reachable(world: World, host: Host, now: float) -> bool:
    if host.rebooting_until is not None:
        return False
    parent = world.parent_of(host)
    if parent is None:
        return True
    return guest_booted(parent[1], now)


def _failed_to_start(vm: VM, reason: str) -> HyperVError:
    return HyperVError(f"'{vm.name}' failed to start. (Virtual machine ID {vm.id}) {reason}",
                       "NotSpecified", "OperationFailed")


def start_vm(world: World, host: Host, vm: VM, now: float) -> None:
    if vm.state == "Running":
        raise HyperVError(f"'{vm.name}' failed to change state. The operation cannot be performed while "
                          "the object is in its current state.", "InvalidOperation", "InvalidState")
    if not hypervisor_running(world, host):
        raise _failed_to_start(vm, "Virtual machine could not be started because the hypervisor is not running.")
    if vm.expose_virtualization_extensions:
        # Dynamic memory does not stop it (RULES #7, removed: a 2016 preview restriction).
        blockers = nested_blockers(host, vm)
        if blockers:
            raise _failed_to_start(vm, "Nested virtualization is not supported for this virtual machine: "
                                       + "; ".join(blockers) + ".")
    # Running VMs' memory must fit in the host's (no root-partition reserve: lenient on purpose,
    # so that tight lab L1 hosts still run; real hosts keep some memory for themselves).
    in_use = sum(other.startup_memory_bytes for other in host.vms if other.state == "Running" and other is not vm)
    if in_use + vm.startup_memory_bytes > host.memory_bytes:
        raise _failed_to_start(vm, f"Not enough memory in the system to start the virtual machine {vm.name}.")
    # Its disks must open; a created VM's first boot applies its answer file (model/provisioning.py).
    prepare_boot(host, vm, now)
    restoring = vm.state == "Saved"
    vm.state = "Running"
    vm.shutdown_at = None
    if restoring:
        # A restored VM continues where it was: the guest does not boot again.
        vm.hypervisor_running = vm.saved_hypervisor_running
        vm.booted_at = now
        return
    _boot_guest(world, host, vm, now, world.timing["boot_seconds"])


def _boot_guest(world: World, host: Host, vm: VM, now: float, delay: float) -> None:
    vm.booted_at = now + delay
    guest = vm.guest
    if guest is None:
        vm.hypervisor_running = False
        return
    guest.boot_count += 1
    guest.boot_filetime = filetime(now + delay)
    if guest.hyperv_feature == "EnablePending":
        guest.hyperv_feature = "Enabled"
    nested = vm.nested_host
    if nested is not None:
        nested.pending_reboot = False
        nested.logical_processors = vm.processor_count
        nested.memory_bytes = vm.startup_memory_bytes
    vm.hypervisor_running = bool(
        nested is not None and guest.hyperv_feature == "Enabled"
        and vm.expose_virtualization_extensions and not nested_blockers(host, vm))
    if nested is not None:
        nested.hypervisor_present = vm.hypervisor_running


def request_shutdown(world: World, host: Host, vm: VM, now: float) -> None:
    """Stop-VM without -TurnOff: ask the guest through the Shutdown integration service."""
    if vm.state == "Off":
        return
    if vm.state != "Running":
        raise HyperVError(f"'{vm.name}' failed to change state. The operation cannot be performed while the "
                          "object is in its current state.", "InvalidOperation", "InvalidState")
    if not vm.integration_services.get("Shutdown", False) or not vm.integration_components:
        # Enabled on the host but nothing in the guest answers (PXE, Linux without hv_utils): the same refusal.
        raise HyperVError(f"The virtual machine '{vm.name}' could not be shut down because the Shutdown "
                          "integration service is not enabled or the guest operating system does not "
                          "respond. Use -TurnOff to turn the virtual machine off.",
                          "NotSpecified", "OperationFailed")
    if vm.ignores_shutdown:
        return  # the guest acknowledges nothing and keeps running (a hung or blocking guest)
    if vm.shutdown_at is None:
        # Once started, the guest's shutdown goes on whoever waits for it (RULES #41).
        seconds = world.timing["shutdown_seconds"] if vm.shutdown_seconds is None else vm.shutdown_seconds
        vm.shutdown_at = now + seconds


def turn_off(world: World, host: Host, vm: VM, now: float) -> None:
    if vm.state == "Off":
        return
    _power_off(world, vm, graceful=False, now=now)


def save_vm(world: World, host: Host, vm: VM, now: float) -> None:
    if vm.state != "Running":
        raise HyperVError(f"'{vm.name}' failed to change state. The operation cannot be performed while the "
                          "object is in its current state.", "InvalidOperation", "InvalidState")
    vm.saved_hypervisor_running = vm.hypervisor_running
    vm.state = "Saved"
    vm.shutdown_at = None
    vm.booted_at = None


def _power_off(world: World, vm: VM, graceful: bool, now: float) -> None:
    vm.state = "Off"
    vm.shutdown_at = None
    vm.booted_at = None
    vm.hypervisor_running = False
    nested = vm.nested_host
    if nested is not None:
        nested.hypervisor_present = False
        nested.rebooting_until = None
        for child in nested.vms:
            if child.state == "Running":
                # Graceful: the child host's automatic stop action (Save, the default) runs.
                if graceful:
                    save_vm(world, nested, child, now)
                else:
                    _power_off(world, child, graceful=False, now=now)


def begin_reboot(world: World, host: Host, now: float) -> None:
    """The host's OS restarts: unreachable for timing.reboot_seconds, then boots again."""
    host.rebooting_until = now + world.timing["reboot_seconds"]


def _finish_reboot(world: World, host: Host, now: float) -> None:
    host.rebooting_until = None
    parent = world.parent_of(host)
    if parent is None:
        os_state = host.os_state
        os_state.boot_count += 1
        os_state.boot_filetime = filetime(now)
        if os_state.hyperv_feature == "EnablePending":
            os_state.hyperv_feature = "Enabled"
            host.hypervisor_present = True
        return
    parent_host, vm = parent
    if vm.state != "Running":
        return
    _boot_guest(world, parent_host, vm, now, 0.0)
    if not vm.hypervisor_running:
        for child in host.vms:
            if child.state == "Running":
                save_vm(world, host, child, now)


def settle(world: World, now: float) -> bool:
    """Apply every deadline that has passed. True when something changed."""
    changed = False
    for host in list(world.hosts()):
        if host.rebooting_until is not None and now >= host.rebooting_until:
            _finish_reboot(world, host, now)
            changed = True
        for vm in host.vms:
            if vm.shutdown_at is not None and now >= vm.shutdown_at and vm.state == "Running":
                _power_off(world, vm, graceful=True, now=now)
                changed = True
    return changed
