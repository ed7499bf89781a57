"""The Ansible inventory for a running lab, in the project's inventory model (design.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import yaml

from hvsim.labfile import Machine


class Listening(NamedTuple):
    address: str
    port: int
    https_port: int | None


def _winrm_vars(machine: Machine, endpoint: Listening) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "ansible_host": endpoint.address,
        "ansible_port": endpoint.port,
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "http",
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_message_encryption": "always",
        "ansible_user": machine.username,
        "ansible_password": machine.password,
    }
    if endpoint.https_port is not None:
        # Not used by default; tests that want TLS switch scheme and port to these.
        variables["hvsim_https_port"] = endpoint.https_port
    return variables


def build_inventory(machines: list[Machine], endpoints: dict[str, Listening]) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {"hyperv_hosts": {}, "nested_hosts": {}, "nested_guests": {}}
    for machine in machines:
        variables: dict[str, Any] = {}
        if machine.level == 0:
            group = "hyperv_hosts"
        else:
            group = "nested_hosts" if machine.has_endpoint else "nested_guests"
            variables["nested_parent"] = machine.parent
            variables["nested_vm_name"] = machine.vm_name
        if machine.has_endpoint:
            variables.update(_winrm_vars(machine, endpoints[machine.name]))
        else:
            variables["nested_guest_username"] = machine.username
            variables["nested_guest_password"] = machine.password
        variables.update(machine.extra_vars)
        groups[group][machine.name] = variables
    return {"all": {"children": {group: {"hosts": hosts} for group, hosts in groups.items()}}}


def write_inventory(path: Path, inventory: dict[str, Any], lab_name: str) -> None:
    header = f"# Written by hvsim for lab {lab_name!r}; rewritten at every `hvsim up`.\n"
    _write_yaml(path, header, inventory)
    write_fleet_source(path.with_name(FLEET_SOURCE), inventory, lab_name)


def _write_yaml(path: Path, header: str, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(header + text, encoding="utf-8")
    tmp.replace(path)


FLEET_SOURCE = "fleet.hyperv.yml"


def fleet_source(inventory: dict[str, Any]) -> dict[str, Any]:
    """A source for the collection's inventory plugin (hyperv.nested.hyperv) reading the lab's L0 hosts
    the way the static inventory reaches them. The lab's hosts share one account; a host with another
    account is left out (the plugin's `user`/`password` are for every host)."""
    l0 = inventory["all"]["children"]["hyperv_hosts"]["hosts"]
    first = next(iter(l0.values()), {})
    user, password = first.get("ansible_user"), first.get("ansible_password")
    hosts = [{"name": name, "address": v["ansible_host"], "port": v["ansible_port"]} for name, v in l0.items()
             if (v.get("ansible_user"), v.get("ansible_password")) == (user, password)]
    return {
        "plugin": "hyperv.nested.hyperv",
        "hosts": hosts,
        "connection": "winrm",
        "scheme": first.get("ansible_winrm_scheme", "http"),
        "transport": first.get("ansible_winrm_transport", "ntlm"),
        "message_encryption": first.get("ansible_winrm_message_encryption", "always"),
        "user": user,
        "password": password,
    }


def write_fleet_source(path: Path, inventory: dict[str, Any], lab_name: str) -> None:
    header = (f"# Written by hvsim for lab {lab_name!r}; rewritten at every `hvsim up`. A source for the\n"
              "# hyperv.nested.hyperv inventory plugin: ansible-inventory -i fleet.hyperv.yml --graph\n")
    _write_yaml(path, header, fleet_source(inventory))
