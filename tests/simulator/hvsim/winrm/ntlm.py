"""Server-side NTLM (pyspnego's acceptor) bound to one host's credentials.

pyspnego's acceptor finds its accounts only through the NTLM_USER_FILE environment variable,
read when the context is created and again when the Authenticate message is checked. Several
endpoints with different accounts share one process, so every such call runs under one
process-wide lock with the variable pointing at this host's file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import spnego
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from .encryption import split_signature, with_length

_ENV_VAR = "NTLM_USER_FILE"
_ENV_LOCK = threading.Lock()
NTLM_SIGNATURE = b"NTLMSSP\x00"


class AuthenticationFailed(Exception):
    pass


class NtlmAccounts:
    """A private NTLM_USER_FILE holding the host's accounts, under the domain names a client may use."""

    def __init__(self, host: str, accounts: list[tuple[str, str]]) -> None:
        lines: list[str] = []
        for username, password in accounts:
            domain, _unused, user = username.rpartition("\\")
            # Local accounts authenticate with no domain, ".", or the machine name.
            domains = {domain, "", ".", host.split(".")[0].upper()}
            lines.extend(f"{d}:{user}:{password}\n" for d in sorted(domains))
        fd, name = tempfile.mkstemp(prefix=f"hvsim-ntlm-{host}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        self.path = Path(name)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with _ENV_LOCK:
            previous = os.environ.get(_ENV_VAR)
            os.environ[_ENV_VAR] = str(self.path)
            try:
                yield
            finally:
                if previous is None:
                    del os.environ[_ENV_VAR]
                else:
                    os.environ[_ENV_VAR] = previous


class NtlmAcceptor:
    """One NTLM handshake and, once complete, the connection's sealing state."""

    protocols = ("application/HTTP-SPNEGO-session-encrypted",)

    def __init__(self, accounts: NtlmAccounts, channel_bindings: GssChannelBindings | None) -> None:
        self._accounts = accounts
        with accounts.active():
            self._context = spnego.server(protocol="ntlm", channel_bindings=channel_bindings)

    @property
    def complete(self) -> bool:
        return bool(self._context.complete)

    @property
    def username(self) -> str:
        principal = self._context.client_principal or ""
        return principal.rpartition("\\")[2]

    def step(self, token: bytes) -> bytes | None:
        """The next token to send (the Challenge), or None once the client is authenticated."""
        if not token.startswith(NTLM_SIGNATURE):
            raise AuthenticationFailed("not an NTLM token (SPNEGO-wrapped and Kerberos tokens are not supported)")
        try:
            with self._accounts.active():
                return self._context.step(token)
        except Exception as exc:  # malformed tokens surface as assorted parsing errors, not only SpnegoError
            raise AuthenticationFailed(str(exc)) from exc

    def seal(self, data: bytes) -> bytes:
        """A part's data (16-byte signature, sealed bytes); the RC4 state advances: once per reply."""
        wrapped = self._context.wrap_winrm(data)
        return with_length(wrapped.header, wrapped.data)

    def unseal(self, data: bytes) -> bytes:
        signature, sealed = split_signature(data)
        if len(signature) != 16:
            raise AuthenticationFailed(f"NTLM signatures are 16 bytes, got {len(signature)}")
        try:
            return self._context.unwrap_winrm(signature, sealed)
        except SpnegoError as exc:
            raise AuthenticationFailed(f"message signature check failed: {exc}") from exc
