# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The contract between a planner and its action plugin: what a plan is, and how planning fails.

A planner is pure code (no I/O, no Ansible import): it reads validated options and one probe
answer and returns a `Planned`, or raises `PlanningError` with every problem it found. The
action plugin's shared tail (`NestedActionBase`) turns a `Planned` into the module result:
check mode, diff, the one execute round trip, the per-operation report, failure and secret
masking (docs/internals/planner-contract.md).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import Operation


class PlanningError(Exception):
    """The task cannot be carried out as asked; nothing has been sent to change the target.

    `problems` are whole sentences, each naming the option or the object at fault; `msg` joins
    them. `warnings` found on the way are returned with the failure.
    """

    def __init__(self, problems: str | t.Sequence[str], *, warnings: t.Sequence[str] = ()) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.warnings = list(warnings)
        self.msg = " ".join(self.problems)
        super().__init__(self.msg)


@dataclass(frozen=True)
class Planned:
    """What a task must do, and what its module returns about it.

    operations: executor operations in order (docs/internals/wire-protocol.md §3).
    on_failure: operations the executor runs when one of `operations` fails (power restores).
    before/after: the state diff mode shows; `after_header` says what the states alone hide.
    values: the module's own return values (switch, guests, vms ...), merged into the result.
    """

    operations: list[Operation]
    before: dict[str, t.Any] = field(default_factory=dict)
    after: dict[str, t.Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: dict[str, t.Any] = field(default_factory=dict)
    on_failure: list[Operation] = field(default_factory=list)
    after_header: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.operations)

    @property
    def diff(self) -> dict[str, t.Any]:
        diff: dict[str, t.Any] = {"before": self.before, "after": self.after}
        if self.after_header:
            diff["after_header"] = self.after_header
        return diff
