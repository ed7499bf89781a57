#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_guest_check.py.

DOCUMENTATION = r"""
---
module: win_nested_guest_check
short_description: Prove that the L2 guests of a NAT-mode nested Hyper-V host have their network
version_added: 0.2.0
description:
  - Runs on an L1 host that uses NAT for its guests, after the networking, and changes nothing. For each
    guest it checks the address (inside the NAT prefix, the inventory's one when given), the default
    gateway (the NAT gateway), DNS servers, and that the way out exists (the guest's adapter on the NAT
    switch, the NetNat for the prefix and its gateway on the switch's vEthernet adapter).
  - A Windows guest with credentials is read from inside through PowerShell Direct. Any other guest (Linux,
    appliances, DHCP guests without credentials) is judged from the L1's view - the address the guest
    reports through the Key-Value Pair Exchange service on its adapter, and the NAT state.
  - Each problem is a finding with a reason code (V(guest.no_address), V(guest.wrong_gateway),
    V(guest.no_dns), V(guest.not_on_nat_switch), V(nat.missing), ...) and a fix.
author:
  - hyperv.nested maintainers (@hyperv-nested)
extends_documentation_fragment:
  - hyperv.nested.connection
options:
  guests:
    description: The L2 guests to check.
    type: list
    elements: dict
    required: true
    suboptions:
      vm:
        description: VM name on this host.
        type: str
        required: true
      ip:
        description: The address the guest should have (its C(nested_ip)).
        type: str
      username:
        description: A local administrator of a Windows guest, to read it from inside (PowerShell Direct).
        type: str
      password:
        description: That administrator's password.
        type: str
  prefix:
    description: The NAT prefix.
    type: str
    default: 192.168.100.0/24
  switch_name:
    description: The NAT's internal switch.
    type: str
    default: VmNAT
  fail_on_findings:
    description: Fail the task when a guest has findings (default - report them, the task succeeds).
    type: bool
    default: false
  earlier_read:
    description:
      - The result of a M(hyperv.nested.win_nested_info) task registered earlier on the same host, with
        O(hyperv.nested.win_nested_info#module:network=true) (and the guests this task reads from inside in its
        O(hyperv.nested.win_nested_info#module:guests), with the same user names). The task then plans from it,
        through the same planner, instead of reading the host again - when the read holds everything this task
        would read, no module of this collection changed the host since (the C(hyperv_nested_changed_at) fact
        they set), and the plan it gives proves every guest. Otherwise the task reads the host as usual.
      - Tasks of other collections that change the host in between are not seen - do not pass a read across them.
      - RV(read_reused) says whether the read was used.
    type: dict
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
notes:
  - The outbound path is proven from the L1's state (guest address, gateway, NAT); the module does not open a
    connection from inside the guest.
seealso:
  - module: hyperv.nested.win_nested_nat
  - module: hyperv.nested.win_nested_dhcp
"""

EXAMPLES = r"""
- name: Prove the guests' network
  hyperv.nested.win_nested_guest_check:
    guests:
      - {vm: LAB-VM1, ip: 192.168.100.10, username: Administrator, password: "{{ vault_guest_password }}"}
      - {vm: LAB-LNX1, ip: 192.168.100.20}
"""

RETURN = r"""
read_reused:
  description: Whether the task planned from O(earlier_read) instead of reading the host.
  returned: always
  type: bool
  sample: true
ok:
  description: Whether every guest passed.
  returned: always
  type: bool
guests:
  description: One entry per guest - C(vm), C(view) (V(inside) or V(l1)), C(address), C(gateway), C(dns), C(ok), C(findings).
  returned: always
  type: list
  elements: dict
  sample: [{vm: LAB-LNX1, view: l1, address: 192.168.100.20, gateway: null, dns: [], ok: true, findings: []}]
"""
