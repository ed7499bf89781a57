# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan win_nested_nat: NAT networking on a nested Hyper-V host (L1) and its guests (L2).

Pure code, in the order a task uses it: `spec` (the arguments, the probe to ask for), `host`
(the NAT host as probed, its conflicts and operations), `guests` (each guest's adapter and
addresses), `planner` (`plan`: spec x probe answer -> Planned) and `report` (diff and return
values).
"""

from __future__ import annotations

from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.host import FIREWALL_GROUP
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.planner import plan
from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner.spec import NatSpec, build_spec, probe_parameters, require_credentials

__all__ = ["FIREWALL_GROUP", "NatSpec", "build_spec", "plan", "probe_parameters", "require_credentials"]
