"""playbooks/provision.yml on bare hosts (tests/simulator/labs/bare-hosts.yml): the inventory's L1 VMs are
created, answer WinRM, the second run is changed=0, and removal leaves the L0 host as it was."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "provision.yml"
SECRET = ("-e", "nested_provision_admin_password=L1-Passw0rd!")


@pytest.fixture
def lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    return lab_factory("bare-hosts")


def test_bare_hosts_get_their_l1_vms_idempotently_and_lose_them_cleanly(lab: Lab) -> None:
    before = lab.show("hv01")
    # Without nested_provision_admin_password the VMs get the password the inventory connects with.
    first = lab.playbook(PLAYBOOK)
    first.assert_ok()
    assert first.recap["hv01"]["changed"] == 1
    names = sorted(v["name"] for v in lab.show("hv01")["vms"]["vms"])
    assert names == ["LAB-HV1", "LAB-HV2"]
    assert lab.show("lab-hv1")["reachable"] is True and lab.show("lab-hv2")["reachable"] is True
    spoofing = {v["name"]: v["adapters"][0]["mac_address_spoofing"] for v in lab.show("hv01")["vms"]["vms"]}
    assert spoofing == {"LAB-HV1": "Off", "LAB-HV2": "On"}

    second = lab.playbook(PLAYBOOK, *SECRET)
    second.assert_ok()
    assert second.total("changed") == 0

    removal = lab.playbook(PLAYBOOK, *SECRET, "-e", "nested_provision_state=absent")
    removal.assert_ok()
    after = lab.show("hv01")
    assert after["vms"] == before["vms"] and after["network"] == before["network"]
