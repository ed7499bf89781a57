# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""What every hyperv.nested action plugin shares: argument validation, the planned-change tail
(check mode, diff, execute, operation reports, failure) and secret masking.

A changing module's action plugin implements `plan` (validate what the argument spec cannot
express, probe once, call its pure planner) and, where its result says more than the shared
one, the `summary`, `applied` and `failure` hooks (`commands` and `execute` for a module whose
target script applies its own steps). docs/internals/planner-contract.md.
"""

from __future__ import annotations

import time
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import render_all
from ansible_collections.hyperv.nested.plugins.plugin_utils._executor_outcome import applied_any, failure_sentence, operation_reports
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._probe_reuse import CHANGED_AT_FACT, Refused, answer_from_read
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import ScriptName, TargetError, run_script
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import ProbeAnswer

# When the module's message is asked for: nothing to change, check mode, or changes made.
Stage = t.Literal["unchanged", "check", "applied"]


class ModuleFailure(Exception):
    """A failure after planning (the executor stopped part-way): `msg` says what is wrong;
    `details` go into the result (`changed` among them)."""

    def __init__(self, msg: str, **details: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.details = details


def step_reports(commands: list[str], outcome: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The `steps` a script that applies its own steps returns (win_nested_vm_provision, win_nested_dhcp):
    one entry per step, its command line, the status the script reported (unknown if none), its message."""
    reports = list(outcome.get("steps") or [])
    reports += [{}] * (len(commands) - len(reports))
    return [{"command": command, "status": report.get("status", "unknown"), "message": report.get("message")}
            for command, report in zip(commands, reports, strict=False)]


