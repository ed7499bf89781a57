#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_vm_provision.py.

DOCUMENTATION = r"""
---
module: win_nested_vm_provision
short_description: Create virtual machines for a nested lab from a golden image, with nested settings before their first boot
version_added: 0.2.0
description:
  - Runs on a Hyper-V host (an L0 host, or an L1 host for its L2 guests) and creates the listed VMs that
    do not exist yet, in one task. Each VM gets generation 2 (or 1), static memory, its processor
    count, virtualization extensions exposed B(before its first boot), network adapters on named
    switches with MAC address spoofing as its network mode needs, Secure Boot with a template, and
    a disk that is a differencing disk on (or a copy of) a golden VHDX the operator names.
  - First boot of a sysprepped Windows image - an answer file (C(unattend.xml)) rendered from the task
    (computer name, Administrator password, time zone, a WinRM HTTPS listener) is written into the
    new disk (C(Mount-VHD)) before the VM starts. Linux images - a small cloud-init NoCloud seed disk
    (volume label C(cidata)) with C(meta-data) and C(user-data) is attached instead.
  - Then the VM is started and the task waits until its heartbeat is healthy. Waiting for WinRM or
    SSH of the new machine is the playbook's step (M(ansible.builtin.wait_for_connection) on that host);
    the role C(hyperv.nested.nested_provision) does it.
  - Every VM it creates carries a mark as the first line of its Notes. It never changes or removes a
    VM without that mark - a VM of the same name that exists already is reported and left alone. A VM
    with the mark but other hardware than asked is reported, not replaced (change hardware with
    M(hyperv.nested.win_nested_vm)).
  - O(state=absent) removes the marked VMs (turned off first), their disk and their seed disk at the
    paths this module gives them; never the golden image, never any other disk.
  - One read-only request per task; a converged run changes nothing and reports C(changed=false).
  - Supports check mode and diff mode; RV(commands) lists the PowerShell an operator would type
    for the same change (never the answer file's content).
author:
  - hyperv.nested maintainers (@hyperv-nested)
extends_documentation_fragment:
  - hyperv.nested.connection
options:
  vms:
    description:
      - The VMs to create (or remove) on this host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - VM name; also the name of its folder and disk, so it cannot hold C(<>:"/\|?*).
          - Matched exactly (case-insensitively), never as a wildcard pattern.
        type: str
        required: true
      image:
        description:
          - Path on this host of the golden (parent) VHDX, for example V(D:\\Golden\\ws2022.vhdx). Required with
            O(state=present). A sysprepped (generalized) Windows image, or a Linux cloud image with cloud-init.
          - It is only read; with O(vms[].disk_mode=differencing) it must never change afterwards (a differencing
            disk whose parent changed or vanished no longer starts).
        type: str
      os_family:
        description:
          - V(windows) writes an C(unattend.xml) into the new disk; V(linux) attaches a cloud-init NoCloud seed disk.
        type: str
        choices: [windows, linux]
        default: windows
      disk_mode:
        description:
          - V(differencing) creates a differencing disk on O(vms[].image) (fast, small; the image must stay as it is).
          - V(copy) copies the image (independent of it afterwards).
        type: str
        choices: [differencing, copy]
        default: differencing
      generation:
        description: VM generation.
        type: int
        choices: [1, 2]
        default: 2
      version:
        description:
          - Configuration version (C(New-VM -Version)), for example V(9.0). Default is the host's default version.
        type: str
      processor_count:
        description: Virtual processors.
        type: int
        default: 2
      memory:
        description:
          - Static startup memory, as bytes or a size such as V(8GB). Dynamic memory is turned off.
        type: raw
        default: 4GB
      expose_virtualization_extensions:
        description: Expose the processor's virtualization extensions, so the VM can run Hyper-V itself.
        type: bool
        default: true
      network_mode:
        description:
          - The nested networking option this VM will use. V(mac_spoofing) turns MAC address spoofing on for
            every adapter unless the adapter says otherwise; V(nat) (and no value) leaves it off.
        type: str
        choices: [nat, mac_spoofing]
      adapters:
        description:
          - Network adapters, in order; the first is C(Network Adapter), the next C(Network Adapter 2), and so on.
            At least one with O(state=present).
        type: list
        elements: dict
        default: []
        suboptions:
          switch:
            description:
              - Name of the virtual switch on this host.
              - Leave it out to create the adapter unconnected, for a role that connects it later (the NAT or
                MAC spoofing networking of an L1 host connects its guests).
            type: str
          mac_address_spoofing:
            description: MAC address spoofing on this adapter; default follows O(vms[].network_mode).
            type: bool
      secure_boot:
        description: Secure Boot (generation 2 only).
        type: bool
        default: true
      secure_boot_template:
        description:
          - Secure Boot template. Default V(MicrosoftWindows) for Windows and V(MicrosoftUEFICertificateAuthority)
            for Linux.
        type: str
      computer_name:
        description: Computer name (Windows, at most 15 letters, digits or hyphens) or host name (Linux). Default is O(vms[].name).
        type: str
      time_zone:
        description: Windows time zone ID (C(tzutil /l)).
        type: str
        default: UTC
      linux_user:
        description: The user cloud-init creates on a Linux image (with sudo); O(admin_password) becomes its password.
        type: str
        default: labadmin
      ssh_authorized_keys:
        description: Public keys cloud-init authorizes for O(vms[].linux_user).
        type: list
        elements: str
        default: []
      start:
        description: Start the VM once it is created and wait for its heartbeat. A VM that exists is never started or stopped.
        type: bool
        default: true
  state:
    description:
      - V(present) creates the VMs that are missing. V(absent) removes the VMs this module created.
    type: str
    choices: [present, absent]
    default: present
  path:
    description:
      - Folder on this host for the new VMs (C(New-VM -Path)); each VM's disks go to
        C(<path>\<name>\Virtual Hard Disks\).
    type: str
    default: C:\Hyper-V\hyperv.nested
  admin_password:
    description:
      - Administrator password of new Windows VMs (and the password of O(vms[].linux_user) on Linux VMs).
        Keep it in Ansible Vault. It is never returned, logged or passed as a cmdlet parameter on the host.
      - Required to create a Windows VM.
    type: str
  start_timeout:
    description: Seconds to wait for each new VM's heartbeat.
    type: int
    default: 900
attributes:
  check_mode:
    support: full
    description: Plans the creation or removal and reports it without doing it.
  diff_mode:
    support: full
    description: Shows each VM's hardware before and after (V(null) for a VM that does not exist).
notes:
  - Requires the Hyper-V PowerShell module and the Storage module (C(Mount-VHD), C(Get-Partition)) on the host.
  - A run that stops half way (a lost connection) is finished by running the task again - a marked VM
    that is Off without its disk is completed, a differencing disk of the same image at the VM's disk
    path is reused.
seealso:
  - module: hyperv.nested.win_nested_vm
  - module: hyperv.nested.win_nested_info
  - name: Nested virtualization
    description: Microsoft's guide; step one is creating the VM, the nested settings come before it runs.
    link: https://learn.microsoft.com/virtualization/hyper-v-on-windows/user-guide/enable-nested-virtualization
  - name: Windows Setup answer files
    description: Where Windows Setup looks for unattend.xml on the first boot of a generalized image.
    link: https://learn.microsoft.com/windows-hardware/manufacture/desktop/windows-setup-automation-overview
  - name: cloud-init NoCloud
    description: The seed volume a Linux image reads on its first boot.
    link: https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html
"""

