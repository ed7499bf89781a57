"""The main job from bare hosts: site.yml creates the L1 VMs and the L2 guests the inventory describes,
nests them and networks the guests (a Linux guest by DHCP); the second run changes nothing; playbooks/remove.yml leaves the L0
host as it was."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    return lab_factory("bare-hosts")


def test_site_builds_the_lab_from_bare_hosts_and_remove_restores_them(lab: Lab, tmp_path: Path) -> None:
    before = lab.show("hv01")
    report = ("-e", f"nested_report_dir={tmp_path}")
    first = lab.playbook(REPO / "playbooks" / "site.yml", *report)
    first.assert_ok()
    assert lab.connectivity("lab-vm1")["connected"] is True and lab.connectivity("lab-vm1")["path"] == "nat"
    assert lab.connectivity("lab-vm2")["connected"] is True and lab.connectivity("lab-vm2")["path"] == "mac_spoofing"
    # The Linux guest has no PowerShell Direct: its address is the L1's DHCP reservation for its MAC address.
    linux = lab.connectivity("lab-lnx1")
    assert linux["connected"] is True and linux["path"] == "nat", linux
    lnx = next(vm for vm in lab.show("lab-hv1")["vms"]["vms"] if vm["name"] == "LAB-LNX1")
    assert "192.168.100.20" in lnx["adapters"][0]["ip_addresses"]
    l1 = {vm["name"]: vm for vm in lab.show("lab-hv1")["vms"]["vms"]}
    assert l1["LAB-VM1"]["notes"].startswith("hyperv.nested: created by win_nested_vm_provision")

    proof = first.task_results("Prove the L2 guests' network")
    rows = {row["vm"]: row for row in proof["lab-hv1"]["guests"]}
    assert proof["lab-hv1"]["ok"] is True, rows
    assert rows["LAB-VM1"]["view"] == "inside" and rows["LAB-VM1"]["gateway"] == "192.168.100.1"
    assert rows["LAB-LNX1"]["view"] == "l1" and rows["LAB-LNX1"]["address"] == "192.168.100.20"
    assert "L2-Passw0rd!" not in first.stdout

    second = lab.playbook(REPO / "playbooks" / "site.yml", *report)
    second.assert_ok()
    assert second.total("changed") == 0

    removal = lab.playbook(REPO / "playbooks" / "remove.yml")
    removal.assert_ok()
    after = lab.show("hv01")
    assert after["vms"] == before["vms"] and after["network"] == before["network"] and after["host"] == before["host"]
    again = lab.playbook(REPO / "playbooks" / "remove.yml")
    again.assert_ok()
    assert again.total("changed") == 0
