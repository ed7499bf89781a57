"""Hosts in another language (issue 17's open part, RULES #47): the healthy lab with German
(hv01 and its L1s) and French (hv02 and its L1s) hosts. Integration service names, error texts
and formatted numbers are localised there; the collection reads GUIDs and enum names, so site.yml
converges, reruns with changed=0, and no VM is warned about integration services it has."""

from __future__ import annotations

import typing as t
from pathlib import Path

import yaml
from hvsim.pytest_plugin import LABS, started_labs

REPO = Path(__file__).resolve().parents[2]
CULTURES = {"hv01": "de-DE", "hv02": "fr-FR"}
SERVICE_CODES = {"vm.shutdown_service_missing", "vm.heartbeat_missing", "vm.heartbeat_not_ok"}


def localised_lab(tmp_path: Path) -> Path:
    lab = yaml.safe_load((LABS / "healthy-intel.yml").read_text(encoding="utf-8"))
    lab["name"] = "healthy-intel-localised"
    for host in lab["hosts"]:
        culture = CULTURES[host["name"]]
        host["culture"] = culture
        for vm in host.get("vms") or []:
            nested = (vm.get("guest") or {}).get("nested_host")
            if nested is not None:
                nested["culture"] = culture
    path = tmp_path / "localised.yml"
    path.write_text(yaml.safe_dump(lab, sort_keys=False), encoding="utf-8")
    return path


def findings(result: dict[str, t.Any]) -> set[str]:
    return {f["code"] for verdict in result["verdict"]["vms"].values() for f in verdict["warnings"] + verdict["blockers"]}


def test_site_converges_on_german_and_french_hosts(tmp_path: Path) -> None:
    with started_labs(lambda _lab_file, _count: tmp_path / "state") as start:
        lab = start(localised_lab(tmp_path))
        shown = lab.show("hv01")
        services = shown["vms"]["vms"][0]["integration_services"]
        assert {s["name"]: s["display_name"] for s in services}["Heartbeat"] == "Takt"  # the lab really is German
        first = lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={tmp_path / 'reports'}")
        first.assert_ok()
        assert first.total("changed") > 0
        second = lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={tmp_path / 'reports2'}")
        second.assert_ok()
        assert second.total("changed") == 0
        check = tmp_path / "info.yml"
        check.write_text(
            yaml.safe_dump([{"hosts": "hyperv_hosts", "gather_facts": False, "tasks": [{"name": "info", "hyperv.nested.win_nested_info": {}}]}]),
            encoding="utf-8",
        )
        info = lab.playbook(check)
        info.assert_ok()
        for host, result in info.task_results("info").items():
            assert not findings(result) & SERVICE_CODES, (host, findings(result))
