"""Reading L0 hosts: the command line and request every transport sends, pywinrm and pypsrp driven
the way the connection plugins drive them (the libraries' own classes replaced at the boundary),
bounded concurrency, and failures as sentences without secrets."""

from __future__ import annotations

import base64
import json
import threading
import time
import typing as t

import pytest
import requests.exceptions
import winrm.exceptions

from ansible_collections.hyperv.nested.plugins.plugin_utils import _inventory_remote as remote
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import HostEntry, settings_from_options
from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import SCRIPTS, STUB

from .test_inventory_settings import DEFAULTS

ANSWER = {"ok": True, "result": {"host": {"computer_name": "HV01"}, "vms": {"vms": []}}}
PREFIX = ["PowerShell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Unrestricted", "-EncodedCommand"]


def connection(**options: t.Any) -> t.Any:
    return settings_from_options({**DEFAULTS, **options}.__getitem__).connection


def test_the_command_line_is_the_encoded_stub_short_enough_for_cmd_exe() -> None:
    command = remote.command_line()
    assert command[:6] == PREFIX and len(command) == 7
    decoded = base64.b64decode(command[6]).decode("utf-16-le")
    # ansible-core's _encode_script drops blank lines and strips each line; nothing else changes.
    assert decoded == "\n".join(line.strip() for line in STUB.splitlines() if line.strip())
    assert len(" ".join(command)) < 8000


def test_the_request_is_the_probe_for_host_and_every_vm_in_ascii() -> None:
    request = remote.probe_request()
    request.decode("ascii")
    parsed = json.loads(request)
    assert parsed == {
        "hyperv_nested_request": 1,
        "script_name": "probe",
        "script": SCRIPTS["probe"],
        "parameters": {"sections": ["host", "vms"], "vm_names": None},
    }


class FakeProtocol:
    """winrm.Protocol as the plugin uses it; records every call."""

    instances: t.ClassVar[list[FakeProtocol]] = []
    outputs: t.ClassVar[list[t.Any]] = []

    def __init__(self, endpoint: str, **kwargs: t.Any) -> None:
        self.endpoint = endpoint
        self.kwargs = kwargs
        self.calls: list[tuple[t.Any, ...]] = []
        self.stdin = b""
        FakeProtocol.instances.append(self)

    def open_shell(self, codepage: int) -> str:
        self.calls.append(("open_shell", codepage))
        return "SHELL"

    def run_command(self, shell_id: str, command: str, arguments: list[str], console_mode_stdin: bool) -> str:
        self.calls.append(("run_command", shell_id, command, list(arguments), console_mode_stdin))
        return "CMD"

    def send_command_input(self, shell_id: str, command_id: str, data: bytes, end: bool) -> None:
        self.calls.append(("send", len(data), end))
        self.stdin += data

    def get_command_output_raw(self, shell_id: str, command_id: str) -> tuple[bytes, bytes, int, bool]:
        self.calls.append(("receive",))
        output = FakeProtocol.outputs.pop(0)
        if isinstance(output, Exception):
            raise output
        return t.cast(tuple[bytes, bytes, int, bool], output)

    def cleanup_command(self, shell_id: str, command_id: str) -> None:
        self.calls.append(("cleanup", shell_id, command_id))

    def close_shell(self, shell_id: str) -> None:
        self.calls.append(("close", shell_id))


@pytest.fixture
def fake_winrm(monkeypatch: pytest.MonkeyPatch) -> type[FakeProtocol]:
    FakeProtocol.instances = []
    FakeProtocol.outputs = []
    monkeypatch.setattr(remote, "Protocol", FakeProtocol)
    return FakeProtocol