EXAMPLES = r"""
- name: Two L1 VMs from a sysprepped Windows Server image, nested settings before their first boot
  hyperv.nested.win_nested_vm_provision:
    path: D:\Hyper-V\lab
    admin_password: "{{ vault_lab_admin_password }}"
    vms:
      - name: LAB-HV1
        image: D:\Golden\ws2022.vhdx
        processor_count: 4
        memory: 8GB
        network_mode: nat
        adapters: [{switch: External}]
      - name: LAB-HV2
        image: D:\Golden\ws2022.vhdx
        network_mode: mac_spoofing
        adapters: [{switch: External}]

- name: A Linux guest with a cloud-init seed disk
  hyperv.nested.win_nested_vm_provision:
    admin_password: "{{ vault_lab_admin_password }}"
    vms:
      - name: LAB-LNX1
        image: C:\Golden\ubuntu-24.04.vhdx
        os_family: linux
        adapters: [{switch: VmNAT}]
        ssh_authorized_keys: ["ssh-ed25519 AAAA... lab"]

- name: Remove what the module created
  hyperv.nested.win_nested_vm_provision:
    state: absent
    vms: [{name: LAB-HV1}, {name: LAB-HV2}]
"""

RETURN = r"""
vms:
  description: One entry per requested VM.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
    status:
      description:
        - V(create) created (or would create), V(resume) finished an interrupted creation, V(present) exists as asked,
          V(differs) created by this module but with other hardware now (reported, not changed), V(unmanaged) exists
          and was not created by this module (left alone), V(remove) removed (or would remove), V(absent) not there.
      type: str
    differences:
      description: For V(differs) and V(unmanaged), what differs from the request.
      type: list
      elements: str
    disk_path:
      description: The VM's disk path under O(path).
      type: str
    seed_path:
      description: The cloud-init seed disk path (Linux), else null.
      type: str
    state:
      description: The VM's state after the changes.
      type: str
      returned: when changes were sent
    ip_addresses:
      description: The addresses the guest reports (KVP) after the changes; often empty right after the first boot.
      type: list
      elements: str
      returned: when changes were sent
  sample: [{name: LAB-HV1, status: create, differences: [], disk_path: "D:\\Hyper-V\\lab\\LAB-HV1\\Virtual Hard Disks\\LAB-HV1.vhdx", seed_path: null}]
commands:
  description: The PowerShell lines that ran (or would run in check mode), one per step, for people to read.
  returned: always
  type: list
  elements: str
  sample:
    - New-VHD -Path 'D:\Hyper-V\lab\LAB-HV1\Virtual Hard Disks\LAB-HV1.vhdx' -ParentPath 'D:\Golden\ws2022.vhdx' -Differencing
steps:
  description: What happened to each command; status is V(ok), V(failed) or V(not_run).
  returned: when changes were sent
  type: list
  elements: dict
  sample: [{command: "Start-VM ...", status: ok, message: null}]
"""
