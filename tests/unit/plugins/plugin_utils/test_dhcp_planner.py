"""The DHCP planner: scope, options and reservations by the MAC Hyper-V gave each guest; never replaces."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _dhcp_planner as planner
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError


def args(**overrides: t.Any) -> dict[str, t.Any]:
    base = {"prefix": "192.168.100.0/24", "gateway": None, "dns_servers": ["1.1.1.1"], "range_start": None,
            "range_end": None, "reservations": [{"vm": "LAB-LNX1", "ip": "192.168.100.20", "adapter": None}]}
    base.update(overrides)
    return base


def inspected(scopes: list[dict[str, t.Any]] | None = None, reservations: list[dict[str, t.Any]] | None = None,
              module: bool = True) -> dict[str, t.Any]:
    return {"dhcp_module": module, "scopes": scopes or [], "reservations": reservations or [],
            "vms": [{"name": "LAB-LNX1", "adapters": [{"name": "Network Adapter", "mac_address": "00155D800001"}]}],
            "all_names": ["LAB-LNX1"]}


SCOPE = {"scope_id": "192.168.100.0", "name": planner.SCOPE_NAME, "subnet_mask": "255.255.255.0",
         "start_range": "192.168.100.2", "end_range": "192.168.100.254", "state": "Active",
         "router": ["192.168.100.1"], "dns_server": ["1.1.1.1"]}
RESERVED = {"scope_id": "192.168.100.0", "ip_address": "192.168.100.20", "client_id": "00-15-5D-80-00-01",
            "name": "LAB-LNX1"}


def test_a_new_scope_gets_options_and_the_guest_its_reservation_by_mac() -> None:
    plan = planner.plan(args(), inspected())
    assert [s["kind"] for s in plan.operations] == ["scope", "options", "reservation"]
    assert plan.operations[0]["parameters"] == {"Name": planner.SCOPE_NAME, "StartRange": "192.168.100.2",
                                                "EndRange": "192.168.100.254", "SubnetMask": "255.255.255.0", "State": "Active"}
    assert plan.operations[1]["parameters"]["Router"] == ["192.168.100.1"]
    assert plan.operations[2]["parameters"] == {"ScopeId": "192.168.100.0", "IPAddress": "192.168.100.20",
                                                "ClientId": "00-15-5D-80-00-01", "Name": "LAB-LNX1"}


def test_converged_plans_nothing() -> None:
    plan = planner.plan(args(), inspected([SCOPE], [RESERVED]))
    assert not plan.changed and plan.warnings == []


def test_other_options_are_set_again_but_a_different_scope_is_only_reported() -> None:
    plan = planner.plan(args(), inspected([{**SCOPE, "dns_server": ["8.8.8.8"], "end_range": "192.168.100.99"}],
                                          [RESERVED]))
    assert [s["kind"] for s in plan.operations] == ["options"]
    assert "left as it is" in plan.warnings[0]


def test_an_address_reserved_for_another_client_is_refused_not_replaced() -> None:
    with pytest.raises(PlanningError, match="reserved for client 00-15-5D-FF-FF-FF"):
        planner.plan(args(), inspected([SCOPE], [{**RESERVED, "client_id": "00-15-5D-FF-FF-FF", "name": "other"}]))


def test_bad_addresses_name_their_option() -> None:
    with pytest.raises(PlanningError, match="'prefix'"):
        planner.plan(args(prefix="192.168.100.1/24"), inspected())
    with pytest.raises(PlanningError, match=r"'reservations\[0\]\.ip'"):
        planner.plan(args(reservations=[{"vm": "LAB-LNX1", "ip": "10.0.0.5", "adapter": None}]), inspected())
    with pytest.raises(PlanningError, match=r"'reservations\[0\]\.ip'.*gateway"):
        planner.plan(args(reservations=[{"vm": "LAB-LNX1", "ip": "192.168.100.1", "adapter": None}]), inspected())
    with pytest.raises(PlanningError, match="'gateway'"):
        planner.plan(args(gateway="192.168.100.50", range_start="192.168.100.10"), inspected())


def test_an_unknown_vm_lists_the_vms_there_and_no_dhcp_role_says_how_to_install_it() -> None:
    with pytest.raises(PlanningError, match=r"'reservations\[0\]\.vm'.*LAB-LNX1"):
        planner.plan(args(reservations=[{"vm": "NOPE", "ip": "192.168.100.20", "adapter": None}]), inspected())
    with pytest.raises(PlanningError, match="win_feature name=DHCP"):
        planner.plan(args(), inspected(module=False))
