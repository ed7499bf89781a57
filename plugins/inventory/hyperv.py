# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: hyperv
short_description: Hyper-V hosts and their VMs, grouped by whether each VM can run nested virtualization
version_added: 0.1.0
description:
  - Reads the physical Hyper-V hosts (L0) listed in O(hosts) and makes every VM on them an
    inventory host, with the collection's nested virtualization verdict per VM (the same reason
    codes as M(hyperv.nested.win_nested_info)).
  - Each host is read with the collection's read-only probe, one round trip per host, several
    hosts at a time (O(max_concurrency)). Nothing is ever changed on a host.
  - "The source is a YAML file whose name ends in C(hyperv.yml) or C(hyperv.yaml), with
    C(plugin: hyperv.nested.hyperv)."
  - "Groups: C(hyperv_hosts) (every L0 host, with its connection variables), C(hyperv_vms) (every VM),
    C(nested_ready) (virtualization extensions exposed, nothing in the way), C(nested_possible)
    (nothing in the way but changes M(hyperv.nested.win_nested_vm) makes, listed in
    C(hyperv_vm_nested_changes)), C(nested_blocked) (a blocker, listed in C(hyperv_vm_nested_blockers)),
    C(hyperv_processor_intel) / C(hyperv_processor_amd) / C(hyperv_processor_other) and
    C(hyperv_build_<build>) for the L0 hosts, and C(hyperv_hosts_unreachable) for L0 hosts that could not be read."
  - "Variables of a VM: C(nested_parent) (its L0 inventory host), C(nested_vm_name) (its name in Hyper-V),
    C(hyperv_vm_id), C(hyperv_vm_state), C(hyperv_vm_generation), C(hyperv_vm_version),
    C(hyperv_vm_processor_count), C(hyperv_vm_memory_startup), C(hyperv_vm_memory_minimum),
    C(hyperv_vm_memory_maximum) (bytes), C(hyperv_vm_dynamic_memory),
    C(hyperv_vm_expose_virtualization_extensions), C(hyperv_vm_adapters) (name, switch_name,
    mac_address, mac_address_spoofing, ip_addresses), C(hyperv_vm_checkpoints), C(hyperv_vm_notes),
    C(hyperv_vm_guest_os), C(hyperv_vm_guest_dns_name), C(hyperv_vm_ip_addresses),
    C(hyperv_vm_nested_verdict) (V(ready), V(possible) or V(blocked)), C(hyperv_vm_nested_changes),
    C(hyperv_vm_nested_blockers), C(hyperv_vm_nested_warnings) and C(hyperv_vm_nested_notes) (reason codes,
    explained in the collection's C(docs/reason-codes.md))."
  - "Variables of an L0 host: C(ansible_host), C(ansible_port), C(ansible_connection), C(ansible_user) and the
    C(ansible_winrm_*) or C(ansible_psrp_*) settings of O(connection), C(hyperv_host_computer_name),
    C(hyperv_host_os), C(hyperv_host_build), C(hyperv_host_processor_manufacturer), C(hyperv_host_processor),
    C(hyperv_host_supported_versions), C(hyperv_host_vm_count), C(hyperv_host_nested_blockers),
    C(hyperv_host_nested_warnings), C(hyperv_host_nested_notes); C(hyperv_host_error) when it could not be read."
  - The password is never an inventory variable, in the cache or in a message. Give the hosts
    their C(ansible_password) the way you keep secrets (group_vars with Ansible Vault, AWX
    credentials), for example in a static inventory file next to this source.
  - O(compose), O(groups) and O(keyed_groups) apply to the L0 hosts and to the VMs. A VM's
    variables start with C(hyperv_vm_), an L0 host's with C(hyperv_host_); guard expressions
    with C(default) when O(strict=true).
author:
  - hyperv.nested maintainers (@hyperv-nested)
requirements:
  - pywinrm (for O(connection=winrm))
  - pypsrp (for O(connection=psrp))
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; the source is read only when it says so.
    required: true
    type: str
    choices: [hyperv.nested.hyperv]
  hosts:
    description:
      - The physical Hyper-V hosts (L0) to read.
      - Each entry is a host name or address (it becomes the inventory name and the address to connect to),
        or a mapping with C(name) (the inventory name), C(address) (where to connect, default C(name))
        and C(port) (this host's port, default O(port)).
      - A host that cannot be read gets a warning naming it and the reason, and is put in
        C(hyperv_hosts_unreachable); the rest of the inventory is still built. With O(strict=true)
        it is an error instead.
    required: true
    type: list
    elements: raw
  connection:
    description:
      - How the hosts are reached, and the connection plugin their inventory hosts get
        (C(ansible_connection)). V(winrm) uses pywinrm, V(psrp) pypsrp, like
        P(ansible.builtin.winrm#connection) and P(ansible.builtin.psrp#connection).
    type: str
    choices: [winrm, psrp]
    default: winrm
  user:
    description:
      - The account to connect with, a member of Hyper-V Administrators (or an administrator) on
        every host; it becomes the hosts' C(ansible_user).
      - Vault-encrypted values and templates (for example C({{ lookup('env', 'HV_USER') }})) are accepted.
    type: str
    env:
      - name: HYPERV_NESTED_USER
  password:
    description:
      - The password of O(user). Vault-encrypted values and templates are accepted; or set the
        environment variable. It is used to read the hosts only; it never becomes an inventory
        variable and never appears in the cache or in messages.
    type: str
    env:
      - name: HYPERV_NESTED_PASSWORD
  port:
    description: The port of every host without a port of its own; default 5986 with O(scheme=https), 5985 with V(http).
    type: int
  scheme:
    description: V(https) (WinRM over TLS) or V(http) (WinRM with message encryption, see O(message_encryption)).
    type: str
    choices: [http, https]
    default: https
  transport:
    description:
      - How to authenticate. V(winrm) offers V(ntlm), V(kerberos), V(credssp), V(basic);
        V(psrp) also V(negotiate) (Kerberos, else NTLM).
      - Default V(ntlm) with O(connection=winrm), V(negotiate) with O(connection=psrp).
      - With V(kerberos), the service principal is C(HTTP/<address>), so list the hosts by their fully
        qualified name (a mapping's C(address) included); Kerberos needs the Python Kerberos extras of
        pywinrm / pypsrp and a ticket or O(password).
      - V(basic) is refused over V(http) because it would send the password readable.
    type: str
    choices: [ntlm, kerberos, credssp, basic, negotiate]
  cert_validation:
    description: Whether the hosts' TLS certificates are checked (with O(scheme=https)). Leave it V(validate) outside labs.
    type: str
    choices: [validate, ignore]
    default: validate
  ca_cert:
    description: A CA bundle (PEM file) to validate the hosts' certificates with, instead of the system's.
    type: path
  message_encryption:
    description: Message encryption with NTLM, Kerberos or CredSSP; V(always) fails rather than send readable messages.
    type: str
    choices: [auto, always, never]
    default: auto
  connection_timeout:
    description: Seconds to wait for a host to answer a single WinRM request (the connection attempt included).
    type: int
    default: 30
  probe_timeout:
    description: Seconds a host may take to answer the probe (large hosts need longer); then it counts as not read.
    type: int
    default: 300
  max_concurrency:
    description: How many hosts are read at the same time.
    type: int
    default: 8
  vm_filters:
    description: Which VMs become inventory hosts. Without it, every VM does.
    type: dict
    suboptions:
      names:
        description: VM names or wildcard patterns (C(*), C(?), C([...])), compared case-insensitively; a VM must match one.
        type: list
        elements: str
      exclude_names:
        description: VM names or wildcard patterns; a VM matching one is left out.
        type: list
        elements: str
      states:
        description: VM states (C(Get-VM)'s C(State), such as V(Running), V(Off), V(Saved)); a VM must be in one.
        type: list
        elements: str
  hostname_source:
    description:
      - What a VM's inventory name is made from. V(vm_name) is its name in Hyper-V; V(guest_dns_name) is the
        fully qualified name the guest reports through the KVP exchange (running VMs with integration
        services), else its name in Hyper-V.
      - A name two VMs (or a VM and an L0 host) would share becomes C(<name>@<L0 host>) for each of them, with a warning.
    type: str
    choices: [vm_name, guest_dns_name]
    default: vm_name
  hostname_prefix:
    description: Put before every VM's inventory name.
    type: str
    default: ''
  hostname_suffix:
    description: Put after every VM's inventory name.
    type: str
    default: ''
  hostname_lowercase:
    description: Make VM inventory names lower case.
    type: bool
    default: false
  vm_ansible_host:
    description:
      - Give a running VM C(ansible_host) from the addresses its guest reports (KVP), so it can be
        reached as an L1 host by the roles. IPv4 is preferred; link-local addresses are never used.
    type: bool
    default: false
  vm_address_networks:
    description: With O(vm_ansible_host), use only addresses in these networks (CIDR, such as V(10.0.0.0/8)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
---
# fleet.hyperv.yml: every VM of two hosts, grouped by nested readiness. The password comes from
# the environment (HYPERV_NESTED_PASSWORD) or, encrypted, from "password: !vault |" in this file.
plugin: hyperv.nested.hyperv
hosts:
  - hv01.lab.example.com
  - {name: hv02, address: 10.0.0.12, port: 5986}
user: ansible@LAB.EXAMPLE.COM
transport: kerberos

---
# Only running VMs named LAB-*, named in lower case, reachable at their reported address.
# A VM whose Notes contain "nested: nat" (or "nested: mac_spoofing") becomes an L1 host of the
# roles, in group nested_hosts with nested_network_mode from the notes, so that
#   ansible-playbook -i fleet.hyperv.yml -i credentials.yml hyperv.nested.site
# turns it into a Hyper-V host (credentials.yml: ansible_password for hyperv_hosts and nested_hosts).
plugin: hyperv.nested.hyperv
hosts: [hv01.lab.example.com, hv02.lab.example.com]
user: ansible@LAB.EXAMPLE.COM
transport: kerberos
vm_filters:
  names: ["LAB-*"]
  states: [Running]
hostname_lowercase: true
vm_ansible_host: true
vm_address_networks: [10.0.0.0/8]
groups:
  nested_hosts: hyperv_vm_notes | default('') is search('nested:\\s*(nat|mac_spoofing)')
compose:
  # The mode the notes name (nat when they name none: every host gets the variable, only nested_hosts use it).
  nested_network_mode: (hyperv_vm_notes | default('') | regex_search('nested:\\s*(nat|mac_spoofing)', '\\1') or ['nat']) | first
keyed_groups:
  # vms_on_hv01, vms_on_hv02, ...: the VMs of each Hyper-V host (the hosts themselves have no nested_parent).
  - key: nested_parent | default([])
    prefix: vms_on
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/hyperv-inventory
cache_timeout: 600
"""

import typing as t

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_mapping import FleetInventory, build_inventory
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_remote import Reading, read_fleet, redact
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import OptionError, Settings, settings_from_options

# What the cache holds: the probe answers and errors (never a password), for these hosts.
CACHE_FORMAT = 1
# Options whose values may be templates (lookups, as in community.vmware's inventory).
_TEMPLATED = ("user", "password")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "hyperv.nested.hyperv"

    def verify_file(self, path: str) -> bool:
        return bool(BaseInventoryPlugin.verify_file(self, path)) and path.endswith(("hyperv.yml", "hyperv.yaml"))

    def parse(self, inventory: InventoryData, loader: DataLoader, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache=cache)
        self._plugin._read_config_data(path)
        try:
            settings = settings_from_options(self._option_value)
        except OptionError as error:
            raise AnsibleParserError(f"{path}: {error}") from None
        readings = self._readings(path, cache, settings)
        fleet = build_inventory(settings, readings)
        secrets = [settings.connection.password]
        failed = [reading for reading in readings if reading.error]
        if failed and self._plugin.get_option("strict"):
            reasons = "; ".join(f"{reading.host}: {reading.error}" for reading in failed)
            raise AnsibleParserError(redact(f"{path}: could not read {len(failed)} Hyper-V host(s) (strict is on): {reasons}", secrets))
        for warning in fleet.warnings:
            self.display.warning(redact(warning, secrets))
        self._populate(inventory, fleet)

    @property
    def _plugin(self) -> BaseInventoryPlugin:
        # ansible-core's inventory base classes are not annotated: their methods are called through
        # this typed view (the project's mypy settings allow untyped calls into ansible-core itself).
        return self

    @property
    def _constructable(self) -> Constructable:
        return self

    def _option_value(self, name: str) -> t.Any:
        # Ansible's config system has decrypted Vault values already; templates (lookups) render here.
        value = self._plugin.get_option(name)
        if name in _TEMPLATED and isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
            value = None if value is None else str(value)
        return value

    def _readings(self, path: str, cache: bool, settings: Settings) -> list[Reading]:
        """The probe answers. With the cache on, the hosts read successfully when it was written (for the
        same list of hosts) come from it; the others are read now. A fresh read rewrites it."""
        use_cache = bool(self._plugin.get_option("cache"))
        key = self.get_cache_key(path)
        names = [entry.name for entry in settings.hosts]
        cached: dict[str, Reading] = {}
        if use_cache and cache:
            try:
                stored = self._cache[key]
            except KeyError:
                stored = None
            if isinstance(stored, dict) and stored.get("format") == CACHE_FORMAT and stored.get("hosts") == names:
                cached = {item["host"]: Reading.from_dict(item) for item in stored.get("readings") or []}
        to_read = [entry for entry in settings.hosts if entry.name not in cached]
        fresh = {reading.host: reading for reading in read_fleet(settings.connection, to_read, settings.max_concurrency)}
        if use_cache and not cached:
            # Only answers: a host that could not be read is tried again on the next run.
            self._cache[key] = {"format": CACHE_FORMAT, "hosts": names, "readings": [r.as_dict() for r in fresh.values() if r.error is None]}
        return [cached.get(name) or fresh[name] for name in names]

    def _populate(self, inventory: InventoryData, fleet: FleetInventory) -> None:
        plugin = self._plugin
        strict = bool(plugin.get_option("strict"))
        for host in fleet.hosts:
            inventory.add_host(host.name)
            for group in host.groups:
                inventory.add_group(group)
                inventory.add_child(group, host.name)
            for name, value in host.variables.items():
                inventory.set_variable(host.name, name, value)
        # compose first, then groups and keyed_groups, which may use the composed variables.
        for host in fleet.hosts:
            self._constructable._set_composite_vars(plugin.get_option("compose"), inventory.hosts[host.name].get_vars(), host.name, strict=strict)
            variables = inventory.hosts[host.name].get_vars()
            self._constructable._add_host_to_composed_groups(plugin.get_option("groups"), variables, host.name, strict=strict)
            self._constructable._add_host_to_keyed_groups(plugin.get_option("keyed_groups"), variables, host.name, strict=strict)
