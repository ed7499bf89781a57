"""MS-WSMV message encryption (2.2.9.1): multipart/encrypted bodies around a sealed SOAP message.

One framing for every authentication that seals messages over HTTP: each part is a header block
naming the protocol and the plaintext length, then application/octet-stream data made of a
4-byte little-endian length, that many bytes of signature (NTLM, Kerberos) or of TLS trailer
(CredSSP), and the sealed bytes. A CredSSP client splits messages over 16 KiB into several
parts (multipart/x-multi-encrypted). The sealing state is sequential: unseal every request and
seal every reply exactly once, in order.
"""

from __future__ import annotations

import re
import struct
from typing import Protocol

SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS = "application/HTTP-Kerberos-session-encrypted"
CREDSSP = "application/HTTP-CredSSP-session-encrypted"
_BOUNDARY = b"--Encrypted Boundary"
_OCTET_STREAM = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")
_PROTOCOL = re.compile(rb"\tContent-Type: (application/HTTP-[A-Za-z]+-session-encrypted)\r\n")
_TYPES = ("multipart/encrypted", "multipart/x-multi-encrypted")


class FramingError(Exception):
    pass


class Sealing(Protocol):
    """A connection's security context as message encryption uses it."""

    protocols: tuple[str, ...]  # the protocol names a client may use with it, the reply's first

    def unseal(self, part: bytes) -> bytes:
        """Plaintext of one part's data (4-byte length, signature or trailer, sealed bytes)."""

    def seal(self, plaintext: bytes) -> bytes:
        """One part's data for the plaintext."""


def content_type(sealing: Sealing) -> str:
    return f'multipart/encrypted;protocol="{sealing.protocols[0]}";boundary="Encrypted Boundary"'


def is_encrypted(content_type_header: str) -> bool:
    lowered = content_type_header.lower().replace(" ", "")
    return lowered.startswith(_TYPES) and "-session-encrypted" in lowered


def unwrap(body: bytes, sealing: Sealing) -> bytes:
    """The plaintext SOAP of an encrypted request body."""
    if not body.endswith(_BOUNDARY + b"--\r\n"):
        raise FramingError("encrypted body does not end with the closing boundary")
    parts = body[: -len(_BOUNDARY + b"--\r\n")].split(_BOUNDARY + b"\r\n")
    if len(parts) < 3 or len(parts) % 2 != 1 or parts[0] != b"":
        raise FramingError("expected header and data parts in pairs")
    plaintext = b""
    for header, payload in zip(parts[1::2], parts[2::2], strict=True):
        protocol = _PROTOCOL.search(header)
        if protocol is None or protocol.group(1).decode().lower() not in (p.lower() for p in sealing.protocols):
            raise FramingError("the header part does not name this connection's session encryption protocol")
        length = _LENGTH.search(header)
        if length is None:
            raise FramingError("OriginalContent carries no Length")
        if not payload.startswith(_OCTET_STREAM):
            raise FramingError("the data part is not application/octet-stream")
        data = payload[len(_OCTET_STREAM) :]
        if len(data) < 4:
            raise FramingError("the data part is too short")
        clear = sealing.unseal(data)
        if len(clear) != int(length.group(1)):
            raise FramingError("decrypted length does not match OriginalContent Length")
        plaintext += clear
    return plaintext


def wrap(plaintext: bytes, sealing: Sealing) -> bytes:
    return (
        _BOUNDARY + b"\r\n"
        b"\tContent-Type: " + sealing.protocols[0].encode() + b"\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(plaintext)).encode()
        + b"\r\n"
        + _BOUNDARY
        + b"\r\n"
        + _OCTET_STREAM
        + sealing.seal(plaintext)
        + _BOUNDARY
        + b"--\r\n"
    )


def split_signature(data: bytes) -> tuple[bytes, bytes]:
    """(signature, sealed bytes) of a part's data that starts with the signature's length."""
    (length,) = struct.unpack("<I", data[:4])
    if length > len(data) - 4:
        raise FramingError(f"signature length {length} exceeds the data")
    return data[4 : 4 + length], data[4 + length :]


def with_length(header: bytes, sealed: bytes) -> bytes:
    return struct.pack("<I", len(header)) + header + sealed
