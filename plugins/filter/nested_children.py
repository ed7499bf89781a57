# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Select the nested children of one host from inventory (documentation: nested_children.yml)."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.plugin_utils._hostvars import host_variables

try:
    import jmespath

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - reported when the filter is used
    HAS_JMESPATH = False

_MISSING = object()


def _literal(value: t.Any) -> str:
    """A JMESPath JSON literal for a value (backticks inside it are escaped)."""
    return "`" + json.dumps(value).replace("`", "\\`") + "`"


def nested_children(
    hosts: Iterable[str],
    hostvars: Mapping[str, t.Any],
    parent: str,
    attribute: str | None = None,
    match: Mapping[str, t.Any] | None = None,
) -> list[t.Any]:
    """Return the hosts among `hosts` whose `nested_parent` is `parent` (or their `attribute`)."""
    if not HAS_JMESPATH:
        raise AnsibleFilterError("nested_children needs the Python library 'jmespath' on the controller: pip install jmespath")
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Iterable):
        raise AnsibleFilterError("nested_children expects a list of inventory host names as input, e.g. groups['nested_hosts'].")
    if not isinstance(parent, str) or not parent:
        raise AnsibleFilterError("nested_children: 'parent' must be the inventory name of the parent host.")
    conditions = {f"m{index}": (key, value) for index, (key, value) in enumerate((match or {}).items())}

    records = []
    for host in hosts:
        variables = host_variables(hostvars, str(host), "nested_children")
        record: dict[str, t.Any] = {"host": str(host), "parent": variables.get("nested_parent")}
        for field, (key, _value) in conditions.items():
            record[field] = variables.get(key)
        if attribute is not None:
            record["value"] = variables.get(attribute, _MISSING)
        records.append(record)

    clauses = [f"parent == {_literal(parent)}"] + [f"{field} == {_literal(value)}" for field, (_key, value) in conditions.items()]
    selected: list[dict[str, t.Any]] = jmespath.search(f"[?{' && '.join(clauses)}]", records) or []

    if attribute is None:
        return [record["host"] for record in selected]
    missing = [record["host"] for record in selected if record["value"] is _MISSING]
    if missing:
        raise AnsibleFilterError(f"nested_children: the host(s) {', '.join(missing)} have no variable {attribute!r}; set it in the inventory.")
    return [record["value"] for record in selected]


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_children": nested_children}
