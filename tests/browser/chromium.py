"""Debian's chromium, headless, started by the tests themselves: `--dump-dom`, and a page driven
through the DevTools protocol (websocket-client) to type into the page and take screenshots.

Background network traffic is turned off (component updates, safe browsing, metrics, sync,
translation, ...); the test of the report also records every request the page makes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import typing as t
import urllib.request
from pathlib import Path

import websocket

NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # no traffic of its own: updates, safe browsing, metrics, sync, translation, field trials
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-field-trial-config",
    "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,CalculateNativeWinOcclusion",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--safebrowsing-disable-auto-update",
    "--password-store=basic",
    "--use-mock-keychain",
    "--hide-scrollbars",
    "--mute-audio",
)


def find() -> str | None:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def why_missing() -> tuple[bool, str]:
    """(skip, message) when chromium is not installed: a skip only where no package manager can install it."""
    if shutil.which("apt-get"):
        return False, "chromium is not installed although apt-get is here: run `make deps` (tools/system_deps.sh installs Debian's chromium)"
    return True, "chromium is not installed and there is no apt-get to install it (tools/system_deps.sh): the browser test of the HTML report cannot run here"


def dump_dom(binary: str, url: str, *, window: str = "1280,1000", timeout: float = 60) -> str:
    """The DOM after load (and after the page's script ran), serialised by chromium itself."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={window}", "--dump-dom", url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its helper processes go with it
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium --dump-dom exit {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


class Page:
    """One tab of a headless chromium, driven through the DevTools protocol."""

    def __init__(self, socket: websocket.WebSocket) -> None:
        self._socket = socket
        self._next = 0
        self.events: list[dict[str, t.Any]] = []

    def call(self, method: str, **params: t.Any) -> dict[str, t.Any]:
        self._next += 1
        ident = self._next
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return t.cast(dict[str, t.Any], message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, t.Any]:
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        for message in self.events[:seen]:
            if message["method"] == event:
                self.events.remove(message)
                return message
        self._socket.settimeout(timeout)
        while time.monotonic() < deadline:
            message = json.loads(self._socket.recv())
            if "method" in message:
                if message["method"] == event:
                    return message
                self.events.append(message)
        raise TimeoutError(event)

    def evaluate(self, expression: str) -> t.Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path, *, whole_page: bool = True) -> Path:
        """A PNG of the whole page, or of the window only."""
        if whole_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)["data"]
        else:
            data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Browser:
    """A headless chromium on a DevTools port of 127.0.0.1 that the system picks; stopped by close()."""

    def __init__(self, binary: str, *, window: str = "1280,1000") -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        self.log = Path(self._profile.name) / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, *FLAGS, f"--user-data-dir={self._profile.name}", f"--window-size={window}",
                 "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.port = self._port()

    def _port(self, timeout: float = 60) -> int:
        """The port chromium chose, from the DevToolsActivePort file it writes into its profile."""
        active = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            lines = active.read_text(encoding="utf-8").splitlines() if active.exists() else []
            if lines and lines[0].strip().isdigit():
                return int(lines[0])
            time.sleep(0.1)
        output = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        self.close()
        raise RuntimeError(f"chromium did not open its DevTools port:\n{output}")

    def page(self) -> Page:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        url = next(target["webSocketDebuggerUrl"] for target in targets if target.get("type") == "page")
        return Page(websocket.create_connection(url, timeout=30, suppress_origin=True))

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
