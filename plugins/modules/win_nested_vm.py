#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_vm.py.

DOCUMENTATION = r"""
---
module: win_nested_vm
short_description: Nested virtualization settings of Hyper-V VMs, from their Hyper-V host
version_added: 0.1.0
description:
  - Runs on a Hyper-V host (L0) and makes the named VMs able to run Hyper-V themselves (L1) -
    virtualization extensions exposed to the VM (C(Set-VMProcessor -ExposeVirtualizationExtensions)),
    dynamic memory off (see O(dynamic_memory)), and optionally startup memory, virtual processor
    count and MAC address spoofing on the VM's network adapters.
  - Follows Microsoft's current nested virtualization guidance (Windows Server docs, 2025), not the
    2016 preview guide - hosts running virtualization-based security (Credential Guard, on by default
    on Windows Server 2025), VMs with checkpoints and VMs with dynamic memory are nested like any
    other.
  - One task handles many VMs with one read-only probe and, when something must change, one
    more round trip that runs every planned operation in order. A converged run changes nothing
    and reports C(changed=false).
  - Exposing or hiding virtualization extensions, turning dynamic memory off, changing the
    processor count, upgrading the configuration version, and changing the memory of a VM
    that runs (or will run) Hyper-V need the VM B(off). By default the module does not stop a
    running VM; it fails and names the option to use (O(power)). With O(power=shutdown) or
    O(power=turn_off), each VM gets one off-window holding all its changes, and is started
    again afterwards (O(power_after)). MAC address spoofing changes while the VM runs.
  - When several VMs of the task need to be stopped or started, they are powered at once;
    every stop is issued first, each VM is changed as soon as it is off and started right
    away, and the task then waits until all of them run. Their guests shut down and boot side
    by side instead of one after another. O(power_concurrency) limits how many at a time.
  - Before touching anything, the module checks that the host can run nested virtualization
    (processor vendor and Windows build, boot configuration) and that every VM can be changed as
    asked; any problem fails the task with every reason found and changes nothing.
  - A VM that is a clustered role of a failover cluster is never stopped with C(Stop-VM) unless
    O(clustered=allow).
  - If an operation fails part-way, the executor stops, starts again every VM it had stopped
    that was running (unless O(power_after=off)), and the task reports what was applied and
    what was not.
  - VMs and network adapters are selected by exact name and adapter id, never by wildcard
    patterns. RV(commands) lists the PowerShell an operator would type for the same change.
author:
  - hyperv.nested maintainers (@hyperv-nested)
options:
  name:
    description:
      - Names of the VMs on the host. Matched exactly, case-insensitively; repeats are ignored.
      - A name with no VM is an error that suggests close names; a name shared by several VMs
        is an error too (rename one).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(enabled) exposes virtualization extensions and, unless O(dynamic_memory=unchanged), turns
        dynamic memory off.
      - V(disabled) hides the virtualization extensions again; memory settings are left as they
        are unless O(startup_memory) is given.
      - V(unchanged) leaves the nested virtualization settings as they are and manages only
        the other options given (memory, processors, MAC address spoofing, power), for example
        to start VMs with O(power_after=running).
      - The host checks and the configuration version check apply to V(enabled) only.
    type: str
    choices: [enabled, disabled, unchanged]
    default: enabled
  startup_memory:
    description:
      - Memory of the VM (C(StartupBytes)); with dynamic memory off this is all the memory it has.
      - A number of bytes, or a size with a binary unit such as V(8GB) or V(512MB)
        (1GB = 1024 MB, as Hyper-V counts). Must be a multiple of 2MB.
      - Below 4GB with O(state=enabled) gives a warning (Microsoft recommends at least 4GB for
        a VM running Hyper-V); more than the host's memory is an error.
      - Default is to keep each VM's current startup memory.
    type: raw
  processor_count:
    description:
      - Number of virtual processors. Below 2 with O(state=enabled) gives a warning; more than
        the host's logical processors is an error.
      - Default is to keep each VM's current count.
    type: int
  mac_address_spoofing:
    description:
      - MAC address spoofing of the VMs' network adapters, needed when L2 guests reach the
        network through the L1 VM's adapter (the alternative is NAT inside the L1 host).
      - V(unchanged) leaves it as it is. Can change while the VM runs.
    type: str
    choices: ['on', 'off', unchanged]
    default: unchanged
  adapters:
    description:
      - Names of the network adapters O(mac_address_spoofing) applies to. Every VM in O(name)
        must have each of them; adapters sharing a name are all changed.
      - Default is every adapter of each VM. Only valid with O(mac_address_spoofing=on) or V(off).
    type: list
    elements: str
  power:
    description:
      - What to do with a running VM whose changes need it off.
      - V(fail) changes nothing and fails, naming the VMs and the settings that need them off.
      - V(shutdown) shuts the guest OS down gracefully (C(Stop-VM -Force)), which needs the VM's
        Shutdown integration service, enabled and answered by the guest (a running VM whose service
        reports anything but C(Ok), such as a PXE boot or a Linux guest without C(hv_utils), is
        refused). C(-Force) does not cut the power, it stops the guest from waiting for its
        users' consent; Microsoft documents that applications with unsaved data get five minutes
        to save it and shut down, and what they have not saved by then is lost.
      - If the VM is not off within O(shutdown_timeout) seconds, the task fails and the VM is left
        running, unchanged. The guest's shutdown, once asked, may still finish later; the VM then
        keeps its restart mark, so that the next run starts it again.
      - V(turn_off) cuts the power (C(Stop-VM -TurnOff)) like pulling the plug; B(unsaved data
        in the guest is lost).
    type: str
    choices: [fail, shutdown, turn_off]
    default: fail
  power_after:
    description:
      - The power state VMs end in.
      - V(previous) starts again each VM the module stopped, and waits until it runs (up to
        O(start_timeout) seconds). VMs that were off stay off; a VM whose saved state was
        discarded ends off.
      - Before it stops a VM it will start again, the module leaves a restart mark on the Hyper-V
        host (a file under C(%ProgramData%\hyperv.nested\restart-marks), named by the VM's Id),
        and the start removes it. When a run is cut off between the two (the host or the
        connection goes away), the VM stays off with its mark; the next run with V(previous) or
        V(running) starts it, and V(off) removes the mark and leaves it off.
        M(hyperv.nested.win_nested_info) reports such VMs (reason code C(vm.restart_pending)).
      - V(off) leaves the VMs the module stopped off (for more offline work). It never stops a
        VM that needs no change.
      - V(running) makes every VM in O(name) end running, starting those that were off even
        when no setting changes.
    type: str
    choices: [previous, 'off', running]
    default: previous
  saved_state:
    description:
      - What to do with a VM in the saved state whose changes need it off.
      - V(fail) changes nothing and fails.
      - V(discard) runs C(Remove-VMSavedState); B(what the guest had in memory is lost), as
        after a power cut. The VM is then off.
    type: str
    choices: [fail, discard]
    default: fail
  checkpoints:
    description:
      - What to do when a VM that is about to get nested virtualization has checkpoints.
        Checkpoints work with nested virtualization (Microsoft's current guide names no
        restriction; the 2016 preview's known issue was dropped at general availability), but
        applying a checkpoint restores the VM's configuration as it was then, so one taken before
        this change hides the virtualization extensions again.
      - V(note) goes ahead and says so in RV(notes); V(warn) goes ahead with an Ansible warning;
        V(fail) changes nothing and fails.
      - The module never deletes checkpoints.
    type: str
    choices: [note, warn, fail]
    default: note
  dynamic_memory:
    description:
      - What O(state=enabled) does with dynamic memory.
      - V(off) turns it off (the VM must be off for that, see O(power)), so that the VM has the
        fixed amount O(startup_memory) or its current startup memory says. This follows the steps
        of Microsoft's C(Enable-NestedVm.ps1) and what Packer's hyperv builder recommends.
      - V(unchanged) leaves it as it is, with a warning. Nothing fails - Microsoft's current guide
        ("Dynamic Memory and Runtime Memory Resize") - "When Hyper-V is running inside a virtual
        machine, the virtual machine must be turned off to adjust its memory. Meaning that even if
        dynamic memory is enabled, the amount of memory doesn't fluctuate." The VM then keeps the
        memory it has when Hyper-V starts inside it, and it neither grows nor shrinks.
    type: str
    choices: ['off', unchanged]
    default: 'off'
  clustered:
    description:
      - What to do with a VM that is a clustered role of a failover cluster (C(Get-VM) C(IsClustered))
        and must be stopped for the changes asked.
      - V(fail) changes nothing and fails - the cluster manages the power state of its VMs, and
        Microsoft's current guide says "Nested Virtualization isn't suitable for Windows Server
        Failover Clustering". Stop it through the cluster (C(Stop-ClusterGroup)) and rerun, or use
        a VM outside the cluster.
      - V(allow) stops it with C(Stop-VM) like any other VM, with a warning.
      - Changes that need no stop (MAC address spoofing of a running VM) are made either way.
    type: str
    choices: [fail, allow]
    default: fail
  upgrade_version:
    description:
      - Nested virtualization needs VM configuration version 8.0 or later on Intel hosts and
        9.3 or later on AMD hosts. A VM below that fails the task with the exact requirement.
      - V(true) upgrades such VMs to the host's default version with C(Update-VMVersion)
        (needs the VM off, see O(power)). B(Irreversible), the VM no longer runs on hosts with
        older Windows versions.
      - VMs that already have a high enough version are never upgraded.
    type: bool
    default: false
  shutdown_timeout:
    description:
      - Seconds to wait for a graceful shutdown (O(power=shutdown)) of each VM.
    type: int
    default: 300
  start_timeout:
    description:
      - Seconds to wait for each VM the module starts to be running (and its heartbeat OK
        when the Heartbeat integration service is enabled).
    type: int
    default: 300
  power_concurrency:
    description:
      - How many VMs the module stops and starts at the same time when several need a power
        cycle. V(0) powers all of them at once; V(1) one after another (each VM is stopped,
        changed and started before the next); any other number works through the VMs in
        batches of that size, one batch after another.
      - Limit it on hosts where many guests shutting down or booting together would strain
        storage (a boot storm); the task then takes about one power cycle per batch.
    type: int
    default: 0
extends_documentation_fragment:
  - hyperv.nested.connection
attributes:
  check_mode:
    support: full
    description: Plans the change and reports exactly what would happen, without sending anything that changes the host.
  diff_mode:
    support: full
    description: Shows, per VM, every managed setting and the power state before and after; the diff header names the VMs that are stopped or started.
notes:
  - Changing VM settings needs membership in the host's C(Hyper-V Administrators) group (or
    Administrators), and the Hyper-V role with its PowerShell module on the host.
  - Nested virtualization needs Intel VT-x with EPT on Windows Server 2016 / Windows 10 version 1607
    (build 14393) or later with configuration version 8.0, or AMD EPYC/Ryzen on Windows Server
    2022 / Windows 11 or later with configuration version 9.3 (Microsoft's current guide).
    Virtualization-based security on the host does not matter. M(hyperv.nested.win_nested_info)
    explains every reason code this module may fail with.
  - Several VMs that need a power cycle are stopped and started at once (O(power_concurrency) limits
    how many); each VM is off only for its own changes.
seealso:
  - module: hyperv.nested.win_nested_info
  - module: hyperv.nested.win_nested_switch
  - name: Run Hyper-V in a Virtual Machine with Nested Virtualization
    description: Microsoft's current guide.
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/enable-nested-virtualization
  - name: What is Nested Virtualization for Hyper-V?
    description: Dynamic memory, supported and unsupported scenarios (failover clustering, other hypervisors).
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/nested-virtualization
"""

