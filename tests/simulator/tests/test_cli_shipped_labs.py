"""The shipped labs load into the real Fleet, name the same hosts as their inventory, and are
what the README says they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hvsim import labfile
from hvsim.fleet import Fleet
from hvsim.labgen import generate_lab

LABS = sorted((Path(__file__).resolve().parent.parent / "labs").glob("*.yml"))


def fleet_of(name: str) -> Fleet:
    return Fleet.from_lab(labfile.load_lab(Path(__file__).resolve().parent.parent / "labs" / f"{name}.yml"))


def host_facts(fleet: Fleet, host: str) -> dict[str, Any]:
    return dict(fleet.host_state(host)["host"])


def vm_versions(fleet: Fleet, host: str) -> dict[str, str]:
    return {vm["name"]: vm["version"] for vm in fleet.host_state(host)["vms"]["vms"]}


@pytest.mark.parametrize("lab", [*LABS, "generated"], ids=lambda lab: getattr(lab, "stem", lab))
def test_inventory_hosts_are_the_fleet_hosts_and_all_reachable(lab: Path | str) -> None:
    spec = generate_lab(2, 2, guests=1) if lab == "generated" else labfile.load_lab(lab)
    fleet = Fleet.from_lab(spec)
    with_endpoint = [m.name for m in labfile.machines(spec) if m.has_endpoint]
    # Planned machines (bare-hosts.yml) have their endpoint before their VM exists: unreachable until created.
    planned = [name for name in fleet.planned_names() if name not in fleet.host_names()]
    assert sorted(with_endpoint) == sorted(fleet.host_names() + planned)
    assert all(fleet.reachable(host) for host in fleet.host_names())
    assert not any(fleet.reachable(host) for host in planned)


def test_healthy_intel_is_ready_for_nesting_but_not_nested_yet() -> None:
    fleet = fleet_of("healthy-intel")
    for host in ("hv01", "hv02"):
        facts = host_facts(fleet, host)
        assert (facts["processor"]["manufacturer"], facts["os"]["build"], facts["vbs"]["running"]) == ("GenuineIntel", 20348, False)
        for vm in fleet.host_state(host)["vms"]["vms"]:
            assert (vm["state"], vm["version"], vm["dynamic_memory_enabled"], vm["expose_virtualization_extensions"]) == (
                "Running", "10.0", True, False)
    assert host_facts(fleet, "lab-hv1")["hyperv_feature"] == "Disabled"


def test_amd_new_has_one_vm_below_version_9_3() -> None:
    fleet = fleet_of("amd-new")
    facts = host_facts(fleet, "hv-amd")
    assert (facts["processor"]["manufacturer"], facts["os"]["build"]) == ("AuthenticAMD", 20348)
    assert vm_versions(fleet, "hv-amd") == {"LAB-AMD1": "9.3", "LAB-AMD2": "9.3", "LAB-AMD-OLD": "9.0"}


def test_amd_old_is_amd_on_build_17763() -> None:
    facts = host_facts(fleet_of("amd-old"), "hv-amd-old")
    assert (facts["processor"]["manufacturer"], facts["os"]["build"]) == ("AuthenticAMD", 17763)


def test_ws2025_host_runs_vbs_and_its_vm_has_dynamic_memory_and_a_checkpoint() -> None:
    fleet = fleet_of("ws2025-vbs")
    facts = host_facts(fleet, "hv-2025")
    assert (facts["os"]["build"], facts["vbs"]) == (26100, {"configured": True, "running": True, "status": 2})
    (vm,) = fleet.host_state("hv-2025")["vms"]["vms"]
    assert (vm["state"], vm["version"], vm["dynamic_memory_enabled"], [c["name"] for c in vm["checkpoints"]]) == (
        "Running", "12.0", True, ["before-nesting"])


def test_azure_l1_is_an_azure_vm_running_hyperv() -> None:
    facts = host_facts(fleet_of("azure-l1"), "az-hv1")
    assert facts["platform"]["smbios_asset_tag"] == "7783-7084-3265-9085-8269-3286-77"
    assert (facts["is_virtual_machine"], facts["hypervisor_present"]) == (True, True)
