#!/usr/bin/python

# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only; the module runs as the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_nested_nat
short_description: NAT networking for the guests of a nested Hyper-V host
version_added: 0.1.0
description:
  - Runs on a nested Hyper-V host (an L1 VM that has Hyper-V installed) and gives its guests (L2 VMs)
    network access through NAT, the option Microsoft's nested virtualization guide describes for hosts
    where MAC address spoofing is not possible (public clouds).
  - "Host side: an internal virtual switch, a C(NetNat) for the internal prefix, and the gateway address
    with the prefix's length on the switch's host adapter C(vEthernet (<switch_name>))."
  - "Guest side: each guest's VM network adapter is connected to the switch, and inside the guest,
    through PowerShell Direct with the guest's credentials, the guest's own adapter (the one with that
    VM adapter's MAC address) gets its address, prefix length, default gateway and DNS servers. A wrong
    old address inside the prefix and an old default route are removed first; when DHCP is on for that
    adapter, its lease is removed and DHCP is turned off. Other addresses of the guest are left alone."
  - Idempotent; everything that already exists as wanted is left alone. A converged run sends one
    read-only probe to the host and nothing else.
  - All options are validated before anything is sent to the host; errors name the option.
  - The module manages the switch and NAT named by O(switch_name) and O(nat_name). On the host it never
    changes an address outside O(prefix) (with O(replace), the old prefix of the NAT it replaces too),
    never touches another NAT, and never replaces an External switch.
  - One NAT network per host - Windows supports one (Microsoft, "Set up a NAT network" - "Multiple NAT
    networks are not supported"; WinNAT then is "in an unknown state"). When the host already has a
    NetNat that is not O(nat_name), the task fails naming it and its prefix, and adds nothing, unless
    O(allow_multiple_nats=true).
  - Port mappings reach a guest only through the host's firewall, which blocks unsolicited inbound
    traffic by default. For each mapping the module opens a matching inbound rule (and closes it when it
    removes the mapping); see O(firewall_rules).
  - On an Azure VM (recognised by its SMBIOS asset tag) the guests' default DNS server is Azure's
    resolver 168.63.129.16, and RV(notes) says so; see O(guest_dns).
  - Guest passwords are never returned, neither in C(commands), C(diff) nor in messages.
author:
  - hyperv.nested maintainers (@hyperv-nested)
options:
  switch_name:
    description:
      - Name of the internal virtual switch the guests are connected to.
      - Must not contain the wildcard characters C(*), C(?), C([) or C(]).
    type: str
    default: VmNAT
  nat_name:
    description:
      - Name of the C(NetNat) object.
      - Must not contain the wildcard characters C(*), C(?), C([) or C(]).
    type: str
    default: LocalNAT
  prefix:
    description:
      - The internal IPv4 network in CIDR form, without host bits. The prefix length must be 30 or less.
      - Must not overlap another NAT or a network already on the host.
    type: str
    default: 192.168.100.0/24
  gateway:
    description:
      - The host's address on the switch, and the guests' default gateway.
      - Defaults to the first usable address of O(prefix) (V(192.168.100.1) for the default prefix).
    type: str
  state:
    description:
      - V(present) creates what is missing and configures the guests.
      - V(absent) removes, in this order, the static mappings of the NAT, the host's addresses inside
        O(prefix) on the switch's adapter, the NAT (only when its prefix is O(prefix), unless O(replace))
        and the switch (only when it is internal). Guests are not changed.
    type: str
    choices: [present, absent]
    default: present
  guests:
    description:
      - The guests (VMs on this host) to put on the NAT network. They must be running.
    type: list
    elements: dict
    default: []
    suboptions:
      vm:
        description:
          - Name of the guest's VM on this host (matched exactly).
        type: str
        required: true
      ip:
        description:
          - The guest's address inside O(prefix); not the network, broadcast or gateway address.
          - "When omitted, an address is chosen: the one the guest already has inside O(prefix) if no
            other guest claims it, otherwise the lowest free address, in the order of O(guests). The
            choice is stable across runs, and an address any listed guest holds now is never given to
            another one. Guests that are not listed are not seen: give them fixed addresses."
        type: str
      dns:
        description:
          - DNS servers for the guest, in order. Defaults to O(guest_dns).
        type: list
        elements: str
      adapter:
        description:
          - Name of the VM network adapter to connect to the switch.
          - Needed only when the VM has several adapters and none is connected to O(switch_name) yet.
          - An adapter connected to another switch is never moved.
        type: str
      username:
        description:
          - User for PowerShell Direct into the guest. Defaults to O(guest_username).
        type: str
      password:
        description:
          - Password for PowerShell Direct into the guest. Defaults to O(guest_password).
        type: str
  guest_username:
    description:
      - User for PowerShell Direct into every guest that does not set its own.
    type: str
  guest_password:
    description:
      - Password for PowerShell Direct into every guest that does not set its own.
    type: str
  guest_dns:
    description:
      - DNS servers for every guest that does not set its own.
      - "The NAT gateway does not answer DNS queries, so a resolver the guests can reach through the NAT
        is needed (Microsoft's guide - each nested VM 'might also want' a DNS server). When this is not
        set - V(168.63.129.16) on an Azure VM (Azure's resolver, which Microsoft's own nested Hyper-V
        script for Azure VMs gives its guests; Azure docs - 'The Azure DNS IP address is 168.63.129.16'),
        and RV(notes) says so; V(1.1.1.1) and V(8.8.8.8) elsewhere. Set your own resolvers where those are
        not reachable."
    type: list
    elements: str
  port_mappings:
    description:
      - Ports of the host forwarded to guests (C(Add-NetNatStaticMapping)).
      - A mapping of the NAT with the same protocol, external address and port but another target is
        replaced. Mappings of the NAT that are not listed are kept unless O(purge_port_mappings).
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description:
          - The protocol.
        type: str
        choices: [tcp, udp]
        default: tcp
      external_ip:
        description:
          - The host address the port is forwarded from; V(0.0.0.0) means every address.
        type: str
        default: 0.0.0.0
      external_port:
        description:
          - The port on the host, 1 to 65535.
        type: int
        required: true
      internal_ip:
        description:
          - The guest address to forward to, inside O(prefix). Give this or O(port_mappings[].vm).
        type: str
      vm:
        description:
          - A guest listed in O(guests) whose address (given or allocated) is the target. Give this or
            O(port_mappings[].internal_ip).
        type: str
      internal_port:
        description:
          - The port on the guest, 1 to 65535.
        type: int
        required: true
  purge_port_mappings:
    description:
      - Remove the static mappings of the NAT that O(port_mappings) does not list.
    type: bool
    default: false
  firewall_rules:
    description:
      - Open an inbound Windows Firewall rule for each mapping of O(port_mappings), and close it when the
        module removes that mapping (a changed target, O(purge_port_mappings), O(state=absent)).
      - Without such a rule a mapped port is unreachable - the firewall blocks unsolicited inbound traffic
        by default (Microsoft Learn, C(INetFwPolicy2) DefaultInboundAction - "These settings are Block by
        default").
      - "Each rule allows the mapping's protocol on its external port (and external address, unless
        V(0.0.0.0)), for every profile. It is named C(hyperv.nested-nat-<TCP|UDP>-<external IP>-<port>)
        and belongs to the group C(hyperv.nested NAT port mappings), which is how the module recognises
        its own rules; it never touches other rules. A rule of that name that does not admit the mapping
        (disabled, another port) is replaced."
      - V(false) leaves the firewall alone - no rule is opened, changed or closed.
    type: bool
    default: true
  allow_multiple_nats:
    description:
      - Add the NAT O(nat_name) even when the host already has another NetNat, with a warning.
      - Windows supports one NAT network per host (Microsoft, "Set up a NAT network"); without this the
        task fails naming the NAT that exists and its prefix. Overlapping prefixes are refused either way.
    type: bool
    default: false
  replace:
    description:
      - Allow replacing the Private switch named O(switch_name) by an internal one, and the NAT named
        O(nat_name) when its prefix differs from O(prefix).
      - With O(state=absent), also remove the NAT named O(nat_name) when its prefix differs.
      - Without it, such differences fail the task and nothing is changed. Other NATs, networks already on
        the host, and External switches are never replaced.
    type: bool
    default: false
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
extends_documentation_fragment:
  - hyperv.nested.connection
attributes:
  check_mode:
    support: full
    description: Plans the change and returns the commands it would run; only the read-only probe is sent to the host.
  diff_mode:
    support: full
    description: Shows the switch, NAT, gateway address, port mappings, firewall rules and each guest's adapter before and after.
notes:
  - Opening firewall rules needs an administrator on the host, as the rest of the host's networking does.
  - Run it against the nested host itself (the L1), for example over WinRM.
  - Microsoft's current guide assigns the guest address to the switch adapter; this module configures
    the guest's own network adapter, which is what makes the guest reachable.
seealso:
  - name: Nested virtualization, networking options
    description: Microsoft's current guide to running Hyper-V in a VM.
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/enable-nested-virtualization
  - name: Set up a NAT network
    description: Microsoft's guide to WinNAT, one NAT network per host.
    link: https://learn.microsoft.com/windows-server/virtualization/hyper-v/setup-nat-network
"""

EXAMPLES = r"""
- name: NAT network with the defaults (VmNAT, LocalNAT, 192.168.100.0/24)
  hyperv.nested.win_nested_nat:

- name: Guests on the NAT, one with a fixed address, one allocated, SSH forwarded to the first
  hyperv.nested.win_nested_nat:
    prefix: 192.168.100.0/24
    guest_username: Administrator
    guest_password: "{{ vault_guest_password }}"
    guests:
      - vm: LAB-VM1
        ip: 192.168.100.10
      - vm: LAB-VM2
        dns: [10.0.0.53]
    port_mappings:
      - external_port: 50022
        vm: LAB-VM1
        internal_port: 22

- name: Remove the NAT network
  hyperv.nested.win_nested_nat:
    state: absent

- name: Read the host, its networking and its guest once (an earlier task of the play)
  hyperv.nested.win_nested_info:
    network: true
    guests:
      - {vm: LAB-VM1, username: Administrator, password: "{{ vault_guest_password }}"}
  register: l1_read

- name: Plan from that read when nothing changed since and it shows nothing to do (no command then)
  hyperv.nested.win_nested_nat:
    guest_username: Administrator
    guest_password: "{{ vault_guest_password }}"
    guests: [{vm: LAB-VM1}]
    earlier_read: "{{ l1_read }}"
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
commands:
  description: The PowerShell commands that were run (or would run in check mode), in order. Passwords never appear.
  returned: always
  type: list
  elements: str
  sample: ["New-VMSwitch -Name 'VmNAT' -SwitchType 'Internal'"]
nat:
  description: The NAT network as requested.
  returned: always
  type: dict
  sample: {"switch_name": "VmNAT", "nat_name": "LocalNAT", "prefix": "192.168.100.0/24", "gateway": "192.168.100.1",
           "interface_alias": "vEthernet (VmNAT)", "state": "present"}
guests:
  description: Each guest's network settings, with the allocated address.
  returned: always
  type: list
  elements: dict
  sample: [{"vm": "LAB-VM1", "ip": "192.168.100.2", "prefix_length": 24, "gateway": "192.168.100.1", "dns": ["1.1.1.1"],
            "adapter": "Network Adapter", "interface_alias": "Ethernet", "changed": true}]
port_mappings:
  description:
    - The static mappings as requested, with the resolved guest addresses.
    - C(firewall_rule) is the name of the inbound rule admitting the mapping (null with O(firewall_rules=false)).
  returned: always
  type: list
  elements: dict
  sample: [{"protocol": "TCP", "external_ip": "0.0.0.0", "external_port": 50022, "internal_ip": "192.168.100.2", "internal_port": 22,
            "firewall_rule": "hyperv.nested-nat-TCP-0.0.0.0-50022"}]
notes:
  description: Information that is no warning, such as the DNS server chosen for the guests of an Azure VM.
  returned: when there is any
  type: list
  elements: str
  sample: ["This host is an Azure VM: the guests without DNS servers of their own (LAB-VM1) use Azure's resolver 168.63.129.16, ..."]
operations:
  description: What happened to each command when changes were sent; status is V(ok), V(failed) or V(not_run).
  returned: when changes were sent
  type: list
  elements: dict
  sample: [{"command": "New-NetNat -Name 'LocalNAT' -InternalIPInterfaceAddressPrefix '192.168.100.0/24'", "status": "ok", "message": null, "duration_ms": 40}]
"""
