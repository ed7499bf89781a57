"""NestedActionBase's shared tail over a Planned (docs/internals/planner-contract.md)."""

from __future__ import annotations

import json
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import NestedActionBase, Stage
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError

from .action_harness import ActionHarness

SECRET = "Tr0ub4dor&3"
OPERATIONS: list[t.Any] = [
    {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "A", "SwitchType": "Internal"}},
    {"kind": "cmdlet", "cmdlet": "New-NetNat", "parameters": {"Name": "N", "InternalIPInterfaceAddressPrefix": "10.0.0.0/24"}},
]


class PlanningAction(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "str", "required": True},
        "token": {"type": "str", "no_log": True},
        "fail": {"type": "bool", "default": False},
    }

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        probe = self.probe({"sections": ["network"]})
        if args["fail"]:
            raise PlanningError(["First problem.", "Second problem."], warnings=["a warning"])
        return Planned(
            list(OPERATIONS) if probe.get("network") is None else [],
            before={"name": None},
            after={"name": args["name"]},
            values={"seen": f"{args['name']} with {args['token']}"},
        )

    def summary(self, planned: Planned, stage: Stage) -> str | None:
        return f"stage {stage}"


def test_check_mode_reports_and_sends_nothing_that_changes() -> None:
    harness = ActionHarness(PlanningAction, {"name": "A"}, check_mode=True, diff=True).respond({})
    result = harness.run()
    assert harness.scripts_called == ["probe"]
    assert (result["changed"], result["msg"]) == (True, "stage check")
    assert result["commands"][0].startswith("New-VMSwitch")
    assert result["diff"] == {"before": {"name": None}, "after": {"name": "A"}}


def test_nothing_to_do_is_unchanged_without_execute() -> None:
    harness = ActionHarness(PlanningAction, {"name": "A"}).respond({"network": {}})
    result = harness.run()
    assert harness.scripts_called == ["probe"]
    assert (result["changed"], result["msg"], result["commands"]) == (False, "stage unchanged", [])


def test_execute_reports_each_operation() -> None:
    done = {"operations": [{"status": "ok", "duration_ms": 3}, {"status": "ok", "duration_ms": 4}], "failed_index": None}
    harness = ActionHarness(PlanningAction, {"name": "A"}).respond({}, done)
    result = harness.run()
    assert harness.calls[1] == ("execute", {"operations": OPERATIONS, "on_failure": []})
    assert [entry["status"] for entry in result["operations"]] == ["ok", "ok"]
    assert (result["changed"], result["msg"]) == (True, "stage applied")


def test_a_failed_operation_fails_the_task_and_says_what_was_applied() -> None:
    done = {"operations": [{"status": "ok"}, {"status": "failed", "message": "refused"}], "failed_index": 1}
    result = ActionHarness(PlanningAction, {"name": "A"}).respond({}, done).run()
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("Operation 2 of 2 failed: New-NetNat") and "refused" in result["msg"]


def test_planning_error_lists_every_problem_and_changes_nothing() -> None:
    harness = ActionHarness(PlanningAction, {"name": "A", "fail": True}).respond({})
    result = harness.run()
    assert harness.scripts_called == ["probe"]
    assert (result["failed"], result["changed"]) == (True, False)
    assert result["msg"] == "First problem. Second problem."
    assert result["problems"] == ["First problem.", "Second problem."]
    assert result["warnings"] == ["a warning"]


def test_no_log_values_are_masked_everywhere_in_the_result() -> None:
    done = {"operations": [{"status": "ok"}, {"status": "failed", "message": f"denied for {SECRET}"}], "failed_index": 1}
    result = ActionHarness(PlanningAction, {"name": "A", "token": SECRET}).respond({}, done).run()
    assert SECRET not in json.dumps(result)
    assert result["seen"] == "A with ********"
    assert "denied for ********" in result["msg"]
