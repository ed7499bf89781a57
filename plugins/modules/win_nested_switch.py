#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_switch.py.

DOCUMENTATION = r"""
---
module: win_nested_switch
short_description: External virtual switch inside a nested Hyper-V host, with its guests connected
version_added: 0.1.0
description:
  - Runs on an L1 host (a VM that has become a Hyper-V host) for the MAC address spoofing
    networking option of nested virtualization. Ensures an External virtual switch bound to a
    named network adapter of the L1 host exists, and connects the network adapters of the
    named L2 VMs to it, so that the guests reach the L1 host's network through the L0 switch.
  - MAC address spoofing must also be turned on for the L1 VM's adapters on the L0 host
    (M(hyperv.nested.win_nested_vm) with O(hyperv.nested.win_nested_vm#module:mac_address_spoofing=on));
    without it the L2 guests' packets are dropped by the L0 switch.
  - The switch is created with C(New-VMSwitch -NetAdapterName ... -AllowManagementOS $true).
    Binding the adapter moves the L1 host's own network onto a new virtual adapter named after the switch
    adapter, which B(briefly interrupts the L1 host's network) (a few seconds, including the
    WinRM connection the task runs over). Run it in a maintenance window on hosts others use.
  - One read-only probe per task; when something must change, one more round trip runs
    the planned operations. A converged run changes nothing and reports C(changed=false).
  - VMs and adapters are selected by exact name and adapter id, never by wildcard patterns.
  - Supports check mode and diff mode; RV(commands) lists the PowerShell an operator would type
    for the same change.
author:
  - hyperv.nested maintainers (@hyperv-nested)
extends_documentation_fragment:
  - hyperv.nested.connection
options:
  name:
    description:
      - Name of the virtual switch inside the L1 host.
    type: str
    required: true
  state:
    description:
      - V(present) creates the External switch when it is missing and connects the O(vms).
      - V(absent) removes the switch (the adapters connected to it are left disconnected).
        O(vms) is ignored then.
    type: str
    choices: [present, absent]
    default: present
  net_adapter_name:
    description:
      - Name of the network adapter of the L1 host (as C(Get-NetAdapter) shows it, for
        example V(Ethernet)) that the External switch is bound to.
      - Needed only when the switch must be created. An existing switch of that name is used as
        it is, and it must be External. It is never moved to another adapter.
    type: str
  allow_management_os:
    description:
      - Whether the L1 host keeps using the adapter for its own network through the switch
        (C(-AllowManagementOS)). Keep V(true) unless the host has another adapter for its own
        traffic, since with V(false) the L1 host loses the network of that adapter.
    type: bool
    default: true
  vms:
    description:
      - Names of the L2 VMs (on this L1 host) whose network adapters are connected to the switch.
      - Matched exactly (case-insensitively); a missing name is an error that lists the VMs there.
    type: list
    elements: str
    default: []
  adapters:
    description:
      - Names of the VMs' network adapters to connect. Default is every adapter of each VM.
      - Each VM in O(vms) must have every adapter named here.
    type: list
    elements: str
  earlier_read:
    description:
      - The result of a M(hyperv.nested.win_nested_info) task registered earlier on the same host, with
        O(hyperv.nested.win_nested_info#module:network=true) (and the guests this task reads from inside in its
        O(hyperv.nested.win_nested_info#module:guests), with the same user names). The task then plans from it,
        through the same planner, instead of reading the host again - when the read holds everything this task
        would read, no module of this collection changed the host since (the C(hyperv_nested_changed_at) fact
        they set), and the plan it gives has nothing to change. Otherwise the task reads the host as usual.
      - Tasks of other collections that change the host in between are not seen - do not pass a read across them.
      - RV(read_reused) says whether the read was used.
    type: dict
attributes:
  check_mode:
    support: full
    description: Plans the change and reports it without running it.
  diff_mode:
    support: full
    description: Shows the switch and each adapter's switch before and after.
notes:
  - Requires Hyper-V with its PowerShell module inside the L1 host (role M(hyperv.nested.nested_hyperv)
    installs it).
  - The connection may drop while the switch is created; on a real host the WinRM reply can be
    lost. Running the task again is safe, it finds the switch and only connects the adapters.
seealso:
  - module: hyperv.nested.win_nested_vm
  - module: hyperv.nested.win_nested_nat
  - module: hyperv.nested.win_nested_info
  - name: Nested virtualization networking options
    description: Microsoft's guide, MAC address spoofing and NAT.
    link: https://learn.microsoft.com/virtualization/hyper-v-on-windows/user-guide/enable-nested-virtualization
"""

EXAMPLES = r"""
- name: External switch on the L1 host's Ethernet adapter, with its L2 guests connected
  hyperv.nested.win_nested_switch:
    name: NestedExternal
    net_adapter_name: Ethernet
    vms: [LAB-VM3]

- name: Connect only the first adapter of two guests to an existing switch
  hyperv.nested.win_nested_switch:
    name: NestedExternal
    vms: [LAB-VM3, LAB-VM5]
    adapters: [Network Adapter]

- name: Remove the switch again
  hyperv.nested.win_nested_switch:
    name: NestedExternal
    state: absent
"""

RETURN = r"""
read_reused:
  description: Whether the task planned from O(earlier_read) instead of reading the host.
  returned: always
  type: bool
  sample: true
ansible_facts:
  description: Set when the task changed something (not in check mode) - later tasks refuse an O(earlier_read) made before.
  returned: changed
  type: dict
  contains:
    hyperv_nested_changed_at:
      description: When the change was made, in nanoseconds since the epoch on the controller.
      type: int
      sample: 1796000000000000000
switch:
  description: The switch after the task.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the switch (as the host spells it when it already existed).
      type: str
      sample: NestedExternal
    present:
      description: Whether the switch exists after the task.
      type: bool
      sample: true
    created:
      description: Whether the task created it (O(state=present) only).
      type: bool
      sample: false
    removed:
      description: Whether the task removed it (O(state=absent) only).
      type: bool
      sample: false
  sample: {name: NestedExternal, present: true, created: true}
connected:
  description: The VM network adapters that were (or in check mode would be) connected to the switch.
  returned: always
  type: list
  elements: dict
  contains:
    vm:
      description: VM name.
      type: str
    adapter:
      description: Adapter name.
      type: str
    adapter_id:
      description: Adapter id (C(Get-VMNetworkAdapter).Id).
      type: str
    previous_switch:
      description: Switch the adapter was connected to before, null when none.
      type: str
  sample: [{vm: LAB-VM3, adapter: Network Adapter, adapter_id: "Microsoft:0A1B...\\7C8D...", previous_switch: null}]
commands:
  description: The PowerShell lines that ran (or would run in check mode), one per operation, for people to read.
  returned: always
  type: list
  elements: str
  sample:
    - New-VMSwitch -Name 'NestedExternal' -NetAdapterName 'Ethernet' -AllowManagementOS $true
    - Connect-VMNetworkAdapter -VMNetworkAdapter (Get-VMNetworkAdapter -VM (Get-VM -Name 'LAB-VM3') | Where-Object Id -eq '...') -SwitchName 'NestedExternal'
operations:
  description: What happened to each command when changes were sent; status is V(ok), V(failed) or V(not_run).
  returned: when changes were sent
  type: list
  elements: dict
  sample: [{command: "New-VMSwitch -Name 'NestedExternal' -NetAdapterName 'Ethernet' -AllowManagementOS $true", status: ok, message: null, duration_ms: 820}]
"""
