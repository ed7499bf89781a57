from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError

from .action_harness import ActionHarness


class EchoAction(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "list", "elements": "str", "required": True},
        "count": {"type": "int", "default": 1},
        "mode": {"type": "str", "choices": ["a", "b"], "default": "a"},
    }

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        result = self.call_target("probe", {"vm_names": args["name"]})
        if result.get("fail"):
            raise ModuleFailure("it failed part-way", changed=True, applied=["x"])
        return {"changed": False, "seen": result, "check": self.check_mode, "diff_mode": self.diff_mode}


def test_valid_arguments_reach_act_with_defaults() -> None:
    harness = ActionHarness(EchoAction, {"name": "A"}, check_mode=True, diff=True).respond({"vms": []})
    result = harness.run()
    assert result["seen"] == {"vms": []}
    assert (result["check"], result["diff_mode"]) == (True, True)
    assert harness.calls == [("probe", {"vm_names": ["A"]})]


def test_bad_type_fails_naming_the_option_without_contacting_the_target() -> None:
    harness = ActionHarness(EchoAction, {"name": ["A"], "count": "many"})
    result = harness.run()
    assert result["failed"] is True
    assert "count" in result["msg"]
    assert harness.calls == []


def test_unknown_option_is_reported() -> None:
    result = ActionHarness(EchoAction, {"name": ["A"], "colour": "red"}).run()
    assert result["failed"] is True
    assert "colour" in result["msg"]


def test_bad_choice_lists_the_choices() -> None:
    result = ActionHarness(EchoAction, {"name": ["A"], "mode": "c"}).run()
    assert result["failed"] is True
    assert "mode" in result["msg"] and "a, b" in result["msg"]


def test_module_failure_keeps_details_and_changed() -> None:
    result = ActionHarness(EchoAction, {"name": ["A"]}).respond({"fail": True}).run()
    assert result["failed"] is True
    assert result["msg"] == "it failed part-way"
    assert result["changed"] is True
    assert result["applied"] == ["x"]


def test_target_error_becomes_msg() -> None:
    result = ActionHarness(EchoAction, {"name": ["A"]}).respond(TargetError("Hyper-V is not installed.")).run()
    assert result == {**result, "failed": True, "changed": False, "msg": "Hyper-V is not installed."}
    assert "unreachable" not in result


def test_unreachable_target_is_flagged() -> None:
    result = ActionHarness(EchoAction, {"name": ["A"]}).respond(TargetError("refused", unreachable=True)).run()
    assert result["unreachable"] is True


def test_lost_connection_during_changes_reports_changed() -> None:
    error = TargetError("Could not reach the host: lost.", unreachable=True, changes_unknown=True)
    result = ActionHarness(EchoAction, {"name": ["A"]}).respond(error).run()
    assert (result["failed"], result["unreachable"], result["changed"]) == (True, True, True)