class NestedActionBase(ActionBase):
    """Validate the task's arguments, run `act`, and shape and mask the result the Ansible way."""

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

    def probe(self, parameters: dict[str, t.Any]) -> ProbeAnswer:
        """The one probe round trip of a task; its answer is the wire contract's `ProbeAnswer`."""
        return t.cast(ProbeAnswer, self.call_target("probe", parameters))

    # Whether the task planned from an earlier read instead of its own probe (`earlier_read`).
    read_reused: bool = False
    read_refused: str | None = None

    def read_host(self, task_vars: t.Mapping[str, t.Any]) -> str | None:
        """The inventory name of the host this task reads and changes (its delegate, if any)."""
        delegate = getattr(self._task, "delegate_to", None)
        if isinstance(delegate, str) and delegate:
            return delegate
        host = task_vars.get("inventory_hostname")
        return None if host is None else str(host)

    def changed_at(self, task_vars: t.Mapping[str, t.Any]) -> int | None:
        """When a module of the collection last changed this task's host (its CHANGED_AT_FACT), if ever."""
        stamps = [(task_vars.get("ansible_facts") or {}).get(CHANGED_AT_FACT)]
        host = self.read_host(task_vars)
        if host is not None:
            stamps.append((((task_vars.get("hostvars") or {}).get(host) or {}).get("ansible_facts") or {}).get(CHANGED_AT_FACT))
        known = [int(stamp) for stamp in stamps if isinstance(stamp, (int, str)) and str(stamp).isdigit()]
        return max(known) if known else None

    def plan_from_read(
        self,
        parameters: dict[str, t.Any],
        planner: t.Callable[[ProbeAnswer], Planned],
        earlier_read: t.Mapping[str, t.Any] | None,
        task_vars: t.Mapping[str, t.Any],
        *,
        settled: t.Callable[[Planned], bool] = lambda planned: not planned.changed,
    ) -> Planned:
        """Plan from `earlier_read` when it answers this probe (docs/internals/planner-contract.md,
        "Planning from an earlier read") and the plan says there is nothing to do (`settled`);
        otherwise (anything to change, a problem, a read that does not answer) probe as usual."""
        self.read_reused, self.read_refused = False, None
        if earlier_read:
            answer = answer_from_read(earlier_read, parameters, self.read_host(task_vars), self.changed_at(task_vars))
            if isinstance(answer, Refused):
                self.read_refused = answer.reason
            else:
                try:
                    planned = planner(answer)
                except PlanningError:
                    self.read_refused = "planning from the earlier read found a problem"
                else:
                    if settled(planned):
                        self.read_reused = True
                        return planned
                    self.read_refused = "the earlier read shows something to do"
        return planner(self.probe(parameters))

    # ------------------------------------------------------------------ what a module provides

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        """Probe the target once and plan; raise PlanningError naming every problem."""
        raise NotImplementedError

    def summary(self, planned: Planned, stage: Stage) -> str | None:
        """The result's `msg` when the task succeeds (None: no msg)."""
        return None

    def applied(self, planned: Planned, outcome: dict[str, t.Any]) -> dict[str, t.Any]:
        """Result values that change once the executor has run every operation."""
        return {}

    def commands(self, planned: Planned) -> list[str]:
        """The command line an operator would type for each planned operation."""
        return render_all(planned.operations)

    def execute(self, planned: Planned, result: dict[str, t.Any]) -> dict[str, t.Any]:
        """Send the planned operations in one round trip, report each in `result`, return the outcome."""
        outcome = self.call_target("execute", {"operations": planned.operations, "on_failure": planned.on_failure})
        result["operations"] = operation_reports(planned.operations, outcome)
        return outcome

    def failure(self, planned: Planned, outcome: dict[str, t.Any], result: dict[str, t.Any]) -> ModuleFailure:
        """The failure when the executor stopped at `outcome['failed_index']`."""
        reports = result["operations"]
        return ModuleFailure(failure_sentence(reports, outcome.get("failed_index")), **{**result, "changed": applied_any(reports)})

    # ------------------------------------------------------------------ the shared tail

    def act(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        """Plan, then report (check mode, nothing to do) or execute and report."""
        planned = self.plan(args, task_vars)
        result: dict[str, t.Any] = {"changed": planned.changed, **planned.values, "commands": self.commands(planned)}
        if "earlier_read" in self.argument_spec:
            result["read_reused"] = self.read_reused
        if planned.warnings:
            result["warnings"] = list(planned.warnings)
        if planned.notes:
            result["notes"] = list(planned.notes)
        if self.diff_mode:
            result["diff"] = planned.diff
        if not planned.changed or self.check_mode:
            return self._with_summary(result, planned, "check" if planned.changed else "unchanged")

        outcome = self.execute(planned, result)
        if outcome.get("failed_index") is not None:
            raise self.failure(planned, outcome, result)
        result.update(self.applied(planned, outcome))
        return self._with_summary(result, planned, "applied")

    def _with_summary(self, result: dict[str, t.Any], planned: Planned, stage: Stage) -> dict[str, t.Any]:
        msg = self.summary(planned, stage)
        if msg is not None:
            result["msg"] = msg
        return result

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result: dict[str, t.Any] = super().run(tmp, task_vars)
        del tmp
        try:
            # ansible-core's own validation (what AnsibleModule does), unannotated there.
            validation, args = self.validate_argument_spec(  # type: ignore[no-untyped-call]
                self.argument_spec,
                mutually_exclusive=self.mutually_exclusive,
                required_if=self.required_if,
                required_together=self.required_together,
            )
        except AnsibleActionFail as exc:
            return {**result, "failed": True, "changed": False, "msg": exc.message}
        try:
            result.update(self.act(args, task_vars or {}))
        except PlanningError as exc:
            result.update({"failed": True, "changed": False, "msg": exc.msg, "problems": exc.problems})
            if exc.warnings:
                result["warnings"] = exc.warnings
        except ModuleFailure as exc:
            result.update(exc.details)
            result.update({"failed": True, "msg": exc.msg})
            result.setdefault("changed", False)
        except TargetError as exc:
            result.update({"failed": True, "changed": exc.changes_unknown, "msg": exc.message})
            if exc.unreachable:
                result["unreachable"] = True
        if result.get("changed") and not self.check_mode:
            # Later tasks must not plan from a read made before this change (`earlier_read`).
            result["ansible_facts"] = {**(result.get("ansible_facts") or {}), CHANGED_AT_FACT: time.time_ns()}
        # What AnsibleModule.exit_json does: no value of a no_log option anywhere in the result,
        # the target's own words included.
        no_log_values: set[str] = validation._no_log_values
        return t.cast(dict[str, t.Any], remove_values(result, no_log_values)) if no_log_values else result
