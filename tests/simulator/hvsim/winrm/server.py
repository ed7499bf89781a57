"""The WinRM listener: HTTP/1.1 keep-alive over TCP (or TLS), authentication, encryption, faults.

One Endpoint is one listener, HTTP or HTTPS (tls=...). For both on one host, start two
endpoints; they share nothing but the backend (each has its own shells and faults).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..psrp import PsrpRegistry
from . import encryption
from .auth import AccountStore, Authenticated, Challenge, ConnectionAuth, KerberosConfig
from .backend import CommandBackend, CommandObserver
from .faults import ConnectionDropped, ProtocolFaults
from .ntlm import AuthenticationFailed
from .shells import ShellRegistry
from .tls import TLSConfig
from .wsman import Caller, WsmanService

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
IDLE_CONNECTION_TIMEOUT_S = 120.0


class Endpoint:
    def __init__(
        self,
        host: str,
        backend: CommandBackend,
        bind_address: str = "127.0.0.1",
        port: int = 0,
        tls: TLSConfig | None = None,
        observer: CommandObserver | None = None,
        kerberos: KerberosConfig | None = None,
        credssp: bool = False,
    ) -> None:
        self.host = host
        self.kerberos = kerberos  # Kerberos with this host's keytab (a lab with a realm)
        self.credssp = credssp  # Enable-WSManCredSSP -Role Server
        self.backend = backend
        self.bind_address = bind_address
        self.tls = tls
        self.faults = ProtocolFaults()
        self._requested_port = port
        self._shells = ShellRegistry(host, backend, observer)
        self.psrp = PsrpRegistry(host, backend, observer)
        self.service = WsmanService(host, self._shells, self.faults, self.psrp)
        self.accounts = AccountStore(host, self._accounts)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _accounts(self) -> list[tuple[str, str]]:
        listed = getattr(self.backend, "accounts", None)
        return list(listed(self.host)) if listed is not None else [self.backend.credentials(self.host)]

    def authorized(self, username: str) -> bool:
        """WinRM's access check once the account is authenticated (backends without one allow all)."""
        check = getattr(self.backend, "authorize", None)
        return True if check is None else bool(check(self.host, username))

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"endpoint for {self.host} is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bind_address}:{self.port}/wsman"

    def start(self) -> None:
        """Listen and serve in a background thread; returns once the socket is listening."""
        if self._server is not None:
            raise RuntimeError(f"endpoint for {self.host} is already started")
        self._server = _Server((self.bind_address, self._requested_port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"winrm-{self.host}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.accounts.close()

    def __enter__(self) -> Endpoint:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.ssl_context = endpoint.tls.server_context() if endpoint.tls else None
        self.channel_bindings = endpoint.tls.channel_bindings() if endpoint.tls else None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the address back to a name (socket.getfqdn) only to fill
        # server_name, which nothing here uses; against a slow resolver that costs seconds per lab.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if self.endpoint.backend.reachable(self.endpoint.host):
            return True
        # A host that is down: reset the connection so the client sees a connection error.
        request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    def track(self, connection: socket.socket, active: bool) -> None:
        with self._connections_lock:
            (self._connections.add if active else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_S
    server: _Server

    def setup(self) -> None:
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs
        # cost ~40 ms per reply.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.ssl_context is not None:
            self.request.settimeout(self.timeout)
            self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        super().setup()
        self.server.track(self.connection, True)
        endpoint = self.server.endpoint
        self.auth = ConnectionAuth(endpoint.accounts, self.server.channel_bindings, endpoint.kerberos, endpoint.credssp)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        endpoint = self.server.endpoint
        if not endpoint.backend.reachable(endpoint.host):
            self.close_connection = True
            return
        body = self._read_body()
        if body is None:
            return
        if self.path.split("?")[0].lower() != "/wsman":
            self._reply(404, b"")
            return
        outcome = self.auth.authenticate(self.headers.get("Authorization"))
        if isinstance(outcome, Challenge):
            self._reply(401, b"", www_authenticate=outcome.www_authenticate)
            return
        if not endpoint.authorized(outcome.username):
            # Authenticated but refused by WinRM's access check (not an administrator, not in
            # Remote Management Users): Windows answers 401 too, so clients report rejected
            # credentials (RULES #31).
            log.info("%s: %s authenticated but may not use WinRM", endpoint.host, outcome.username)
            self.auth.forget()
            self._reply(401, b"", www_authenticate=self.auth.challenge)
            self.close_connection = True
            return
        try:
            self._serve(body, outcome)
        except ConnectionDropped as dropped:
            log.info("%s: %s", endpoint.host, dropped)
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self._reply(411, b"")
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _serve(self, body: bytes, user: Authenticated) -> None:
        content_type = self.headers.get("Content-Type", "")
        if not body:
            # pywinrm's empty POST that sets up message encryption (with Kerberos's mutual token).
            self._reply(200, b"", www_authenticate=user.www_authenticate)
            return
        sealing = None
        if encryption.is_encrypted(content_type):
            sealing = user.sealing
            if sealing is None:  # Basic has no keys to unseal with
                self._reply(400, b"")
                return
            try:
                body = encryption.unwrap(body, sealing)
            except (encryption.FramingError, AuthenticationFailed) as exc:
                log.warning("%s: rejected encrypted request: %s", self.server.endpoint.host, exc)
                self._reply(400, b"")
                return
        elif not content_type.lower().replace(" ", "").startswith("application/soap+xml"):
            self._reply(415, b"")
            return
        endpoint = self.server.endpoint
        reply = endpoint.service.handle(body, Caller(user.username, self.client_address[0]), endpoint.url)
        if sealing is not None:
            self._reply(reply.status, encryption.wrap(reply.body, sealing), content_type=encryption.content_type(sealing),
                        www_authenticate=user.www_authenticate)
        else:
            self._reply(reply.status, reply.body, content_type=SOAP_CONTENT_TYPE, www_authenticate=user.www_authenticate)

    def _reply(self, status: int, body: bytes, content_type: str | None = None, www_authenticate: tuple[str, ...] = ()) -> None:
        latency = self.server.endpoint.faults.latency_seconds
        if latency:
            time.sleep(latency)
        self.send_response(status)
        for value in www_authenticate:
            self.send_header("WWW-Authenticate", value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
