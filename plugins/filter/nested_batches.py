# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group the hosts that run a role by parent, for one task per parent (documentation: nested_batches.yml)."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleError, AnsibleFilterError

_NAME = "nested_batches"


def _key(value: t.Any) -> str:
    """A comparable text for any value (dictionaries, lists and numbers included)."""
    return json.dumps(value, sort_keys=True, default=repr)


def _mark_of(hostvars: Mapping[str, t.Any], host: str, mark: str) -> t.Any:
    try:
        variables = hostvars[host]
    except (KeyError, AnsibleError):
        return None
    if not isinstance(variables, Mapping) or mark not in variables:
        return None
    try:
        return variables[mark]
    except AnsibleError as error:
        raise AnsibleFilterError(f"{_NAME}: the variable {mark!r} of {host!r} cannot be read: {error}") from None


def nested_batches(
    hosts: Iterable[str],
    hostvars: Mapping[str, t.Any],
    mark: str,
    run: str,
    key: str | None = None,
    select: str | None = None,
    flags: list[str] | None = None,
) -> dict[str, t.Any]:
    """The hosts among `hosts` whose variable `mark` is a mark of this `run`, grouped by parent (and by mark[key]).

    A mark is a dictionary a host sets for itself with set_fact when it runs the role:
    {run: <role_uuid>, parent: <nested_parent>, vm: <nested_vm_name>, ...}. Hosts that skipped
    the role (when, include_role, tags) set none, or one of another run, and are left out.
    """
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Iterable):
        raise AnsibleFilterError(f"{_NAME} expects a list of inventory host names as input, e.g. ansible_play_batch.")
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError(f"{_NAME}: 'hostvars' must be the hostvars magic variable.")
    if not isinstance(mark, str) or not mark or not isinstance(run, str) or not run:
        raise AnsibleFilterError(f"{_NAME}: 'mark' (a variable name) and 'run' (e.g. role_uuid) must be non-empty strings.")

    marked: list[str] = []
    flagged: dict[str, list[str]] = {str(flag): [] for flag in flags or []}
    groups: dict[tuple[str, str], dict[str, t.Any]] = {}
    for host in (str(name) for name in hosts):
        value = _mark_of(hostvars, host, mark)
        if not isinstance(value, Mapping) or value.get("run") != run:
            continue
        marked.append(host)
        for flag, members in flagged.items():
            if value.get(flag):
                members.append(host)
        if select is not None and not value.get(select):
            continue
        parent = value.get("parent")
        if not isinstance(parent, str) or not parent:
            raise AnsibleFilterError(f"{_NAME}: the mark of {host!r} has no parent; set nested_parent in the inventory.")
        values = value.get(key) if key is not None else None
        group = groups.setdefault(
            (parent, _key(values)), {"parent": parent, "acting": host, "hosts": [], "vms": [], "settings": values}
        )
        group["hosts"].append(host)
        group["vms"].append(value.get("vm"))
    by_acting = {group["acting"]: group for group in groups.values()}
    acting_for = {host: group["acting"] for group in groups.values() for host in group["hosts"]}
    return {"run": run, "hosts": marked, "groups": by_acting, "acting_for": acting_for, "flagged": flagged}


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_batches": nested_batches}