EXAMPLES = r"""
- name: Turn two VMs into Hyper-V hosts, restarting them if they run
  hyperv.nested.win_nested_vm:
    name: [LAB-HV1, LAB-HV2]
    startup_memory: 8GB
    processor_count: 4
    mac_address_spoofing: 'on'
    power: shutdown
    shutdown_timeout: 600

- name: Only check what would change (nothing is stopped in check mode)
  hyperv.nested.win_nested_vm:
    name: "{{ groups['nested_hosts'] | map('extract', hostvars, 'nested_vm_name') | list }}"
  check_mode: true
  diff: true

- name: Prepare an old VM that is off, upgrade its configuration version, and start it
  hyperv.nested.win_nested_vm:
    name: OLD-HV
    upgrade_version: true
    power_after: running

- name: Hide the extensions again, cutting the power of a hung VM
  hyperv.nested.win_nested_vm:
    name: LAB-HV1
    state: disabled
    power: turn_off
"""

RETURN = r"""
vms:
  description:
    - Per VM, in the order of O(name). After a failure part-way, each entry has C(name),
      C(before), C(applied), C(not_applied) and C(power_state) instead.
  returned: always, unless the task failed before planning
  type: list
  elements: dict
  contains:
    name:
      description: VM name as the host spells it.
      type: str
    changed:
      description: Whether the VM was (in check mode, would be) changed.
      type: bool
    before:
      description: Managed settings and power state before the task.
      type: dict
      contains:
        power_state:
          description: Power state (C(Running), C(Off), C(Saved), ...).
          type: str
        version:
          description: Configuration version.
          type: str
        expose_virtualization_extensions:
          description: Whether virtualization extensions are exposed to the VM.
          type: bool
        dynamic_memory_enabled:
          description: Whether dynamic memory is on.
          type: bool
        startup_memory_bytes:
          description: Startup memory in bytes.
          type: int
        processor_count:
          description: Number of virtual processors.
          type: int
        adapters:
          description: Network adapters with C(name), C(id) and C(mac_address_spoofing) (C(On) or C(Off)).
          type: list
          elements: dict
    after:
      description: The same settings after the task (in check mode, as they would be).
      type: dict
    actions:
      description: What was (in check mode, would be) done to the VM, in order, power cycles included.
      type: list
      elements: str
      sample: [shut down through the guest (up to 300s), expose virtualization extensions, turn dynamic memory off, start]
  sample:
    - name: LAB-HV1
      changed: true
      before: {power_state: Running, version: "10.0", expose_virtualization_extensions: false, dynamic_memory_enabled: true,
               startup_memory_bytes: 4294967296, processor_count: 2,
               adapters: [{name: Network Adapter, id: "Microsoft:0A1B...\\7C8D...", mac_address_spoofing: "Off"}]}
      after: {power_state: Running, version: "10.0", expose_virtualization_extensions: true, dynamic_memory_enabled: false,
              startup_memory_bytes: 4294967296, processor_count: 2,
              adapters: [{name: Network Adapter, id: "Microsoft:0A1B...\\7C8D...", mac_address_spoofing: "Off"}]}
      actions: [shut down through the guest (up to 300s), expose virtualization extensions, turn dynamic memory off, start]
commands:
  description: The PowerShell lines that ran (or would run in check mode), one per operation, for people to read.
  returned: always, unless the task failed before planning
  type: list
  elements: str
  sample:
    - Stop-VM -VM (Get-VM -Name 'LAB-HV1') -Force
    - Set-VMProcessor -VM (Get-VM -Name 'LAB-HV1') -ExposeVirtualizationExtensions $true
    - Set-VMMemory -VM (Get-VM -Name 'LAB-HV1') -DynamicMemoryEnabled $false
    - Start-VM -VM (Get-VM -Name 'LAB-HV1')
operations:
  description: What happened to each command when changes were sent; status is V(ok), V(failed) or V(not_run).
  returned: when changes were sent
  type: list
  elements: dict
  sample: [{command: "Stop-VM -VM (Get-VM -Name 'LAB-HV1') -Force", status: ok, message: null, duration_ms: 5120}]
on_failure:
  description: What the executor reported for the operations that started stopped VMs again after a failure.
  returned: when an operation failed
  type: list
  elements: dict
  sample: [{index: 0, status: ok, message: null, duration_ms: 900}]
notes:
  description: Information that is no warning, such as the checkpoints of a VM being nested (O(checkpoints=note)).
  returned: when there is any
  type: list
  elements: str
  sample: ["VM 'LAB-HV1' has 1 checkpoint(s). Checkpoints work with nested virtualization; ..."]
problems:
  description: Every reason the request could not be carried out; nothing was changed.
  returned: when the task failed before changing anything
  type: list
  elements: str
  sample: ["VM 'LAB-HV1' is running and these changes need it off: ExposeVirtualizationExtensions, DynamicMemoryEnabled. ..."]
"""
