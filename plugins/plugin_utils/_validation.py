# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Input checks shared by the modules: every error names the option, nothing reaches the target."""

from __future__ import annotations

import typing as t
import unicodedata

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError

# Hyper-V Manager and New-VM refuse longer names.
VM_NAME_MAX_LENGTH = 100


def name_problem(name: t.Any, max_length: int = VM_NAME_MAX_LENGTH) -> str | None:
    """Why `name` cannot name a Hyper-V object (VM, switch, adapter, NAT), or None when it can."""
    if not isinstance(name, str):
        return f"must be a string, got {type(name).__name__}"
    if not name.strip():
        return "is empty"
    if len(name) > max_length:
        return f"is {len(name)} characters long (at most {max_length} are allowed)"
    for char in name:
        if unicodedata.category(char) == "Cc":
            return f"contains the control character U+{ord(char):04X}"
    return None


def vm_name_problem(name: t.Any) -> str | None:
    """Why `name` cannot be a Hyper-V VM name, or None when it can."""
    return name_problem(name)


def validate_name(option: str, name: t.Any, what: str = "name") -> str:
    """Return `name` unchanged, or raise PlanningError naming `option` (switches, NATs, adapters)."""
    problem = name_problem(name)
    if problem:
        raise PlanningError(f"Option '{option}': the {what} {name!r} {problem}.")
    return t.cast(str, name)


def validate_vm_name(option: str, name: t.Any) -> str:
    """Return `name` unchanged, or raise PlanningError naming `option`."""
    problem = vm_name_problem(name)
    if problem:
        raise PlanningError(f"Option '{option}': the VM name {name!r} {problem}.")
    return t.cast(str, name)


def validate_vm_names(option: str, names: t.Sequence[t.Any]) -> list[str]:
    """Check every name; return them in order without repeats (Hyper-V names are case-insensitive).

    All problems are reported at once, so the user fixes the list in one go.
    """
    problems = []
    for index, name in enumerate(names):
        problem = vm_name_problem(name)
        if problem:
            problems.append(f"item {index + 1} ({name!r}) {problem}")
    if problems:
        raise PlanningError(f"Option '{option}': " + "; ".join(problems) + ".")
    unique: list[str] = []
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique
