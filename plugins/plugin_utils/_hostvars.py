# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Reading one host's variables from `hostvars` inside a filter, with errors that say which filter.

Each `hostvars[host]` makes ansible-core compute all of that host's variables (a few milliseconds with
hundreds of hosts), and Jinja templates a task variable again at every reference: a task that names a
list of children three times scanned the whole fleet three times. Inside a worker process (one task on
one host, the inventory and facts frozen as they were when it started) a host's variables are read once
per `hostvars` object; the controller's main process, where facts change between tasks, never keeps them.
"""

from __future__ import annotations

import multiprocessing
import typing as t
import weakref
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_READS: dict[int, dict[str, Mapping[str, t.Any]]] = {}


def _reads_of(hostvars: Mapping[str, t.Any]) -> dict[str, Mapping[str, t.Any]] | None:
    """This worker's reads through `hostvars`, or None where they must not be kept."""
    if multiprocessing.parent_process() is None:
        return None
    key = id(hostvars)
    reads = _READS.get(key)
    if reads is None:
        try:
            weakref.finalize(hostvars, _READS.pop, key, None)
        except TypeError:  # not weak-referenceable (a plain dict): nothing would drop the entry
            return None
        reads = _READS[key] = {}
    return reads


def host_variables(hostvars: Mapping[str, t.Any], host: str, filter_name: str) -> Mapping[str, t.Any]:
    reads = _reads_of(hostvars)
    if reads is not None and host in reads:
        return reads[host]
    try:
        variables = hostvars[host]
    except KeyError:
        raise AnsibleFilterError(f"{filter_name}: the host {host!r} is not in hostvars.") from None
    if not isinstance(variables, Mapping):
        raise AnsibleFilterError(f"{filter_name}: hostvars[{host!r}] is not a mapping.")
    if reads is not None:
        reads[host] = variables
    return variables
