"""Windows PowerShell's own logging of the collection's requests (lab `module_logging: true`, RULES #61).

Two Group Policy settings an operator's host may have (about_Group_Policy_Settings, about_Logging_Windows):

- "Turn on Module Logging" for `Microsoft.PowerShell.*`: event 4103 for every command of those
  modules that a pipeline runs, with `CommandInvocation(<name>)` and one
  `ParameterBinding(<name>): name="<parameter>"; value="<value as text>"` per bound parameter,
  pipeline input included. Functions a script defines belong to no module and are not logged;
  .NET method calls, `foreach` statements and operators are no commands and are not logged.
- "Turn on PowerShell Script Block Logging": event 4104 with the text of each script block.

The simulator runs no PowerShell. It reads the stub (the command line) and the request's script
text for the places where request data reaches a logged command, as Windows would log them:

1. the stub's parse of stdin: `... | ConvertFrom-Json` or `ConvertFrom-Json -InputObject ...`
   binds the whole request text (InputObject);
2. in a script, a pipeline whose input is a field of the request parameters (`$Parameters.<field> |
   <Cmdlet>` or `@($Parameters.<field>) | <Cmdlet>`; provision.ps1 and dhcp.ps1 call the same object
   `$Request`) binds each item, as PowerShell prints it (`@{name=value; ...}` for an object), to
   the cmdlet's InputObject;
3. `ConvertTo-SecureString` with `-AsPlainText` in a script binds the request's passwords (String).

Events 4104 carry the stub's and the script's text, never the request data.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .session import Session

# Commands of the Microsoft.PowerShell.* modules (and the Core snap-in) that take pipeline input
# or a value worth logging; a name not listed here is taken for a function of the script.
LOGGED_COMMANDS = frozenset(name.lower() for name in (
    "ConvertFrom-Json", "ConvertTo-Json", "ConvertTo-SecureString", "ConvertFrom-SecureString", "ForEach-Object",
    "Where-Object", "Select-Object", "Sort-Object", "Group-Object", "Measure-Object", "Tee-Object", "Out-String",
    "Out-File", "Out-Null", "Out-Default", "Write-Output", "Write-Verbose", "Write-Debug", "Write-Host",
    "Write-Warning", "Write-Error", "Write-Information", "Set-Content", "Add-Content", "Add-Member", "New-Object",
    "Export-Clixml", "Format-List", "Format-Table",
))
# A cap per host, so a long benchmark does not grow the state file without end.
MAX_EVENTS = 5000

_COMMENT = re.compile(r"^\s*#.*$", re.MULTILINE)
_STUB_PARSE = re.compile(r"\|\s*(?:Microsoft\.PowerShell\.Utility\\)?ConvertFrom-Json\b|"
                         r"(?:Microsoft\.PowerShell\.Utility\\)?ConvertFrom-Json\s+-InputObject\b", re.IGNORECASE)
_PIPELINE = re.compile(r"\$(?:Parameters|Request)\.(\w+)\s*\)?\s*\|\s*(?:[\w.]+\\)?([A-Za-z]+-[A-Za-z]+)")
_PLAIN_SECURE_STRING = re.compile(r"ConvertTo-SecureString\b[^\n]*-AsPlainText", re.IGNORECASE)


def as_text(value: Any) -> str:
    """A value as PowerShell prints it in a ParameterBinding (PSObject.ToString)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "@{" + "; ".join(f"{key}={as_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return " ".join(as_text(item) for item in value)
    return str(value)


def _binding(command: str, parameter: str, value: Any) -> dict[str, Any]:
    return {"id": 4103, "command": command,
            "payload": f'CommandInvocation({command}): "{command}"\n'
                       f'ParameterBinding({command}): name="{parameter}"; value="{as_text(value)}"'}


def _script_block(text: str) -> dict[str, Any]:
    return {"id": 4104, "payload": f"Creating Scriptblock text (1 of 1):\n{text}"}


def _passwords(value: Any, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [found for name, item in value.items() for found in _passwords(item, str(name))]
    if isinstance(value, list):
        return [found for item in value for found in _passwords(item, key)]
    return [str(value)] if "password" in key.lower() and value is not None else []


def events_for(stub: str, stdin_text: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """What Windows logs for one request: the stub's and the script's text, and the bindings above."""
    script = request.get("script") if isinstance(request.get("script"), str) else ""
    parameters = request.get("parameters") if isinstance(request.get("parameters"), dict) else {}
    events = [_script_block(stub)]
    if _STUB_PARSE.search(_COMMENT.sub("", stub)):
        events.append(_binding("ConvertFrom-Json", "InputObject", stdin_text.strip()))
    events.append(_script_block(script))
    code = _COMMENT.sub("", script)
    for field, command in _PIPELINE.findall(code):
        if command.lower() not in LOGGED_COMMANDS or field not in parameters:
            continue
        items = parameters[field]
        for item in items if isinstance(items, list) else [items]:
            events.append(_binding(command, "InputObject", item))
    if _PLAIN_SECURE_STRING.search(code):
        events += [_binding("ConvertTo-SecureString", "String", password) for password in _passwords(parameters)]
    return events


def record_request(session: Session, stub: str, stdin: bytes, request: dict[str, Any]) -> None:
    """Append the request's events to the host's PowerShell log when its lab turns module logging on."""
    state = session.host.os_state
    if not state.module_logging or state.language_mode != "FullLanguage":
        return
    text = stdin.decode("utf-8-sig", errors="replace")
    events = events_for(stub, text, request)
    with session.lock:
        state.powershell_log.extend(json.loads(json.dumps(events)))
        del state.powershell_log[:-MAX_EVENTS]
        session.changed()
