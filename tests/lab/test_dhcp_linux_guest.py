"""DHCP inside an L1 (win_nested_dhcp) for a Linux L2 guest created from a cloud image with a NoCloud seed
(win_nested_vm_provision): the guest gets its reserved address, gateway and DNS without any guest
credentials; the second run changes nothing."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
L1 = "lab-hv1"


@pytest.fixture
def lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    return lab_factory("bare-hosts")


TASKS = [
    {"name": "DHCP Server role", "ansible.windows.win_feature": {"name": "DHCP", "include_management_tools": True}},
    {"name": "Linux guest", "hyperv.nested.win_nested_vm_provision": {
        "admin_password": "Linux-Passw0rd!",
        "vms": [{"name": "LAB-LNX2", "image": "C:\\Golden\\ubuntu-24.04.vhdx", "os_family": "linux",
                 "computer_name": "lab-lnx2", "memory": "1GB", "expose_virtualization_extensions": False,
                 "adapters": [{"switch": "VmNAT"}], "ssh_authorized_keys": ["ssh-ed25519 AAAAC3Nza lab"]}]}},
    {"name": "DHCP scope and reservation", "hyperv.nested.win_nested_dhcp": {
        "prefix": "192.168.100.0/24", "dns_servers": ["1.1.1.1"],
        "reservations": [{"vm": "LAB-LNX2", "ip": "192.168.100.21"}]}, "register": "dhcp"},
]


def test_a_linux_guest_gets_its_reserved_address_from_the_l1(lab: Lab, tmp_path: Path) -> None:
    lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={tmp_path}").assert_ok()
    playbook = tmp_path / "dhcp.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": L1, "gather_facts": False, "tasks": TASKS}]), encoding="utf-8")
    first = lab.playbook(playbook)
    first.assert_ok()
    result = first.task_results("DHCP scope and reservation")[L1]
    assert result["changed"] is True
    (reservation,) = result["reservations"]
    vm = next(v for v in lab.show(L1)["vms"]["vms"] if v["name"] == "LAB-LNX2")
    assert reservation["client_id"].replace("-", "") == vm["adapters"][0]["mac_address"]
    assert "192.168.100.21" in vm["adapters"][0]["ip_addresses"]
    connectivity = lab.connectivity("lab-lnx2")
    assert connectivity["connected"] is True and connectivity["path"] == "nat", connectivity

    second = lab.playbook(playbook)
    second.assert_ok()
    assert second.total("changed") == 0
    assert json.loads(second.stdout)["stats"][L1]["changed"] == 0
