# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Run one of the collection's fixed PowerShell scripts on the target.

Every call is one command over the task's connection: a fixed stub on the command line and a
JSON request on stdin (docs/internals/wire-protocol.md). User values travel only as JSON data.

The stub goes through the connection's own shell plugin (`_encode_script`), as ansible-core's
bootstrap does, so every transport sees `PowerShell ... -EncodedCommand <stub>`: winrm sends it
as is, psrp recognises the prefix and runs the decoded stub in its runspace with text input, and
ssh hands one line to Win32-OpenSSH's DefaultShell (cmd.exe runs only a command's first line).
A raw multi-line command would get `exit $LASTEXITCODE` appended and its stdin sent as byte
arrays by psrp, and be cut at its first line by cmd.exe. The request is ASCII JSON (`\\uXXXX`
escapes) and the stub escapes its answer the same way, so no console code page can garble it.
"""

from __future__ import annotations

import json
import typing as t

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action import ActionBase

from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import SCRIPTS, STUB

ScriptName = t.Literal["probe", "execute", "provision", "dhcp"]


class TargetError(Exception):
    """The target could not run the request, or answered with an error."""

    def __init__(self, message: str, *, unreachable: bool = False, changes_unknown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable
        # The connection broke while the executor ran: some or all of its changes may be made.
        self.changes_unknown = changes_unknown


def build_command(action: ActionBase) -> str:
    """The command line that runs STUB: encoded by the task connection's PowerShell shell plugin."""
    shell = action._connection._shell  # pylint: disable=protected-access
    encode = getattr(shell, "_encode_script", None)
    if encode is None:
        raise TargetError(
            f"hyperv.nested runs PowerShell on the host, but this connection uses the "
            f"'{getattr(shell, 'SHELL_FAMILY', shell)}' shell: set ansible_shell_type: powershell for this host."
        )
    # No strict mode (the scripts are written for the default mode) and no exit-code suffix: the
    # stub ends with its own `exit 0`, so a native command's exit code never becomes the rc.
    return str(encode(STUB, strict_mode=False, preserve_rc=False))


def build_request(script_name: ScriptName, parameters: dict[str, t.Any]) -> bytes:
    request = {
        "hyperv_nested_request": 1,
        "script_name": script_name,
        "script": SCRIPTS[script_name],
        "parameters": parameters,
    }
    # ASCII only: psrp turns stdin into text lines and consoles read it in their code page.
    return json.dumps(request, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def decode_stderr(stderr: str) -> str:
    """Turn CLIXML error records into plain text (the winrm plugin leaves some undecoded)."""
    text = stderr.strip()
    if text.startswith("#< CLIXML"):
        from ansible.plugins.shell.powershell import _parse_clixml

        text = _parse_clixml(text.encode("utf-8")).decode("utf-8", errors="replace").strip()
    return text


def parse_response(rc: int, stdout: str, stderr: str) -> dict[str, t.Any]:
    """Return the script's `result`, or raise TargetError with a sentence for the user."""
    if rc != 0:
        detail = decode_stderr(stderr) or stdout.strip() or "no output"
        raise TargetError(f"PowerShell on the target failed (rc={rc}): {detail}")
    body = stdout.strip()
    try:
        response = json.loads(body)
    except ValueError:
        shown = body[:300] or "nothing"
        raise TargetError(f"The target answered with something that is not JSON: {shown!r}") from None
    if not isinstance(response, dict) or "ok" not in response:
        raise TargetError(f"The target's answer has no 'ok' field: {body[:300]!r}")
    if not response["ok"]:
        error = response.get("error") or {}
        raise TargetError(str(error.get("message") or "The target reported an unspecified error."))
    result = response.get("result")
    if not isinstance(result, dict):
        raise TargetError("The target's answer has no 'result' object.")
    return result


def run_script(action: ActionBase, script_name: ScriptName, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
    """Send one request over the action's connection and return the parsed result."""
    command = build_command(action)
    try:
        outcome = action._low_level_execute_command(  # pylint: disable=protected-access
            command, sudoable=False, in_data=build_request(script_name, parameters)
        )
    except (AnsibleConnectionFailure, OSError) as exc:
        # Transports raise their own errors (requests' ConnectionError is an OSError) when a
        # connection drops mid-command; the task must still end in a sentence.
        if script_name == "execute" or (script_name in ("provision", "dhcp") and parameters.get("action") == "apply"):
            raise TargetError(
                f"Could not reach the host: the connection was lost while the changes were being applied ({exc}). "
                "Some or all of them may have been made; run the task again to finish them.",
                unreachable=True,
                changes_unknown=True,
            ) from exc
        raise TargetError(f"Could not reach the host: {exc}", unreachable=True) from exc
    return parse_response(int(outcome.get("rc", 1)), str(outcome.get("stdout", "")), str(outcome.get("stderr", "")))
