# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_switch: External switch inside an L1 host, L2 guests connected (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import NestedActionBase
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned
from ansible_collections.hyperv.nested.plugins.plugin_utils._switch_planner import build_spec, plan, probe_parameters


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "net_adapter_name": {"type": "str"},
        "allow_management_os": {"type": "bool", "default": True},
        "vms": {"type": "list", "elements": "str", "default": []},
        "adapters": {"type": "list", "elements": "str"},
        "earlier_read": {"type": "dict"},
    }

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        spec = build_spec(args)
        return self.plan_from_read(probe_parameters(spec), lambda probe: plan(spec, probe), args["earlier_read"], task_vars)
