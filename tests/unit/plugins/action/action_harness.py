"""Run a hyperv.nested action plugin in-process with a scripted target, no connection needed.

    harness = ActionHarness(ActionModule, {"name": ["LAB-HV1"]}, check_mode=True)
    harness.respond({"vms": {...}})           # answer to the next call_target (probe)
    result = harness.run()
    assert harness.calls == [("probe", {...})]
"""

from __future__ import annotations

import typing as t
from unittest.mock import MagicMock

from ansible.playbook.play_context import PlayContext


class ActionHarness:
    def __init__(
        self,
        action_class: type[t.Any],
        args: dict[str, t.Any],
        *,
        check_mode: bool = False,
        diff: bool = False,
        task_vars: dict[str, t.Any] | None = None,
    ) -> None:
        task = MagicMock()
        task.args = dict(args)
        task.check_mode = check_mode
        task.diff = diff
        task.async_val = 0
        task.action = action_class.__module__.rsplit(".", 1)[-1]
        connection = MagicMock()
        connection._shell.tmpdir = None
        self.action = action_class(
            task=task,
            connection=connection,
            play_context=PlayContext(),
            loader=MagicMock(),
            templar=MagicMock(),
            shared_loader_obj=None,
        )
        self.task_vars = task_vars or {}
        self.calls: list[tuple[str, dict[str, t.Any]]] = []
        self._answers: list[dict[str, t.Any] | Exception] = []
        self.action.call_target = self._call_target

    def respond(self, *answers: dict[str, t.Any] | Exception) -> ActionHarness:
        """Queue the results the target gives, in order (an exception is raised instead)."""
        self._answers.extend(answers)
        return self

    def _call_target(self, script_name: str, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
        self.calls.append((script_name, parameters))
        if not self._answers:
            raise AssertionError(f"unexpected call_target({script_name!r}) with no answer queued")
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def run(self) -> dict[str, t.Any]:
        result: dict[str, t.Any] = self.action.run(task_vars=self.task_vars)
        return result

    @property
    def scripts_called(self) -> list[str]:
        return [name for name, _unused in self.calls]
