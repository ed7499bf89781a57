# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape win_nested_info findings for the roles (documentation: nested_findings.yml, nested_finding_line.yml)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError


def nested_findings(findings: Iterable[Mapping[str, t.Any]] | None, where: str, level: str, deferred_codes: Iterable[str] = ()) -> list[dict[str, t.Any]]:
    """Each finding with where it was found, and whether a later role fixes it (its code is deferred)."""
    deferred = set(deferred_codes or ())
    shaped = []
    for finding in findings or []:
        if not isinstance(finding, Mapping) or "code" not in finding:
            raise AnsibleFilterError(f"nested_findings expects win_nested_info findings (code, msg, fix), got {finding!r}")
        shaped.append({**finding, "where": where, "level": level, "deferred": finding["code"] in deferred})
    return shaped


def nested_finding_line(finding: Mapping[str, t.Any], label: str = "BLOCKER") -> str:
    """One readable line: label, reason code, where, message, fix."""
    text = f"{label} [{finding.get('code')}] {finding.get('where', '?')}: {finding.get('msg', '')}"
    if finding.get("fix"):
        text += f" Fix: {finding['fix']}"
    if finding.get("deferred"):
        text += " (the following roles fix this)"
    return text


class FilterModule:
    """hyperv.nested filters for findings."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_findings": nested_findings, "nested_finding_line": nested_finding_line}
