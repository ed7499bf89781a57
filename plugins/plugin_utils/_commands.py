# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Render executor operations as the PowerShell lines an operator would type.

The lines are for people (the `commands` return value); the executor never runs them.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import Operation

# PowerShell treats these as quote characters too, so they must be doubled inside '...'.
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
# Wildcard characters of -Name patterns, and the backtick that escapes them.
_WILDCARD = re.compile(r"[*?\[\]`]")


def quote(value: str) -> str:
    """A PowerShell single-quoted literal for any string."""
    escaped = "".join(ch + ch if ch in _SINGLE_QUOTES else ch for ch in value)
    return f"'{escaped}'"


def literal(value: t.Any) -> str:
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(literal(item) for item in value) if value else "@()"
    if value is None:
        return "$null"
    return quote(str(value))


def vm_reference(name: str) -> str:
    """How an operator selects one VM by its exact name (-VMName would be a wildcard)."""
    if _WILDCARD.search(name):
        return f"(Get-VM | Where-Object Name -eq {quote(name)})"
    return f"(Get-VM -Name {quote(name)})"


def _parameters(parameters: dict[str, t.Any]) -> str:
    parts = []
    for name, value in parameters.items():
        if value is True and name in _SWITCHES:
            parts.append(f"-{name}")
        elif value is False and name in _SWITCHES:
            parts.append(f"-{name}:$false")
        else:
            parts.append(f"-{name} {literal(value)}")
    return " ".join(parts)


# Switch parameters of the cmdlets we emit: rendered bare, the way people type them.
_SWITCHES = frozenset({"Force", "TurnOff", "AsJob", "Passthru", "Confirm", "WhatIf", "ResetServerAddresses"})


def render(operation: Operation) -> str:
    kind = operation["kind"]
    if kind == "cmdlet":
        selector = ""
        if operation.get("adapter_id"):
            selector = (
                f"-VMNetworkAdapter (Get-VMNetworkAdapter -VM {vm_reference(operation['vm'])} | "
                f"Where-Object Id -eq {quote(operation['adapter_id'])})"
            )
        elif operation.get("vm"):
            selector = f"-VM {vm_reference(operation['vm'])}"
        elif operation.get("switch_adapter"):
            selector = f"-InterfaceAlias {quote('vEthernet (' + str(operation['switch_adapter']) + ')')}"
        words = [operation["cmdlet"], selector, _parameters(operation.get("parameters") or {})]
        return " ".join(word for word in words if word)
    if kind == "stop_vm":
        if operation.get("mode") == "turn_off":
            return f"Stop-VM -VM {vm_reference(operation['vm'])} -TurnOff -Force"
        return f"Stop-VM -VM {vm_reference(operation['vm'])} -Force" + (" -AsJob" if operation.get("wait") is False else "")
    if kind in ("start_vm", "ensure_running"):
        return f"Start-VM -VM {vm_reference(operation['vm'])}"
    if kind == "wait_vm":
        condition = ".State -ne 'Off'" if operation.get("state") == "Off" else ".Heartbeat -notlike 'Ok*'"
        return f"while ({vm_reference(operation['vm'])}{condition}) {{ Start-Sleep -Seconds 1 }}"
    if kind == "clear_restart_mark":
        mark = f"('hyperv.nested\\restart-marks\\' + {vm_reference(operation['vm'])}.Id + '.json')"
        return f"Remove-Item -LiteralPath (Join-Path $env:ProgramData {mark})"
    if kind == "guest":
        inner = "; ".join(render(nested) for nested in operation.get("operations") or [])
        return (
            f"Invoke-Command -VMId {vm_reference(operation['vm'])}.Id -Credential (Get-Credential "
            f"{quote(operation.get('username') or '')}) -ScriptBlock {{ {inner} }}"
        )
    raise ValueError(f"unknown operation kind {kind!r}")


def render_all(operations: t.Iterable[Operation]) -> list[str]:
    return [render(operation) for operation in operations]
