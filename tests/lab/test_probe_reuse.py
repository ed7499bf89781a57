"""A converged fleet costs one read per parent: nested_vm_settings and nested_networking reuse what
nested_prerequisites read of a VM earlier in the play instead of asking its parent again, but never
after a change to that VM and never when the settings ask for something the read does not show.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
HOSTS = ("hv01", "hv02", "lab-hv1", "lab-hv2", "lab-hv3")


def commands(lab: Lab) -> dict[str, int]:
    return {host: len(lab.transcript(host)) for host in HOSTS}


def vm(lab: Lab, parent: str, name: str) -> dict[str, t.Any]:
    return next(v for v in lab.show(parent)["vms"]["vms"] if v["name"] == name)


def test_a_converged_parent_is_read_once_and_a_change_is_never_served_from_the_earlier_read(healthy_lab: Lab, tmp_path: Path) -> None:
    report = ("-e", f"nested_report_dir={tmp_path}")
    healthy_lab.playbook(SITE, *report).assert_ok()

    before = commands(healthy_lab)
    converged = healthy_lab.playbook(SITE, *report)
    converged.assert_ok()
    assert converged.total("changed") == 0
    sent = {host: count - before[host] for host, count in commands(healthy_lab).items()}
    # Each parent: the prerequisite read only. Each L1 host: its own read, which also holds its networking
    # and its guests as read from inside: the NAT or switch module and the proof plan from it.
    assert sent == {"hv01": 1, "hv02": 1, "lab-hv1": 1, "lab-hv2": 1, "lab-hv3": 1}, sent
    # Asked anyway when the reuse is turned off (what the count above saves; hv02 has no MAC-spoofing L1 host).
    before = commands(healthy_lab)
    healthy_lab.playbook(SITE, *report, "-e", "nested_vm_settings_reuse_probe=false", "-e", "nested_networking_reuse_probe=false").assert_ok()
    assert {host: count - before[host] for host, count in commands(healthy_lab).items()} == {
        "hv01": 3, "hv02": 2, "lab-hv1": 3, "lab-hv2": 2, "lab-hv3": 3}

    # nested_vm_settings turns spoofing off on every VM (a setting the read shows as on for LAB-HV2):
    # nested_networking must not trust the earlier read and turns it on again for the MAC-spoofing host.
    changed = healthy_lab.playbook(SITE, *report, "-e", "nested_vm_settings_mac_address_spoofing=off")
    changed.assert_ok()
    assert vm(healthy_lab, "hv01", "LAB-HV2")["adapters"][0]["mac_address_spoofing"] == "On"
    assert vm(healthy_lab, "hv01", "LAB-HV1")["adapters"][0]["mac_address_spoofing"] == "Off"

    # A value the read cannot vouch for (a processor count) is always sent to the parent.
    healthy_lab.playbook(SITE, *report, "-e", "nested_vm_settings_processor_count=3").assert_ok()
    assert [vm(healthy_lab, "hv01", name)["processor_count"] for name in ("LAB-HV1", "LAB-HV2")] == [3, 3]
    assert vm(healthy_lab, "hv02", "LAB-HV3")["processor_count"] == 3

    # A change inside an L1 host after the read, by a task of this collection the roles know nothing about
    # (the NAT removed): the networking role must not plan from the earlier read (which shows the NAT), but
    # read the host again and put the NAT back.
    stale = tmp_path / "stale.yml"
    stale.write_text(STALE_PLAY, encoding="utf-8")
    run = healthy_lab.playbook(stale)
    run.assert_ok()
    assert run.task_results("Remove the NAT")["lab-hv1"]["changed"] is True
    nat = run.task_results("NAT network inside the L1 host")["lab-hv1"]
    assert nat["changed"] is True and nat["read_reused"] is False, nat
    assert {"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"} in healthy_lab.show("lab-hv1")["network"]["nats"]
    # The switch of the MAC-spoofing host, unchanged since the read, is still planned from it.
    assert run.task_results("External switch inside the L1 host")["lab-hv2"]["read_reused"] is True


STALE_PLAY = """
- name: Read, change behind the roles' back, then network
  hosts: nested_hosts
  gather_facts: false
  tasks:
    - name: Prerequisites (the L1 hosts' own read)
      ansible.builtin.import_role:
        name: hyperv.nested.nested_prerequisites
    - name: Remove the NAT inside the NAT-mode L1 hosts
      hyperv.nested.win_nested_nat:
        state: absent
      when: nested_network_mode == 'nat'
    - name: Networking
      ansible.builtin.import_role:
        name: hyperv.nested.nested_networking
"""