def test_winrm_runs_the_stub_with_the_request_on_stdin_like_the_winrm_plugin(fake_winrm: type[FakeProtocol]) -> None:
    body = json.dumps(ANSWER).encode()
    fake_winrm.outputs = [winrm.exceptions.WinRMOperationTimeoutError(), (body[:10], b"", -1, False), (body[10:], b"", 0, True)]
    conn = connection(scheme="http", message_encryption="always", ca_cert="/ca.pem", connection_timeout=12)
    reading = remote.read_host(conn, HostEntry("hv01", "127.0.0.1", 5985), remote.command_line())
    assert reading.error is None and reading.result == ANSWER["result"]
    protocol = fake_winrm.instances[0]
    assert protocol.endpoint == "http://127.0.0.1:5985/wsman"
    assert protocol.kwargs == {
        "transport": "ntlm",
        "username": "ansible",
        "password": "S3cret!",
        "server_cert_validation": "validate",
        "ca_trust_path": "/ca.pem",
        "message_encryption": "always",
        "operation_timeout_sec": 12,
        "read_timeout_sec": 22,
    }
    command = remote.command_line()
    assert protocol.calls[:3] == [("open_shell", 65001), ("run_command", "SHELL", command[0], command[1:], False), ("send", len(remote.probe_request()), True)]
    assert protocol.stdin == remote.probe_request()
    assert protocol.calls[-2:] == [("cleanup", "SHELL", "CMD"), ("close", "SHELL")]


def test_winrm_stdin_goes_in_chunks_like_the_winrm_plugin(fake_winrm: type[FakeProtocol]) -> None:
    fake_winrm.outputs = [(json.dumps(ANSWER).encode(), b"", 0, True)]
    big = b"x" * 450_000
    remote.run_winrm(connection(), HostEntry("hv01", "hv01"), remote.command_line(), big)
    sends = [call for call in fake_winrm.instances[0].calls if call[0] == "send"]
    assert sends == [("send", 200_000, False), ("send", 200_000, False), ("send", 50_000, True)]


def test_winrm_gives_up_after_probe_timeout_and_still_closes(fake_winrm: type[FakeProtocol], monkeypatch: pytest.MonkeyPatch) -> None:
    fake_winrm.outputs = [winrm.exceptions.WinRMOperationTimeoutError() for _attempt in range(10)]
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(remote.time, "monotonic", lambda: float(next(clock)))
    reading = remote.read_host(connection(probe_timeout=250), HostEntry("hv01", "hv01"), remote.command_line())
    assert reading.result is None and reading.error == "the probe did not finish within probe_timeout (https://hv01:5986/wsman)"
    assert fake_winrm.instances[0].calls[-2:] == [("cleanup", "SHELL", "CMD"), ("close", "SHELL")]


def test_a_probe_that_fails_on_the_target_is_a_reading_error(fake_winrm: type[FakeProtocol]) -> None:
    failed = {"ok": False, "error": {"message": "Could not list the virtual machines: the service is stopped."}}
    fake_winrm.outputs = [(json.dumps(failed).encode(), b"", 0, True)]
    reading = remote.read_host(connection(), HostEntry("hv01", "hv01"), remote.command_line())
    assert reading.error == "Could not list the virtual machines: the service is stopped. (https://hv01:5986/wsman)"


class FakePipeline:
    """pypsrp.powershell.PowerShell as the plugin uses it."""

    RUNNING = 1
    COMPLETED = 4
    last: t.ClassVar[FakePipeline | None] = None
    polls_needed: t.ClassVar[int] = 2
    output_lines: t.ClassVar[list[str]] = []
    errors: t.ClassVar[list[str]] = []

    def __init__(self, pool: t.Any) -> None:
        self.pool = pool
        self.scripts: list[str] = []
        self.input: t.Any = None
        self.state = 0
        self.polls = 0
        self.stopped = False
        self.output: list[str] = []
        self.streams = type("Streams", (), {"error": list(FakePipeline.errors)})()
        self.had_errors = bool(FakePipeline.errors)
        FakePipeline.last = self

    def add_script(self, script: str) -> FakePipeline:
        self.scripts.append(script)
        return self

    def begin_invoke(self, input: t.Any = None) -> None:
        self.input = input
        self.state = self.RUNNING

    def poll_invoke(self) -> None:
        self.polls += 1
        if self.polls >= FakePipeline.polls_needed:
            self.output = list(FakePipeline.output_lines)
            self.state = self.COMPLETED

    def stop(self) -> None:
        self.stopped = True


