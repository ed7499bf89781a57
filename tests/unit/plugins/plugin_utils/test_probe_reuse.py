"""An earlier read (win_nested_info) as a later module's probe answer: the same answer the probe would
give, or a refusal; and the action plugins plan from it only when it shows nothing to do."""

from __future__ import annotations

import copy
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.action.win_nested_guest_check import ActionModule as GuestCheck
from ansible_collections.hyperv.nested.plugins.action.win_nested_info import ActionModule as Info
from ansible_collections.hyperv.nested.plugins.action.win_nested_switch import ActionModule as Switch
from ansible_collections.hyperv.nested.plugins.plugin_utils._probe_reuse import CHANGED_AT_FACT, Refused, answer_from_read

from ...probe_fixtures import probe_host
from ..action.action_harness import ActionHarness

EXTERNAL = {"name": "NestedExternal", "switch_type": "External", "net_adapter_interface_description": "Microsoft Hyper-V Network Adapter"}
NETWORK: dict[str, t.Any] = {
    "hyperv_module": True, "switches": [EXTERNAL], "nats": [], "static_mappings": [], "ip_addresses": [], "firewall_rules": [],
    "adapters": [{"name": "Ethernet", "interface_index": 4, "status": "Up", "mac_address": "00-15-5D-00-01-02"}],
}
GUEST = {"vm": "LAB-VM1", "state": "Running", "reachable": True, "error": None,
         "adapters": [{"interface_alias": "Ethernet", "interface_index": 5, "mac_address": "00-15-5D-00-02-01",
                       "ipv4": [{"ip_address": "192.168.100.2", "prefix_length": 24, "prefix_origin": "Manual"}],
                       "default_gateway": "192.168.100.1", "dns_servers": ["1.1.1.1"], "dhcp": False}]}
CREDENTIALS = {"vm": "LAB-VM1", "username": "Administrator", "password": "GuestPassw0rd!"}
SWITCH_ARGS = {"name": "NestedExternal", "net_adapter_name": "Ethernet", "vms": ["LAB-VM3"]}


def vm(name: str, switch: str | None = "NestedExternal") -> dict[str, t.Any]:
    return {"name": name, "id": f"id-{name}", "state": "Running",
            "adapters": [{"name": "Network Adapter", "id": f"ad-{name}", "switch_name": switch, "mac_address": "00155D000201",
                          "mac_address_spoofing": "Off", "ip_addresses": []}]}


def vms_section(*vms: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"hyperv_module": True, "missing": [], "duplicates": [], "all_names": [v["name"] for v in vms], "vms": list(vms)}


def read(*vms: dict[str, t.Any], guests: list[dict[str, t.Any]] | None = None, host: str = "lab-hv1") -> dict[str, t.Any]:
    """What win_nested_info returns for the L1 host's own read (network, and the guests when given)."""
    answer: dict[str, t.Any] = {"host": probe_host(), "vms": vms_section(*vms), "network": copy.deepcopy(NETWORK)}
    args: dict[str, t.Any] = {"network": True}
    if guests is not None:
        answer["guests"] = guests
        args["guests"] = [CREDENTIALS]
    return t.cast(dict[str, t.Any], ActionHarness(Info, args, task_vars={"inventory_hostname": host}).respond(answer).run())


def test_a_read_of_every_vm_answers_for_some_of_them_as_the_probe_selects_them() -> None:
    earlier = read(vm("LAB-VM3"), vm("lab-vm4"), vm("LAB-VM3"))
    answer = answer_from_read(earlier, {"sections": ["vms", "network"], "vm_names": ["LAB-VM4", "LAB-VM9", "lab-vm3"]}, "lab-hv1")
    assert not isinstance(answer, Refused)
    assert answer["vms"]["missing"] == ["LAB-VM9"] and answer["vms"]["duplicates"] == ["lab-vm3"]
    assert [v["name"] for v in answer["vms"]["vms"]] == ["LAB-VM3", "lab-vm4", "LAB-VM3"]  # the host's order, as the probe
    assert answer["network"] == NETWORK
    assert answer_from_read(earlier, {"sections": ["platform"]}, "lab-hv1") == {"platform": probe_host()["platform"]}


@pytest.mark.parametrize(("parameters", "host", "changed_at", "reason"), [
    ({"sections": ["network"]}, "lab-hv2", None, "made on 'lab-hv1', not on 'lab-hv2'"),
    ({"sections": ["network"]}, "lab-hv1", 10**30, "changed the host after the earlier read"),
    ({"sections": ["guests"], "guests": [CREDENTIALS]}, "lab-hv1", None, "has no guests section"),
    ({"sections": ["firewall"]}, "lab-hv1", None, "cannot be answered"),
])
def test_a_read_that_cannot_answer_says_why(parameters: dict[str, t.Any], host: str, changed_at: int | None, reason: str) -> None:
    answer = answer_from_read(read(vm("LAB-VM3")), parameters, host, changed_at)
    assert isinstance(answer, Refused) and reason in answer.reason


def test_a_change_before_the_read_does_not_refuse_it() -> None:
    assert not isinstance(answer_from_read(read(vm("LAB-VM3")), {"sections": ["network"]}, "lab-hv1", 1), Refused)


