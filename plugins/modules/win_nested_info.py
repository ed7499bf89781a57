#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_info.py.

DOCUMENTATION = r"""
---
module: win_nested_info
short_description: Check whether a Hyper-V host and its VMs can run nested virtualization, and why not
version_added: 0.1.0
description:
  - Reads a Hyper-V host and its virtual machines and tells, with stable reason codes, whether
    the host can run nested virtualization and whether each VM is ready to run Hyper-V itself.
    Every reason comes with a sentence and the fix.
  - Follows Microsoft's current nested virtualization guidance (Windows Server docs, 2025 - "Run
    Hyper-V in a Virtual Machine with Nested Virtualization" and "What is Nested Virtualization for
    Hyper-V?"), not the 2016 preview guide - Windows Server 2016 / Windows 10 version 1607 (build
    14393) or later with configuration version 8.0 on Intel, Windows Server 2022 / Windows 11 with
    9.3 on AMD, exposed extensions, SLAT, the 225 vCPU limit of Windows Server 2019 guests.
  - Virtualization-based security (Credential Guard, on by default on Windows Server 2025),
    dynamic memory and checkpoints do not stop nesting and are never blockers - the preview
    guide's known issues were dropped when nested virtualization became generally available.
    Dynamic memory is a warning that says what happens (the memory stays at the amount the VM
    has), checkpoints are a note.
  - Names what Microsoft does not support - a host that is a VM on another hypervisor (VMware,
    KVM, Xen, VirtualBox...), VMs that are clustered roles of a failover cluster, more than one NAT
    network - and recognises Azure VMs (SMBIOS asset tag), whose fixes never point at a parent
    host the user cannot reach.
  - Keeps the useful checks of Microsoft's C(Get-NestedVirtStatus.ps1) (administrator, build,
    processor, hypervisor, Hyper-V feature, C(OFFERNESTEDVIRT), exposed extensions, saved state)
    without its limits (it rejects AMD processors and VBS hosts, compares builds as strings and
    waits for a key press), and adds memory and processor recommendations, MAC address spoofing
    and the integration services that graceful shutdown and start checks rely on.
  - For each VM, C(why_not_starting) in RV(verdict.vms) lists what stops the VM, as it is
    configured now, from starting.
  - Findings come in three kinds - C(blockers) (nesting cannot work), C(warnings) (it works but will
    bite later) and C(notes) (expected or harmless where it stands - an L1 host is a VM, a VM in NAT
    mode has MAC address spoofing off, a VM has checkpoints). Notes are not Ansible warnings.
  - One read-only round trip per task. Changes nothing, so C(changed) is always false; runs in
    check mode as well.
  - The reason codes, their Microsoft sources and fixes are listed in the collection's
    C(docs/reason-codes.md).
author:
  - hyperv.nested maintainers (@hyperv-nested)
options:
  name:
    description:
      - Names of the VMs to check. Matched exactly and case-insensitively, never as wildcard
        patterns (a VM called C(lab[1]) does not match C(lab1)).
      - When omitted, every VM on the host is checked. An empty list checks the host only.
      - A name that matches no VM is reported in RV(missing), with close matches, as a warning,
        and makes RV(ready) false; it does not fail the task.
    type: list
    elements: str
  network_modes:
    description:
      - How the guests of each VM reach the network, by VM name (matched case-insensitively) -
        V(nat) (NAT inside the VM, M(hyperv.nested.win_nested_nat)) or V(mac_spoofing) (the VM's
        adapters pass the guests' own MAC addresses).
      - For a VM in V(nat) mode, MAC address spoofing being off is a note, not a warning - NAT does
        not need it (Microsoft's guide - NAT is the networking option "where MAC address spoofing
        isn't possible"). For V(mac_spoofing) and for VMs not listed it stays a warning.
      - Entries for VMs that are not checked are ignored.
    type: dict
    default: {}
  network:
    description:
      - Also read the host's networking (switches, NAT networks, static mappings, IP addresses, adapters) in
        the same round trip, returned as RV(network), for later tasks' O(hyperv.nested.win_nested_nat#module:earlier_read).
      - Where it cannot be read (Hyper-V not installed yet, its service not running), RV(network_unavailable) says why;
        the task does not fail for it.
    type: bool
    default: false
  guests:
    description:
      - Guests of this host to read from inside (PowerShell Direct) in the same round trip - their adapters, addresses,
        gateways and DNS servers - returned as RV(guests), for later tasks' O(hyperv.nested.win_nested_nat#module:earlier_read).
      - Where they cannot be read, RV(guests_unavailable) says why; a guest that does not answer has its C(error).
    type: list
    elements: dict
    default: []
    suboptions:
      vm:
        description: The guest's VM name.
        type: str
        required: true
      username:
        description: The account inside the guest.
        type: str
        required: true
      password:
        description: Its password. Never returned.
        type: str
        required: true
extends_documentation_fragment:
  - hyperv.nested.connection
attributes:
  check_mode:
    support: full
    description: Reads the same way in check mode; nothing is ever changed.
  diff_mode:
    support: none
    description: Nothing changes, so there is no difference to show.
seealso:
  - module: hyperv.nested.win_nested_vm
  - name: Run Hyper-V in a Virtual Machine with Nested Virtualization
    description: Microsoft's current guide - prerequisites and steps.
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/enable-nested-virtualization
  - name: What is Nested Virtualization for Hyper-V?
    description: Microsoft's current guide - dynamic memory, supported and unsupported scenarios.
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/nested-virtualization
  - name: Get-NestedVirtStatus.ps1
    description: Microsoft's 2019 check script, written for the 2016 preview; this module replaces it.
    link: https://github.com/MicrosoftDocs/Virtualization-Documentation/blob/main/hyperv-tools/Nested/Get-NestedVirtStatus.ps1
"""