class FakeContext:
    """WSMan and RunspacePool: context managers that record how they were made and opened."""

    made: t.ClassVar[list[tuple[str, tuple[t.Any, ...], dict[str, t.Any]]]] = []

    def __init__(self, kind: str, *args: t.Any, **kwargs: t.Any) -> None:
        self.kind = kind
        self.closed = False
        FakeContext.made.append((kind, args, kwargs))

    def __enter__(self) -> FakeContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


@pytest.fixture
def fake_psrp(monkeypatch: pytest.MonkeyPatch) -> type[FakePipeline]:
    FakeContext.made = []
    FakePipeline.last = None
    FakePipeline.polls_needed = 2
    FakePipeline.output_lines = [json.dumps(ANSWER)]
    FakePipeline.errors = []
    monkeypatch.setattr(remote, "HAS_PYPSRP", True)
    monkeypatch.setattr(remote, "WSMan", lambda *a, **k: FakeContext("wsman", *a, **k), raising=False)
    monkeypatch.setattr(remote, "RunspacePool", lambda *a, **k: FakeContext("pool", *a, **k), raising=False)
    monkeypatch.setattr(remote, "PowerShell", FakePipeline, raising=False)
    monkeypatch.setattr(remote, "PSInvocationState", FakePipeline, raising=False)
    return FakePipeline


def test_psrp_runs_the_decoded_stub_with_text_lines_like_the_psrp_plugin(fake_psrp: type[FakePipeline]) -> None:
    conn = connection(connection="psrp", ca_cert="/ca.pem", connection_timeout=15)
    reading = remote.read_host(conn, HostEntry("hv02", "10.0.0.12", 40001), remote.command_line())
    assert reading.error is None and reading.result == ANSWER["result"]
    kind, args, kwargs = FakeContext.made[0]
    assert kind == "wsman" and args == ("10.0.0.12",)
    assert kwargs == {
        "port": 40001,
        "username": "ansible",
        "password": "S3cret!",
        "ssl": True,
        "auth": "negotiate",
        "cert_validation": "/ca.pem",
        "connection_timeout": 15,
        "read_timeout": 25,
        "operation_timeout": 15,
        "encryption": "auto",
    }
    pipeline = fake_psrp.last
    assert pipeline is not None
    # ansible.builtin.psrp decodes a command that starts with the shell's prefix and runs the script.
    command = remote.command_line()
    assert pipeline.scripts == [base64.b64decode(command[-1]).decode("utf-16-le")]
    assert pipeline.input == remote.probe_request().decode("ascii").splitlines()
    assert FakeContext.made[1][0] == "pool"


@pytest.mark.parametrize(("validation", "ca", "expected"), [("ignore", "/ca.pem", False), ("validate", None, True)])
def test_psrp_certificate_validation(fake_psrp: type[FakePipeline], validation: str, ca: str | None, expected: t.Any) -> None:
    remote.read_host(connection(connection="psrp", cert_validation=validation, ca_cert=ca), HostEntry("hv02", "hv02"), remote.command_line())
    assert FakeContext.made[0][2]["cert_validation"] == expected