def test_guests_are_answered_only_as_read_with_the_same_user() -> None:
    earlier = read(vm("LAB-VM1"), guests=[GUEST])
    answer = answer_from_read(earlier, {"sections": ["guests"], "guests": [{**CREDENTIALS, "vm": "lab-vm1"}]}, "lab-hv1")
    assert not isinstance(answer, Refused) and answer["guests"] == [{**GUEST, "vm": "lab-vm1"}]  # named as asked
    other_user = answer_from_read(earlier, {"sections": ["guests"], "guests": [{**CREDENTIALS, "username": "Other"}]}, "lab-hv1")
    assert isinstance(other_user, Refused) and "another user" in other_user.reason
    not_read = answer_from_read(earlier, {"sections": ["guests"], "guests": [{**CREDENTIALS, "vm": "LAB-VM2"}]}, "lab-hv1")
    assert isinstance(not_read, Refused) and "LAB-VM2" in not_read.reason


def test_a_host_that_could_not_be_read_answers_nothing() -> None:
    answer = {"host": probe_host(), "vms": vms_section(), "network_unavailable": "not recognized", "guests_unavailable": "not recognized"}
    earlier = ActionHarness(Info, {"network": True, "guests": [CREDENTIALS]}, task_vars={"inventory_hostname": "lab-hv1"}).respond(answer).run()
    refused = answer_from_read(earlier, {"sections": ["vms", "network"], "vm_names": []}, "lab-hv1")
    assert isinstance(refused, Refused) and "no network section" in refused.reason


def switch(earlier: dict[str, t.Any], *answers: dict[str, t.Any], facts: dict[str, t.Any] | None = None) -> tuple[ActionHarness, dict[str, t.Any]]:
    harness = ActionHarness(Switch, {**SWITCH_ARGS, "earlier_read": earlier},
                            task_vars={"inventory_hostname": "lab-hv1", "ansible_facts": facts or {}}).respond(*answers)
    return harness, harness.run()


def test_the_switch_module_plans_from_a_converged_read_without_a_command_and_the_same_result() -> None:
    earlier = read(vm("LAB-VM3"))
    harness, reused = switch(earlier)
    assert harness.calls == [] and reused["read_reused"] is True
    fresh_probe = {"network": copy.deepcopy(NETWORK), "vms": vms_section(vm("LAB-VM3"))}
    fresh = ActionHarness(Switch, SWITCH_ARGS).respond(fresh_probe).run()
    assert {**reused, "read_reused": False} == fresh


def test_the_switch_module_reads_again_when_the_read_shows_something_to_do_or_a_change_came_after_it() -> None:
    moved = read(vm("LAB-VM3", switch="Other"))       # a guest on another switch in the read: asked again, then fixed
    converged_now = {"network": copy.deepcopy(NETWORK), "vms": vms_section(vm("LAB-VM3"))}
    harness, result = switch(moved, converged_now)
    assert [call[0] for call in harness.calls] == ["probe"] and result["read_reused"] is False and result["changed"] is False
    # The read says converged, but a module of the collection changed the host after it (a guest moved): read again.
    earlier = read(vm("LAB-VM3"))
    moved_now = {"network": copy.deepcopy(NETWORK), "vms": vms_section(vm("LAB-VM3", switch="Other"))}
    executed = {"operations": [{"index": 0, "status": "ok"}], "failed_index": None, "on_failure": [], "vm_states": {}}
    harness, result = switch(earlier, moved_now, executed, facts={CHANGED_AT_FACT: earlier["read"]["at_ns"] + 1})
    assert [call[0] for call in harness.calls] == ["probe", "execute"] and result["changed"] is True
    assert result["ansible_facts"][CHANGED_AT_FACT] > earlier["read"]["at_ns"]  # what the next module refuses reads by


def test_the_proof_plans_from_the_read_only_when_every_guest_passes() -> None:
    network = {**NETWORK, "nats": [{"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"}],
               "ip_addresses": [{"interface_alias": "vEthernet (VmNAT)", "interface_index": 9, "ip_address": "192.168.100.1",
                                 "prefix_length": 24, "address_family": "IPv4", "prefix_origin": "Manual"}]}
    guest_vm = vm("LAB-VM1", switch="VmNAT")
    earlier = read(guest_vm, guests=[GUEST])
    earlier["network"] = network
    args = {"guests": [{"vm": "LAB-VM1", "ip": "192.168.100.2", "username": "Administrator", "password": "GuestPassw0rd!"}],
            "earlier_read": earlier}
    harness = ActionHarness(GuestCheck, args, task_vars={"inventory_hostname": "lab-hv1"})
    result = harness.run()
    assert harness.calls == [] and result["ok"] is True and result["read_reused"] is True
    # A wrong address in the read is never the last word: the proof reads again.
    wrong = copy.deepcopy(GUEST)
    wrong["adapters"][0]["ipv4"][0]["ip_address"] = "192.168.100.7"
    stale = read(guest_vm, guests=[wrong])
    stale["network"] = network
    fresh = {"vms": vms_section(guest_vm), "network": network, "guests": [GUEST]}
    harness = ActionHarness(GuestCheck, {**args, "earlier_read": stale}, task_vars={"inventory_hostname": "lab-hv1"}).respond(fresh)
    result = harness.run()
    assert [call[0] for call in harness.calls] == ["probe"] and result["ok"] is True and result["read_reused"] is False
