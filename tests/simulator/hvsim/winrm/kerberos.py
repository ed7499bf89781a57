"""Server-side Kerberos for the WinRM endpoint: pyspnego's acceptor with the host's keytab.

The client's token arrives in `Authorization: Negotiate` (or `Kerberos`): a raw Kerberos AP-REQ
(pywinrm, through pykerberos) or one wrapped in SPNEGO. The acceptor answers with the AP-REP for
mutual authentication in the reply's WWW-Authenticate header, and then seals messages with
the Kerberos session key (MS-WSMV 2.2.9.1.1; the same framing as NTLM with a longer signature).
"""

from __future__ import annotations

from pathlib import Path

import gssapi
import spnego
from spnego.channel_bindings import GssChannelBindings

from .encryption import KERBEROS, SPNEGO, split_signature, with_length
from .ntlm import AuthenticationFailed

_SPNEGO_OID = bytes.fromhex("06062b0601050502")
_KRB5_OID = bytes.fromhex("06092a864886f712010202")


def is_kerberos_token(token: bytes) -> bool:
    """A GSS initial token (0x60 ...) for SPNEGO or Kerberos, or a SPNEGO continuation (0xa1)."""
    return token[:1] == b"\xa1" or (token[:1] == b"\x60" and (_SPNEGO_OID in token[:20] or _KRB5_OID in token[:20]))


class KerberosAcceptor:
    protocols = (SPNEGO, KERBEROS)

    def __init__(self, keytab: Path, service_hostname: str, first_token: bytes,
                 channel_bindings: GssChannelBindings | None) -> None:
        try:
            credential = gssapi.Credentials(usage="accept", store={"keytab": str(keytab)})
        except gssapi.exceptions.GSSError as exc:
            raise AuthenticationFailed(f"no acceptor credential in {keytab}: {exc}") from exc
        protocol = "negotiate" if _SPNEGO_OID in first_token[:20] else "kerberos"
        self._context = spnego.server(hostname=service_hostname, service="HTTP", protocol=protocol,
                                      channel_bindings=channel_bindings, _gssapi_credential=credential)
        self.reply_token: bytes | None = None

    @property
    def complete(self) -> bool:
        return bool(self._context.complete)

    @property
    def principal(self) -> str:
        return str(self._context.client_principal or "")

    def step(self, token: bytes) -> bytes | None:
        try:
            self.reply_token = self._context.step(token)
        except Exception as exc:  # expired tickets, wrong keys, malformed tokens
            raise AuthenticationFailed(str(exc)) from exc
        return self.reply_token

    def seal(self, data: bytes) -> bytes:
        wrapped = self._context.wrap_winrm(data)
        return with_length(wrapped.header, wrapped.data)

    def unseal(self, data: bytes) -> bytes:
        signature, sealed = split_signature(data)
        try:
            return self._context.unwrap_winrm(signature, sealed)
        except Exception as exc:
            raise AuthenticationFailed(f"message signature check failed: {exc}") from exc
