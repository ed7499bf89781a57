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
    # Each parent: the prerequisite read only. Each L1 host: its own read, then its NAT or switch module;
    # a NAT-mode L1 host with guests (lab-hv1, lab-hv3) also the proof from inside (win_nested_guest_check).
    assert sent == {"hv01": 1, "hv02": 1, "lab-hv1": 3, "lab-hv2": 2, "lab-hv3": 3}, sent
    # Asked anyway when the reuse is turned off (what the count above saves).
    before = commands(healthy_lab)
    healthy_lab.playbook(SITE, *report, "-e", "nested_vm_settings_reuse_probe=false", "-e", "nested_networking_reuse_probe=false").assert_ok()
    assert {host: count - before[host] for host, count in commands(healthy_lab).items()}["hv01"] == 3

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
