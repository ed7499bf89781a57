"""Server-side CredSSP for the WinRM endpoint: pyspnego's CredSSP acceptor.

CredSSP runs TLS inside the HTTP exchange (`Authorization: CredSSP <token>`), authenticates the
client with NTLM inside that TLS channel, then receives the client's delegated credentials.
Messages are then sealed with the TLS channel (MS-WSMV 2.2.9.1.3: a 4-byte trailer length, then
TLS records).
"""

from __future__ import annotations

import spnego

from .encryption import CREDSSP, with_length
from .ntlm import AuthenticationFailed, NtlmAccounts


class CredSSPAcceptor:
    protocols = (CREDSSP,)

    def __init__(self, accounts: NtlmAccounts) -> None:
        self._accounts = accounts
        with accounts.active():
            self._context = spnego.server(protocol="credssp")

    @property
    def complete(self) -> bool:
        return bool(self._context.complete)

    def delegated(self) -> tuple[str, str]:
        """(username, password) the client delegated once the handshake is complete."""
        credential = self._context.get_extra_info("client_credential")
        username = getattr(credential, "username", None) or ""
        domain = getattr(credential, "domain_name", None) or ""
        if domain:
            username = f"{domain}\\{username}"
        password = getattr(credential, "password", None) or ""
        return str(username), str(password)

    def step(self, token: bytes) -> bytes | None:
        try:
            with self._accounts.active():
                return self._context.step(token)
        except Exception as exc:  # TLS alerts, NTLM failures, malformed TSRequests
            raise AuthenticationFailed(str(exc)) from exc

    def seal(self, data: bytes) -> bytes:
        wrapped = self._context.wrap_winrm(data)
        return with_length(wrapped.header, wrapped.data)

    def unseal(self, data: bytes) -> bytes:
        try:
            return self._context.unwrap(data[4:]).data
        except Exception as exc:
            raise AuthenticationFailed(f"could not decrypt the CredSSP message: {exc}") from exc
