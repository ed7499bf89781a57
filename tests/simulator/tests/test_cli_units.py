"""Command-line pieces that need no running daemon: fault parsing, lab generation, errors."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hvsim import labfile
from hvsim.cli import main, parse_fault
from hvsim.labgen import generate_lab

SIMULATOR = Path(__file__).resolve().parent.parent


def test_fault_values_are_typed_like_json_but_words_stay_strings() -> None:
    fault = parse_fault("ignore_shutdown", ["host=hv01", "vm=LAB-HV1", "value=true", "at_command=3",
                                            "seconds=0.2", "state=Off", "flag=True", "message=a=b"])
    assert fault == {"kind": "ignore_shutdown", "host": "hv01", "vm": "LAB-HV1", "value": True,
                     "at_command": 3, "seconds": 0.2, "state": "Off", "flag": True, "message": "a=b"}


def test_fault_assignment_without_equals_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_fault("reboot_host", ["hv01"])


def test_generated_lab_has_n_times_m_l1_hosts_on_distinct_addresses() -> None:
    machines = labfile.machines(generate_lab(10, 3, guests=1))
    l0 = [m for m in machines if m.level == 0]
    l1 = [m for m in machines if m.level == 1]
    l2 = [m for m in machines if m.level == 2]
    assert (len(l0), len(l1), len(l2)) == (10, 30, 30)
    addresses = [m.address for m in machines if m.address is not None]
    assert len(set(addresses)) == 40
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses)
    assert {m.extra_vars["nested_network_mode"] for m in l1} == {"nat", "mac_spoofing"}


def test_generator_rejects_empty_labs() -> None:
    with pytest.raises(ValueError):
        generate_lab(0, 3)


def test_generate_command_writes_a_loadable_lab(tmp_path: Path) -> None:
    out = tmp_path / "big.yml"
    assert main(["generate", "--hosts", "2", "--vms", "2", "--out", str(out)]) == 0
    lab = yaml.safe_load(out.read_text())
    assert lab["name"] == "generated-2x2"
    assert [h["name"] for h in lab["hosts"]] == ["hv01", "hv02"]


def test_commands_against_a_dir_with_no_daemon_fail_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--state", str(tmp_path)]) == 3
    assert "no simulator running" in capsys.readouterr().err
    assert main(["down", "--state", str(tmp_path)]) == 0


def test_up_with_a_missing_lab_file_fails_without_starting(tmp_path: Path) -> None:
    assert main(["up", str(tmp_path / "nope.yml"), "--state", str(tmp_path / "s")]) == 2
    assert not (tmp_path / "s" / "daemon.json").exists()


@pytest.mark.parametrize("launcher", [
    [sys.executable, str(SIMULATOR / "hvsim")],
    [str(SIMULATOR / "bin" / "hvsim")],
])
def test_launchers_run_the_cli(launcher: list[str]) -> None:
    done = subprocess.run([*launcher, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "generate" in done.stdout


def _lab_with_guest(inventory: dict[str, object]) -> dict[str, object]:
    guest_vm = {"name": "VM1", "state": "Off", "inventory": inventory,
                "guest": {"username": "u", "password": "p"}}
    l1 = {"name": "HV-A", "state": "Running", "inventory": {"name": "hv-a"},
          "guest": {"username": "Administrator", "password": "x",
                    "nested_host": {"address": "127.0.9.2", "vms": [guest_vm]}}}
    return {"name": "t", "hosts": [{"name": "hv0", "username": "Administrator", "password": "x", "vms": [l1]}]}


def test_lab_inventory_keys_become_host_vars() -> None:
    machines = {m.name: m for m in labfile.machines(_lab_with_guest({"name": "g1", "nested_ip": "192.168.100.5"}))}
    assert machines["g1"].extra_vars == {"nested_ip": "192.168.100.5"}
    assert (machines["g1"].parent, machines["g1"].level, machines["g1"].has_endpoint) == ("hv-a", 2, False)
    assert (machines["hv-a"].address, machines["hv-a"].vm_name) == ("127.0.9.2", "HV-A")


def test_a_name_used_twice_is_a_lab_error() -> None:
    with pytest.raises(labfile.LabError, match="hv-a"):
        labfile.machines(_lab_with_guest({"name": "hv-a"}))
