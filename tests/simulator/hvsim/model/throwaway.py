"""VMs made and removed with plain Hyper-V cmdlets, as an operator's acceptance run does:
`New-VM -NoVHD` (no disk, nothing to boot) and `Remove-VM` (RULES #49). Disk-based provisioning
through the collection's own scripts lives elsewhere; this is only what the integration targets
(tests/integration/targets/) use to make their throwaway VMs.
"""
from __future__ import annotations

import uuid

from .errors import HyperVError
from .lab import DEFAULT_INTEGRATION, MacAllocator
from .objects import VM, Host, VMAdapter
from .platform import default_version, host_build, version_key

MB = 1024 * 1024
# Above the lab MAC range (MacAllocator's default start): addresses of VMs made at run time.
_MACS = MacAllocator(start=0xA00000)


def new_vm(host: Host, name: str, memory_startup_bytes: int | None, generation: int | None,
           switch_name: str | None) -> VM:
    """New-VM -NoVHD: an Off VM with one network adapter (connected to `switch_name` when given)."""
    if not name:
        raise HyperVError("The parameter is incorrect. (Name)", "InvalidArgument", "InvalidParameter")
    memory = 1024 * MB if memory_startup_bytes is None else int(memory_startup_bytes)
    if memory < 32 * MB or memory % (2 * MB):
        raise HyperVError(f"Failed to modify device 'Memory'. Invalid startup memory amount assigned for '{name}'. "
                          "The minimum amount of memory you can assign to this virtual machine is '32' MB; the "
                          "amount must be a multiple of 2 MB.", "InvalidArgument", "InvalidParameter")
    if generation not in (None, 1, 2):
        raise HyperVError(f"The generation {generation} is not valid: it must be 1 or 2.", "InvalidArgument",
                          "InvalidParameter")
    if switch_name is not None and not any(s.name.lower() == switch_name.lower() for s in host.switches):
        raise HyperVError(f"Hyper-V was unable to find a virtual switch with name \"{switch_name}\".",
                          "InvalidArgument", "InvalidParameter")
    vm_id = str(uuid.uuid4()).upper()
    versions = sorted(host.supported_versions, key=version_key)
    vm = VM(
        name=name, id=vm_id, generation=generation or 1,
        version=versions[-1] if versions else default_version(host_build(host)),
        state="Off", processor_count=1, startup_memory_bytes=memory, minimum_memory_bytes=512 * MB,
        maximum_memory_bytes=1024 * 1024 * MB, integration_services=dict(DEFAULT_INTEGRATION),
        # No disk, no operating system: nothing inside answers the integration services.
        integration_components=False,
    )
    vm.adapters.append(VMAdapter(name="Network Adapter", id=f"Microsoft:{vm_id}\\{str(uuid.uuid4()).upper()}",
                                 mac_address=_MACS.next(), switch_name=switch_name))
    host.vms.append(vm)
    return vm


def remove_vm(host: Host, vm: VM) -> None:
    """Remove-VM: only a VM that is Off or Saved (its files stay, as Remove-VM leaves them)."""
    if vm.state not in ("Off", "Saved"):
        raise HyperVError(f"'{vm.name}' failed to delete. The operation cannot be performed while the object is in "
                          "its current state.", "InvalidOperation", "InvalidState")
    host.vms.remove(vm)
    host.restart_marks.pop(vm.id.lower(), None)
