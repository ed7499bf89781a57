# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group hosts by parent and by their own values of some settings (documentation: nested_settings_groups.yml)."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.plugin_utils._hostvars import host_variables

_NAME = "nested_settings_groups"


def _read(variables: Mapping[str, t.Any], host: str, name: str) -> t.Any:
    """The value of a host's variable (hostvars templates it on access); a clear error when that fails."""
    try:
        return variables[name]
    except AnsibleError as error:
        raise AnsibleFilterError(f"{_NAME}: the value of {name!r} for the host {host!r} cannot be read: {error}") from None


def _own_value(variables: Mapping[str, t.Any], host: str, name: str, defaults: Mapping[str, t.Any]) -> t.Any:
    """A host's own value of a setting: from hostvars (inventory, facts, extra vars), else the role default."""
    return _read(variables, host, name) if name in variables else defaults[name]


def _key(value: t.Any) -> str:
    """A comparable text for a value (lists, dictionaries and numbers included)."""
    return json.dumps(value, sort_keys=True, default=repr)


def nested_settings_groups(
    hosts: Iterable[str],
    hostvars: Mapping[str, t.Any],
    settings: Mapping[str, t.Any],
    defaults: Mapping[str, t.Any],
    host: str | None = None,
) -> dict[str, dict[str, t.Any]]:
    """Group `hosts` by their `nested_parent` and their own values of the variables in `settings`.

    The groups are keyed by the host that acts for them, their first host.

    `settings` holds the values as the calling task sees them, for `host`: its own inventory
    values, or values set for the play or the role, or the role's defaults (`defaults`). A value
    that differs from the one `host` has in hostvars (or from the default, where it has none) is
    set for the play or the role and counts for every host, as Ansible's precedence has it.
    Otherwise each host has its own value from hostvars, or the default.
    """
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Iterable):
        raise AnsibleFilterError(f"{_NAME} expects a list of inventory host names as input, e.g. ansible_play_batch.")
    if not isinstance(settings, Mapping) or not isinstance(defaults, Mapping):
        raise AnsibleFilterError(f"{_NAME}: 'settings' and 'defaults' must be dictionaries of variable name and value.")
    without_default = sorted(str(name) for name in settings if name not in defaults)
    if without_default:
        raise AnsibleFilterError(f"{_NAME}: 'defaults' has no value for {', '.join(without_default)} (give the role default of every setting).")
    names = [str(name) for name in settings]
    batch = [str(name) for name in hosts]
    if host is None:
        if not batch:
            return {}
        host = batch[0]

    # Which settings the play or the role sets (the same for every host).
    seen_by = host_variables(hostvars, str(host), _NAME)
    shared: dict[str, t.Any] = {}
    for name in names:
        if _key(settings[name]) != _key(_own_value(seen_by, str(host), name, defaults)):
            shared[name] = settings[name]

    groups: dict[tuple[str, str], dict[str, t.Any]] = {}
    for member in batch:
        variables = host_variables(hostvars, member, _NAME)
        parent = variables.get("nested_parent")
        if not isinstance(parent, str) or not parent:
            raise AnsibleFilterError(f"{_NAME}: the host {member!r} has no 'nested_parent'; set it in the inventory.")
        values = {name: shared[name] if name in shared else _own_value(variables, member, name, defaults) for name in names}
        group = groups.setdefault((parent, _key(values)), {"parent": parent, "acting": member, "hosts": [], "settings": values})
        group["hosts"].append(member)
    return {group["acting"]: group for group in groups.values()}


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_settings_groups": nested_settings_groups}
