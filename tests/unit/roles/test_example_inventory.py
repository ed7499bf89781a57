"""inventories/example: a real-fleet inventory in the collection's model, HTTPS with validation, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.filter.nested_children import nested_children

EXAMPLE = Path(__file__).resolve().parents[3] / "inventories" / "example"


@pytest.fixture(scope="module")
def inventory() -> dict[str, t.Any]:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(EXAMPLE), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    return t.cast(dict[str, t.Any], json.loads(done.stdout))


def hostvars(inventory: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return t.cast(dict[str, dict[str, t.Any]], inventory["_meta"]["hostvars"])


def test_groups_follow_the_model(inventory: dict[str, t.Any]) -> None:
    l0, l1, l2 = (inventory[group]["hosts"] for group in ("hyperv_hosts", "nested_hosts", "nested_guests"))
    variables = hostvars(inventory)
    assert all(variables[host]["nested_parent"] in l0 for host in l1)
    assert all(variables[host]["nested_parent"] in l1 for host in l2)
    assert all(variables[host]["nested_vm_name"] for host in l1 + l2)
    assert {variables[host]["nested_network_mode"] for host in l1} == {"nat", "mac_spoofing"}
    assert nested_children(l1, variables, "hv01.lab.example.com", attribute="nested_vm_name") == ["LAB-HV1", "LAB-HV2"]


def test_winrm_is_https_with_certificate_validation(inventory: dict[str, t.Any]) -> None:
    variables = hostvars(inventory)
    for host in inventory["hyperv_hosts"]["hosts"] + inventory["nested_hosts"]["hosts"]:
        assert variables[host]["ansible_connection"] == "winrm"
        assert variables[host]["ansible_winrm_scheme"] == "https"
        assert variables[host]["ansible_port"] == 5986
        assert variables[host]["ansible_winrm_server_cert_validation"] == "validate"
        assert variables[host]["ansible_winrm_transport"] in {"kerberos", "ntlm"}
    # L2 guests are never contacted directly.
    assert all("ansible_connection" not in variables[host] for host in inventory["nested_guests"]["hosts"])


def test_no_secret_is_stored_in_clear(inventory: dict[str, t.Any]) -> None:
    for variables in hostvars(inventory).values():
        for name, value in variables.items():
            if "password" in name:
                assert str(value).startswith("{{ vault_"), name
    assert not (EXAMPLE / "group_vars" / "windows" / "vault.yml").exists()
