"""Building the model from lab dictionaries, including the shipped lab files."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hvsim.fleet import Fleet
from hvsim.model.platform import default_version, supported_versions
from lab_dicts import basic_lab, call, fleet_of, l0, lab, vm

LABS = Path(__file__).resolve().parent.parent / "labs"


@pytest.mark.parametrize("path", sorted(LABS.glob("*.yml")), ids=lambda p: p.stem)
def test_shipped_labs_load_and_round_trip(path: Path) -> None:
    fleet = Fleet.from_lab(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert fleet.host_names()
    state = fleet.export_state()
    assert Fleet.from_state(state).export_state() == state


def test_versions_follow_the_host_build() -> None:
    assert default_version(14393) == "8.0" and default_version(17763) == "9.0"
    assert default_version(20348) == "10.0" and default_version(26100) == "12.0"
    assert supported_versions(17763)[-3:] == ["8.2", "8.3", "9.0"]


def test_internal_switch_in_a_lab_gets_its_vethernet_adapter() -> None:
    fleet = fleet_of(lab(l0(switches=[{"name": "NAT", "switch_type": "Internal"}])))
    adapters = call(fleet, "hv01", "probe", {"sections": ["network"]})["network"]["adapters"]
    assert "vEthernet (NAT)" in [a["name"] for a in adapters]


def test_running_vm_on_a_host_whose_rules_forbid_it_is_a_lab_error() -> None:
    with pytest.raises(Exception, match="OFFERNESTEDVIRT"):
        fleet_of(lab(l0(bcd_offer_nested_virt_disabled=True, vms=[vm("BAD", state="Running", expose_virtualization_extensions=True)])))


def test_mac_addresses_are_unique_and_guest_adapters_mirror_vm_adapters() -> None:
    fleet = fleet_of(basic_lab())
    state = fleet.export_state()
    l1 = state["roots"][0]["vms"][0]
    assert l1["nested_host"]["os_state"]["adapters"][0]["mac_address"].replace("-", "") == l1["adapters"][0]["mac_address"]
    macs = [a["mac_address"] for v in state["roots"][0]["vms"] for a in v["adapters"]]
    assert len(set(macs)) == len(macs)
