"""HTTP authentication of one TCP connection: Basic per request; NTLM, Kerberos and CredSSP per connection."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spnego.channel_bindings import GssChannelBindings

from .credssp import CredSSPAcceptor
from .encryption import Sealing
from .kerberos import KerberosAcceptor, is_kerberos_token
from .ntlm import AuthenticationFailed, NtlmAcceptor, NtlmAccounts

# What a Windows WinRM listener with Basic enabled offers an unauthenticated client.
CHALLENGE_HEADERS = ("Negotiate", 'Basic realm="WSMAN"')
# ... and with CredSSP enabled (Enable-WSManCredSSP -Role Server).
CREDSSP_CHALLENGE_HEADERS = ("Negotiate", 'Basic realm="WSMAN"', "CredSSP")


@dataclass(frozen=True)
class KerberosConfig:
    """The host's HTTP service key, and which realm principals log on as which local account."""

    keytab: Path
    service_hostname: str
    principal_account: Callable[[str], str | None]


@dataclass(frozen=True)
class Authenticated:
    username: str
    sealing: Sealing | None = None  # the connection's security context, when it can seal messages
    www_authenticate: tuple[str, ...] = ()  # the final token of a mutual authentication


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
    def __init__(self, accounts: AccountStore, channel_bindings: GssChannelBindings | None,
                 kerberos: KerberosConfig | None = None, credssp: bool = False) -> None:
        self._accounts = accounts
        self._channel_bindings = channel_bindings
        self._kerberos = kerberos
        self._credssp = credssp
        self._challenge = CREDSSP_CHALLENGE_HEADERS if credssp else CHALLENGE_HEADERS
        self._pending: NtlmAcceptor | KerberosAcceptor | CredSSPAcceptor | None = None
        self._established: Authenticated | None = None

    @property
    def challenge(self) -> tuple[str, ...]:
        return self._challenge

    def authenticate(self, authorization: str | None) -> Authenticated | Challenge:
        scheme, _unused, credentials = (authorization or "").strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._basic(credentials.strip())
        if scheme in ("negotiate", "ntlm", "kerberos"):
            return self._negotiate_step(scheme, credentials.strip())
        if scheme == "credssp" and self._credssp:
            return self._credssp_step(credentials.strip())
        if not authorization and self._established is not None:
            return Authenticated(self._established.username, self._established.sealing)
        return Challenge(self._challenge)

    def _basic(self, encoded: str) -> Authenticated | Challenge:
        try:
            user, _unused, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return Challenge(self._challenge)
        account = self._local_account(user, password)
        return Authenticated(account) if account is not None else Challenge(self._challenge)

    def _local_account(self, user: str, password: str) -> str | None:
        for expected_user, expected_password in self._accounts.accounts():
            if _same_account(user, expected_user, self._accounts.host):
                if hmac.compare_digest(password.encode(), expected_password.encode()):
                    return expected_user.rpartition("\\")[2]
                break
        return None

    def forget(self) -> None:
        """Drop the connection's authentication (WinRM refused the account after it authenticated)."""
        self._pending = None
        self._established = None

    def _negotiate_step(self, scheme: str, encoded: str) -> Authenticated | Challenge:
        try:
            token = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return Challenge(self._challenge)
        header = {"ntlm": "NTLM", "kerberos": "Kerberos"}.get(scheme, "Negotiate")
        try:
            # A Negotiate message (NTLM type 1) or a Kerberos initial token starts a fresh
            # handshake on this connection; anything else must continue the one in progress.
            if token.startswith(b"NTLMSSP\x00") and token[8:12] == b"\x01\x00\x00\x00":
                self._established = None
                self._pending = NtlmAcceptor(self._accounts.ntlm_accounts(), self._channel_bindings)
            elif token[:1] == b"\x60" and is_kerberos_token(token) and self._kerberos is not None:
                self._established = None
                self._pending = KerberosAcceptor(self._kerberos.keytab, self._kerberos.service_hostname, token,
                                                 self._channel_bindings)
            elif self._pending is None or isinstance(self._pending, CredSSPAcceptor):
                return Challenge(self._challenge)
            reply = self._pending.step(token)
        except AuthenticationFailed:
            self._pending = None
            return Challenge(self._challenge)
        if not self._pending.complete:
            return Challenge((f"{header} {base64.b64encode(reply or b'').decode()}",))
        acceptor, self._pending = self._pending, None
        if isinstance(acceptor, KerberosAcceptor):
            assert self._kerberos is not None
            username = self._kerberos.principal_account(acceptor.principal)
            if username is None:
                return Challenge(self._challenge)
            mutual = (f"{header} {base64.b64encode(reply).decode()}",) if reply else ()
            self._established = Authenticated(username, acceptor)
            return Authenticated(username, acceptor, mutual)
        assert isinstance(acceptor, NtlmAcceptor)
        self._established = Authenticated(acceptor.username, acceptor)
        return self._established

    def _credssp_step(self, encoded: str) -> Authenticated | Challenge:
        try:
            token = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return Challenge(self._challenge)
        try:
            if not isinstance(self._pending, CredSSPAcceptor):
                self._established = None
                self._pending = CredSSPAcceptor(self._accounts.ntlm_accounts())
            reply = self._pending.step(token)
        except AuthenticationFailed:
            self._pending = None
            return Challenge(self._challenge)
        if not self._pending.complete:
            return Challenge((f"CredSSP {base64.b64encode(reply or b'').decode()}",))
        acceptor, self._pending = self._pending, None
        # The delegated credentials are what the host logs the session on with: they must be an account's.
        username = self._local_account(*acceptor.delegated())
        if username is None:
            return Challenge(self._challenge)
        self._established = Authenticated(username, acceptor)
        return self._established


def _same_account(given: str, expected: str, host: str) -> bool:
    """Local accounts match case-insensitively, with no domain, ".", or the host name as domain."""
    given_domain, _unused, given_user = given.replace("/", "\\").rpartition("\\")
    expected_domain, _unused, expected_user = expected.rpartition("\\")
    allowed_domains = {"", ".", host.split(".")[0].lower(), expected_domain.lower()}
    return given_user.lower() == expected_user.lower() and given_domain.lower() in allowed_domains
