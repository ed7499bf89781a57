"""PSRP behind the WinRM endpoint, driven by pypsrp (the library ansible's psrp plugin uses)."""

from __future__ import annotations

import base64
import typing as t

import pytest
from hvsim.winrm import CommandResult, Endpoint
from pypsrp.complex_objects import PSInvocationState
from pypsrp.exceptions import WSManFaultError
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

USER, PASSWORD = "Administrator", "Passw0rd!"
CLIXML_ERROR = (
    b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<S S="Error">Access is denied._x000D__x000A_</S></Objs>'
)


class Backend:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str | None]] = []
        self.result = CommandResult(0, b'{"ok":true}\r\n', b"")

    def reachable(self, host: str) -> bool:
        return True

    def credentials(self, host: str) -> tuple[str, str]:
        return USER, PASSWORD

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        self.calls.append((command_line, stdin, user))
        return self.result


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def pool(backend: Backend) -> t.Iterator[tuple[RunspacePool, PSHost]]:
    with Endpoint("hv01", backend) as endpoint:
        wsman = WSMan("127.0.0.1", port=endpoint.port, username=USER, password=PASSWORD, ssl=False, auth="ntlm",
                      cert_validation=False, encryption="always")
        host = PSHost(None, None, False, "test host", None, PSHostUserInterface(), None)
        with RunspacePool(wsman, host=host) as runspace:
            yield runspace, host


def decoded(command_line: str) -> str:
    return base64.b64decode(command_line.rsplit(" ", 1)[1]).decode("utf-16-le")


def test_the_script_runs_in_the_runspace_with_text_input(pool: tuple[RunspacePool, PSHost], backend: Backend) -> None:
    runspace, host = pool
    ps = PowerShell(runspace)
    ps.add_script("$input | Out-String", use_local_scope=True)
    assert ps.invoke(input=['{"a": "\u00e9"}', "second line"]) == ['{"ok":true}']
    assert not ps.had_errors and not ps.streams.error and not host.rc
    command_line, stdin, user = backend.calls[0]
    assert decoded(command_line) == "$input | Out-String"
    assert stdin.decode("utf-8") == '{"a": "\u00e9"}\nsecond line'
    assert user == USER


def test_bytes_input_reaches_the_script_as_numbers_like_on_windows(pool: tuple[RunspacePool, PSHost], backend: Backend) -> None:
    runspace, _host = pool
    ps = PowerShell(runspace)
    ps.add_script("@($input) -join \"`n\"")
    ps.invoke(input=[b'{"a"', b"1}"])
    assert backend.calls[0][1] == b"123 34 97 34\n49 125"


def test_a_non_zero_exit_code_reaches_the_host_and_errors_the_error_stream(pool: tuple[RunspacePool, PSHost], backend: Backend) -> None:
    runspace, host = pool
    backend.result = CommandResult(5, b"partial\r\n", CLIXML_ERROR)
    ps = PowerShell(runspace)
    ps.add_script("exit 5")
    assert ps.invoke() == ["partial"]
    assert host.rc == 5  # what ansible's psrp plugin reports as the rc
    assert [str(error) for error in ps.streams.error] == ["Access is denied."]


def test_large_output_comes_back_whole_over_several_receives(pool: tuple[RunspacePool, PSHost], backend: Backend) -> None:
    runspace, _host = pool
    line = "x" * 1000
    backend.result = CommandResult(0, ("\r\n".join([line] * 400) + "\r\n").encode(), b"")
    ps = PowerShell(runspace)
    ps.add_script("big")
    assert ps.invoke() == [line] * 400


def test_pipelines_run_one_after_another_in_one_pool(pool: tuple[RunspacePool, PSHost], backend: Backend) -> None:
    runspace, _host = pool
    last = None
    for index in range(3):
        if last is not None:
            # What ansible's psrp plugin does with the previous pipeline before the next one.
            last.state = PSInvocationState.RUNNING
            last.stop()
        last = PowerShell(runspace)
        last.add_script(f"step {index}")
        last.invoke()
    assert [decoded(call[0]) for call in backend.calls] == ["step 0", "step 1", "step 2"]


def test_an_unknown_session_configuration_is_refused(backend: Backend) -> None:
    with Endpoint("hv01", backend) as endpoint:
        wsman = WSMan("127.0.0.1", port=endpoint.port, username=USER, password=PASSWORD, ssl=False, auth="ntlm",
                      cert_validation=False)
        with pytest.raises(WSManFaultError, match="resource URI"):
            RunspacePool(wsman, configuration_name="Other.Endpoint").open()
    assert backend.calls == []
