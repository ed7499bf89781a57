"""The WinRS actions: one plaintext SOAP request in, one plaintext SOAP reply out."""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from ..psrp import CONFIGURATIONS, RESOURCE_PREFIX, PsrpRegistry
from . import errors
from .faults import ConnectionDropped, DropWhen, ProtocolFaults
from .shells import Output, ShellRegistry
from .soap import NS_SHELL, NS_TRANSFER, RESOURCE_CMD, WsmanFault, WsmanRequest, envelope, fault_envelope, parse_request, q

_SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
ACTION_CREATE = f"{NS_TRANSFER}/Create"
ACTION_DELETE = f"{NS_TRANSFER}/Delete"
ACTION_COMMAND = f"{_SHELL_URI}Command"
ACTION_SEND = f"{_SHELL_URI}Send"
ACTION_RECEIVE = f"{_SHELL_URI}Receive"
ACTION_SIGNAL = f"{_SHELL_URI}Signal"
_STATE_DONE = f"{_SHELL_URI}CommandState/Done"
_STATE_RUNNING = f"{_SHELL_URI}CommandState/Running"
_SIGNALS = {f"{_SHELL_URI}signal/{name}": name for name in ("terminate", "ctrl_c", "ctrl_break")}
# PSRP stops a pipeline with its own signal (MS-PSRP 3.1.5.3.8; pypsrp and Windows spell it both ways).
_PSRP_SIGNALS = {"powershell/signal/ctrl_c", "powershell/signal/crtl_c", f"{_SHELL_URI}signal/terminate"}
_NS_PS = "http://schemas.microsoft.com/powershell"
_ENVELOPE_OVERHEAD = 2048  # bytes of a ReceiveResponse that are not stream data


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


@dataclass(frozen=True)
class Caller:
    username: str
    client_ip: str


