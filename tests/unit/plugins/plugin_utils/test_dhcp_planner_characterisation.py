"""The DHCP planner's exact answers, pinned before `plan` was split into named phases (issue 19).

Each scenario runs `plan` on one set of arguments and one `inspect` answer and compares everything it
returns — the operations in order, before/after, warnings and values, or the PlanningError's
sentence — and each operation's rendered command line with `dhcp_planner_golden.json`, recorded
from the planner as it was before the split. The scenarios cover every branch of the module
(`coverage run --branch`), so a refactoring that reorders steps, drops a check or changes a
sentence fails here. After an intended change, record again with `HVN_RECORD_GOLDEN=1` and review
the diff of the JSON file.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _dhcp_planner as planner

from ...golden import load_golden, planner_answer

GOLDEN = Path(__file__).with_name("dhcp_planner_golden.json")

LNX1 = {"vm": "LAB-LNX1", "ip": "192.168.100.20", "adapter": None}
LNX2 = {"vm": "lab-lnx2", "ip": "192.168.100.21", "adapter": "Second"}


def args(**overrides: t.Any) -> dict[str, t.Any]:
    return {"prefix": "192.168.100.0/24", "gateway": None, "dns_servers": ["1.1.1.1"], "range_start": None,
            "range_end": None, "reservations": [LNX1], **overrides}


VMS = [{"name": "LAB-LNX1", "adapters": [{"name": "Network Adapter", "mac_address": "00155D800001"}]},
       {"name": "LAB-LNX2", "adapters": [{"name": "Network Adapter", "mac_address": "00-15-5d-80-00-02"},
                                         {"name": "second", "mac_address": "00155d800003"}]},
       {"name": "NO-NIC", "adapters": []},
       {"name": "BAD-MAC", "adapters": [{"name": "Network Adapter", "mac_address": "0015"}]},
       {"name": "NO-MAC", "adapters": [{"name": "Network Adapter"}]},
       {"name": "NO-KEY"}]
NAMES = ["LAB-LNX1", "LAB-LNX2", "NO-NIC", "BAD-MAC", "NO-MAC", "NO-KEY"]


def inspected(scopes: list[dict[str, t.Any]] | None = None, reservations: list[dict[str, t.Any]] | None = None,
              **overrides: t.Any) -> dict[str, t.Any]:
    return {"dhcp_module": True, "scopes": scopes or [], "reservations": reservations or [], "vms": VMS,
            "all_names": NAMES, **overrides}


SCOPE = {"scope_id": "192.168.100.0", "name": planner.SCOPE_NAME, "subnet_mask": "255.255.255.0",
         "start_range": "192.168.100.2", "end_range": "192.168.100.254", "state": "Active",
         "router": ["192.168.100.1"], "dns_server": ["1.1.1.1"]}
OTHER_SCOPE = {**SCOPE, "scope_id": "10.0.0.0", "subnet_mask": "255.255.255.0"}
RESERVED = {"scope_id": "192.168.100.0", "ip_address": "192.168.100.20", "client_id": "00-15-5D-80-00-01",
            "name": "LAB-LNX1"}
RESERVED_LOWER = {**RESERVED, "client_id": "00-15-5d-80-00-01"}
RESERVED_ELSEWHERE = {**RESERVED, "scope_id": "10.0.0.0"}


def reservation(vm: str, ip: str, adapter: str | None = None) -> dict[str, t.Any]:
    return {"vm": vm, "ip": ip, "adapter": adapter}


# name -> (arguments, inspect answer). Every branch of the planner, and combinations that exercise
# the order of the steps and of the checks on one reservation.
SCENARIOS: dict[str, tuple[dict[str, t.Any], dict[str, t.Any]]] = {
    "new-scope": (args(), inspected()),
    "new-scope-two-reservations": (args(reservations=[LNX1, LNX2]), inspected()),
    "new-scope-no-reservations": (args(reservations=[]), inspected()),
    "new-scope-default-dns": (args(dns_servers=None), inspected()),
    "new-scope-explicit-range-and-gateway": (args(gateway="192.168.100.254", range_start="192.168.100.10",
                                                  range_end="192.168.100.200", dns_servers=["1.1.1.1", "8.8.8.8"]),
                                             inspected()),
    "new-scope-small-prefix": (args(prefix="192.168.100.0/29", reservations=[reservation("LAB-LNX1", "192.168.100.6")]),
                               inspected()),
    "inspect-without-lists": (args(reservations=[]), {"dhcp_module": True}),
    "converged": (args(), inspected([SCOPE], [RESERVED])),
    "converged-lowercase-client-id": (args(), inspected([SCOPE], [RESERVED_LOWER])),
    "converged-other-scope-listed": (args(), inspected([OTHER_SCOPE, SCOPE], [RESERVED_ELSEWHERE, RESERVED])),
    "scope-differs-options-differ": (args(), inspected([{**SCOPE, "dns_server": ["8.8.8.8"], "end_range": "192.168.100.99",
                                                         "start_range": "192.168.100.50"}], [RESERVED])),
    "scope-differs-mask": (args(), inspected([{**SCOPE, "subnet_mask": "255.255.0.0"}], [RESERVED])),
    "router-differs": (args(), inspected([{**SCOPE, "router": ["192.168.100.254"]}], [RESERVED])),
    "options-absent": (args(), inspected([{k: v for k, v in SCOPE.items() if k not in ("router", "dns_server")}], [RESERVED])),
    "scope-found-reservation-new": (args(reservations=[LNX1, LNX2]), inspected([SCOPE], [RESERVED])),
    "reservation-elsewhere-not-counted": (args(), inspected([SCOPE], [RESERVED_ELSEWHERE])),
    "no-dhcp-module": (args(), inspected(dhcp_module=False)),
    "no-dhcp-module-key": (args(), {}),
    "bad-prefix": (args(prefix="192.168.100.1/24"), inspected()),
    "prefix-too-small": (args(prefix="192.168.100.0/30"), inspected()),
    "bad-gateway": (args(gateway="x"), inspected()),
    "gateway-outside": (args(gateway="10.0.0.1"), inspected()),
    "gateway-network-address": (args(gateway="192.168.100.0"), inspected()),
    "gateway-broadcast": (args(gateway="192.168.100.255"), inspected()),
    "range-reversed": (args(range_start="192.168.100.200", range_end="192.168.100.100"), inspected()),
    "gateway-in-range": (args(gateway="192.168.100.50"), inspected()),
    "bad-dns": (args(dns_servers=["1.1.1.1", "dns.example"]), inspected()),
    "reservation-bad-ip": (args(reservations=[reservation("LAB-LNX1", "x")]), inspected()),
    "reservation-outside-prefix": (args(reservations=[reservation("LAB-LNX1", "10.0.0.5")]), inspected()),
    "reservation-twice": (args(reservations=[LNX1, reservation("LAB-LNX2", "192.168.100.20")]), inspected()),
    "reservation-gateway": (args(reservations=[reservation("LAB-LNX1", "192.168.100.1")]), inspected()),
    "reservation-vm-missing": (args(reservations=[reservation("NOPE", "192.168.100.30")]), inspected()),
    "reservation-vm-missing-no-names": (args(reservations=[reservation("NOPE", "192.168.100.30")]),
                                        inspected(vms=[], all_names=[])),
    "reservation-vm-missing-no-keys": (args(reservations=[reservation("NOPE", "192.168.100.30")]), {"dhcp_module": True}),
    "reservation-no-nic": (args(reservations=[reservation("NO-NIC", "192.168.100.30")]), inspected()),
    "reservation-no-adapters-key": (args(reservations=[reservation("no-key", "192.168.100.30")]), inspected()),
    "reservation-adapter-not-found": (args(reservations=[reservation("LAB-LNX1", "192.168.100.30", "Missing")]), inspected()),
    "reservation-bad-mac": (args(reservations=[reservation("BAD-MAC", "192.168.100.30")]), inspected()),
    "reservation-no-mac": (args(reservations=[reservation("NO-MAC", "192.168.100.30")]), inspected()),
    "reservation-outside-range": (args(range_start="192.168.100.100", reservations=[reservation("LAB-LNX1", "192.168.100.20")]),
                                  inspected()),
    "reservation-above-range": (args(range_end="192.168.100.100", reservations=[reservation("LAB-LNX1", "192.168.100.200")]),
                                inspected()),
    "reservation-ip-taken": (args(), inspected([SCOPE], [{**RESERVED, "client_id": "00-15-5D-FF-FF-FF", "name": "other"}])),
    "reservation-mac-elsewhere": (args(), inspected([SCOPE], [{**RESERVED, "ip_address": "192.168.100.99"}])),
    "reservation-ip-taken-and-mac-elsewhere": (args(), inspected([SCOPE], [
        {**RESERVED, "client_id": "00-15-5D-FF-FF-FF", "name": "other"}, {**RESERVED, "ip_address": "192.168.100.99"}])),
    "reservation-taken-no-client-id": (args(), inspected([SCOPE], [{"scope_id": "192.168.100.0", "ip_address": "192.168.100.20"}])),
    "second-reservation-fails-after-first-planned": (args(reservations=[LNX1, reservation("NOPE", "192.168.100.30")]),
                                                     inspected()),
}


def run(name: str) -> dict[str, t.Any]:
    return planner_answer(planner, *SCENARIOS[name])


def recorded() -> dict[str, t.Any]:
    return {"scenarios": {name: run(name) for name in SCENARIOS}}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_answers_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert run(name) == golden["scenarios"][name]


def test_the_scenarios_reach_every_step_kind_and_refusal(golden: dict[str, t.Any]) -> None:
    """Every kind of step is planned somewhere, and refusals are recorded as sentences, not crashes."""
    answers = golden["scenarios"].values()
    kinds = {step["kind"] for answer in answers for step in answer.get("planned", {}).get("operations", [])}
    assert kinds == {"scope", "options", "reservation"}
    assert sum("problem" in answer for answer in answers) >= 20
