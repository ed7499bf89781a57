# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Turn the executor's per-operation report (docs/internals/wire-protocol.md §3) into the
`operations` return value every changing module shares, and into the sentence of a failure."""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import render
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import Operation


def _unchanged(text: t.Any) -> t.Any:
    return text


def operation_reports(
    operations: t.Sequence[Operation], outcome: dict[str, t.Any], scrub: Callable[[t.Any], t.Any] = _unchanged
) -> list[dict[str, t.Any]]:
    """One entry per planned operation: its command line, status (ok, failed, not_run), the
    host's message and how long it took. Operations the host did not report count as not run."""
    reports = list(outcome.get("operations") or [])
    entries = []
    for index, operation in enumerate(operations):
        report = reports[index] if index < len(reports) and isinstance(reports[index], dict) else {}
        entries.append(
            {
                "command": render(operation),
                "status": report.get("status", "not_run"),
                "message": scrub(report.get("message")),
                "duration_ms": report.get("duration_ms", 0),
            }
        )
    return entries


def applied_any(entries: list[dict[str, t.Any]]) -> bool:
    return any(entry["status"] == "ok" for entry in entries)


def failure_sentence(entries: list[dict[str, t.Any]], failed_index: t.Any) -> str:
    """'Operation 3 of 6 failed: <command>: <message> (2 before it were applied; the rest were not run).'"""
    applied = sum(1 for entry in entries if entry["status"] == "ok")
    tail = f"({applied} operation(s) before it were applied; the rest were not run)."
    if not isinstance(failed_index, int) or not 0 <= failed_index < len(entries):
        # Not an operation this module sent: say so rather than guess which one it was.
        return f"The host reported a failure at operation {failed_index!r} of {len(entries)} {tail}"
    failed = entries[failed_index]
    reason = str(failed["message"] or "no reason given").rstrip(".")
    return f"Operation {failed_index + 1} of {len(entries)} failed: {failed['command']}: {reason}. {tail}"
