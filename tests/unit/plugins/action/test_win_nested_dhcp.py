"""win_nested_dhcp's action plugin with a scripted target."""

from __future__ import annotations

import typing as t

import pytest
import yaml

from ansible_collections.hyperv.nested.plugins.action.win_nested_dhcp import ActionModule
from ansible_collections.hyperv.nested.plugins.modules import win_nested_dhcp as module_doc

from .action_harness import ActionHarness

ARGS = {"prefix": "192.168.100.0/24", "reservations": [{"vm": "LAB-LNX1", "ip": "192.168.100.20"}]}
INSPECTED = {"dhcp_module": True, "scopes": [], "reservations": [], "all_names": ["LAB-LNX1"],
             "vms": [{"name": "LAB-LNX1", "adapters": [{"name": "Network Adapter", "mac_address": "00155D800001"}]}]}


def test_check_mode_sends_only_the_inspect() -> None:
    run = ActionHarness(ActionModule, ARGS, check_mode=True, diff=True).respond(INSPECTED)
    result = run.run()
    assert result["changed"] is True and run.scripts_called == ["dhcp"]
    assert result["commands"][-1] == ("Add-DhcpServerv4Reservation -ScopeId '192.168.100.0' -IPAddress '192.168.100.20' "
                                      "-ClientId '00-15-5D-80-00-01' -Name 'LAB-LNX1'")


def test_a_failed_step_fails_the_task_with_its_message() -> None:
    outcome = {"steps": [{"index": 0, "status": "ok"}, {"index": 1, "status": "failed", "message": "RPC down"},
                         {"index": 2, "status": "not_run"}], "failed_index": 1}
    result = ActionHarness(ActionModule, ARGS).respond(INSPECTED, outcome).run()
    assert result["failed"] is True and "Set-DhcpServerv4OptionValue failed: RPC down" in result["msg"]
    assert result["changed"] is True


BAD = [
    ({"prefix": "192.168.100.0/33"}, "prefix"),
    ({"prefix": "lab"}, "prefix"),
    ({"dns_servers": ["dns.example"]}, "dns_servers[0]"),
    ({"range_start": "192.168.100.200", "range_end": "192.168.100.100"}, "range_start"),
    ({"gateway": "10.0.0.1"}, "gateway"),
    ({"reservations": [{"vm": "", "ip": "192.168.100.20"}]}, "reservations[0].vm"),
]


@pytest.mark.parametrize(("extra", "option"), BAD, ids=[o for _e, o in BAD])
def test_bad_input_names_the_option_and_asks_nothing(extra: dict[str, t.Any], option: str) -> None:
    run = ActionHarness(ActionModule, {**ARGS, **extra})
    result = run.run()
    assert result["failed"] is True and f"'{option}'" in result["msg"], result["msg"]
    assert run.calls == []


def test_documentation_matches_the_argument_spec() -> None:
    documented = yaml.safe_load(module_doc.DOCUMENTATION)["options"]
    assert set(documented) == set(ActionModule.argument_spec)
    assert set(documented["reservations"]["suboptions"]) == set(ActionModule.argument_spec["reservations"]["options"])
