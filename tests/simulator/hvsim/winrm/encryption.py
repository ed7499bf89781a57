"""MS-WSMV message encryption framing (multipart/encrypted) around an NTLM-sealed body."""

from __future__ import annotations

import re
import struct

from .ntlm import NtlmAcceptor

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_BOUNDARY = b"--Encrypted Boundary"
_OCTET_STREAM = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class FramingError(Exception):
    pass


def is_encrypted(content_type: str) -> bool:
    lowered = content_type.lower()
    return lowered.startswith("multipart/encrypted") and PROTOCOL.lower() in lowered


def unwrap(body: bytes, acceptor: NtlmAcceptor) -> bytes:
    """The plaintext SOAP of an encrypted request body."""
    if not body.endswith(_BOUNDARY + b"--\r\n"):
        raise FramingError("encrypted body does not end with the closing boundary")
    parts = body[: -len(_BOUNDARY + b"--\r\n")].split(_BOUNDARY + b"\r\n")
    if len(parts) != 3 or parts[0] != b"":
        raise FramingError("expected exactly one header part and one data part")
    header, payload = parts[1], parts[2]
    if f"\tContent-Type: {PROTOCOL}\r\n".encode() not in header:
        raise FramingError("the header part does not name the SPNEGO session encryption protocol")
    length = _LENGTH.search(header)
    if length is None:
        raise FramingError("OriginalContent carries no Length")
    if not payload.startswith(_OCTET_STREAM):
        raise FramingError("the data part is not application/octet-stream")
    sealed = payload[len(_OCTET_STREAM) :]
    if len(sealed) < 4:
        raise FramingError("the data part is too short")
    (signature_length,) = struct.unpack("<I", sealed[:4])
    if signature_length != 16:
        raise FramingError(f"NTLM signatures are 16 bytes, got {signature_length}")
    plaintext = acceptor.unseal(sealed[4:20], sealed[20:])
    if len(plaintext) != int(length.group(1)):
        raise FramingError("decrypted length does not match OriginalContent Length")
    return plaintext


def wrap(plaintext: bytes, acceptor: NtlmAcceptor) -> bytes:
    signature, sealed = acceptor.seal(plaintext)
    return (
        _BOUNDARY + b"\r\n"
        b"\tContent-Type: " + PROTOCOL.encode() + b"\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(plaintext)).encode()
        + b"\r\n"
        + _BOUNDARY
        + b"\r\n"
        + _OCTET_STREAM
        + struct.pack("<I", len(signature))
        + signature
        + sealed
        + _BOUNDARY
        + b"--\r\n"
    )
