"""SOAP 1.2 / WS-Management envelopes: parse requests, render replies and faults like Windows."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_WSMAN_MS = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_WSMAN_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

# Windows' default MaxEnvelopeSizekb is 500; the client's MaxEnvelopeSize bounds our replies.
SERVER_MAX_ENVELOPE_BYTES = 500 * 1024
DEFAULT_CLIENT_MAX_ENVELOPE = 153600
DEFAULT_OPERATION_TIMEOUT_S = 60.0

_REPLY_NAMESPACES = f'xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" xmlns:x="{NS_TRANSFER}" xmlns:w="{NS_WSMAN}" xmlns:rsp="{NS_SHELL}" xmlns:p="{NS_WSMAN_MS}"'
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


@dataclass
class WsmanFault(Exception):
    """A fault answered as HTTP 500 with a SOAP Fault body (what Windows does)."""

    reason: str
    subcode: str  # a qualified name using the reply prefixes, e.g. "w:InvalidSelectors"
    code: str = "s:Sender"
    wsman_code: int | None = None
    message: str | None = None  # the f:Message text; defaults to reason
    fault_detail: str | None = None  # a w:FaultDetail URI

    def __str__(self) -> str:
        return f"{self.subcode}: {self.reason}"


@dataclass(frozen=True)
class WsmanRequest:
    action: str
    message_id: str
    resource_uri: str | None
    selectors: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # names upper-cased
    operation_timeout_s: float = DEFAULT_OPERATION_TIMEOUT_S
    max_envelope_size: int = DEFAULT_CLIENT_MAX_ENVELOPE
    body: ET.Element = field(default_factory=lambda: ET.Element(q(NS_SOAP, "Body")))


def parse_duration(text: str) -> float:
    """xs:duration as WS-Man uses it (PT60S, PT60.000S, PT1M30S) in seconds."""
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"not an xs:duration: {text!r}")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def parse_request(data: bytes) -> WsmanRequest:
    if len(data) > SERVER_MAX_ENVELOPE_BYTES:
        raise WsmanFault(
            reason="The WS-Management service cannot process the request because the envelope size in the request is too big.",
            subcode="w:EncodingLimit",
            fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize",
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise WsmanFault(
            reason=f"The WS-Management service cannot process the request because the XML is invalid: {exc}.",
            subcode="w:SchemaValidationError",
        ) from exc
    header = root.find(q(NS_SOAP, "Header"))
    body = root.find(q(NS_SOAP, "Body"))
    if root.tag != q(NS_SOAP, "Envelope") or header is None or body is None:
        raise WsmanFault(reason="The request is not a SOAP 1.2 envelope with a Header and a Body.", subcode="w:SchemaValidationError")

    action = _header_text(header, NS_ADDRESSING, "Action")
    message_id = _header_text(header, NS_ADDRESSING, "MessageID")
    if not action or not message_id:
        raise WsmanFault(
            reason="The WS-Management service cannot process the request because a required header (Action or MessageID) is missing.",
            subcode="a:MessageInformationHeaderRequired",
        )
    selectors = {(s.get("Name") or "").lower(): (s.text or "").strip() for s in header.findall(f"{q(NS_WSMAN, 'SelectorSet')}/{q(NS_WSMAN, 'Selector')}")}
    options = {(o.get("Name") or "").upper(): (o.text or "").strip() for o in header.findall(f"{q(NS_WSMAN, 'OptionSet')}/{q(NS_WSMAN, 'Option')}")}
    timeout_text = _header_text(header, NS_WSMAN, "OperationTimeout")
    envelope_text = _header_text(header, NS_WSMAN, "MaxEnvelopeSize")
    try:
        timeout = parse_duration(timeout_text) if timeout_text else DEFAULT_OPERATION_TIMEOUT_S
        max_envelope = int(envelope_text) if envelope_text else DEFAULT_CLIENT_MAX_ENVELOPE
    except ValueError as exc:
        raise WsmanFault(reason=f"Invalid OperationTimeout or MaxEnvelopeSize header: {exc}.", subcode="w:InvalidHeader") from exc
    return WsmanRequest(
        action=action,
        message_id=message_id,
        resource_uri=_header_text(header, NS_WSMAN, "ResourceURI"),
        selectors=selectors,
        options=options,
        operation_timeout_s=timeout,
        max_envelope_size=max_envelope,
        body=body,
    )


def _header_text(header: ET.Element, namespace: str, local: str) -> str | None:
    element = header.find(q(namespace, local))
    return element.text.strip() if element is not None and element.text else None


def new_message_id() -> str:
    return f"uuid:{str(uuid.uuid4()).upper()}"


def envelope(action: str, relates_to: str, body_xml: str) -> bytes:
    """A reply envelope; body_xml is already-escaped XML using the reply prefixes."""
    return (
        f'<s:Envelope xml:lang="en-US" {_REPLY_NAMESPACES}><s:Header>'
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>{new_message_id()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body_xml}</s:Body></s:Envelope>"
    ).encode()


def fault_envelope(fault: WsmanFault, relates_to: str | None, machine: str) -> bytes:
    detail = ""
    if fault.fault_detail:
        detail += f"<w:FaultDetail>{escape(fault.fault_detail)}</w:FaultDetail>"
    if fault.wsman_code is not None:
        detail += (
            f'<f:WSManFault xmlns:f="{NS_WSMAN_FAULT}" Code="{fault.wsman_code}" Machine={quoteattr(machine)}>'
            f"<f:Message>{escape(fault.message or fault.reason)}</f:Message></f:WSManFault>"
        )
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value>"
        f"<s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f"{f'<s:Detail>{detail}</s:Detail>' if detail else ''}</s:Fault>"
    )
    # A request too broken to have a MessageID still gets a well-formed reply.
    return envelope(ACTION_FAULT, relates_to or new_message_id(), body)
