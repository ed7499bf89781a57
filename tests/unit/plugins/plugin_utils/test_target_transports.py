"""The request reaches the target the same way over winrm, psrp and ssh: the STUB encoded by the
connection's own shell plugin, the request as ASCII text on stdin. These run ansible-core's real
connection plugins up to the point where they would touch the network."""

from __future__ import annotations

import base64
import json
import typing as t

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader, shell_loader

from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError, build_request, run_script
from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import STUB

PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
ANSWER = {"ok": True, "result": {"vms": []}}
NON_ASCII = "Ünïcødé-VM \u2019\u201c Ωμέγα 日本 \U0001f600"


class ConnectionAction:
    """Just enough of ActionBase: _low_level_execute_command hands the command to a real connection."""

    def __init__(self, connection: t.Any) -> None:
        self._connection = connection

    def _low_level_execute_command(self, cmd: str, sudoable: bool = True, in_data: bytes | None = None) -> dict[str, t.Any]:
        rc, stdout, stderr = self._connection.exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return {"rc": rc, "stdout": stdout.decode("utf-8"), "stderr": stderr.decode("utf-8")}


def decoded(command: str) -> str:
    assert command.startswith(PREFIX), command[:120]
    return base64.b64decode(command[len(PREFIX) :]).decode("utf-16-le")


def test_psrp_runs_the_stub_in_the_runspace_with_text_input(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = connection_loader.get("psrp", PlayContext(), None)
    seen: dict[str, t.Any] = {}

    def fake_exec(script: str, input_data: t.Any = None, use_local_scope: bool = True, arguments: t.Any = None) -> tuple[int, bytes, bytes]:
        seen.update(script=script, input_data=input_data)
        return 0, json.dumps(ANSWER).encode(), b""

    monkeypatch.setattr(connection, "_exec_psrp_script", fake_exec)
    monkeypatch.setattr(connection, "_connected", True)
    monkeypatch.setattr(connection, "_psrp_host", "hv01", raising=False)
    assert run_script(t.cast(t.Any, ConnectionAction(connection)), "probe", {"vm_names": [NON_ASCII]}) == {"vms": []}
    # The plugin recognised the encoded prefix and decoded it: no `exit $LASTEXITCODE` appended, so
    # a native command's exit code inside the scripts cannot become the task's rc.
    assert "$LASTEXITCODE" not in seen["script"]
    assert "DeserializeObject" in seen["script"]
    # Input arrives as text lines (not bytes, which pypsrp would send as byte arrays).
    assert all(isinstance(line, str) for line in seen["input_data"])
    request = json.loads("\n".join(seen["input_data"]))
    assert request["parameters"]["vm_names"] == [NON_ASCII]


def test_ssh_sends_one_encoded_command_line_that_cmd_exe_runs_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = connection_loader.get("ssh", PlayContext(), None, shell=shell_loader.get("powershell"))
    seen: dict[str, t.Any] = {}

    def fake_run(cmd: list[bytes], in_data: bytes | None, sudoable: bool = True, checkrc: bool = True) -> tuple[int, bytes, bytes]:
        seen.update(cmd=cmd, in_data=in_data)
        return 0, json.dumps(ANSWER).encode(), b""

    monkeypatch.setattr(connection, "_run", fake_run)
    monkeypatch.setattr(connection, "get_option", lambda name, *a, **k: {"ssh_executable": "ssh", "use_tty": True}.get(name))
    monkeypatch.setattr(connection, "_build_command", lambda binary, subsystem, *args: [binary, *args])
    assert run_script(t.cast(t.Any, ConnectionAction(connection)), "probe", {}) == {"vms": []}
    remote_command = seen["cmd"][-1]
    # cmd.exe (Win32-OpenSSH's default shell) runs the first line only: the command must be one line.
    assert "\n" not in remote_command and "\r" not in remote_command
    assert "DeserializeObject" in decoded(remote_command)
    assert len(remote_command) < 8191  # cmd.exe's command line limit


def test_winrm_sends_the_encoded_command_without_encoding_it_again(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = connection_loader.get("winrm", PlayContext(), None)
    monkeypatch.setattr(connection, "_connected", True)  # exec_command connects first otherwise
    seen: dict[str, t.Any] = {}

    def fake_exec(command: str, args: list[str], from_exec: bool = False, stdin_iterator: t.Any = None) -> tuple[int, bytes, bytes]:
        seen.update(command=command, args=args, stdin=b"".join(chunk for chunk, _end in stdin_iterator))
        return 0, json.dumps(ANSWER).encode(), b""

    monkeypatch.setattr(connection, "_winrm_exec", fake_exec)
    run_script(t.cast(t.Any, ConnectionAction(connection)), "probe", {})
    line = " ".join([seen["command"], *seen["args"]])
    assert "DeserializeObject" in decoded(line)
    assert seen["stdin"].isascii()


def test_the_request_on_stdin_is_ascii_and_round_trips_any_character() -> None:
    body = build_request("execute", {"operations": [{"vm": NON_ASCII, "password": "pässwörd€"}]})
    assert body.isascii()
    assert json.loads(body)["parameters"]["operations"][0] == {"vm": NON_ASCII, "password": "pässwörd€"}


def test_the_stub_escapes_non_ascii_output_and_ends_with_exit_0() -> None:
    code = [line.strip() for line in STUB.splitlines() if line.strip() and not line.strip().startswith("#")]
    # Every character outside ASCII leaves as a \uXXXX escape, so no console code page can garble it ...
    assert any("[regex]::Replace(" in line and "'[^\\x00-\\x7F]'" in line and "'\\u{0:x4}'" in line for line in code)
    # ... and the exit code is the STUB's own, whatever native command ran before it.
    assert code[-1] == "exit 0"


def test_a_connection_without_a_powershell_shell_gets_a_sentence() -> None:
    connection = connection_loader.get("ssh", PlayContext(), None, shell=shell_loader.get("sh"))
    with pytest.raises(TargetError, match="ansible_shell_type"):
        run_script(t.cast(t.Any, ConnectionAction(connection)), "probe", {})
