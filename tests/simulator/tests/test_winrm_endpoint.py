"""The WinRM endpoint driven by the real pywinrm client: transports, shells, streams, faults."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import requests_ntlm.requests_ntlm
import winrm
import xmltodict  # type: ignore[import-untyped]
from hvsim.winrm import CommandResult, Endpoint, TLSConfig
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError
from winrm.protocol import Protocol

HOST = "hv01"
USER = "Administrator"
PASSWORD = "Passw0rd!"
SHELL_NOT_FOUND = 2150858843
RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SHELL_ACTION = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"


@dataclass
class Call:
    command_line: str
    stdin: bytes


@dataclass
class FakeBackend:
    """`echo <text>` prints text; `cat` prints stdin; `fail` exits 3 with stderr; `block` waits for `release`."""

    up: bool = True
    calls: list[Call] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def reachable(self, host: str) -> bool:
        return self.up

    def credentials(self, host: str) -> tuple[str, str]:
        assert host == HOST
        return USER, PASSWORD

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        self.calls.append(Call(command_line, stdin))
        verb, _unused, rest = command_line.partition(" ")
        if verb == "echo":
            return CommandResult(0, rest.encode() + b"\r\n", b"")
        if verb == "cat":
            return CommandResult(0, stdin, b"")
        if verb == "fail":
            return CommandResult(3, b"partial\r\n", b"it broke\r\n")
        if verb == "block":
            self.release.wait(10)
            return CommandResult(0, b"released\r\n", b"")
        return CommandResult(1, b"", f"'{verb}' is not recognized\r\n".encode())


@dataclass
class Observed:
    host: str
    command_line: str
    stdin: bytes
    rc: int
    stdout: bytes
    stderr: bytes
    duration_s: float


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def observed() -> list[Observed]:
    return []


@pytest.fixture
def endpoint(backend: FakeBackend, observed: list[Observed]) -> Iterator[Endpoint]:
    with Endpoint(HOST, backend, observer=lambda *args: observed.append(Observed(*args))) as ep:
        yield ep


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSConfig:
    return TLSConfig.self_signed(HOST, tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_endpoint(backend: FakeBackend, tls: TLSConfig) -> Iterator[Endpoint]:
    with Endpoint(HOST, backend, tls=tls) as ep:
        yield ep


def basic(ep: Endpoint, operation_timeout_sec: int = 20, read_timeout_sec: int = 30) -> Protocol:
    return Protocol(ep.url, transport="basic", username=USER, password=PASSWORD, operation_timeout_sec=operation_timeout_sec, read_timeout_sec=read_timeout_sec)


def ntlm_encrypted(ep: Endpoint) -> Protocol:
    return Protocol(ep.url, transport="ntlm", username=USER, password=PASSWORD, message_encryption="always")


def run(protocol: Protocol, command: str, stdin: bytes | None = None, codepage: int = 65001) -> tuple[bytes, bytes, int]:
    shell = protocol.open_shell(codepage=codepage)
    command_id = protocol.run_command(shell, command)
    if stdin is not None:
        chunks = [stdin[i : i + 200_000] for i in range(0, len(stdin), 200_000)] or [b""]
        for index, chunk in enumerate(chunks):
            protocol.send_command_input(shell, command_id, chunk, end=index == len(chunks) - 1)
    result: tuple[bytes, bytes, int] = protocol.get_command_output(shell, command_id)
    protocol.cleanup_command(shell, command_id)
    protocol.close_shell(shell)
    return result


# --- transports and authentication ---------------------------------------------------------


def test_basic_over_http_runs_command_and_reports_rc_and_streams(endpoint: Endpoint, backend: FakeBackend) -> None:
    response = winrm.Session(endpoint.url, auth=(USER, PASSWORD), transport="basic").run_cmd("fail")
    assert (response.status_code, response.std_out, response.std_err) == (3, b"partial\r\n", b"it broke\r\n")
    assert backend.calls == [Call("fail", b"")]


def test_command_line_joins_command_and_arguments(endpoint: Endpoint, backend: FakeBackend) -> None:
    response = winrm.Session(endpoint.url, auth=(USER, PASSWORD), transport="basic").run_cmd("echo", ["a", "b c"])
    assert response.std_out == b"a b c\r\n"


def test_ntlm_with_message_encryption_over_http(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = ntlm_encrypted(endpoint)
    content_types: list[str] = []
    session = protocol.transport.build_session()
    session.hooks["response"].append(lambda r, *a, **k: content_types.append(r.headers.get("Content-Type", "")))

    assert run(protocol, "cat", b"secret stdin") == (b"secret stdin", b"", 0)
    # Every SOAP reply after the handshake came back sealed (the empty set-up POST has no body).
    sealed = [ct for ct in content_types if ct.startswith("multipart/encrypted")]
    assert len(sealed) == 6  # Create, Command, Send, Receive, Signal, Delete
    assert all('protocol="application/HTTP-SPNEGO-session-encrypted"' in ct for ct in sealed)
    assert not [ct for ct in content_types if "soap+xml" in ct]


def test_ntlm_over_https_without_message_encryption(https_endpoint: Endpoint) -> None:
    assert https_endpoint.url.startswith("https://")
    session = winrm.Session(https_endpoint.url, auth=(USER, PASSWORD), transport="ntlm", server_cert_validation="ignore")
    response = session.run_cmd("echo", ["over", "tls"])
    assert (response.status_code, response.std_out) == (0, b"over tls\r\n")
    assert session.protocol.transport.encryption is None


def test_ntlm_over_https_rejects_foreign_channel_bindings(https_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    # A client bound to another certificate (a TLS man in the middle) must not authenticate.
    monkeypatch.setattr(requests_ntlm.requests_ntlm, "_get_certificate_hash", lambda der: hashlib.sha256(b"other").digest())
    session = winrm.Session(https_endpoint.url, auth=(USER, PASSWORD), transport="ntlm", server_cert_validation="ignore")
    with pytest.raises(InvalidCredentialsError):
        session.run_cmd("echo", ["x"])


def test_basic_over_https(https_endpoint: Endpoint) -> None:
    session = winrm.Session(https_endpoint.url, auth=(USER, PASSWORD), transport="ssl", server_cert_validation="ignore")
    assert session.run_cmd("echo", ["ok"]).std_out == b"ok\r\n"


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_wrong_password_is_rejected(endpoint: Endpoint, backend: FakeBackend, transport: str) -> None:
    session = winrm.Session(endpoint.url, auth=(USER, "wrong"), transport=transport)
    with pytest.raises(InvalidCredentialsError):
        session.run_cmd("echo", ["x"])
    assert backend.calls == []


def test_username_is_case_insensitive_and_may_name_the_machine(endpoint: Endpoint) -> None:
    for user in ("administrator", f"{HOST.upper()}\\Administrator", ".\\ADMINISTRATOR"):
        assert winrm.Session(endpoint.url, auth=(user, PASSWORD), transport="ntlm").run_cmd("echo", ["hi"]).std_out == b"hi\r\n"
        assert winrm.Session(endpoint.url, auth=(user, PASSWORD), transport="basic").run_cmd("echo", ["hi"]).std_out == b"hi\r\n"


def test_unauthenticated_request_gets_401_with_windows_challenges(endpoint: Endpoint) -> None:
    response = requests.post(endpoint.url, data=b"<x/>", headers={"Content-Type": "application/soap+xml;charset=UTF-8"}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Negotiate, Basic realm="WSMAN"'
    assert response.headers["Server"] == "Microsoft-HTTPAPI/2.0"


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.b64encode(b"NTLMSSP\0\x03\0\0\0" + b"\0" * 40).decode(),  # Authenticate with no handshake before it
        base64.b64encode(b"NTLMSSP\0\x01\0\0\0" + b"\xff" * 3).decode(),  # truncated Negotiate
        base64.b64encode(b"\x60\x28\x06\x06\x2b\x06\x01\x05\x05\x02").decode(),  # SPNEGO, unsupported
    ],
)
def test_bad_negotiate_tokens_get_401(endpoint: Endpoint, token: str) -> None:
    headers = {"Content-Type": "application/soap+xml;charset=UTF-8", "Authorization": f"Negotiate {token}"}
    response = requests.post(endpoint.url, data=b"<x/>", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Negotiate, Basic realm="WSMAN"'


def test_wrong_content_type_is_refused(endpoint: Endpoint) -> None:
    response = requests.post(endpoint.url, data=b"<x/>", auth=(USER, PASSWORD), headers={"Content-Type": "text/xml"}, timeout=5)
    assert response.status_code == 415


# --- shells, streams and WS-Man semantics --------------------------------------------------


def test_large_stdin_in_several_chunks_arrives_intact(endpoint: Endpoint, backend: FakeBackend) -> None:
    payload = bytes(range(256)) * 2000  # 512,000 bytes: three Send requests
    stdout, _unused, rc = run(basic(endpoint), "cat", payload)
    assert backend.calls[0].stdin == payload
    # The echo is larger than one reply envelope allows, so it also came back over several Receives.
    assert (stdout, rc) == (payload, 0)


def test_large_output_is_split_to_fit_the_client_envelope(endpoint: Endpoint) -> None:
    protocol = basic(endpoint)
    reply_sizes: list[int] = []
    protocol.transport.build_session().hooks["response"].append(lambda r, *a, **k: reply_sizes.append(len(r.content)))
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "cat")
    protocol.send_command_input(shell, command_id, b"z" * 300_000, end=True)
    first = protocol.get_command_output_raw(shell, command_id)
    assert first[3] is False and len(first[0]) > 0
    rest, _unused, rc = protocol.get_command_output(shell, command_id)
    assert len(first[0]) + len(rest) == 300_000 and rc == 0
    assert max(reply_sizes) <= 153_600  # pywinrm's MaxEnvelopeSize


def test_end_attribute_is_compared_case_insensitively(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = basic(endpoint)
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "cat")
    request = {"env:Envelope": protocol.build_wsman_header(action=f"{SHELL_ACTION}Send", resource_uri=RESOURCE_CMD, shell_id=shell)}
    stream = request["env:Envelope"].setdefault("env:Body", {}).setdefault("rsp:Send", {}).setdefault("rsp:Stream", {})
    stream.update({"@Name": "stdin", "@CommandId": command_id, "@End": "TRUE", "#text": base64.b64encode(b"upper").decode()})
    protocol.send_message(xmltodict.unparse(request))
    assert protocol.get_command_output(shell, command_id) == (b"upper", b"", 0)


def test_receive_times_out_with_the_retry_fault_until_the_command_finishes(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = basic(endpoint, operation_timeout_sec=1, read_timeout_sec=3)
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "block")
    started = time.monotonic()
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command_id)
    assert 0.9 <= time.monotonic() - started < 2.5
    threading.Timer(0.5, backend.release.set).start()
    assert protocol.get_command_output(shell, command_id) == (b"released\r\n", b"", 0)
    assert [c.command_line for c in backend.calls] == ["block"]


def test_stdin_not_ended_means_command_waits(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = basic(endpoint, operation_timeout_sec=1, read_timeout_sec=3)
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "cat")
    protocol.send_command_input(shell, command_id, b"part one ", end=False)
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command_id)
    assert backend.calls == []
    protocol.send_command_input(shell, command_id, b"part two", end=True)
    assert protocol.get_command_output(shell, command_id) == (b"part one part two", b"", 0)


def test_signal_terminate_forgets_the_command(endpoint: Endpoint) -> None:
    protocol = basic(endpoint)
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "echo", ["x"])
    assert protocol.get_command_output(shell, command_id)[0] == b"x\r\n"
    protocol.cleanup_command(shell, command_id)  # pywinrm asserts RelatesTo == its MessageID
    with pytest.raises(WSManFaultError) as fault:
        protocol.get_command_output_raw(shell, command_id)
    assert fault.value.wsman_fault_code == SHELL_NOT_FOUND
    assert fault.value.fault_subcode == "w:InvalidSelectors"
    assert "command identifier that does not exist" in fault.value.response


def test_ctrl_c_before_stdin_ends_means_command_never_runs(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = basic(endpoint)
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, "cat")
    protocol.send_command_input(shell, command_id, b"never", end=False)
    request = {"env:Envelope": protocol.build_wsman_header(action=f"{SHELL_ACTION}Signal", resource_uri=RESOURCE_CMD, shell_id=shell)}
    signal = request["env:Envelope"].setdefault("env:Body", {}).setdefault("rsp:Signal", {})
    signal.update({"@CommandId": command_id, "rsp:Code": f"{SHELL_ACTION}signal/ctrl_c"})
    protocol.send_message(xmltodict.unparse(request))
    _unused, _unused, rc = protocol.get_command_output(shell, command_id)
    assert rc == 0xC000013A  # STATUS_CONTROL_C_EXIT, as a DWORD
    assert backend.calls == []


def test_deleted_shell_is_not_found(endpoint: Endpoint) -> None:
    protocol = basic(endpoint)
    shell = protocol.open_shell()
    protocol.close_shell(shell, close_session=False)
    with pytest.raises(WSManFaultError) as fault:
        protocol.run_command(shell, "echo", ["x"])
    assert fault.value.wsman_fault_code == SHELL_NOT_FOUND
    assert f"ShellId {shell} failed because the shell was not found" in fault.value.response
    with pytest.raises(WSManFaultError):
        protocol.close_shell(shell)


def test_unknown_action_is_a_soap_fault_related_to_the_request(endpoint: Endpoint) -> None:
    protocol = basic(endpoint)
    message_id = uuid.uuid4()
    request = {"env:Envelope": protocol.build_wsman_header(action="http://example.invalid/Bogus", resource_uri=RESOURCE_CMD, message_id=message_id)}
    request["env:Envelope"]["env:Body"] = {}
    with pytest.raises(WSManFaultError) as fault:
        protocol.send_message(xmltodict.unparse(request))
    assert fault.value.code == 500
    assert (fault.value.fault_code, fault.value.fault_subcode) == ("s:Sender", "a:ActionNotSupported")
    reply = xmltodict.parse(fault.value.response)["s:Envelope"]["s:Header"]
    assert reply["a:RelatesTo"] == f"uuid:{message_id}"
    assert reply["a:Action"] == "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"


def test_malformed_request_is_a_soap_fault(endpoint: Endpoint) -> None:
    response = requests.post(endpoint.url, data=b"<not xml", auth=(USER, PASSWORD), headers={"Content-Type": "application/soap+xml;charset=UTF-8"}, timeout=5)
    assert response.status_code == 500
    fault = xmltodict.parse(response.content)["s:Envelope"]["s:Body"]["s:Fault"]
    assert fault["s:Code"]["s:Subcode"]["s:Value"] == "w:SchemaValidationError"


def test_codepage_65001_passes_utf8_through_and_437_is_transcoded(endpoint: Endpoint) -> None:
    text = "café"
    assert run(basic(endpoint), f"echo {text}", codepage=65001)[0] == "café\r\n".encode()
    assert run(basic(endpoint), f"echo {text}", codepage=437)[0] == "café\r\n".encode("cp437")


def test_observer_sees_each_completed_command_once(endpoint: Endpoint, observed: list[Observed]) -> None:
    run(basic(endpoint), "cat", b"in")
    run(basic(endpoint), "fail")
    assert [(o.host, o.command_line, o.stdin, o.rc, o.stdout, o.stderr) for o in observed] == [
        (HOST, "cat", b"in", 0, b"in", b""),
        (HOST, "fail", b"", 3, b"partial\r\n", b"it broke\r\n"),
    ]
    assert all(o.duration_s >= 0 for o in observed)


# --- protocol faults and reachability ------------------------------------------------------


def test_drop_before_closes_the_connection_without_running(endpoint: Endpoint, backend: FakeBackend) -> None:
    run(basic(endpoint), "echo", None)
    endpoint.faults.drop_connection(2, "before")
    run(basic(endpoint), "echo first")
    with pytest.raises(requests.exceptions.ConnectionError):
        run(basic(endpoint), "echo second")
    assert [c.command_line for c in backend.calls] == ["echo", "echo first"]
    assert run(basic(endpoint), "echo third")[0] == b"third\r\n"  # one-shot


def test_drop_after_runs_the_command_but_loses_its_output(endpoint: Endpoint, backend: FakeBackend, observed: list[Observed]) -> None:
    endpoint.faults.drop_connection(1, "after")
    with pytest.raises(requests.exceptions.ConnectionError):
        run(ntlm_encrypted(endpoint), "cat", b"effect")
    assert backend.calls == [Call("cat", b"effect")]
    assert [o.stdin for o in observed] == [b"effect"]
    assert endpoint.faults.commands_seen == 1


def test_latency_is_added_to_every_reply(endpoint: Endpoint) -> None:
    protocol = basic(endpoint)
    endpoint.faults.latency_seconds = 0.3
    started = time.monotonic()
    shell = protocol.open_shell()
    protocol.close_shell(shell)
    assert time.monotonic() - started >= 0.6
    endpoint.faults.clear()
    started = time.monotonic()
    protocol.close_shell(protocol.open_shell())
    assert time.monotonic() - started < 0.3


def test_unreachable_host_refuses_connections(endpoint: Endpoint, backend: FakeBackend) -> None:
    protocol = basic(endpoint)
    shell = protocol.open_shell()
    backend.up = False
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.run_command(shell, "echo", ["x"])  # the kept-alive connection is closed too
    with pytest.raises(requests.exceptions.ConnectionError):
        basic(endpoint).open_shell()
    backend.up = True
    assert run(basic(endpoint), "echo back")[0] == b"back\r\n"


def test_stop_releases_the_port(backend: FakeBackend) -> None:
    ep = Endpoint(HOST, backend, bind_address="127.0.0.2")
    ep.start()
    port = ep.port
    ep.stop()
    with Endpoint(HOST, backend, bind_address="127.0.0.2", port=port) as again:
        assert again.url == f"http://127.0.0.2:{port}/wsman"
        assert run(basic(again), "echo hi")[0] == b"hi\r\n"


def test_self_signed_certificate_names_the_host(tmp_path: Path) -> None:
    config = TLSConfig.self_signed("hv02", tmp_path)
    assert b"BEGIN CERTIFICATE" in config.certfile.read_bytes()
    assert config.keyfile.stat().st_mode & 0o077 == 0
    assert config.server_context() is not None
