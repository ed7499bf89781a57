"""The guest proof's exact answers, pinned before `judge` was split into named checks (issue 19).

Each scenario runs `plan` (and so `judge`) on one probe answer and compares every row it returns —
view, address, gateway, DNS, findings in order, word for word — with `guest_proof_golden.json`,
recorded from the judge as it was before the split. The scenarios cover every branch of the module
(`coverage run --branch`), so a refactoring that reorders findings, drops a branch or changes a
sentence fails here. After an intended change, record again with `HVN_RECORD_GOLDEN=1` and review
the diff of the JSON file.
"""

from __future__ import annotations

import copy
import dataclasses
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _guest_proof as proof

from ...golden import codes_in, load_golden

GOLDEN = Path(__file__).with_name("guest_proof_golden.json")
PREFIX = "192.168.100.0/24"
SWITCH = "VmNAT"

NAT = {"name": "VmNAT", "internal_ip_interface_address_prefix": PREFIX}
GATEWAY = {"interface_alias": "vEthernet (VmNAT)", "ip_address": "192.168.100.1"}
NETWORK = {"nats": [NAT], "ip_addresses": [GATEWAY]}


def vm(name: str = "LAB-G1", state: str = "Running", adapters: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    return {"name": name, "state": state,
            "adapters": [adapter()] if adapters is None else adapters}


def adapter(switch: str | None = "VmNAT", ips: list[str] | None = None, mac: str | None = "00-15-5D-00-00-01") -> dict[str, t.Any]:
    return {"name": "Network Adapter", "switch_name": switch, "mac_address": mac,
            "ip_addresses": ["192.168.100.20", "fe80::1"] if ips is None else ips}


def inside(name: str = "LAB-G1", reachable: bool = True, adapters: list[dict[str, t.Any]] | None = None,
           **extra: t.Any) -> dict[str, t.Any]:
    return {"vm": name, "reachable": reachable, **extra,
            "adapters": [guest_adapter()] if adapters is None else adapters}


def guest_adapter(mac: str = "00155D000001", ips: list[str] | None = None, gateway: str | None = "192.168.100.1",
                  dns: list[str] | None = None) -> dict[str, t.Any]:
    return {"mac_address": mac, "ipv4": [{"ip_address": ip} for ip in (["192.168.100.20"] if ips is None else ips)],
            "default_gateway": gateway, "dns_servers": ["1.1.1.1"] if dns is None else dns}


def probe(vms: list[dict[str, t.Any]], network: dict[str, t.Any] | None = None,
          guests: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    answer: dict[str, t.Any] = {"vms": {"vms": vms}, "network": NETWORK if network is None else network}
    if guests is not None:
        answer["guests"] = guests
    return answer


G1 = [{"vm": "LAB-G1", "ip": "192.168.100.20"}]
G1_NO_IP = [{"vm": "lab-g1"}]

# name -> (guests, probe answer, prefix, switch). Every branch of the judge, and combinations that
# exercise the order of findings within one row.
SCENARIOS: dict[str, tuple[list[dict[str, t.Any]], dict[str, t.Any], str, str]] = {
    "l1-healthy": (G1, probe([vm()]), PREFIX, SWITCH),
    "l1-healthy-no-inventory-ip-casefolded": (G1_NO_IP, probe([vm()]), PREFIX, "vmnat"),
    "empty-probe": (G1, {}, PREFIX, SWITCH),
    "no-guests-asked": ([], probe([vm()]), PREFIX, SWITCH),
    "nat-missing": (G1, probe([vm()], network={"nats": [], "ip_addresses": [GATEWAY]}), PREFIX, SWITCH),
    "nat-other-prefix": (G1, probe([vm()], network={"nats": [{**NAT, "internal_ip_interface_address_prefix": "10.0.0.0/24"}],
                                                    "ip_addresses": [GATEWAY]}), PREFIX, SWITCH),
    "nat-gateway-missing": (G1, probe([vm()], network={"nats": [NAT]}), PREFIX, SWITCH),
    "nat-gateway-on-other-alias": (G1, probe([vm()], network={"nats": [NAT], "ip_addresses": [
        {**GATEWAY, "interface_alias": "Ethernet"}, {**GATEWAY, "ip_address": "10.0.0.1"}]}), PREFIX, SWITCH),
    "nat-missing-for-two-guests": (G1 + [{"vm": "LAB-G2"}], probe([vm(), vm("LAB-G2")], network={}), PREFIX, SWITCH),
    "vm-missing": ([{"vm": "NOPE"}], probe([vm()]), PREFIX, SWITCH),
    "vm-missing-and-nat-missing": ([{"vm": "NOPE"}], probe([vm()], network={}), PREFIX, SWITCH),
    "not-running": (G1, probe([vm(state="Off")]), PREFIX, SWITCH),
    "no-state": (G1, probe([{"name": "LAB-G1"}]), PREFIX, SWITCH),
    "not-on-nat-switch": (G1, probe([vm(adapters=[adapter(switch="External", ips=["10.0.0.5"])])]), PREFIX, SWITCH),
    "adapter-without-switch": (G1, probe([vm(adapters=[adapter(switch=None)])]), PREFIX, SWITCH),
    "no-adapters": (G1, probe([vm(adapters=[])]), PREFIX, SWITCH),
    "no-adapters-key": (G1, probe([{"name": "LAB-G1", "state": "Running"}]), PREFIX, SWITCH),
    "l1-no-address": (G1, probe([vm(adapters=[adapter(ips=[])])]), PREFIX, SWITCH),
    "l1-adapter-without-ip-key": (G1, probe([vm(adapters=[{"switch_name": "VmNAT"}])]), PREFIX, SWITCH),
    "l1-only-ipv6": (G1, probe([vm(adapters=[adapter(ips=["fe80::1"])])]), PREFIX, SWITCH),
    "l1-address-outside-nat": (G1, probe([vm(adapters=[adapter(ips=["10.0.0.5", "10.0.0.6"])])]), PREFIX, SWITCH),
    "l1-wrong-address": (G1, probe([vm(adapters=[adapter(ips=["192.168.100.99"])])]), PREFIX, SWITCH),
    "l1-second-address-in-prefix": (G1, probe([vm(adapters=[adapter(ips=["10.0.0.5", "192.168.100.20"])])]), PREFIX, SWITCH),
    "l1-two-nat-adapters": (G1, probe([vm(adapters=[adapter(ips=["192.168.100.30"]), adapter(ips=["192.168.100.20"])])]),
                            PREFIX, SWITCH),
    "l1-guest-report-for-other-vm": (G1, probe([vm()], guests=[inside("OTHER")]), PREFIX, SWITCH),
    "unreachable": (G1, probe([vm()], guests=[inside(reachable=False, error="The credential is invalid.")]), PREFIX, SWITCH),
    "unreachable-no-address": (G1, probe([vm(adapters=[adapter(ips=[])])], guests=[inside(reachable=False)]), PREFIX, SWITCH),
    "unreachable-off-switch": (G1, probe([vm(adapters=[adapter(switch="External")])],
                                         guests=[inside(reachable=False, error="boom")]), PREFIX, SWITCH),
    "reachable-missing-key": (G1, probe([vm()], guests=[{"vm": "LAB-G1", "adapters": [guest_adapter()]}]), PREFIX, SWITCH),
    "inside-healthy": (G1, probe([vm()], guests=[inside()]), PREFIX, SWITCH),
    "inside-casefolded": (G1_NO_IP, probe([vm()], guests=[inside("lab-G1")]), PREFIX, SWITCH),
    "inside-picks-adapter-by-mac": (G1, probe([vm()], guests=[inside(adapters=[
        guest_adapter(mac="00-15-5D-00-00-09", ips=["10.0.0.9"]), guest_adapter(mac="00-15-5d-00-00-01")])]), PREFIX, SWITCH),
    "inside-no-mac-match-takes-first": (G1, probe([vm()], guests=[inside(adapters=[
        guest_adapter(mac="00155D000009", ips=["192.168.100.77"], dns=[]), guest_adapter()])]), PREFIX, SWITCH),
    "inside-adapter-without-mac": (G1, probe([vm()], guests=[inside(adapters=[
        {"ipv4": [{"ip_address": "192.168.100.20"}], "default_gateway": "192.168.100.1", "dns_servers": ["1.1.1.1"]}])]),
        PREFIX, SWITCH),
    "inside-no-adapters": (G1, probe([vm()], guests=[inside(adapters=[])]), PREFIX, SWITCH),
    "inside-empty-adapter": (G1, probe([vm()], guests=[inside(adapters=[{}])]), PREFIX, SWITCH),
    "inside-off-switch-mac-of-first-adapter": (G1, probe([vm(adapters=[adapter(switch="External")])], guests=[inside()]),
                                               PREFIX, SWITCH),
    "inside-vm-without-adapters": (G1, probe([vm(adapters=[])], guests=[inside()]), PREFIX, SWITCH),
    "inside-vm-adapter-without-mac": (G1, probe([vm(adapters=[adapter(mac=None)])], guests=[inside()]), PREFIX, SWITCH),
    "inside-wrong-gateway": (G1, probe([vm()], guests=[inside(adapters=[guest_adapter(gateway="192.168.100.254")])]),
                             PREFIX, SWITCH),
    "inside-no-gateway-no-dns": (G1, probe([vm()], guests=[inside(adapters=[guest_adapter(gateway=None, dns=[])])]),
                                 PREFIX, SWITCH),
    "inside-no-gateway-nat-missing": (G1, probe([vm()], network={}, guests=[inside(adapters=[guest_adapter(gateway=None)])]),
                                      PREFIX, SWITCH),
    "inside-everything-wrong": (G1, probe([vm(adapters=[adapter(switch="External")])], guests=[inside(adapters=[
        guest_adapter(mac="00-15-5D-00-00-01", ips=["10.0.0.5"], gateway="10.0.0.1", dns=[])])]), PREFIX, SWITCH),
    "inside-no-address": (G1, probe([vm()], guests=[inside(adapters=[guest_adapter(ips=[])])]), PREFIX, SWITCH),
    "inside-wrong-address": (G1, probe([vm()], guests=[inside(adapters=[guest_adapter(ips=["192.168.100.50"])])]),
                             PREFIX, SWITCH),
    "inside-address-outside": (G1, probe([vm()], guests=[inside(adapters=[guest_adapter(ips=["10.1.1.1"])])]),
                               PREFIX, SWITCH),
    "prefix-not-strict": (G1, probe([vm()], network={"nats": [{**NAT, "internal_ip_interface_address_prefix": "192.168.100.0/24"}],
                                                     "ip_addresses": [GATEWAY]}), "192.168.100.1/24", SWITCH),
    "mixed-fleet": (G1 + [{"vm": "LAB-G2", "ip": "192.168.100.21"}, {"vm": "LAB-G3"}],
                    probe([vm(), vm("LAB-G2", adapters=[adapter(ips=["192.168.100.21"])]), vm("LAB-G3", state="Saved")],
                          guests=[inside("LAB-G2", adapters=[guest_adapter(ips=["192.168.100.21"], dns=[])])]),
                    PREFIX, SWITCH),
}


def run(name: str) -> dict[str, t.Any]:
    guests, answer, prefix, switch = SCENARIOS[name]
    before = copy.deepcopy((guests, answer))
    planned = proof.plan(guests, answer, prefix, switch)
    assert (guests, answer) == before, "the judge must not change its inputs"
    return {"planned": dataclasses.asdict(planned), "changed": planned.changed,
            "probe_parameters": proof.probe_parameters([{**g, "username": "u", "password": "p"} if i == 0 else g
                                                        for i, g in enumerate(guests)])}


def recorded() -> dict[str, t.Any]:
    return {"scenarios": {name: run(name) for name in SCENARIOS}, "fixes": proof.FIXES}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_answers_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert run(name) == golden["scenarios"][name]


def test_every_fix_is_as_recorded(golden: dict[str, t.Any]) -> None:
    assert proof.FIXES == golden["fixes"]


@pytest.mark.parametrize("code", sorted(proof.FIXES))
def test_every_reason_code_is_pinned_by_a_scenario(golden: dict[str, t.Any], code: str) -> None:
    """Each reason code the judge can return occurs in the recorded answers (and so in their order)."""
    assert code in set(codes_in(golden["scenarios"]))
