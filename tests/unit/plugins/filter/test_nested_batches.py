"""nested_batches and nested_vm_outcome: who acts for whom among the hosts that marked this role run, and
each VM's own part of a batched win_nested_vm result."""

from __future__ import annotations

import typing as t

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_batches import FilterModule, nested_batches
from ansible_collections.hyperv.nested.plugins.filter.nested_vm_outcome import nested_batch_outcomes, nested_vm_outcome

RUN = "uuid-of-this-run"


def mark(parent: str, vm: str, run: str = RUN, **extra: t.Any) -> dict[str, t.Any]:
    return {"run": run, "parent": parent, "vm": vm, **extra}


def test_only_hosts_with_a_mark_of_this_run_are_grouped_per_parent() -> None:
    hostvars = {
        "a": {"m": mark("hv01", "A")},
        "b": {},  # skipped the role: no mark
        "c": {"m": mark("hv01", "C", run="an earlier run")},  # a mark of another run (another play, an earlier include)
        "d": {"m": mark("hv01", "D")},
        "e": {"m": mark("hv02", "E")},
    }
    plan = nested_batches(["a", "b", "c", "d", "e"], hostvars, "m", RUN)
    assert plan["hosts"] == ["a", "d", "e"]
    assert plan["groups"] == {
        "a": {"parent": "hv01", "acting": "a", "hosts": ["a", "d"], "vms": ["A", "D"], "settings": None},
        "e": {"parent": "hv02", "acting": "e", "hosts": ["e"], "vms": ["E"], "settings": None},
    }
    assert plan["acting_for"] == {"a": "a", "d": "a", "e": "e"}
    assert FilterModule().filters()["nested_batches"] is nested_batches


def test_a_host_that_skipped_is_not_the_acting_host_even_when_first() -> None:
    plan = nested_batches(["a", "b"], {"a": {}, "b": {"m": mark("hv01", "B")}}, "m", RUN)
    assert plan["acting_for"] == {"b": "b"}


def test_settings_split_a_parent_into_groups_and_select_leaves_hosts_out() -> None:
    hostvars = {
        "a": {"m": mark("hv01", "A", settings={"memory": "8GB"}, spoof=True)},
        "b": {"m": mark("hv01", "B", settings={"memory": "6GB"}, spoof=True)},
        "c": {"m": mark("hv01", "C", settings={"memory": "8GB"}, spoof=False)},
    }
    by_settings = nested_batches(["a", "b", "c"], hostvars, "m", RUN, key="settings")
    assert {acting: group["hosts"] for acting, group in by_settings["groups"].items()} == {"a": ["a", "c"], "b": ["b"]}
    spoofing = nested_batches(["a", "b", "c"], hostvars, "m", RUN, select="spoof")
    assert spoofing["hosts"] == ["a", "b", "c"] and spoofing["acting_for"] == {"a": "a", "b": "a"}
    flagged = nested_batches(["a", "b", "c"], hostvars, "m", RUN, flags=["spoof", "other"])["flagged"]
    assert flagged == {"spoof": ["a", "b"], "other": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lab-hv1", {}, "m", RUN), "list of inventory host names"),
        ((["a"], {}, "", RUN), "non-empty strings"),
        ((["a"], {"a": {"m": {"run": RUN}}}, "m", RUN), "has no parent"),
    ],
)
def test_wrong_input_is_an_error_naming_the_filter(args: tuple[t.Any, ...], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        nested_batches(*args)


RESULT = {
    "changed": True,
    "vms": [
        {"name": "LAB-HV1", "changed": False, "actions": []},
        {"name": "LAB-HV2", "changed": True, "actions": ["turn dynamic memory off", "start"]},
    ],
    "commands": ["Set-VMMemory -VM (Get-VM -Name 'LAB-HV2') -DynamicMemoryEnabled $false", "Start-VM -VM (Get-VM -Name 'LAB-HV2')"],
}


def test_each_vm_gets_its_own_change_and_commands() -> None:
    own = nested_vm_outcome(RESULT, "lab-hv2")  # names compare case-insensitively, as Hyper-V's do
    assert own["changed"] and own["actions"] == ["turn dynamic memory off", "start"] and len(own["commands"]) == 2
    other = nested_vm_outcome(RESULT, "LAB-HV1")
    assert not other["changed"] and other["commands"] == [] and not other["failed"]
    assert nested_vm_outcome(RESULT)["changed"] is True


def test_a_failed_skipped_or_missing_result() -> None:
    failed = nested_vm_outcome({"failed": True, "msg": "boom", "vms": [{"name": "LAB-HV2", "applied": ["stop"], "not_applied": ["start"]}]}, "LAB-HV2")
    assert failed["failed"] and failed["changed"] and failed["msg"] == "boom"
    assert nested_vm_outcome({"unreachable": True, "msg": "no route"}, "LAB-HV2")["unreachable"]
    assert nested_vm_outcome({"skipped": True}, "LAB-HV2") | {"msg": ""} == {
        "vm": "LAB-HV2", "ran": False, "changed": False, "failed": False, "msg": "", "actions": [], "commands": []
    }
    assert nested_vm_outcome({}, "LAB-HV2")["ran"] is False
    assert nested_vm_outcome({"changed": False, "vms": []}, "LAB-HV2")["failed"] is True


def test_batch_outcomes_say_who_must_report_under_their_own_name() -> None:
    hostvars = {"a": {"m": mark("hv01", "LAB-HV1")}, "b": {"m": mark("hv01", "LAB-HV2")}, "c": {"m": mark("hv02", "LAB-HV3")}}
    plan = nested_batches(["a", "b", "c"], hostvars, "m", RUN)
    hostvars["a"]["result"] = RESULT
    hostvars["c"]["result"] = {"failed": True, "msg": "boom", "vms": []}
    outcomes = nested_batch_outcomes(
        plan, hostvars, "result", failure="{vm} on {parent} ({acting}): {msg}", failed_hosts=["d"], failed_message="{host} is not ready"
    )
    assert outcomes["attention"] == ["b", "d"] and outcomes["failed"] == ["c", "d"]
    assert outcomes["hosts"]["b"]["changed"] and outcomes["hosts"]["b"]["acting"] == "a" and len(outcomes["hosts"]["b"]["commands"]) == 2
    assert outcomes["hosts"]["a"]["changed"] is False
    assert outcomes["hosts"]["c"]["msg"] == "LAB-HV3 on hv02 (c): boom" and outcomes["hosts"]["d"]["msg"] == "d is not ready"
    with pytest.raises(AnsibleFilterError, match="nested_batches"):
        nested_batch_outcomes({}, hostvars, "result")
