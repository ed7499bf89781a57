"""Starting, finding and stopping the background daemon of a state directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hvsim.control import ControlClient
from hvsim.statedir import StateDir

SIMULATOR_DIR = Path(__file__).resolve().parent.parent   # tests/simulator, holds the package


class DaemonError(RuntimeError):
    pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (ours, not yet reaped) still answers kill(0); check its state.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return status != "Z"


def running_daemon(state: StateDir) -> dict[str, Any] | None:
    """daemon.json of a live daemon, or None (missing file or stale after kill -9)."""
    try:
        info = json.loads(state.daemon_file.read_text())
    except (OSError, ValueError):
        return None
    return info if pid_alive(int(info["pid"])) else None


def client(state: StateDir) -> ControlClient:
    info = running_daemon(state)
    if info is None:
        raise DaemonError(f"no simulator running for {state.root}")
    return ControlClient(int(info["control_port"]))


def spawn(state: StateDir, lab_path: Path | None, timeout_s: float = 30.0) -> dict[str, Any]:
    """Start `hvsim serve` detached and wait until it has written daemon.json."""
    state.root.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "hvsim", "serve", "--state", str(state.root)]
    if lab_path is not None:
        command += ["--lab", str(lab_path.resolve())]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SIMULATOR_DIR), env.get("PYTHONPATH")) if p)
    with open(state.log_file, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = running_daemon(state)
        if info is not None and info["pid"] == process.pid:
            _wait_listening(info, deadline)
            return info
        if process.poll() is not None:
            other = running_daemon(state)
            if other is not None:  # a concurrent `up` won the state dir's lock: use its daemon
                _wait_listening(other, deadline)
                return other
            raise DaemonError(f"simulator exited with {process.returncode}:\n{_log_tail(state)}")
        time.sleep(0.05)
    process.kill()
    raise DaemonError(f"simulator not ready after {timeout_s}s:\n{_log_tail(state)}")


def _wait_listening(info: dict[str, Any], deadline: float) -> None:
    """Every reachable host's endpoints accept TCP (the others refuse until their VM runs)."""
    hosts = ControlClient(int(info["control_port"])).status()["hosts"]
    for host in hosts.values():
        if not host["reachable"]:
            continue
        for port in (host["port"], host["https_port"]):
            while True:
                try:
                    socket.create_connection((host["address"], port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise DaemonError(f"nothing listens on {host['address']}:{port}") from None
                    time.sleep(0.05)


def stop(state: StateDir, timeout_s: float = 30.0) -> bool:
    """Stop the daemon if one runs; True when one was stopped. A daemon that does not stop in
    time is killed: state is saved after every change, so nothing acknowledged is lost."""
    info = running_daemon(state)
    if info is None:
        return False
    pid = int(info["pid"])
    try:
        ControlClient(int(info["control_port"]), timeout_s=5).stop()
    except OSError:
        _signal(pid, signal.SIGTERM)
    if not _wait_exit(pid, timeout_s):
        _signal(pid, signal.SIGKILL)
        if not _wait_exit(pid, 5):
            raise DaemonError(f"simulator pid {pid} survived SIGKILL")
    return True


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _log_tail(state: StateDir, lines: int = 30) -> str:
    try:
        return "\n".join(state.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