EXAMPLES = r"""
- name: Check the host and every VM on it
  hyperv.nested.win_nested_info:
  register: nested

- name: Stop unless the host can run nested virtualization
  ansible.builtin.assert:
    that: nested.verdict.host.ready
    fail_msg: "{{ nested.msg }}"

- name: Check only the VMs that become Hyper-V hosts; LAB-HV1 routes its guests with NAT
  hyperv.nested.win_nested_info:
    name: [LAB-HV1, LAB-HV2]
    network_modes:
      LAB-HV1: nat
      LAB-HV2: mac_spoofing
  register: nested

- name: Show what still has to change, by reason code
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.blockers | map(attribute='code') | list }}"
  loop: "{{ nested.verdict.vms | dict2items }}"
  when: not item.value.ready

- name: Refuse to continue on AMD hosts whose VMs are older than configuration version 9.3
  ansible.builtin.assert:
    that: >-
      nested.verdict.vms.values() | map(attribute='blockers') | flatten
      | selectattr('code', 'equalto', 'vm.version_too_low') | list | length == 0
"""

RETURN = r"""
read:
  description:
    - What this read asked - C(host) (the inventory host read), C(at_ns) (when, in nanoseconds since the epoch
      on the controller), C(sections), C(vm_names) (null - every VM) and C(guests) (C(vm) and C(username) of each,
      never a password) - for later tasks that plan from it (O(hyperv.nested.win_nested_nat#module:earlier_read)).
  returned: always
  type: dict
  sample: {"host": "lab-hv1", "at_ns": 1796000000000000000, "sections": ["host", "vms", "network"], "vm_names": null, "guests": []}
vms_section:
  description: The probe's vms section without its VMs (C(hyperv_module), C(missing), C(duplicates), C(all_names), ...).
  returned: always
  type: dict
  sample: {"hyperv_module": true, "missing": [], "duplicates": [], "all_names": ["LAB-VM1"]}
network:
  description: The host's networking as read with O(network=true) (the probe's network section, docs/internals/wire-protocol.md).
  returned: when O(network=true) and it could be read
  type: dict
guests:
  description: Each guest of O(guests) as read from inside - C(vm), C(state), C(reachable), C(error), C(adapters).
  returned: when O(guests) is not empty and they could be read
  type: list
  elements: dict
network_unavailable:
  description: Why RV(network) could not be read.
  returned: when O(network=true) and it could not be read
  type: str
guests_unavailable:
  description: Why RV(guests) could not be read.
  returned: when O(guests) is not empty and they could not be read
  type: str
msg:
  description: One paragraph for people - whether the host can run nested virtualization, which VMs are ready and why the others are not.
  returned: always
  type: str
  sample: >-
    HV01 (Microsoft Windows Server 2025 Datacenter, build 26100, GenuineIntel) can run nested virtualization.
    0 of 1 VM(s) ready to run Hyper-V. LAB-HV1 is not: vm.extensions_not_exposed. 2 warning(s); see verdict.
ready:
  description: Whether the host and every checked VM are ready (no blockers, no missing names).
  returned: always
  type: bool
  sample: false
missing:
  description: Requested VM names that no VM on the host has.
  returned: always
  type: list
  elements: str
  sample: [LAB-HV9]
platform:
  description:
    - What the host runs on, classified from RV(host.platform) - C(virtual) (a VM or not), C(hypervisor)
      (V(Hyper-V), V(VMware), V(KVM/QEMU), V(Xen), V(VirtualBox), ... null when physical) and
      C(cloud) (V(Azure) from the SMBIOS asset tag C(7783-7084-3265-9085-8269-3286-77), V(AWS),
      V(Google Cloud), or null).
  returned: always
  type: dict
  sample: {virtual: true, hypervisor: Hyper-V, cloud: Azure}
host:
  description: Facts about the host, as the probe read them.
  returned: always
  type: dict
  contains:
    computer_name:
      description: The host's computer name.
      type: str
      sample: HV01
    os:
      description: Operating system - C(caption), C(product_type) (V(server) or V(client)), C(edition), C(build) (a number), C(version).
      type: dict
      sample: {caption: Microsoft Windows Server 2022 Datacenter, product_type: server, edition: ServerDatacenter, build: 20348, version: 10.0.20348}
    processor:
      description:
        - C(manufacturer), C(name) and the virtualization flags of C(Win32_Processor).
        - The flags read false while the hypervisor runs (Windows hides them from the root partition).
      type: dict
      sample: {manufacturer: GenuineIntel, name: Intel(R) Xeon(R) Gold 6338, virtualization_firmware_enabled: true,
               vm_monitor_mode_extensions: true, second_level_address_translation: true}
    logical_processor_count:
      description:
        - Logical processors of the host (C(Get-VMHost)), which under minroot are more than the root partition's.
      type: int
      sample: 32
    root_partition_processor_count:
      description: Logical processors the host's own OS sees (C(Win32_ComputerSystem)).
      type: int
      sample: 32
    memory_capacity_bytes:
      description: Physical memory in bytes.
      type: int
      sample: 274877906944
    hypervisor_present:
      description:
        - Whether this host's own Hyper-V hypervisor is running.
        - In a VM, from the Hyper-V root partition's performance counters; C(Win32_ComputerSystem.HypervisorPresent)
          is true in every Hyper-V guest (it sees the parent's hypervisor) and is given as RV(host.hypervisor_present_raw).
      type: bool
      sample: true
    hypervisor_present_raw:
      description: C(Win32_ComputerSystem.HypervisorPresent) as Windows reports it.
      type: bool
      sample: true
    hypervisor_root_partition:
      description:
        - Whether the Hyper-V root-partition performance counters exist (this OS is the root partition of a running
          hypervisor); null when they cannot be read.
      type: bool
      sample: true
    vmms:
      description: State of the Virtual Machine Management service (C(vmms)), or V(Absent) when it is not installed.
      type: str
      sample: Running
    hyperv_feature:
      description: State of the Hyper-V feature - V(Enabled), V(Disabled), V(EnablePending) or V(Unknown).
      type: str
      sample: Enabled
    vbs:
      description:
        - Virtualization-based security - C(configured), C(running), C(status) (0 off, 1 configured, 2 running).
        - Information only - VBS, Device Guard, Credential Guard and HVCI do not affect nested virtualization.
      type: dict
      sample: {configured: true, running: true, status: 2}
    bcd_offer_nested_virt_disabled:
      description: Whether the boot configuration sets C(OFFERNESTEDVIRT=FALSE); null when it could not be read.
      type: bool
      sample: false
    supported_versions:
      description: VM configuration versions this host supports.
      type: list
      elements: str
      sample: ["8.0", "9.0", "10.0"]
    default_version:
      description: The configuration version new VMs get, and the one C(Update-VMVersion) upgrades to.
      type: str
      sample: "10.0"
    is_virtual_machine:
      description: Whether the host is itself a Hyper-V VM (an L1).
      type: bool
      sample: false
    platform:
      description: C(Win32_ComputerSystem) C(manufacturer) and C(model), and C(Win32_SystemEnclosure) C(smbios_asset_tag), as read.
      type: dict
      sample: {manufacturer: Microsoft Corporation, model: Virtual Machine, smbios_asset_tag: "7783-7084-3265-9085-8269-3286-77"}
    nats:
      description: The host's NAT networks (C(Get-NetNat)), each with C(name) and C(internal_ip_interface_address_prefix); empty when none or not readable.
      type: list
      elements: dict
      sample: [{name: LocalNAT, internal_ip_interface_address_prefix: 192.168.100.0/24}]
    is_administrator:
      description: Whether the connecting account is an administrator.
      type: bool
      sample: true
    is_hyperv_administrator:
      description: Whether the connecting account is in Hyper-V Administrators or is an administrator.
      type: bool
      sample: true
vms:
  description: Facts about each checked VM, in the host's order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: LAB-HV1
    id:
      description: VM id.
      type: str
    state:
      description: Power state (V(Running), V(Off), V(Saved), V(Paused), ...).
      type: str
      sample: Running
    generation:
      description: VM generation.
      type: int
      sample: 2
    version:
      description: Configuration version.
      type: str
      sample: "10.0"
    processor_count:
      description: Virtual processors.
      type: int
      sample: 2
    expose_virtualization_extensions:
      description: Whether virtualization extensions are exposed to the VM.
      type: bool
      sample: false
    dynamic_memory_enabled:
      description: Whether dynamic memory is on.
      type: bool
      sample: true
    memory_assigned_bytes:
      description: Memory the VM has now (C(Get-VM) MemoryAssigned); 0 when it is off.
      type: int
      sample: 4294967296
    startup_memory_bytes:
      description: Startup memory in bytes.
      type: int
      sample: 4294967296
    minimum_memory_bytes:
      description: Minimum memory in bytes (dynamic memory).
      type: int
    maximum_memory_bytes:
      description: Maximum memory in bytes (dynamic memory).
      type: int
    checkpoints:
      description: Checkpoints, each with C(name) and C(id).
      type: list
      elements: dict
    adapters:
      description:
        - Network adapters, each with C(name), C(id), C(switch_name), C(mac_address), C(mac_address_spoofing) (V(On) or V(Off)),
          and C(ip_addresses) (the guest's addresses as it reports them through the KVP exchange; empty when it does not).
      type: list
      elements: dict
    integration_services:
      description:
        - Integration services, each with C(name) (the English name, from the service's GUID), C(id) (that GUID),
          C(display_name) (the host's own, perhaps localised, name), C(enabled) and C(primary_status)
          (C(PrimaryOperationalStatus) such as V(Ok) or V(NoContact); empty while the VM is off or the service disabled).
      type: list
      elements: dict
    virtualization_based_security_opt_out:
      description: C(Get-VMSecurity) VirtualizationBasedSecurityOptOut; null when unavailable. Information only.
      type: bool
    is_clustered:
      description: Whether the VM is a clustered role of a failover cluster (C(Get-VM) IsClustered).
      type: bool
      sample: false
    guest_os:
      description: The guest's operating system as it reports it through the KVP exchange; null when unknown.
      type: str
      sample: Windows Server 2022 Datacenter
    guest_dns_name:
      description: The guest's fully qualified domain name as it reports it through the KVP exchange; null when unknown.
      type: str
      sample: lab-hv1.lab.example.com
    notes:
      description: The VM's notes (C(Set-VM -Notes), the Notes box of Hyper-V Manager); empty when none.
      type: str
      sample: "nested: nat"
    restart_mark:
      description:
        - Set when M(hyperv.nested.win_nested_vm) shut this VM down to change it and has not
          started it again (a file on the host, see O(hyperv.nested.win_nested_vm#module:power_after)); null otherwise.
        - C(stopped_at) is when, in UTC (null when the mark cannot be read). A VM that is off
          with a mark draws the warning C(vm.restart_pending).
      type: dict
      sample: {stopped_at: "2026-11-25T23:40:00Z"}
verdict:
  description: The verdict for the host and for each VM. Reason codes are stable; see C(docs/reason-codes.md).
  returned: always
  type: dict
  contains:
    ready:
      description: Same as RV(ready).
      type: bool
    host:
      description:
        - The host's verdict - C(ready) (no blockers), C(blockers), C(warnings) and C(notes), each a list of C(code), C(msg), C(fix).
      type: dict
      sample:
        ready: true
        blockers: []
        warnings: []
        notes: [{code: host.is_virtual_machine, msg: "This host is itself a Hyper-V virtual machine ...", fix: "Nothing to do. ..."}]
    vms:
      description:
        - Per VM name (requested names that were not found included), C(ready), C(blockers), C(warnings),
          C(notes) and C(why_not_starting), each a list of C(code), C(msg), C(fix).
        - C(why_not_starting) lists why the VM, configured as it is now, fails to start (or would fail at its
          next start when it runs now).
      type: dict
      sample:
        LAB-HV1:
          ready: false
          blockers:
            - code: vm.extensions_not_exposed
              msg: "Virtualization extensions are not exposed to the VM, ..."
              fix: "With the VM off, run Set-VMProcessor ..."
          warnings:
            - code: vm.dynamic_memory_enabled
              msg: "Dynamic memory is on. It changes nothing now; once Hyper-V runs inside it, ..."
              fix: "Nothing stops the VM from starting. ..."
          notes:
            - code: vm.checkpoints_present
              msg: "The VM has 1 checkpoint(s). Checkpoints work with nested virtualization; ..."
              fix: "Nothing to do. ..."
          why_not_starting: []
"""
