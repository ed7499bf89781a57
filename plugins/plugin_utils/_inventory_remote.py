# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Read every L0 Hyper-V host of an inventory source: one probe each, several hosts at a time.

The inventory plugin has no task connection, so it talks to the hosts itself, through the same
libraries the connection plugins use (pywinrm for winrm, pypsrp for psrp) and in the same shape
(docs/internals/wire-protocol.md): the collection's STUB, encoded by ansible-core's PowerShell
shell plugin into `PowerShell ... -EncodedCommand <UTF-16-LE base64>`, and the probe request
(`_target.build_request`) as ASCII JSON on stdin. The answer goes through `_target.parse_response`.
Read-only: the probe is the only script ever sent.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible.plugins.loader import shell_loader

from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import Connection, HostEntry
from ansible_collections.hyperv.nested.plugins.plugin_utils._target import TargetError, build_request, parse_response
from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import STUB

try:
    import requests.exceptions
    import winrm.exceptions
    from winrm.protocol import Protocol

    HAS_WINRM = True
except ImportError:  # pragma: no cover - reported when a winrm source is read
    HAS_WINRM = False

try:
    from pypsrp.complex_objects import PSInvocationState
    from pypsrp.powershell import PowerShell, RunspacePool
    from pypsrp.wsman import WSMan

    HAS_PYPSRP = True
except ImportError:  # pragma: no cover - reported when a psrp source is read
    HAS_PYPSRP = False

# The probe: host facts and every VM (the VM filters apply on the controller, exactly as documented).
PROBE_PARAMETERS: dict[str, t.Any] = {"sections": ["host", "vms"], "vm_names": None}
# What the winrm connection plugin sends per Send request.
_STDIN_CHUNK = 200_000


@dataclass(frozen=True)
class Reading:
    """One L0 host's probe answer (`result`), or why there is none (`error`, a sentence)."""

    host: str
    result: dict[str, t.Any] | None = None
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, t.Any]:
        return {"host": self.host, "result": self.result, "error": self.error, "seconds": round(self.seconds, 3)}

    @classmethod
    def from_dict(cls, data: t.Mapping[str, t.Any]) -> Reading:
        return cls(host=str(data["host"]), result=data.get("result"), error=data.get("error"), seconds=float(data.get("seconds") or 0))


class Outcome(t.NamedTuple):
    rc: int
    stdout: str
    stderr: str


Runner = t.Callable[[Connection, HostEntry, list[str], bytes], Outcome]


def command_line() -> list[str]:
    """STUB as every transport runs it, encoded by ansible-core's own PowerShell shell plugin."""
    shell = shell_loader.get("powershell")
    return t.cast(list[str], shell._encode_script(STUB, as_list=True, strict_mode=False, preserve_rc=False))  # pylint: disable=protected-access


def probe_request() -> bytes:
    request = build_request("probe", PROBE_PARAMETERS)
    # ASCII on stdin (wire protocol §1): every transport and console code page passes it unchanged.
    request.decode("ascii")
    return request