def test_psrp_errors_and_timeouts(fake_psrp: type[FakePipeline], monkeypatch: pytest.MonkeyPatch) -> None:
    fake_psrp.errors = ["ConvertFrom-Json : Invalid JSON primitive"]
    fake_psrp.output_lines = []
    reading = remote.read_host(connection(connection="psrp"), HostEntry("hv02", "hv02"), remote.command_line())
    assert reading.error == "PowerShell on the target failed (rc=1): ConvertFrom-Json : Invalid JSON primitive (https://hv02:5986/wsman)"

    fake_psrp.errors = []
    fake_psrp.polls_needed = 1000
    clock = iter(range(0, 100_000, 100))
    monkeypatch.setattr(remote.time, "monotonic", lambda: float(next(clock)))
    reading = remote.read_host(connection(connection="psrp", probe_timeout=250), HostEntry("hv02", "hv02"), remote.command_line())
    assert reading.error is not None and "did not finish within probe_timeout" in reading.error
    assert fake_psrp.last is not None and fake_psrp.last.stopped


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (winrm.exceptions.InvalidCredentialsError("the specified credentials were rejected by the server"), "the credentials were rejected (HTTP 401)"),
        (
            requests.exceptions.ConnectionError(
                "HTTPConnectionPool(host='127.0.9.9', port=1): Max retries exceeded with url: /wsman (Caused by NewConnectionError("
                "\"HTTPConnection(host='127.0.9.9', port=1): Failed to establish a new connection: [Errno 111] Connection refused\"))"
            ),
            "could not connect (Connection refused)",
        ),
        (requests.exceptions.ConnectionError("something else"), "could not connect: something else"),
        (requests.exceptions.ReadTimeout("read timed out"), "no answer within connection_timeout (read timed out)"),
        (requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"), "the TLS connection failed (certificate validation?): CERTIFICATE_VERIFY_FAILED"),
        (KeyError("x"), "KeyError: 'x'"),
    ],
)
def test_failures_become_short_sentences(exc: Exception, reason: str) -> None:
    def runner(*_args: t.Any) -> remote.Outcome:
        raise exc

    reading = remote.read_host(connection(), HostEntry("hv01", "hv01"), ["cmd"], runner)
    assert reading.error == f"{reason} (https://hv01:5986/wsman)"


def test_the_password_never_appears_in_a_reading_error() -> None:
    def runner(*_args: t.Any) -> remote.Outcome:
        raise RuntimeError("login with S3cret! failed")

    reading = remote.read_host(connection(), HostEntry("hv01", "hv01"), ["cmd"], runner)
    assert reading.error is not None and "S3cret!" not in reading.error and "********" in reading.error


def test_hosts_are_read_in_parallel_within_the_bound_and_come_back_in_order() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def runner(_conn: t.Any, entry: HostEntry, *_args: t.Any) -> remote.Outcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        if entry.name == "hv04":
            raise requests.exceptions.ConnectionError("[Errno 113] No route to host')")
        return remote.Outcome(0, json.dumps({"ok": True, "result": {"host": {"computer_name": entry.name}}}), "")

    hosts = [HostEntry(f"hv{i:02d}", f"hv{i:02d}") for i in range(10)]
    readings = remote.read_fleet(connection(), hosts, 3, runner)
    assert [r.host for r in readings] == [h.name for h in hosts]
    assert peak == 3
    assert readings[4].error == "could not connect (No route to host) (https://hv04:5986/wsman)"
    assert [r.result["host"]["computer_name"] for r in readings if r.result] == [h.name for h in hosts if h.name != "hv04"]
    assert remote.read_fleet(connection(), [], 3, runner) == []


def test_readings_round_trip_through_the_cache_form() -> None:
    reading = remote.Reading("hv01", result={"host": {}}, seconds=0.1234)
    assert remote.Reading.from_dict(json.loads(json.dumps(reading.as_dict()))) == remote.Reading("hv01", result={"host": {}}, seconds=0.123)


def test_a_failing_clean_up_hides_neither_the_answer_nor_the_error(fake_winrm: type[FakeProtocol], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: t.Any) -> None:
        raise requests.exceptions.ConnectionError("[Errno 104] Connection reset by peer')")

    monkeypatch.setattr(FakeProtocol, "cleanup_command", broken)
    monkeypatch.setattr(FakeProtocol, "close_shell", broken)
    fake_winrm.outputs = [(json.dumps(ANSWER).encode(), b"", 0, True)]
    assert remote.read_host(connection(), HostEntry("hv01", "hv01"), remote.command_line()).result == ANSWER["result"]
    fake_winrm.outputs = [winrm.exceptions.WinRMTransportError("http", 500, "Internal error")]
    reading = remote.read_host(connection(), HostEntry("hv01", "hv01"), remote.command_line())
    assert reading.error is not None and reading.error.startswith("WinRMTransportError:")
