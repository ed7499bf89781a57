"""Recorded answers for the characterisation tests: a module's whole answer per scenario, pinned in a JSON file.

After an intended change, re-record with HVN_RECORD_GOLDEN=1 and review the JSON diff.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import typing as t
from pathlib import Path
from types import ModuleType

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError


def load_golden(path: Path, record: t.Callable[[], dict[str, t.Any]]) -> dict[str, t.Any]:
    """The recorded answers in `path`; written first from `record()` when HVN_RECORD_GOLDEN=1."""
    if os.environ.get("HVN_RECORD_GOLDEN") == "1":
        path.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return t.cast(dict[str, t.Any], json.loads(path.read_text(encoding="utf-8")))


def codes_in(answer: t.Any) -> t.Iterator[str]:
    """Every reason code (a `code` key) anywhere in an answer."""
    if isinstance(answer, dict):
        if "code" in answer:
            yield answer["code"]
        for value in answer.values():
            yield from codes_in(value)
    elif isinstance(answer, list):
        for value in answer:
            yield from codes_in(value)


def planner_answer(planner: ModuleType, arguments: dict[str, t.Any], answer: dict[str, t.Any]) -> dict[str, t.Any]:
    """A script planner's whole answer (`inspect_parameters`, `plan`, `render_step`) to one scenario, a refusal
    as its sentence; the planner must leave its inputs as they were."""
    before = copy.deepcopy((arguments, answer))
    result: dict[str, t.Any] = {"inspect_parameters": planner.inspect_parameters(arguments)}
    try:
        planned = planner.plan(arguments, answer)
    except PlanningError as exc:
        result["problem"] = str(exc)
    else:
        result["planned"] = dataclasses.asdict(planned)
        result["changed"] = planned.changed
        result["commands"] = [planner.render_step(step) for step in planned.operations]
    assert (arguments, answer) == before, "the planner must not change its inputs"
    return result