def redact(text: str, secrets: t.Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def run_winrm(connection: Connection, entry: HostEntry, command: list[str], stdin: bytes) -> Outcome:
    """One command over pywinrm, as ansible.builtin.winrm runs it: UTF-8 shell, stdin in chunks."""
    if not HAS_WINRM:
        raise TargetError("connection winrm needs the Python package pywinrm on the controller (pip install pywinrm).")
    protocol = Protocol(
        connection.endpoint(entry),
        transport=t.cast(t.Any, connection.transport),
        username=connection.user,
        password=connection.password,
        server_cert_validation=connection.cert_validation,
        ca_trust_path=connection.ca_cert or "legacy_requests",
        message_encryption=connection.message_encryption,
        operation_timeout_sec=connection.connection_timeout,
        read_timeout_sec=connection.connection_timeout + 10,
    )
    shell_id = protocol.open_shell(codepage=65001)
    try:
        command_id = protocol.run_command(shell_id, command[0], command[1:], console_mode_stdin=False)
        try:
            for start in range(0, len(stdin), _STDIN_CHUNK):
                chunk = stdin[start : start + _STDIN_CHUNK]
                protocol.send_command_input(shell_id, command_id, chunk, end=start + _STDIN_CHUNK >= len(stdin))
            stdout, stderr, rc = _winrm_output(protocol, shell_id, command_id, time.monotonic() + connection.probe_timeout)
        finally:
            # Best effort, as the winrm plugin's: a failing clean-up must not hide the answer or the
            # real error (the host drops the shell on its own after its idle timeout).
            with contextlib.suppress(Exception):
                protocol.cleanup_command(shell_id, command_id)
    finally:
        with contextlib.suppress(Exception):
            protocol.close_shell(shell_id)
    return Outcome(rc, stdout.decode("utf-8", errors="replace"), stderr.decode("utf-8", errors="replace"))


def _winrm_output(protocol: t.Any, shell_id: str, command_id: str, deadline: float) -> tuple[bytes, bytes, int]:
    """get_command_output, with an end: a host that never finishes the probe is given up on."""
    stdout: list[bytes] = []
    stderr: list[bytes] = []
    while True:
        try:
            out, err, rc, done = protocol.get_command_output_raw(shell_id, command_id)
        except winrm.exceptions.WinRMOperationTimeoutError:
            out, err, rc, done = b"", b"", -1, False
        stdout.append(out)
        stderr.append(err)
        if done:
            return b"".join(stdout), b"".join(stderr), rc
        if time.monotonic() > deadline:
            raise TargetError("the probe did not finish within probe_timeout")


def run_psrp(connection: Connection, entry: HostEntry, command: list[str], stdin: bytes) -> Outcome:
    """One command over pypsrp, as ansible.builtin.psrp runs an encoded command: the decoded script in a
    runspace, stdin as text lines of pipeline input."""
    if not HAS_PYPSRP:
        raise TargetError("connection psrp needs the Python package pypsrp on the controller (pip install pypsrp).")
    script = base64.b64decode(command[-1]).decode("utf-16-le")
    wsman = WSMan(
        entry.address,
        port=connection.port_of(entry),
        username=connection.user,
        password=connection.password,
        ssl=connection.scheme == "https",
        auth=connection.transport,
        # A CA bundle path is accepted here too (requests' verify), as ansible.builtin.psrp passes it.
        cert_validation=t.cast(bool, (connection.ca_cert or True) if connection.cert_validation == "validate" else False),
        connection_timeout=connection.connection_timeout,
        read_timeout=connection.connection_timeout + 10,
        operation_timeout=connection.connection_timeout,
        encryption=connection.message_encryption,
    )
    deadline = time.monotonic() + connection.probe_timeout
    with wsman, RunspacePool(wsman) as pool:
        pipeline = PowerShell(pool)
        pipeline.add_script(script)
        # A list: pypsrp sends each line as one pipeline input object ($input in the STUB), as the plugin does.
        pipeline.begin_invoke(input=t.cast(t.Any, stdin.decode("ascii").splitlines()))
        while pipeline.state == PSInvocationState.RUNNING:
            if time.monotonic() > deadline:
                pipeline.stop()
                raise TargetError("the probe did not finish within probe_timeout")
            pipeline.poll_invoke()
        stdout = "\r\n".join(str(item) for item in pipeline.output)
        stderr = "\r\n".join(str(error) for error in pipeline.streams.error)
        return Outcome(1 if pipeline.had_errors else 0, stdout, stderr)


RUNNERS: dict[str, Runner] = {"winrm": run_winrm, "psrp": run_psrp}


def _reason(exc: BaseException) -> str:
    """A short sentence for why a host could not be read."""
    if isinstance(exc, TargetError):
        return exc.message
    if HAS_WINRM and isinstance(exc, winrm.exceptions.InvalidCredentialsError):
        return "the credentials were rejected (HTTP 401)"
    if HAS_WINRM and isinstance(exc, requests.exceptions.SSLError):
        return f"the TLS connection failed (certificate validation?): {exc}"
    if HAS_WINRM and isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within connection_timeout ({exc})"
    if HAS_WINRM and isinstance(exc, requests.exceptions.ConnectionError):
        # requests nests the socket's reason deep in its message: "... [Errno 111] Connection refused")) ..."
        cause = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
        return f"could not connect ({cause.group(1).strip()})" if cause else f"could not connect: {exc}"
    text = str(exc).strip() or "no details"
    return f"{type(exc).__name__}: {text}"


def read_host(connection: Connection, entry: HostEntry, command: list[str], runner: Runner | None = None) -> Reading:
    """Probe one host with the encoded `command` line; never raises: a failure is a Reading with `error`."""
    started = time.monotonic()
    run = runner or RUNNERS[connection.kind]
    try:
        outcome = run(connection, entry, command, probe_request())
        result = parse_response(outcome.rc, outcome.stdout, outcome.stderr)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # one host's failure must not end the inventory
        reason = redact(_reason(exc), [connection.password])
        return Reading(entry.name, error=f"{reason} ({connection.endpoint(entry)})", seconds=time.monotonic() - started)
    return Reading(entry.name, result=result, seconds=time.monotonic() - started)


def read_fleet(connection: Connection, hosts: t.Sequence[HostEntry], max_concurrency: int, runner: Runner | None = None) -> list[Reading]:
    """Probe every host, at most `max_concurrency` at a time; the readings come back in `hosts` order."""
    if not hosts:
        return []
    command = command_line()  # once, before the threads: plugin loading is not thread-safe
    with ThreadPoolExecutor(max_workers=min(max_concurrency, len(hosts)), thread_name_prefix="hyperv-inventory") as pool:
        return list(pool.map(lambda entry: read_host(connection, entry, command, runner), hosts))