class WsmanService:
    def __init__(self, host: str, shells: ShellRegistry, faults: ProtocolFaults, psrp: PsrpRegistry | None = None) -> None:
        self._host = host
        self._shells = shells
        self._faults = faults
        self._psrp = psrp

    def handle(self, data: bytes, caller: Caller, endpoint_url: str) -> Reply:
        """Raises ConnectionDropped when a drop fault fires on this request."""
        message_id: str | None = None
        try:
            request = parse_request(data)
            message_id = request.message_id
            return Reply(200, self._dispatch(request, caller, endpoint_url))
        except WsmanFault as fault:
            return Reply(500, fault_envelope(fault, message_id, self._host))

    def _dispatch(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> bytes:
        handlers = {
            ACTION_CREATE: self._create,
            ACTION_DELETE: self._delete,
            ACTION_COMMAND: self._command,
            ACTION_SEND: self._send,
            ACTION_RECEIVE: self._receive,
            ACTION_SIGNAL: self._signal,
        }
        if request.action not in handlers:
            raise errors.action_not_supported(request.action)
        resource = (request.resource_uri or "").lower()
        if resource.startswith(RESOURCE_PREFIX.lower()) and self._psrp is not None:
            if resource[len(RESOURCE_PREFIX) :] not in CONFIGURATIONS:
                raise errors.resource_uri_not_supported(request.resource_uri)
            handlers = {
                ACTION_CREATE: self._psrp_create,
                ACTION_DELETE: self._psrp_delete,
                ACTION_COMMAND: self._psrp_command,
                ACTION_SEND: self._psrp_send,
                ACTION_RECEIVE: self._psrp_receive,
                ACTION_SIGNAL: self._psrp_signal,
            }
        elif resource != RESOURCE_CMD:
            raise errors.resource_uri_not_supported(request.resource_uri)
        body = handlers[request.action](request, caller, endpoint_url)
        return envelope(f"{request.action}Response", request.message_id, body)

    def _create(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        shell_spec = request.body.find(q(NS_SHELL, "Shell"))
        if shell_spec is None:
            raise errors.invalid_parameter("The Create request carries no rsp:Shell element.")
        codepage_text = request.options.get("WINRS_CODEPAGE", "437")
        if not codepage_text.isdigit():
            raise errors.invalid_parameter(f"The WINRS_CODEPAGE value {codepage_text} is not a valid code page.")
        shell = self._shells.create_shell(caller.username, int(codepage_text))
        inputs = _text(shell_spec, "InputStreams") or "stdin"
        outputs = _text(shell_spec, "OutputStreams") or "stdout stderr"
        return (
            f"<x:ResourceCreated><a:Address>{escape(endpoint_url)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{RESOURCE_CMD}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell.id}</w:Selector></w:SelectorSet>'
            f"</a:ReferenceParameters></x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{NS_SHELL}"><rsp:ShellId>{shell.id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{RESOURCE_CMD}</rsp:ResourceUri>"
            f"<rsp:Owner>{escape(caller.username)}</rsp:Owner><rsp:ClientIP>{escape(caller.client_ip)}</rsp:ClientIP>"
            f"<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>{escape(inputs)}</rsp:InputStreams><rsp:OutputStreams>{escape(outputs)}</rsp:OutputStreams>"
            f"<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>"
        )

    def _delete(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        self._shells.delete_shell(_shell_id(request), owner=caller.username)
        return ""

    def _command(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        shell_id = _shell_id(request)
        self._shells.shell(shell_id, owner=caller.username)  # an unknown shell faults before the command is counted
        command_line = request.body.find(q(NS_SHELL, "CommandLine"))
        executable = _text(command_line, "Command") if command_line is not None else None
        if command_line is None or not executable:
            raise errors.invalid_parameter("The Command request carries no rsp:CommandLine/rsp:Command.")
        arguments = [a.text or "" for a in command_line.findall(q(NS_SHELL, "Arguments"))]
        drop = self._faults.on_command()
        if drop is DropWhen.BEFORE:
            raise ConnectionDropped("Command request dropped before running")
        command = self._shells.create_command(shell_id, " ".join([executable, *arguments]), drop_reply=drop is DropWhen.AFTER,
                                              owner=caller.username)
        return f"<rsp:CommandResponse><rsp:CommandId>{command.id}</rsp:CommandId></rsp:CommandResponse>"

    def _send(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        shell_id = _shell_id(request)
        streams = request.body.findall(f"{q(NS_SHELL, 'Send')}/{q(NS_SHELL, 'Stream')}")
        if not streams:
            raise errors.invalid_parameter("The Send request carries no rsp:Send/rsp:Stream.")
        for stream in streams:
            if stream.get("Name") != "stdin":
                raise errors.invalid_parameter(f"The stream {stream.get('Name')!r} is not an input stream of this shell.")
            try:
                data = base64.b64decode((stream.text or "").strip(), validate=True)
            except binascii.Error as exc:
                raise errors.invalid_parameter(f"The stdin stream is not valid base64: {exc}.") from exc
            end = (stream.get("End") or "false").lower() == "true"
            self._shells.send_input(shell_id, _required_attr(stream, "CommandId"), data, end, owner=caller.username)
        return "<rsp:SendResponse/>"

    def _receive(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        desired = request.body.find(f"{q(NS_SHELL, 'Receive')}/{q(NS_SHELL, 'DesiredStream')}")
        if desired is None:
            raise errors.invalid_parameter("The Receive request carries no rsp:Receive/rsp:DesiredStream.")
        command_id = _required_attr(desired, "CommandId")
        budget = max(1024, (request.max_envelope_size - _ENVELOPE_OVERHEAD) * 3 // 4)
        output = self._shells.receive(_shell_id(request), command_id, request.operation_timeout_s, budget, owner=caller.username)
        return _receive_body(command_id.upper(), output)

    def _signal(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        signal = request.body.find(q(NS_SHELL, "Signal"))
        if signal is None:
            raise errors.invalid_parameter("The Signal request carries no rsp:Signal.")
        code = _SIGNALS.get(_text(signal, "Code") or "")
        if code is None:
            raise errors.invalid_parameter(f"Unknown signal code {_text(signal, 'Code')!r}.")
        self._shells.signal(_shell_id(request), _required_attr(signal, "CommandId"), code, owner=caller.username)
        return "<rsp:SignalResponse/>"

    # -- PSRP: the PowerShell resource URI; runspace pools are shells, pipelines are commands --

    def _psrp_registry(self) -> PsrpRegistry:
        assert self._psrp is not None
        return self._psrp

    def _psrp_create(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        shell_spec = request.body.find(q(NS_SHELL, "Shell"))
        creation = shell_spec.find(q(_NS_PS, "creationXml")) if shell_spec is not None else None
        if shell_spec is None or creation is None:
            raise errors.invalid_parameter("The Create request for a PowerShell shell carries no rsp:Shell/creationXml.")
        pool = self._psrp_registry().create_pool(caller.username, shell_spec.get("ShellId"), _b64(creation.text))
        resource = escape(request.resource_uri or "")
        return (
            f"<x:ResourceCreated><a:Address>{escape(endpoint_url)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{resource}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{pool.id}</w:Selector></w:SelectorSet>'
            f"</a:ReferenceParameters></x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{NS_SHELL}"><rsp:ShellId>{pool.id}</rsp:ShellId>'
            f"<rsp:ResourceUri>{resource}</rsp:ResourceUri>"
            f"<rsp:Owner>{escape(caller.username)}</rsp:Owner><rsp:ClientIP>{escape(caller.client_ip)}</rsp:ClientIP>"
            f"<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin pr</rsp:InputStreams>"
            f"<rsp:OutputStreams>stdout</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
            f"<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>"
        )

    def _psrp_delete(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        self._psrp_registry().delete_pool(_shell_id(request), caller.username)
        return ""

    def _psrp_command(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        registry = self._psrp_registry()
        shell_id = _shell_id(request)
        command_line = request.body.find(q(NS_SHELL, "CommandLine"))
        arguments = command_line.findall(q(NS_SHELL, "Arguments")) if command_line is not None else []
        if command_line is None or not arguments:
            raise errors.invalid_parameter("The Command request for a pipeline carries no rsp:CommandLine/rsp:Arguments.")
        registry.pool(shell_id, caller.username)  # an unknown shell faults before the command is counted
        drop = self._faults.on_command()
        if drop is DropWhen.BEFORE:
            raise ConnectionDropped("Command request dropped before running")
        command_id = registry.create_pipeline(shell_id, command_line.get("CommandId"), _b64(arguments[0].text), caller.username,
                                              drop_reply=drop is DropWhen.AFTER)
        return f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"

    def _psrp_send(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        streams = request.body.findall(f"{q(NS_SHELL, 'Send')}/{q(NS_SHELL, 'Stream')}")
        if not streams:
            raise errors.invalid_parameter("The Send request carries no rsp:Send/rsp:Stream.")
        for stream in streams:
            if stream.get("Name") not in ("stdin", "pr"):
                raise errors.invalid_parameter(f"The stream {stream.get('Name')!r} is not an input stream of this shell.")
            self._psrp_registry().send(_shell_id(request), stream.get("CommandId"), _b64(stream.text), caller.username)
        return "<rsp:SendResponse/>"

    def _psrp_receive(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        desired = request.body.find(f"{q(NS_SHELL, 'Receive')}/{q(NS_SHELL, 'DesiredStream')}")
        if desired is None:
            raise errors.invalid_parameter("The Receive request carries no rsp:Receive/rsp:DesiredStream.")
        registry = self._psrp_registry()
        budget = max(1024, (request.max_envelope_size - _ENVELOPE_OVERHEAD) * 3 // 4)
        command_id = desired.get("CommandId")
        if command_id is None:
            payloads = registry.receive_pool(_shell_id(request), caller.username, request.operation_timeout_s, budget)
            streams = "".join(f'<rsp:Stream Name="stdout">{base64.b64encode(p).decode()}</rsp:Stream>' for p in payloads)
            return f"<rsp:ReceiveResponse>{streams}</rsp:ReceiveResponse>"
        payloads, done = registry.receive_pipeline(_shell_id(request), command_id, caller.username,
                                                   request.operation_timeout_s, budget)
        cid = quoteattr(command_id.upper())
        parts = [f'<rsp:Stream Name="stdout" CommandId={cid}>{base64.b64encode(p).decode()}</rsp:Stream>' for p in payloads]
        if done:
            parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"></rsp:Stream>')
            parts.append(f'<rsp:CommandState CommandId={cid} State="{_STATE_DONE}"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>')
        else:
            parts.append(f'<rsp:CommandState CommandId={cid} State="{_STATE_RUNNING}"/>')
        return f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>"

    def _psrp_signal(self, request: WsmanRequest, caller: Caller, endpoint_url: str) -> str:
        signal = request.body.find(q(NS_SHELL, "Signal"))
        if signal is None:
            raise errors.invalid_parameter("The Signal request carries no rsp:Signal.")
        code = (_text(signal, "Code") or "").lower()
        if code not in _PSRP_SIGNALS:
            raise errors.invalid_parameter(f"Unknown signal code {_text(signal, 'Code')!r}.")
        self._psrp_registry().signal(_shell_id(request), _required_attr(signal, "CommandId"), caller.username)
        return "<rsp:SignalResponse/>"


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode((text or "").strip(), validate=True)
    except binascii.Error as exc:
        raise errors.invalid_parameter(f"The PSRP data is not valid base64: {exc}.") from exc


def _receive_body(command_id: str, output: Output) -> str:
    cid = quoteattr(command_id)
    parts = ["<rsp:ReceiveResponse>"]
    for name, data in (("stdout", output.stdout), ("stderr", output.stderr)):
        if data:
            parts.append(f'<rsp:Stream Name="{name}" CommandId={cid}>{base64.b64encode(data).decode()}</rsp:Stream>')
    if output.exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{_STATE_RUNNING}"/>')
    else:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"></rsp:Stream>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid} End="true"></rsp:Stream>')
        exit_code = output.exit_code & 0xFFFFFFFF  # a DWORD on the wire
        parts.append(f'<rsp:CommandState CommandId={cid} State="{_STATE_DONE}"><rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>')
    parts.append("</rsp:ReceiveResponse>")
    return "".join(parts)


def _shell_id(request: WsmanRequest) -> str:
    shell_id = request.selectors.get("shellid")
    if not shell_id:
        raise errors.shell_not_found("(none)")
    return shell_id


def _text(parent: ET.Element, local: str) -> str | None:
    element = parent.find(q(NS_SHELL, local))
    return element.text.strip() if element is not None and element.text else None


def _required_attr(element: ET.Element, name: str) -> str:
    value = element.get(name)
    if not value:
        raise errors.invalid_parameter(f"The {element.tag.rpartition('}')[2]} element carries no {name} attribute.")
    return value
