"""VM settings changes (processor, memory, adapters, version, security) and their state rules."""
from __future__ import annotations

from .errors import HyperVError
from .objects import MB, VM, Host, VMAdapter
from .platform import version_key

STATE_MESSAGE = "The operation cannot be performed while the virtual machine is in its current state."


def _modify_failed(vm: VM, device: str, reason: str) -> HyperVError:
    return HyperVError(f"Failed to modify device '{device}'. '{vm.name}' failed to modify device '{device}'. "
                       f"(Virtual machine ID {vm.id}) {reason}", "InvalidOperation", "InvalidState")


def reject_saved(vm: VM, device: str) -> None:
    """A Saved VM's configuration is frozen until it is restored or its saved state is removed."""
    if vm.state == "Saved":
        raise _modify_failed(vm, device, STATE_MESSAGE + " The virtual machine is saved: start it or "
                                                         "remove its saved state first.")


def _require_off(vm: VM, device: str, what: str) -> None:
    if vm.state != "Off":
        raise _modify_failed(vm, device, f"{STATE_MESSAGE} {what} can only be changed while the virtual "
                                         f"machine is turned off (it is {vm.state}).")


def set_processor(host: Host, vm: VM, count: int | None, expose: bool | None) -> None:
    reject_saved(vm, "Processor")
    if count is not None and count != vm.processor_count:
        _require_off(vm, "Processor", "The number of virtual processors")
        if count < 1 or count > host.logical_processors:
            raise HyperVError(f"Failed to modify device 'Processor'. The virtual machine '{vm.name}' cannot "
                              f"have {count} virtual processors: the host has {host.logical_processors} "
                              "logical processors.", "InvalidArgument", "InvalidParameter")
    if expose is not None and expose != vm.expose_virtualization_extensions:
        # Only while Off (RULES #1). Virtualization-based security on the host does not matter (#9, removed).
        _require_off(vm, "Processor", "ExposeVirtualizationExtensions")
    if count is not None:
        vm.processor_count = count
    if expose is not None:
        vm.expose_virtualization_extensions = expose


def set_memory(vm: VM, runs_hypervisor: bool, dynamic: bool | None, startup: int | None,
               minimum: int | None, maximum: int | None) -> None:
    reject_saved(vm, "Memory")
    if dynamic is not None and dynamic != vm.dynamic_memory_enabled:
        _require_off(vm, "Memory", "Dynamic memory")
    sizes = {"StartupBytes": startup, "MinimumBytes": minimum, "MaximumBytes": maximum}
    current = {"StartupBytes": vm.startup_memory_bytes, "MinimumBytes": vm.minimum_memory_bytes,
               "MaximumBytes": vm.maximum_memory_bytes}
    changing = {k: v for k, v in sizes.items() if v is not None and v != current[k]}
    for name, value in sizes.items():
        if value is not None and value % (2 * MB):
            raise HyperVError(f"Failed to modify device 'Memory'. Invalid {name.replace('Bytes', '').lower()} "
                              f"memory amount assigned for '{vm.name}'. The amount of memory you set must be "
                              "a multiple of 2 MB.", "InvalidArgument", "InvalidParameter")
    if changing and vm.state != "Off":
        if runs_hypervisor:
            raise _modify_failed(vm, "Memory", "The memory of a virtual machine that is running Hyper-V can "
                                               "only be adjusted while the virtual machine is turned off.")
        if "StartupBytes" in changing and (dynamic if dynamic is not None else vm.dynamic_memory_enabled):
            raise _modify_failed(vm, "Memory", f"{STATE_MESSAGE} The startup memory of a virtual machine with "
                                               "dynamic memory can only be changed while it is turned off.")
    new_dynamic = vm.dynamic_memory_enabled if dynamic is None else dynamic
    new_startup = startup if startup is not None else vm.startup_memory_bytes
    new_min = minimum if minimum is not None else vm.minimum_memory_bytes
    new_max = maximum if maximum is not None else vm.maximum_memory_bytes
    if new_dynamic and not new_min <= new_startup <= new_max:
        raise HyperVError(f"Failed to modify device 'Memory'. Invalid memory configuration for '{vm.name}': "
                          "the minimum memory must not exceed the startup memory, and the startup memory "
                          "must not exceed the maximum memory.", "InvalidArgument", "InvalidParameter")
    vm.dynamic_memory_enabled = new_dynamic
    vm.startup_memory_bytes, vm.minimum_memory_bytes, vm.maximum_memory_bytes = new_startup, new_min, new_max


def set_adapter(vm: VM, adapter: VMAdapter, spoofing: str | None) -> None:
    reject_saved(vm, "Network Adapter")
    if spoofing is not None:
        adapter.mac_address_spoofing = spoofing


def connect_adapter(host: Host, vm: VM, adapter: VMAdapter, switch_name: str) -> None:
    reject_saved(vm, "Network Adapter")
    matches = [s for s in host.switches if s.name.lower() == switch_name.lower()]
    if not matches:
        raise HyperVError(f"Unable to find a virtual switch with name \"{switch_name}\".", "ObjectNotFound",
                          "ObjectNotFound")
    adapter.switch_name = matches[0].name


def update_version(host: Host, vm: VM) -> None:
    reject_saved(vm, "Configuration")
    if vm.state != "Off":
        raise HyperVError(f"Failed to update the configuration version of '{vm.name}'. {STATE_MESSAGE} The "
                          "virtual machine must be turned off to update its configuration version.",
                          "InvalidOperation", "InvalidState")
    top = max(host.supported_versions, key=version_key)
    if version_key(vm.version) < version_key(top):
        vm.version = top


def remove_saved_state(vm: VM) -> None:
    if vm.state != "Saved":
        raise HyperVError(f"'{vm.name}' failed to remove the saved state. {STATE_MESSAGE}",
                          "InvalidOperation", "InvalidState")
    vm.state = "Off"
    vm.hypervisor_running = False
    vm.saved_hypervisor_running = False


def set_security(vm: VM, opt_out: bool | None) -> None:
    reject_saved(vm, "Security")
    if opt_out is not None and opt_out != vm.virtualization_based_security_opt_out:
        # Documented on the Set-VMSecurity page: "To change this setting, the virtual machine must be off."
        _require_off(vm, "Security", "VirtualizationBasedSecurityOptOut")
        vm.virtualization_based_security_opt_out = opt_out
