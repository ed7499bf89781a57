from __future__ import annotations

import base64
import json
import types
import typing as t

import pytest
from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.loader import shell_loader

from ansible_collections.hyperv.nested.plugins.plugin_utils._target import (
    TargetError,
    build_request,
    parse_response,
    run_script,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import EXECUTE, STUB


def test_request_carries_values_as_data_only() -> None:
    hostile = "x'; Remove-VM -Name * -Force; '\u2019$(calc)"
    request = json.loads(build_request("execute", {"operations": [{"kind": "start_vm", "vm": hostile}]}))
    assert request["hyperv_nested_request"] == 1
    assert request["script_name"] == "execute"
    assert request["script"] == EXECUTE
    assert hostile not in request["script"]
    assert request["parameters"]["operations"][0]["vm"] == hostile


def test_parse_ok() -> None:
    assert parse_response(0, '{"ok": true, "result": {"a": 1}}\r\n', "") == {"a": 1}


def test_parse_target_error_is_the_sentence() -> None:
    with pytest.raises(TargetError, match=r"^Hyper-V module is not installed"):
        parse_response(0, '{"ok": false, "error": {"message": "Hyper-V module is not installed."}}', "")


def test_parse_clixml_stderr_is_decoded() -> None:
    clixml = (
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        '<S S="Error">Access is denied._x000D__x000A_</S></Objs>'
    )
    with pytest.raises(TargetError) as caught:
        parse_response(1, "", clixml)
    assert "Access is denied." in caught.value.message
    assert "CLIXML" not in caught.value.message


@pytest.mark.parametrize("stdout", ["", "not json", "[1, 2]", '{"result": {}}', '{"ok": true}'])
def test_parse_rejects_malformed_answers(stdout: str) -> None:
    with pytest.raises(TargetError):
        parse_response(0, stdout, "")


class FakeAction:
    def __init__(self, outcome: dict[str, t.Any] | Exception) -> None:
        self._connection = types.SimpleNamespace(_shell=shell_loader.get("powershell"))
        self.outcome = outcome
        self.calls: list[tuple[str, bytes]] = []

    def _low_level_execute_command(self, cmd: str, sudoable: bool = True, in_data: bytes | None = None) -> dict[str, t.Any]:
        assert in_data is not None
        self.calls.append((cmd, in_data))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_run_script_sends_the_stub_and_one_request() -> None:
    action = FakeAction({"rc": 0, "stdout": '{"ok": true, "result": {"vms": []}}', "stderr": ""})
    assert run_script(t.cast(t.Any, action), "probe", {"sections": ["vms"]}) == {"vms": []}
    assert len(action.calls) == 1
    command = action.calls[0][0]
    prefix = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
    assert command.startswith(prefix)
    script = base64.b64decode(command[len(prefix) :]).decode("utf-16-le")
    assert script == "\n".join(line.strip() for line in STUB.splitlines() if line.strip())
    assert json.loads(action.calls[0][1])["parameters"] == {"sections": ["vms"]}


def test_run_script_reports_unreachable_hosts() -> None:
    action = FakeAction(AnsibleConnectionFailure("connection refused"))
    with pytest.raises(TargetError) as caught:
        run_script(t.cast(t.Any, action), "probe", {})
    assert caught.value.unreachable
    assert "connection refused" in caught.value.message


def test_connection_lost_during_the_executor_says_changes_may_be_made() -> None:
    action = FakeAction(ConnectionError("Connection aborted."))
    with pytest.raises(TargetError) as caught:
        run_script(t.cast(t.Any, action), "execute", {"operations": []})
    assert caught.value.unreachable and caught.value.changes_unknown
    assert "may have been made" in caught.value.message


def test_connection_lost_during_a_probe_changed_nothing() -> None:
    action = FakeAction(ConnectionResetError("reset by peer"))
    with pytest.raises(TargetError) as caught:
        run_script(t.cast(t.Any, action), "probe", {})
    assert caught.value.unreachable and not caught.value.changes_unknown
