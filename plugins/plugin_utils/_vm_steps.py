# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""One VM's plan for win_nested_vm: its settings before and after, and the steps that get there."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import Operation


@dataclass(frozen=True)
class Step:
    """One executor operation and what it means for a person."""

    action: str
    operation: Operation


@dataclass(frozen=True)
class VmPlan:
    name: str
    before: dict[str, t.Any]
    after: dict[str, t.Any]
    steps: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    @property
    def actions(self) -> list[str]:
        return [step.action for step in self.steps]
