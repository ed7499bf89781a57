# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How every hyperv.nested module reaches its Hyper-V host, and the rights it needs there.
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    description: The module runs on the controller as an action plugin and sends PowerShell to the host.
  async:
    support: none
    description: Not usable with C(async).
  become:
    support: none
    description: Runs as the connecting account; C(become) is not used.
  connection:
    support: full
    description: Uses the host's configured connection (C(winrm), C(psrp), or C(ssh) with the PowerShell shell).
  delegation:
    support: full
    description: Can be delegated; the Hyper-V host is the host the task connects to.
  platform:
    support: full
    platforms: windows
    description: The target is a Windows Hyper-V host (Windows Server 2016 or later, Windows 10 or later) with Windows PowerShell 5.1.
notes:
  - The module is an action plugin. Its logic runs on the controller; on the host it runs one
    fixed PowerShell script per round trip through the task's connection (C(ansible.builtin.winrm),
    C(ansible.builtin.psrp), or C(ansible.builtin.ssh) with C(ansible_shell_type=powershell)). The
    values you give travel as JSON data on stdin, never inside script text, and no module payload
    or temporary file is copied to the host.
  - Hyper-V cmdlets run locally on the host the task connects to, never with C(-ComputerName), so
    there is no credential double hop.
  - Rights on the host - reading VMs and their settings needs membership in Hyper-V Administrators
    (SID C(S-1-5-32-578)) or Administrators; group membership applies at the next logon. Some checks
    (the boot configuration through C(bcdedit)) and all host networking changes need an administrator.
    Local accounts other than the built-in Administrator connect over WinRM with a filtered token
    unless C(LocalAccountTokenFilterPolicy) is set; domain accounts are not affected.
"""
