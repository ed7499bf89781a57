#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module runs on the controller as the action
# plugin plugins/action/win_nested_dhcp.py.

DOCUMENTATION = r"""
---
module: win_nested_dhcp
short_description: DHCP scope with reservations for the L2 guests inside a nested Hyper-V host
version_added: 0.2.0
description:
  - Runs on an L1 host that uses NAT for its guests. Ensures a DHCP scope on the NAT prefix (the
    DHCP Server role inside the L1, as Microsoft's Azure nested-lab tooling does), with the router
    (gateway) and DNS server options, and one reservation per listed L2 guest - its inventory address
    for the MAC address Hyper-V gave the guest's adapter, read from the L1's Hyper-V. So guests of
    any operating system (Linux, appliances) get their address without guest credentials.
  - Install the DHCP Server role first (M(ansible.windows.win_feature) with C(name=DHCP) and
    C(include_management_tools=true)).
  - A scope, or a reservation, that exists with other values is reported, never replaced or removed.
    Router and DNS options of the scope are set to the requested ones.
  - One read-only request per task; a converged run reports C(changed=false). Check mode and diff mode.
author:
  - hyperv.nested maintainers (@hyperv-nested)
extends_documentation_fragment:
  - hyperv.nested.connection
options:
  prefix:
    description: The NAT prefix, for example V(192.168.100.0/24) (the scope's network and mask).
    type: str
    required: true
  gateway:
    description: The router option; default is the first host address (the NAT gateway on the L1's internal switch).
    type: str
  dns_servers:
    description: The DNS server option; default is the gateway.
    type: list
    elements: str
    default: []
  range_start:
    description: First address the scope leases; default is the address after the gateway.
    type: str
  range_end:
    description: Last address the scope leases; default is the last host address of the prefix.
    type: str
  reservations:
    description: One reservation per guest; the address must lie in the scope's range.
    type: list
    elements: dict
    default: []
    suboptions:
      vm:
        description: Name of the L2 VM on this host (exact match).
        type: str
        required: true
      ip:
        description: The address it gets.
        type: str
        required: true
      adapter:
        description: Name of the VM's network adapter; default is its first adapter.
        type: str
attributes:
  check_mode:
    support: full
    description: Plans the scope, options and reservations and reports them without changing them.
  diff_mode:
    support: full
    description: Shows the scope and the reservations before and after.
notes:
  - Windows DHCP Server answers only on interfaces with a static address, so it serves the NAT network
    behind the internal switch's gateway and not the L1's own network when that is configured by DHCP.
  - On a domain member the DHCP server must be authorized in Active Directory before it leases (C(Add-DhcpServerInDC)).
seealso:
  - module: hyperv.nested.win_nested_nat
  - module: hyperv.nested.win_nested_vm_provision
"""

EXAMPLES = r"""
- name: DHCP on the NAT network, a reserved address for each guest
  hyperv.nested.win_nested_dhcp:
    prefix: 192.168.100.0/24
    dns_servers: [1.1.1.1]
    reservations:
      - {vm: LAB-LNX1, ip: 192.168.100.20}
"""

RETURN = r"""
scope:
  description: The scope asked for.
  returned: always
  type: dict
  sample: {scope_id: 192.168.100.0, subnet_mask: 255.255.255.0, start_range: 192.168.100.2, end_range: 192.168.100.254,
           router: [192.168.100.1], dns_server: [1.1.1.1], name: hyperv.nested NAT}
reservations:
  description: Each guest's reservation, with the MAC address read from Hyper-V.
  returned: always
  type: list
  elements: dict
  sample: [{vm: LAB-LNX1, ip: 192.168.100.20, client_id: 00-15-5D-80-00-01}]
commands:
  description: The PowerShell lines that ran (or would run in check mode).
  returned: always
  type: list
  elements: str
steps:
  description: What happened to each command; status is V(ok), V(failed) or V(not_run).
  returned: when changes were sent
  type: list
  elements: dict
"""
