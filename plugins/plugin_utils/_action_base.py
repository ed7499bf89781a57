# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every hyperv.nested action plugin shares: argument validation, error shaping, modes."""

from __future__ import annotations

import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.hyperv.nested.plugins.plugin_utils._target import ScriptName, TargetError, run_script


class ModuleFailure(Exception):
    """A failure the user can act on: `msg` says what is wrong; `details` go into the result."""

    def __init__(self, msg: str, **details: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.details = details


class NestedActionBase(ActionBase):
    """Validate the task's arguments, run `act`, and shape the result the Ansible way."""

    TRANSFERS_FILES = False
    _requires_connection = True

    argument_spec: t.ClassVar[dict[str, t.Any]] = {}
    mutually_exclusive: t.ClassVar[list[list[str]]] = []
    required_if: t.ClassVar[list[t.Any]] = []
    required_together: t.ClassVar[list[list[str]]] = []

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self._task.diff)

    def call_target(self, script_name: ScriptName, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
        return run_script(self, script_name, parameters)

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        raise NotImplementedError

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result: dict[str, t.Any] = super().run(tmp, task_vars)
        del tmp
        validator = ArgumentSpecValidator(
            self.argument_spec,
            mutually_exclusive=self.mutually_exclusive,
            required_if=self.required_if,
            required_together=self.required_together,
        )
        validation = validator.validate(dict(self._task.args))
        if validation.error_messages:
            message = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                message = f"Unsupported parameters for ({self._task.action}) module: {message}"
            return {**result, "failed": True, "changed": False, "msg": message}
        args: dict[str, t.Any] = validation.validated_parameters
        try:
            result.update(self.act(args, task_vars or {}))
        except ModuleFailure as exc:
            result.update(exc.details)
            result.update({"failed": True, "msg": exc.msg})
            result.setdefault("changed", False)
        except TargetError as exc:
            result.update({"failed": True, "changed": exc.changes_unknown, "msg": exc.message})
            if exc.unreachable:
                result["unreachable"] = True
        return result
