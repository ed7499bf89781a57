"""The Ansible inventories of a running lab, in the project's inventory model (design.md).

One inventory per transport, all naming the same hosts with the same groups and variables, so
the same playbook runs unchanged against any of them: inventory.yml (WinRM over HTTP, NTLM with
message encryption), inventory.psrp.yml, inventory.ssh.yml, inventory.kerberos.yml,
inventory.credssp.yml and inventory.https.yml (certificate validation on, the lab CA trusted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from hvsim.labfile import Machine


class Listening(NamedTuple):
    address: str
    port: int
    https_port: int | None
    ssh_port: int | None = None
    hostname: str | None = None   # the host's name in the lab's DNS domain (Kerberos, certificates)


@dataclass(frozen=True)
class LabSecrets:
    """Files and accounts the transports other than NTLM need (absent ones leave their inventory out)."""

    ca_certificate: Path | None = None
    ssh_private_key: Path | None = None
    ssh_known_hosts: Path | None = None
    kerberos_user: str | None = None       # user@REALM
    kerberos_password: str | None = None


TRANSPORTS = ("winrm", "psrp", "ssh", "kerberos", "credssp", "https")


def inventory_name(transport: str) -> str:
    return "inventory.yml" if transport == "winrm" else f"inventory.{transport}.yml"


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


def _psrp_vars(machine: Machine, endpoint: Listening, secrets: LabSecrets) -> dict[str, Any]:
    return {
        "ansible_host": endpoint.address,
        "ansible_port": endpoint.port,
        "ansible_connection": "psrp",
        "ansible_psrp_protocol": "http",
        "ansible_psrp_auth": "ntlm",
        "ansible_psrp_message_encryption": "always",
        "ansible_user": machine.username,
        "ansible_password": machine.password,
    }


def _ssh_vars(machine: Machine, endpoint: Listening, secrets: LabSecrets) -> dict[str, Any]:
    assert secrets.ssh_private_key is not None and secrets.ssh_known_hosts is not None
    return {
        "ansible_host": endpoint.address,
        "ansible_port": endpoint.ssh_port,
        "ansible_connection": "ssh",
        "ansible_shell_type": "powershell",
        "ansible_user": machine.username,
        "ansible_ssh_private_key_file": str(secrets.ssh_private_key),
        # The lab's host key is known: strict checking stays on.
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={secrets.ssh_known_hosts} -o StrictHostKeyChecking=yes "
                                   "-o IdentitiesOnly=yes",
    }


def _kerberos_vars(machine: Machine, endpoint: Listening, secrets: LabSecrets) -> dict[str, Any]:
    return {
        "ansible_host": endpoint.address,
        "ansible_port": endpoint.port,
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "http",
        "ansible_winrm_transport": "kerberos",
        "ansible_winrm_message_encryption": "always",
        # The service principal is HTTP/<lab hostname>, whatever address the host listens on.
        "ansible_winrm_kerberos_hostname_override": endpoint.hostname,
        "ansible_winrm_kinit_env_vars": ["KRB5_CONFIG"],
        "ansible_user": secrets.kerberos_user,
        "ansible_password": secrets.kerberos_password,
    }


def _credssp_vars(machine: Machine, endpoint: Listening, secrets: LabSecrets) -> dict[str, Any]:
    # Local accounts: NTLM authenticates them inside CredSSP's TLS channel.
    return {**_winrm_vars(machine, endpoint), "ansible_winrm_transport": "credssp"}


def _https_vars(machine: Machine, endpoint: Listening, secrets: LabSecrets) -> dict[str, Any]:
    variables = _winrm_vars(machine, endpoint)
    variables.pop("hvsim_https_port", None)
    variables.pop("ansible_winrm_message_encryption")  # TLS protects the messages
    variables.update({
        "ansible_port": endpoint.https_port,
        "ansible_winrm_scheme": "https",
        "ansible_winrm_server_cert_validation": "validate",
        "ansible_winrm_ca_trust_path": str(secrets.ca_certificate),
    })
    return variables


_CONNECTION_VARS: dict[str, Callable[[Machine, Listening, LabSecrets], dict[str, Any]]] = {
    "psrp": _psrp_vars, "ssh": _ssh_vars, "kerberos": _kerberos_vars, "credssp": _credssp_vars, "https": _https_vars,
}


def available_transports(secrets: LabSecrets) -> list[str]:
    wanted = {"winrm": True, "psrp": True, "credssp": True,
              "ssh": secrets.ssh_private_key is not None and secrets.ssh_known_hosts is not None,
              "kerberos": secrets.kerberos_user is not None,
              "https": secrets.ca_certificate is not None}
    return [transport for transport in TRANSPORTS if wanted[transport]]


def build_inventories(machines: list[Machine], endpoints: dict[str, Listening],
                      secrets: LabSecrets) -> dict[str, dict[str, Any]]:
    """transport -> inventory, for every transport the lab serves."""
    inventories = {}
    for transport in available_transports(secrets):
        connection = None if transport == "winrm" else _CONNECTION_VARS[transport]
        inventories[transport] = build_inventory(machines, endpoints, connection, secrets)
    return inventories


def build_inventory(machines: list[Machine], endpoints: dict[str, Listening],
                    connection: Callable[[Machine, Listening, LabSecrets], dict[str, Any]] | None = None,
                    secrets: LabSecrets | None = None) -> dict[str, Any]:
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
            endpoint = endpoints[machine.name]
            if connection is None:
                variables.update(_winrm_vars(machine, endpoint))
            else:
                variables.update(connection(machine, endpoint, secrets or LabSecrets()))
        else:
            variables["nested_guest_username"] = machine.username
            variables["nested_guest_password"] = machine.password
        variables.update(machine.extra_vars)
        groups[group][machine.name] = variables
    return {"all": {"children": {group: {"hosts": hosts} for group, hosts in groups.items()}}}


def write_inventory(path: Path, inventory: dict[str, Any], lab_name: str) -> None:
    header = f"# Written by hvsim for lab {lab_name!r}; rewritten at every `hvsim up`.\n"
    _write_yaml(path, header, inventory)
    if path.name == inventory_name("winrm"):
        # The inventory plugin's source reads the L0 hosts as inventory.yml reaches them.
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
