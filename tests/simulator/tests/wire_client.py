"""Send one collection request to a simulated host the way ansible's winrm plugin does."""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple

from winrm.protocol import Protocol

from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import SCRIPTS, STUB


class Reply(NamedTuple):
    rc: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout))


def stub_command_line() -> str:
    # ansible-core's _encode_script strips every line and drops the blank ones.
    script = "\r\n".join(line.strip() for line in STUB.splitlines() if line.strip())
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    return f"PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {encoded}"


def request_bytes(script_name: str, parameters: dict[str, Any]) -> bytes:
    request = {"hyperv_nested_request": 1, "script_name": script_name, "script": SCRIPTS[script_name],
               "parameters": parameters}
    return json.dumps(request).encode()


def send(url: str, username: str, password: str, script_name: str, parameters: dict[str, Any],
         read_timeout_s: int = 10) -> Reply:
    protocol = Protocol(url, transport="ntlm", username=username, password=password,
                        message_encryption="always", server_cert_validation="ignore",
                        read_timeout_sec=read_timeout_s, operation_timeout_sec=read_timeout_s - 2)
    shell = protocol.open_shell(codepage=65001)
    try:
        command = protocol.run_command(shell, stub_command_line())
        protocol.send_command_input(shell, command, request_bytes(script_name, parameters), end=True)
        stdout, stderr, rc = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
    finally:
        protocol.close_shell(shell)
    return Reply(rc, stdout.decode(), stderr.decode())
