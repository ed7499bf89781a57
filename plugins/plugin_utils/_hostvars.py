# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Reading one host's variables from `hostvars` inside a filter, with errors that say which filter."""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def host_variables(hostvars: Mapping[str, t.Any], host: str, filter_name: str) -> Mapping[str, t.Any]:
    try:
        variables = hostvars[host]
    except KeyError:
        raise AnsibleFilterError(f"{filter_name}: the host {host!r} is not in hostvars.") from None
    if not isinstance(variables, Mapping):
        raise AnsibleFilterError(f"{filter_name}: hostvars[{host!r}] is not a mapping.")
    return variables
