"""The command line against the real Fleet and endpoints: up / show / status / connectivity /
fault / down, state across kill -9, transcripts, a generated lab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import wire_client
import yaml
from hvsim import process
from hvsim.statedir import StateDir
from hvsim.testing import RunningLab

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

SIMULATOR = Path(__file__).resolve().parent.parent
LABS = SIMULATOR / "labs"


def hvsim(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, str(SIMULATOR / "hvsim"), *args], capture_output=True,
                          text=True, timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"hvsim {args} -> {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def up(lab: Path, state: Path) -> Path:
    return Path(hvsim("up", str(lab), "--state", str(state)).stdout.strip().splitlines()[-1])


def status(state: Path) -> dict[str, Any]:
    """Straight from the control channel: the `status` command has its own test."""
    return process.client(StateDir.at(state)).status()


def url(state: Path, host: str) -> str:
    where = status(state)["hosts"][host]
    return f"http://{where['address']}:{where['port']}/wsman"


def turn_off(state: Path, host: str, vm: str) -> wire_client.Reply:
    return wire_client.send(url(state, host), "Administrator", "Passw0rd!", "execute",
                            {"operations": [{"kind": "stop_vm", "vm": vm, "mode": "turn_off"}]})


def vm_state(state: Path, host: str, vm: str) -> str:
    shown = process.client(StateDir.at(state)).show(host)
    return str(next(v for v in shown["vms"]["vms"] if v["name"] == vm)["state"])


def pid_gone(pid: int, timeout_s: float = 10) -> bool:
    """Exited (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + timeout_s
    while process.pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One healthy-intel lab for the tests that only read, or change what they then restore."""
    state = tmp_path_factory.mktemp("healthy")
    up(LABS / "healthy-intel.yml", state)
    yield state
    hvsim("down", "--state", str(state))


def test_up_writes_the_inventory_and_every_endpoint_answers(healthy: Path) -> None:
    inventory = yaml.safe_load((healthy / "inventory.yml").read_text())["all"]["children"]
    assert sorted(inventory["hyperv_hosts"]["hosts"]) == ["hv01", "hv02"]
    assert sorted(inventory["nested_hosts"]["hosts"]) == ["lab-hv1", "lab-hv2", "lab-hv3"]
    assert len(inventory["nested_guests"]["hosts"]) == 4
    hosts = status(healthy)["hosts"]
    assert all(host["reachable"] for host in hosts.values())
    for name, host in hosts.items():
        for scheme, port in (("http", host["port"]), ("https", host["https_port"])):
            # An empty POST without credentials: a WinRM endpoint answers 401 with its schemes.
            reply = requests.post(f"{scheme}://{host['address']}:{port}/wsman", verify=False, timeout=5)
            assert reply.status_code == 401, (name, scheme)
            assert "Negotiate" in reply.headers["WWW-Authenticate"]


def test_up_again_reuses_the_running_daemon(healthy: Path) -> None:
    pid = status(healthy)["pid"]
    done = hvsim("up", str(LABS / "healthy-intel.yml"), "--state", str(healthy))
    assert done.stdout.strip() == str(healthy / "inventory.yml")
    assert "already running" in done.stderr
    assert status(healthy)["pid"] == pid


def test_status_and_show_print_json(healthy: Path) -> None:
    printed = json.loads(hvsim("status", "--state", str(healthy)).stdout)
    assert printed["lab"] == "healthy-intel" and set(printed["hosts"]) >= {"hv01", "lab-hv3"}
    shown = json.loads(hvsim("show", "hv01", "--state", str(healthy)).stdout)
    assert shown["name"] == "hv01"
    assert {vm["name"]: vm["state"] for vm in shown["vms"]["vms"]} == {"LAB-HV1": "Running", "LAB-HV2": "Running"}
    unknown = hvsim("show", "nope", "--state", str(healthy), check=False)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr


def test_connectivity_exit_code_follows_the_answer(healthy: Path) -> None:
    done = hvsim("connectivity", "lab-vm1", "--state", str(healthy), check=False)
    answer = json.loads(done.stdout)
    assert answer["guest"] == "lab-vm1"
    assert answer["connected"] is False  # Off, no network configured
    assert answer["reasons"]
    assert done.returncode == 1


def test_a_command_is_transcribed_unmasked(healthy: Path) -> None:
    secret = "Tr4nscript-Secret"
    reply = wire_client.send(url(healthy, "hv02"), "Administrator", "Passw0rd!", "probe",
                             {"sections": ["guests"], "vm_names": None,
                              "guests": [{"vm": "LAB-HV3", "username": "Administrator", "password": secret}]})
    assert reply.rc == 0, reply.stderr
    last = [json.loads(line) for line in (healthy / "transcripts" / "hv02.jsonl").read_text().splitlines()][-1]
    assert last["script"].startswith("$mode = [string]$ExecutionContext.SessionState.LanguageMode")  # the stub
    assert secret in last["stdin"]
    assert json.loads(last["stdout"]) == reply.json()
    assert last["rc"] == 0 and last["duration_s"] >= 0


def test_latency_fault_reaches_the_endpoint(healthy: Path) -> None:
    probe = {"sections": ["host"]}
    started = time.monotonic()
    wire_client.send(url(healthy, "hv02"), "Administrator", "Passw0rd!", "probe", probe)
    baseline = time.monotonic() - started
    hvsim("fault", "--state", str(healthy), "latency", "host=hv02", "seconds=0.1")
    try:
        started = time.monotonic()
        wire_client.send(url(healthy, "hv02"), "Administrator", "Passw0rd!", "probe", probe)
        slowed = time.monotonic() - started
    finally:
        hvsim("fault", "--state", str(healthy), "latency", "host=hv02", "seconds=0")
    # open shell, command, send, receive, signal, delete: at least 5 delayed replies
    assert slowed - baseline > 5 * 0.1 * 0.8


def test_drop_connection_before_the_command_runs_it_not(healthy: Path) -> None:
    transcript = healthy / "transcripts" / "hv01.jsonl"
    before = len(transcript.read_text().splitlines()) if transcript.exists() else 0
    hvsim("fault", "--state", str(healthy), "drop_connection", "host=hv01", "at_command=1", "when=before")
    with pytest.raises(Exception):  # noqa: B017 - pywinrm/requests raise several connection errors
        wire_client.send(url(healthy, "hv01"), "Administrator", "Passw0rd!", "probe", {"sections": ["host"]})
    after = len(transcript.read_text().splitlines()) if transcript.exists() else 0
    assert after == before
    reply = wire_client.send(url(healthy, "hv01"), "Administrator", "Passw0rd!", "probe", {"sections": ["host"]})
    assert reply.rc == 0


def test_unknown_fault_is_refused(healthy: Path) -> None:
    done = hvsim("fault", "--state", str(healthy), "meteor_strike", "host=hv01", check=False)
    assert done.returncode != 0


@pytest.mark.lab("ws2025-vbs")
def test_reboot_fault_reaches_the_fleet_through_the_running_lab_fixture(running_lab: RunningLab) -> None:
    assert running_lab.inventory == running_lab.state_dir / "inventory.yml"
    assert running_lab.host_vars("lab-2025")["nested_parent"] == "hv-2025"
    running_lab.fault("reboot_host", host="hv-2025")
    assert running_lab.status()["hosts"]["hv-2025"]["reachable"] is False
    assert running_lab.show("hv-2025")["rebooting"] is True
    deadline = time.monotonic() + 5
    while not running_lab.status()["hosts"]["hv-2025"]["reachable"]:
        assert time.monotonic() < deadline, "host never came back from its reboot"
        time.sleep(0.1)
    reply = wire_client.send(running_lab.endpoint("hv-2025"), "Administrator", "Passw0rd!", "probe", {"sections": ["host"]})
    assert reply.json()["result"]["host"]["vbs"]["running"] is True
    assert [entry["rc"] for entry in running_lab.transcript("hv-2025")] == [0]


def test_state_survives_kill_9_right_after_an_acknowledged_change_and_down(tmp_path: Path) -> None:
    state = tmp_path / "crash"
    inventory = up(LABS / "amd-old.yml", state)
    ports_before = status(state)["hosts"]
    reply = turn_off(state, "hv-amd-old", "LAB-OLD1")
    # Killed the instant the reply is in: no clean shutdown, no periodic save to rescue it.
    pid = json.loads((state / "daemon.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    assert reply.json()["ok"] is True and reply.json()["result"]["failed_index"] is None
    assert pid_gone(pid)

    assert hvsim("status", "--state", str(state), check=False).returncode == 3  # stale daemon.json
    assert up(LABS / "amd-old.yml", state) == inventory
    restarted = status(state)
    try:
        assert vm_state(state, "hv-amd-old", "LAB-OLD1") == "Off"
        assert restarted["hosts"]["hv-amd-old"]["port"] == ports_before["hv-amd-old"]["port"]
        l1 = restarted["hosts"]["lab-old1"]
        assert l1["reachable"] is False
        with pytest.raises(requests.ConnectionError):  # VM off: its L1 endpoint drops connections
            requests.post(f"http://{l1['address']}:{l1['port']}/wsman", timeout=5)
    finally:
        hvsim("down", "--state", str(state))
    assert pid_gone(restarted["pid"])
    assert not (state / "daemon.json").exists()
    assert json.loads((state / "state.json").read_text())["format"] == 1  # kept for the next `up`
    assert hvsim("status", "--state", str(state), check=False).returncode == 3


def test_generated_10x3_lab_comes_up(tmp_path: Path) -> None:
    lab = tmp_path / "big.yml"
    hvsim("generate", "--hosts", "10", "--vms", "3", "--out", str(lab))
    state = tmp_path / "big"
    inventory = yaml.safe_load(up(lab, state).read_text())["all"]["children"]
    try:
        assert len(inventory["hyperv_hosts"]["hosts"]) == 10
        assert len(inventory["nested_hosts"]["hosts"]) == 30
        hosts = status(state)["hosts"]
        assert len(hosts) == 40 and all(h["reachable"] for h in hosts.values())
        assert len({h["address"] for h in hosts.values()}) == 40
        reply = wire_client.send(url(state, "hv10-vm3"), "Administrator", "Passw0rd!", "probe", {"sections": ["host"]})
        assert reply.json()["result"]["host"]["is_virtual_machine"] is True
    finally:
        hvsim("down", "--state", str(state))


def test_timing_prints_what_the_realistic_model_charged_a_host(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yml"
    hvsim("generate", "--hosts", "1", "--vms", "1", "--timing", "realistic", "--timing-scale", "0.01", "--out", str(lab))
    state = tmp_path / "state"
    up(lab, state)
    try:
        assert json.loads(hvsim("timing", "hv01", "--state", str(state)).stdout)["charges"] == []
        reply = wire_client.send(url(state, "hv01"), "Administrator", "Passw0rd!", "probe",
                                 {"sections": ["host", "vms"], "vm_names": None})
        assert reply.rc == 0, reply.stderr
        shown = json.loads(hvsim("timing", "hv01", "--state", str(state)).stdout)
        assert shown["host"] == "hv01" and shown["model"]["profile"] == "realistic"
        keys = {item[0] for charge in shown["charges"] for item in charge["items"]}
        assert {"winrm:shell_create", "import:Hyper-V"} <= keys, shown
        assert all(charge["finished_at"] >= charge["started_at"] for charge in shown["charges"])
        assert hvsim("timing", "nope", "--state", str(state), check=False).returncode != 0
    finally:
        hvsim("down", "--state", str(state))
