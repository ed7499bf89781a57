"""A wrong inventory stops the playbooks and the roles before any host is asked anything, with every
problem in one message naming hosts and variables."""

from __future__ import annotations

import typing as t
from pathlib import Path

import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
FLEET = ("hv01", "hv02", "lab-hv1", "lab-hv2", "lab-hv3")
EXPECTED = (
    "lab-hv1's nested_parent 'hv09' is not a host of this inventory",
    "lab-hv2's nested_network_mode is not set: set it to nat or mac_spoofing",
    "lab-vm2's nested_ip 192.168.100.11 duplicates lab-vm1's",
    "lab-vm3's nested_parent 'hv01' is an L0 host (hyperv_hosts)",
    "lab-vm4's nested_guest_password cannot be read: 'vault_guest_password' is undefined",
)


def break_inventory(lab: Lab) -> None:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    groups = inventory["all"]["children"]
    groups["nested_hosts"]["hosts"]["lab-hv1"]["nested_parent"] = "hv09"
    del groups["nested_hosts"]["hosts"]["lab-hv2"]["nested_network_mode"]
    guests = groups["nested_guests"]["hosts"]
    guests["lab-vm1"]["nested_ip"] = guests["lab-vm2"]["nested_ip"] = "192.168.100.11"
    guests["lab-vm3"]["nested_parent"] = "hv01"
    guests["lab-vm4"]["nested_guest_password"] = "{{ vault_guest_password }}"
    lab.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")


def nothing_asked(lab: Lab) -> None:
    for host in FLEET:
        assert lab.requests(host, "probe") == [] and lab.requests(host, "execute") == [], f"{host} was asked something"


def test_site_lists_every_inventory_problem_before_asking_any_host(healthy_lab: Lab, tmp_path: Path) -> None:
    break_inventory(healthy_lab)
    run = healthy_lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={tmp_path}")
    assert run.rc != 0
    (result,) = run.task_results("Check the inventory model").values()
    message = "\n".join(result["msg"])
    assert result["msg"][0] == f"The inventory has {len(EXPECTED)} problem(s); nothing was changed:", message
    for expected in EXPECTED:
        assert expected in message, message
    nothing_asked(healthy_lab)
    assert not (tmp_path / "nested-report.json").exists()


def test_a_role_included_on_its_own_checks_the_inventory_too(healthy_lab: Lab, tmp_path: Path) -> None:
    break_inventory(healthy_lab)
    play = tmp_path / "own.yml"
    play.write_text(
        yaml.safe_dump(
            [{"name": "Own play", "hosts": "nested_hosts", "gather_facts": False,
              "tasks": [{"name": "Settings", "ansible.builtin.include_role": {"name": "hyperv.nested.nested_vm_settings"}}]}]
        ),
        encoding="utf-8",
    )
    run = healthy_lab.playbook(play)
    assert run.rc != 0
    (result,) = run.task_results("Check the inventory model").values()
    message = "\n".join(result["msg"])
    # The VM settings need no network mode: the other problems are all there.
    assert all(expected in message for expected in EXPECTED if "nested_network_mode" not in expected), message
    nothing_asked(healthy_lab)
