"""The daemon's control channel: JSON over HTTP on 127.0.0.1, for the CLI and for tests.

    GET  /status                 daemon, endpoints and reachability
    GET  /show/<host>            Fleet.host_state
    GET  /connectivity/<guest>   Fleet.connectivity
    GET  /timing/<host>          the timing model's settings and Fleet.timing_ledger (what the host was charged)
    POST /fault                  body: a fault object (DESIGN.md "faults")
    POST /stop                   shut the daemon down (replies first)
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class ControlTarget(Protocol):
    def status(self) -> dict[str, Any]: ...
    def show(self, host: str) -> dict[str, Any]: ...
    def connectivity(self, guest: str) -> dict[str, Any]: ...
    def timing(self, host: str) -> dict[str, Any]: ...
    def fault(self, fault: dict[str, Any]) -> dict[str, Any]: ...
    def request_stop(self) -> None: ...


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _handler_for(target: ControlTarget) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = [urllib.parse.unquote(p) for p in self.path.strip("/").split("/")]
            routes: dict[str, Callable[[], dict[str, Any]]] = {
                "status": target.status,
                "show": lambda: target.show(parts[1]),
                "connectivity": lambda: target.connectivity(parts[1]),
                "timing": lambda: target.timing(parts[1]),
            }
            if parts[0] not in routes or (parts[0] != "status" and len(parts) != 2):
                self._reply(404, {"error": f"no such resource: {self.path}"})
                return
            self._answer(routes[parts[0]])

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b"{}"
            if self.path == "/fault":
                try:
                    fault = json.loads(body)
                except ValueError:
                    self._reply(400, {"error": "fault body is not JSON"})
                    return
                self._answer(lambda: target.fault(fault))
            elif self.path == "/stop":
                self._reply(200, {"stopping": True})
                target.request_stop()
            else:
                self._reply(404, {"error": f"no such resource: {self.path}"})

        def _answer(self, produce: Callable[[], dict[str, Any]]) -> None:
            try:
                self._reply(200, produce())
            except KeyError as error:
                self._reply(404, {"error": f"unknown: {error.args[0] if error.args else error}"})
            except (ValueError, TypeError) as error:
                self._reply(400, {"error": str(error)})
            except Exception as error:  # the daemon must answer, whatever the Fleet raised
                self._reply(500, {"error": f"{type(error).__name__}: {error}"})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class ControlServer:
    def __init__(self, target: ControlTarget, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(target))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="hvsim-control",
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class ControlClient:
    def __init__(self, port: int, timeout_s: float = 30.0) -> None:
        self._base = f"http://127.0.0.1:{port}"
        self._timeout = timeout_s
        # Never through an http_proxy from the environment: the daemon is on loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def show(self, host: str) -> dict[str, Any]:
        return self._call("GET", f"/show/{urllib.parse.quote(host, safe='')}")

    def timing(self, host: str) -> dict[str, Any]:
        return self._call("GET", f"/timing/{urllib.parse.quote(host, safe='')}")

    def connectivity(self, guest: str) -> dict[str, Any]:
        return self._call("GET", f"/connectivity/{urllib.parse.quote(guest, safe='')}")

    def fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/fault", fault)

    def stop(self) -> dict[str, Any]:
        return self._call("POST", "/stop", {})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read()).get("error", str(error))
            except ValueError:
                message = str(error)
            raise ControlError(error.code, message) from None
