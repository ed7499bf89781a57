"""site.yml and the module scenarios over each of the six inventories `hvsim up` writes
(winrm/NTLM, psrp, ssh, Kerberos, CredSSP, HTTPS with certificate validation): each converges,
and its second run, at -vvvv, reports changed=0 and shows no password.

The scenarios (tests/transports/labs/scenarios.yml): win_nested_info; win_nested_vm with a
power cycle of a running VM; win_nested_switch; win_nested_nat with two L2 guests configured
over PowerShell Direct. The VM, the switch, one guest and its password carry non-ASCII
characters, so the request and answer encodings are exercised on every transport.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.transports.conftest import TRANSPORTS, Run, TransportLab, hvsim, start_lab, write_playbook

REPO = Path(__file__).resolve().parents[2]
HOSTILE_LAB = REPO / "tests" / "reliability" / "labs" / "hostile-names.yml"
HOSTILE_TRANSPORTS = ("winrm", "psrp", "ssh")
BYSTANDERS = ("PLAIN-1", "lab1", "NEST-L1")
HEALTHY = REPO / "tests" / "simulator" / "labs" / "healthy-intel.yml"
SCENARIO_LAB = Path(__file__).parent / "labs" / "scenarios.yml"
SCENARIO_VM = "Ünïcødé VM \u2018ü\u2019 Ωμέγα 日本 \U0001f600"
SWITCH = "Schalter ä€ \u2018x\u2019 Ω"
GUEST = "Gäst-VM ✓ «ß»"
GUEST_PASSWORD = "Pässwörd-€-ß-Ωmega-✓"
OTHER_GUEST_PASSWORD = "GuestPassw0rd!"


def scenario_plays() -> list[dict[str, t.Any]]:
    return [
        {"name": "L0", "hosts": "hv01", "gather_facts": False, "tasks": [
            {"name": "info", "hyperv.nested.win_nested_info": {"name": ["LAB-HV1", SCENARIO_VM]}, "register": "info"},
            {"name": "the non-ASCII VM name came back intact", "ansible.builtin.assert": {
                "that": [f"info.vms | map(attribute='name') | list == [{SCENARIO_VM!r}, 'LAB-HV1']"]}},
            {"name": "vm with a power cycle", "hyperv.nested.win_nested_vm": {
                "name": [SCENARIO_VM], "processor_count": 4, "startup_memory": "4GB", "power": "shutdown"}},
        ]},
        {"name": "L1", "hosts": "lab-hv1", "gather_facts": False, "tasks": [
            {"name": "switch", "hyperv.nested.win_nested_switch": {"name": SWITCH, "net_adapter_name": "Ethernet"}},
            {"name": "nat with guests over PowerShell Direct", "hyperv.nested.win_nested_nat": {
                "guest_username": "Administrator", "guest_password": OTHER_GUEST_PASSWORD,
                "guests": [{"vm": "LAB-VM1"}, {"vm": GUEST, "password": GUEST_PASSWORD}]}},
        ]},
    ]


def secrets_of(lab: TransportLab) -> set[str]:
    """Every password the inventory or the play holds."""
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    found = {GUEST_PASSWORD, OTHER_GUEST_PASSWORD}
    for group in inventory["all"]["children"].values():
        for variables in (group.get("hosts") or {}).values():
            for key in ("ansible_password", "nested_guest_password"):
                if variables.get(key):
                    found.add(str(variables[key]))
    return found


def run_transport(transport: str, root: Path) -> dict[str, t.Any]:
    """Both labs of one transport: site.yml twice, the scenarios twice (second runs at -vvvv)."""
    outcome: dict[str, t.Any] = {"transport": transport}
    labs = []
    try:
        site_lab = TransportLab(start_lab(HEALTHY, root / f"{transport}-site"), transport)
        scenario_lab = TransportLab(start_lab(SCENARIO_LAB, root / f"{transport}-scenarios"), transport)
        labs = [site_lab, scenario_lab]
        site = REPO / "playbooks" / "site.yml"
        report = ["-e", f"nested_report_dir={root / f'{transport}-report'}"]
        outcome["site"] = (site_lab.playbook(site, *report), site_lab.playbook(site, *report, "-vvvv"))
        plays = write_playbook(root / f"{transport}-scenarios.yml", scenario_plays())
        outcome["scenarios"] = (scenario_lab.playbook(plays), scenario_lab.playbook(plays, "-vvvv"))
        outcome["secrets"] = secrets_of(site_lab) | secrets_of(scenario_lab)
        outcome["hv01"] = scenario_lab.lab.show("hv01")
        outcome["lab-hv1"] = scenario_lab.lab.show("lab-hv1")
        outcome["guests"] = {guest: scenario_lab.lab.connectivity(guest) for guest in ("lab-vm1", "lab-vm-unicode")}
        outcome["site_guests"] = {guest: site_lab.lab.connectivity(guest) for guest in ("lab-vm1", "lab-vm2", "lab-vm3", "lab-vm4")}
        if transport in HOSTILE_TRANSPORTS:
            hostile_lab = TransportLab(start_lab(HOSTILE_LAB, root / f"{transport}-hostile"), transport)
            labs.append(hostile_lab)
            before = {vm["name"]: vm for vm in hostile_lab.lab.show("hvx")["vms"]["vms"]}
            names = [name for name in before if name not in BYSTANDERS]
            task = {"hyperv.nested.win_nested_vm": {"name": names, "power": "shutdown"}}
            play = write_playbook(root / f"{transport}-hostile.yml", [{"hosts": "hvx", "gather_facts": False, "tasks": [task]}])
            outcome["hostile"] = (hostile_lab.playbook(play), hostile_lab.playbook(play), names, before,
                                  {vm["name"]: vm for vm in hostile_lab.lab.show("hvx")["vms"]["vms"]})
    finally:
        for lab in labs:
            hvsim("down", "--state", str(lab.lab.state_dir), check=False)
    return outcome


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, t.Any]]:
    root = tmp_path_factory.mktemp("transports")
    with ThreadPoolExecutor(max_workers=len(TRANSPORTS)) as pool:
        done = list(pool.map(lambda transport: run_transport(transport, root), TRANSPORTS))
    timings = {o["transport"]: [round(r.seconds) for r in (*o["site"], *o["scenarios"])] for o in done}
    print(f"\nseconds per transport (site, site again, scenarios, scenarios again): {timings}")
    return {o["transport"]: o for o in done}


def assert_converged_twice(first: Run, second: Run) -> None:
    assert first.rc == 0 and first.total("failed") == 0 and first.total("unreachable") == 0, first.explain()
    assert first.total("changed") > 0, first.explain()
    assert second.rc == 0 and second.total("failed") == 0 and second.total("unreachable") == 0, second.explain()
    assert second.total("changed") == 0, second.recap


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_site_converges_and_reruns_unchanged(results: dict[str, dict[str, t.Any]], transport: str) -> None:
    first, second = results[transport]["site"]
    assert_converged_twice(first, second)
    # The L0 hosts appear only through site.yml's provisioning play, which creates nothing for existing VMs.
    assert set(first.recap) - {"hv01", "hv02"} == {"lab-hv1", "lab-hv2", "lab-hv3"}
    assert all(first.recap[host]["changed"] == 0 for host in ("hv01", "hv02") if host in first.recap), first.recap
    for guest, connectivity in results[transport]["site_guests"].items():
        assert connectivity["connected"] is True, (guest, connectivity)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_module_scenarios_converge_with_non_ascii_names(results: dict[str, dict[str, t.Any]], transport: str) -> None:
    first, second = results[transport]["scenarios"]
    assert_converged_twice(first, second)
    vms = {vm["name"]: vm for vm in results[transport]["hv01"]["vms"]["vms"]}
    # The power cycle happened and the VM runs again, with the new settings, under its exact name.
    assert vms[SCENARIO_VM]["state"] == "Running"
    assert vms[SCENARIO_VM]["processor_count"] == 4 and vms[SCENARIO_VM]["expose_virtualization_extensions"] is True
    assert vms["LAB-HV1"]["processor_count"] == 4  # untouched
    switches = [switch["name"] for switch in results[transport]["lab-hv1"]["network"]["switches"]]
    assert SWITCH in switches and "VmNAT" in switches
    # The guest with a non-ASCII name was reached with its non-ASCII password.
    for guest, connectivity in results[transport]["guests"].items():
        assert connectivity["connected"] is True, (guest, connectivity)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_password_in_verbose_output(results: dict[str, dict[str, t.Any]], transport: str) -> None:
    outcome = results[transport]
    verbose = [outcome["site"][1], outcome["scenarios"][1]]
    assert all("<" in run.stdout and "ESTABLISH" in run.stdout for run in verbose), "not -vvvv output"
    for secret in outcome["secrets"]:
        for run in (*outcome["site"], *outcome["scenarios"]):
            assert secret not in run.stdout and secret not in run.stderr, f"a password appears in {transport} output"


@pytest.mark.parametrize("transport", HOSTILE_TRANSPORTS)
def test_hostile_vm_names_round_trip(results: dict[str, dict[str, t.Any]], transport: str) -> None:
    """The reliability suite's hostile names (quotes of every kind, backtick, $(), ;, |, wildcards,
    100 characters) are enabled exactly, by name, and converge; the bystanders are untouched."""
    first, second, names, before, after = results[transport]["hostile"]
    assert_converged_twice(first, second)
    assert len(names) == 11
    for name in names:
        assert after[name]["expose_virtualization_extensions"] is True, name
        assert after[name]["state"] == before[name]["state"], name
    for name in BYSTANDERS:
        assert after[name] == before[name], name
