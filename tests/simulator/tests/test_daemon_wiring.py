"""The daemon's own wiring (endpoints, inventory, persistence, faults), with a fake Fleet and
fake endpoints so that only hvsim.daemon is under test."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from daemon_fakes import FakeEndpoint, FakeFleet
from hvsim import process
from hvsim.daemon import AlreadyRunning, Daemon
from hvsim.statedir import StateDir
from hvsim.winrm.faults import DropWhen

LAB = Path(__file__).resolve().parent.parent / "labs" / "healthy-intel.yml"


def start(state_dir: Path, lab: Path | None = LAB) -> Daemon:
    daemon = Daemon(StateDir.at(state_dir), lab, fleet_class=lambda: FakeFleet,
                    endpoint_class=lambda: FakeEndpoint)
    daemon.start()
    return daemon


@pytest.fixture
def daemon(tmp_path: Path) -> Any:
    running = start(tmp_path)
    yield running
    running.shutdown()


def endpoint(host: str, scheme: str = "http") -> FakeEndpoint:
    mine = [e for e in FakeEndpoint.instances if e.host == host and (e.tls is None) == (scheme == "http")]
    return mine[-1]


def test_inventory_lists_every_machine_in_its_group(daemon: Daemon) -> None:
    inventory = yaml.safe_load(daemon.state.inventory_file.read_text())["all"]["children"]
    assert sorted(inventory["hyperv_hosts"]["hosts"]) == ["hv01", "hv02"]
    assert sorted(inventory["nested_hosts"]["hosts"]) == ["lab-hv1", "lab-hv2", "lab-hv3"]
    assert sorted(inventory["nested_guests"]["hosts"]) == ["lab-vm1", "lab-vm2", "lab-vm3", "lab-vm4"]

    hv01 = inventory["hyperv_hosts"]["hosts"]["hv01"]
    assert hv01["ansible_port"] == endpoint("hv01").port
    assert hv01["hvsim_https_port"] == endpoint("hv01", "https").port
    assert (hv01["ansible_connection"], hv01["ansible_winrm_transport"], hv01["ansible_password"]) == (
        "winrm", "ntlm", "Passw0rd!")
    l1 = inventory["nested_hosts"]["hosts"]["lab-hv2"]
    assert (l1["nested_parent"], l1["nested_vm_name"], l1["nested_network_mode"]) == ("hv01", "LAB-HV2", "mac_spoofing")
    assert l1["ansible_host"] == "127.0.1.2"
    l2 = inventory["nested_guests"]["hosts"]["lab-vm4"]
    assert l2 == {"nested_parent": "lab-hv3", "nested_vm_name": "LAB-VM4",
                  "nested_guest_username": "Administrator", "nested_guest_password": "GuestPassw0rd!"}


def test_daemon_file_names_the_control_port_and_endpoints(daemon: Daemon) -> None:
    info = json.loads(daemon.state.daemon_file.read_text())
    assert info["hosts"]["lab-hv3"]["port"] == endpoint("lab-hv3").port
    assert daemon.status()["hosts"]["hv02"]["reachable"] is True


def test_a_change_is_on_disk_before_the_command_returns(daemon: Daemon) -> None:
    backend = endpoint("hv01").backend
    result = backend.run_command("hv01", "set color blue", b"")
    assert result.rc == 0
    saved = json.loads(daemon.state.state_file.read_text())
    assert saved["hosts"]["hv01"]["values"] == {"color": "blue"}


def test_every_command_lands_in_the_host_transcript(daemon: Daemon) -> None:
    backend = endpoint("lab-hv1").backend
    backend.run_command("lab-hv1", "set a 1", b"secret-in-stdin")
    backend.run_command("lab-hv1", "nonsense", b"")
    lines = daemon.state.transcript("lab-hv1").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["command_line"], e["rc"]) for e in entries] == [("set a 1", 0), ("nonsense", 1)]
    assert entries[0]["stdin"] == "secret-in-stdin"
    assert entries[1]["stderr"] == "unknown command\r\n"
    assert not daemon.state.transcript("hv01").exists()


def test_restart_restores_saved_state_and_ports(tmp_path: Path) -> None:
    first = start(tmp_path)
    endpoint("hv02").backend.run_command("hv02", "set disk full", b"")
    port = endpoint("hv02").port
    first.shutdown()

    second = start(tmp_path, lab=None)  # no lab: state must come from disk
    try:
        assert second.show("hv02")["values"] == {"disk": "full"}
        assert endpoint("hv02").port == port
    finally:
        second.shutdown()


def test_protocol_faults_go_to_the_endpoints(daemon: Daemon) -> None:
    daemon.fault({"kind": "latency", "host": "hv01", "seconds": 0.25})
    daemon.fault({"kind": "drop_connection", "host": "hv01", "at_command": 2, "when": "after"})
    assert endpoint("hv01").faults.latency_seconds == 0.25
    assert endpoint("hv01", "https").faults.latency_seconds == 0.25
    assert endpoint("hv02").faults.latency_seconds == 0.0
    http, https = endpoint("hv01").faults, endpoint("hv01", "https").faults
    assert [http.on_command(), http.on_command()] == [None, DropWhen.AFTER]
    assert [https.on_command(), https.on_command()] == [None, None]  # drops default to http only


def test_a_drop_can_target_the_https_endpoint(daemon: Daemon) -> None:
    daemon.fault({"kind": "drop_connection", "host": "hv02", "at_command": 1, "scheme": "https"})
    assert endpoint("hv02", "https").faults.on_command() == DropWhen.BEFORE
    assert endpoint("hv02").faults.on_command() is None


def test_model_faults_go_to_the_fleet_and_are_saved(daemon: Daemon) -> None:
    daemon.fault({"kind": "reboot_host", "host": "hv02"})
    assert daemon.fleet.injected == [{"kind": "reboot_host", "host": "hv02"}]
    assert daemon.status()["hosts"]["hv02"]["reachable"] is False
    saved = json.loads(daemon.state.state_file.read_text())
    assert saved["hosts"]["hv02"]["reachable"] is False


@pytest.mark.parametrize("fault", [
    {"kind": "latency", "host": "hv01"},
    {"kind": "drop_connection", "host": "hv01", "at_command": 1, "when": "sometime"},
    {"kind": "latency", "host": "hv01", "seconds": 1, "scheme": "ftp"},
])
def test_malformed_protocol_faults_are_refused(daemon: Daemon, fault: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        daemon.fault(fault)


def test_fault_for_an_unknown_host_is_a_key_error(daemon: Daemon) -> None:
    with pytest.raises(KeyError):
        daemon.fault({"kind": "latency", "host": "nope", "seconds": 1})


def test_a_second_daemon_for_the_same_state_dir_refuses_to_start(daemon: Daemon) -> None:
    info = daemon.state.daemon_file.read_text()
    second = Daemon(daemon.state, LAB, fleet_class=lambda: FakeFleet, endpoint_class=lambda: FakeEndpoint)
    with pytest.raises(AlreadyRunning):
        second.start()
    second.shutdown()
    assert daemon.state.daemon_file.read_text() == info  # the running daemon's file is untouched


def test_stop_kills_a_daemon_that_ignores_its_control_channel_and_sigterm(tmp_path: Path) -> None:
    stubborn = subprocess.Popen([sys.executable, "-c",
                                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    with socket.socket() as unused:  # a control port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    state = StateDir.at(tmp_path)
    state.daemon_file.write_text(json.dumps({"pid": stubborn.pid, "control_port": port}))
    try:
        assert process.stop(state, timeout_s=0.5) is True
        assert stubborn.wait(timeout=5) == -signal.SIGKILL
    finally:
        stubborn.kill()
