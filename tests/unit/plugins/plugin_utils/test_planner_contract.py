"""The planner contract (docs/internals/planner-contract.md): planners are pure code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError

COLLECTIONS = Path(__file__).resolve().parents[4] / "build" / "collections"
PURE = [
    "_planned", "_validation", "_addressing", "_sizes", "_nested_rules", "_nat_planner", "_switch_planner", "_vm_planner", "_vm_report",
    "_provision_planner", "_provision_answers", "_dhcp_planner", "_guest_proof", "_commands",
]


@pytest.mark.parametrize("module", PURE)
def test_planners_and_their_helpers_import_no_ansible_and_no_transport(module: str) -> None:
    code = (
        "import json, sys\n"
        f"import ansible_collections.hyperv.nested.plugins.plugin_utils.{module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'ansible' or m.startswith('ansible.') or m.endswith(('._target', '._target_scripts')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(COLLECTIONS)}, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_planning_error_joins_its_problems() -> None:
    error = PlanningError(["First.", "Second."], warnings=["careful"])
    assert (error.msg, str(error), error.problems, error.warnings) == ("First. Second.", "First. Second.", ["First.", "Second."], ["careful"])
    assert PlanningError("One.").problems == ["One."]


def test_planned_diff_carries_the_header_only_when_there_is_one() -> None:
    assert Planned([], before={"a": 1}, after={"a": 2}).diff == {"before": {"a": 1}, "after": {"a": 2}}
    assert Planned([{"kind": "start_vm"}], after_header="A started").diff["after_header"] == "A started"
    assert Planned([{"kind": "start_vm"}]).changed and not Planned([]).changed
