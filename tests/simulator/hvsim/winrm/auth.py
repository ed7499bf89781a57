"""HTTP authentication of one TCP connection: Basic per request, NTLM per connection."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass

from spnego.channel_bindings import GssChannelBindings

from .ntlm import AuthenticationFailed, NtlmAcceptor, NtlmAccounts

# What a Windows WinRM listener with Basic enabled offers an unauthenticated client.
CHALLENGE_HEADERS = ("Negotiate", 'Basic realm="WSMAN"')


@dataclass(frozen=True)
class Authenticated:
    username: str
    sealing: NtlmAcceptor | None  # the connection's NTLM context, when NTLM authenticated it


@dataclass(frozen=True)
class Challenge:
    """Answer 401 with these WWW-Authenticate values (the handshake continues, or starts over)."""

    www_authenticate: tuple[str, ...]


class AccountStore:
    """The host's current accounts, and an NTLM account file kept in step with them."""

    def __init__(self, host: str, accounts: Callable[[], list[tuple[str, str]]]) -> None:
        self.host = host
        self._accounts = accounts
        self._lock = threading.Lock()
        self._ntlm: tuple[tuple[tuple[str, str], ...], NtlmAccounts] | None = None

    def accounts(self) -> list[tuple[str, str]]:
        """(username, password) of every account that may authenticate, the main one first."""
        return list(self._accounts())

    def ntlm_accounts(self) -> NtlmAccounts:
        current = tuple(self._accounts())
        with self._lock:
            if self._ntlm is None or self._ntlm[0] != current:
                if self._ntlm is not None:
                    self._ntlm[1].close()
                self._ntlm = (current, NtlmAccounts(self.host, list(current)))
            return self._ntlm[1]

    def close(self) -> None:
        with self._lock:
            if self._ntlm is not None:
                self._ntlm[1].close()
                self._ntlm = None


class ConnectionAuth:
    def __init__(self, accounts: AccountStore, channel_bindings: GssChannelBindings | None) -> None:
        self._accounts = accounts
        self._channel_bindings = channel_bindings
        self._pending: NtlmAcceptor | None = None
        self._established: NtlmAcceptor | None = None

    def authenticate(self, authorization: str | None) -> Authenticated | Challenge:
        scheme, _unused, credentials = (authorization or "").strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._basic(credentials.strip())
        if scheme in ("negotiate", "ntlm"):
            return self._ntlm_step(scheme, credentials.strip())
        if not authorization and self._established is not None:
            return Authenticated(self._established.username, self._established)
        return Challenge(CHALLENGE_HEADERS)

    def _basic(self, encoded: str) -> Authenticated | Challenge:
        try:
            user, _unused, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return Challenge(CHALLENGE_HEADERS)
        for expected_user, expected_password in self._accounts.accounts():
            if _same_account(user, expected_user, self._accounts.host):
                if hmac.compare_digest(password.encode(), expected_password.encode()):
                    return Authenticated(expected_user.rpartition("\\")[2], None)
                break
        return Challenge(CHALLENGE_HEADERS)

    def forget(self) -> None:
        """Drop the connection's authentication (WinRM refused the account after it authenticated)."""
        self._pending = None
        self._established = None

    def _ntlm_step(self, scheme: str, encoded: str) -> Authenticated | Challenge:
        try:
            token = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return Challenge(CHALLENGE_HEADERS)
        # A Negotiate message (type 1) starts a fresh handshake on this connection; anything
        # else must continue the one in progress.
        if token[8:12] == b"\x01\x00\x00\x00":
            self._established = None
            self._pending = NtlmAcceptor(self._accounts.ntlm_accounts(), self._channel_bindings)
        elif self._pending is None:
            return Challenge(CHALLENGE_HEADERS)
        try:
            reply = self._pending.step(token)
        except AuthenticationFailed:
            self._pending = None
            return Challenge(CHALLENGE_HEADERS)
        if not self._pending.complete:
            header = "NTLM" if scheme == "ntlm" else "Negotiate"
            return Challenge((f"{header} {base64.b64encode(reply or b'').decode()}",))
        self._established, self._pending = self._pending, None
        return Authenticated(self._established.username, self._established)


def _same_account(given: str, expected: str, host: str) -> bool:
    """Local accounts match case-insensitively, with no domain, ".", or the host name as domain."""
    given_domain, _unused, given_user = given.replace("/", "\\").rpartition("\\")
    expected_domain, _unused, expected_user = expected.rpartition("\\")
    allowed_domains = {"", ".", host.split(".")[0].lower(), expected_domain.lower()}
    return given_user.lower() == expected_user.lower() and given_domain.lower() in allowed_domains
