"""Faults while win_nested_vm changes running VMs, each followed by reruns that converge with
nothing lost: connection dropped before / during / after the executor call, a cmdlet failing in
the middle of the plan, a VM that ignores graceful shutdown, the simulator restarting between
plays, slow hosts beyond the WinRM timeouts.

After every fault: no VM that was Running before is left Off (labs/faults.yml: F1, F2, F3 run,
F-OFF is off), the first rerun succeeds and the second reports changed=0 with only a probe sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.reliability._support import LABS, Lab, PlayRun, entries_between, hvsim, requests, run_play, script_names, vms_of

FAULTS_LAB = LABS / "faults.yml"
HOST = "hvf"
GB = 1024**3
ARGS = {"name": ["F1", "F2", "F-OFF"], "power": "shutdown", "startup_memory": "4GB", "mac_address_spoofing": "on"}


def vm_task(args: dict[str, t.Any] | None = None, name: str = "nested VMs") -> dict[str, t.Any]:
    return {"name": name, "hyperv.nested.win_nested_vm": args or ARGS}


def play(*tasks: dict[str, t.Any], hosts: str = HOST) -> dict[str, t.Any]:
    return {"hosts": hosts, "gather_facts": False, "tasks": list(tasks)}


def power_states(lab: Lab) -> dict[str, str]:
    return {name: vm["state"] for name, vm in vms_of(lab, HOST).items()}


def assert_nothing_left_off(before: dict[str, str], lab: Lab) -> None:
    after = power_states(lab)
    left_off = [name for name, state in before.items() if state == "Running" and after[name] != "Running"]
    assert not left_off, f"left off after the fault: {left_off} ({after})"


def assert_converged(lab: Lab, workdir: Path) -> list[PlayRun]:
    """First rerun succeeds; the second changes nothing and sends only the probe."""
    runs = []
    first = run_play(lab, [play(vm_task())], workdir)
    assert first.run.rc == 0, first.tasks[0].hosts[HOST].get("msg") if first.tasks else first.run.stderr[-2000:]
    runs.append(first)
    mark = first.tasks[0].end
    second = run_play(lab, [play(vm_task())], workdir)
    assert second.run.rc == 0
    assert second.run.total("changed") == 0
    assert second.tasks[0].hosts[HOST]["changed"] is False
    assert set(script_names(entries_between(lab, HOST, mark, None))) == {"probe"}
    runs.append(second)
    vms = vms_of(lab, HOST)
    for name in ARGS["name"]:
        assert vms[name]["expose_virtualization_extensions"] is True, name
        assert vms[name]["dynamic_memory_enabled"] is False, name
        assert vms[name]["startup_memory_bytes"] == 4 * GB, name
        assert {adapter["mac_address_spoofing"] for adapter in vms[name]["adapters"]} == {"On"}, name
    assert vms["F-OFF"]["state"] == "Off"  # power_after=previous: it was off
    assert vms["F3"]["expose_virtualization_extensions"] is False  # never named
    return runs


@pytest.fixture
def lab(fresh_lab: t.Callable[[Path], Lab]) -> Lab:
    return fresh_lab(FAULTS_LAB)


def first_result(played: PlayRun) -> dict[str, t.Any]:
    assert played.tasks, f"no JSON output: {played.run.stderr[-3000:]}"
    return played.tasks[0].hosts[HOST]


# ------------------------------------------------------------------ connection drops


def test_connection_dropped_before_the_executor_call(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    settings = vms_of(lab, HOST)
    lab.fault("drop_connection", host=HOST, at_command=2, when="before")
    played = run_play(lab, [play(vm_task())], tmp_path)
    result = first_result(played)
    assert played.run.rc != 0
    assert result.get("failed") or result.get("unreachable")
    # The executor never ran: nothing changed, no VM stopped.
    assert script_names(lab.transcript(HOST)) == ["probe"]
    assert vms_of(lab, HOST) == settings
    assert_nothing_left_off(before, lab)
    assert_converged(lab, tmp_path)


def test_connection_dropped_after_the_executor_call(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    lab.fault("drop_connection", host=HOST, at_command=2, when="after")
    played = run_play(lab, [play(vm_task())], tmp_path)
    result = first_result(played)
    assert played.run.rc != 0
    assert result.get("failed") or result.get("unreachable")
    # The executor ran once (the reply was lost; nothing re-sent the change).
    assert script_names(lab.transcript(HOST)) == ["probe", "execute"]
    assert_nothing_left_off(before, lab)
    first, _second = assert_converged(lab, tmp_path)
    # The executor had finished, so the first rerun already finds everything done.
    assert first.tasks[0].hosts[HOST]["changed"] is False


@pytest.mark.xfail(
    strict=True,
    reason="BUG: plugins/plugin_utils/_target.py run_script catches only AnsibleConnectionFailure; a WinRM connection dropped "
    "while the executor's reply is read raises requests' ConnectionError, so the task fails with 'Task failed: "
    "(\"Connection aborted.\", RemoteDisconnected(...))', changed=false although every change was applied, not unreachable, "
    "and without saying that the changes may have been applied",
)
def test_connection_dropped_after_the_executor_call_is_reported_as_unreachable(lab: Lab, tmp_path: Path) -> None:
    lab.fault("drop_connection", host=HOST, at_command=2, when="after")
    result = first_result(run_play(lab, [play(vm_task())], tmp_path))
    assert result.get("unreachable") is True or str(result.get("msg", "")).startswith("Could not reach the host")


def playbook_command(lab: Lab, playbook: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_NOCOLOR": "1"}
    return [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab.inventory), str(playbook)], env


class Precondition(RuntimeError):
    """The scenario did not happen as designed (not the behaviour under test)."""


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="BUG (design gap): when the executor is cut off in the middle of its plan (here the host's WinRM endpoint "
    "goes away while F2 is shut down), F2 stays Off, and the rerun, which cannot know F2 was running, leaves it Off "
    "(power_after=previous keeps VMs that are off, off). The module keeps no record of the VMs it stopped.",
)
def test_simulator_stopped_during_the_executor_call(lab: Lab, tmp_path: Path) -> None:
    """The host's WinRM endpoint goes away while the executor is in the middle of its plan, and
    comes back with the state it had: the run fails, the reruns finish the settings, and (the
    part that fails today) every VM that was running runs again."""
    before = power_states(lab)
    playbook = tmp_path / "during.yml"
    playbook.write_text(yaml.safe_dump([play(vm_task())]), encoding="utf-8")
    command, env = playbook_command(lab, playbook)
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not lab.transcript(HOST):
            time.sleep(0.02)
        # The probe has answered; the executor call follows within a fraction of a second and
        # then needs more than 2.5 s (two graceful shutdowns of 1 s, two boots).
        time.sleep(1.0)
        hvsim("down", "--state", str(lab.state_dir))
        process.wait(timeout=300)
    if process.returncode == 0 or script_names(lab.transcript(HOST)) != ["probe"]:
        raise Precondition("the executor finished before the simulator stopped")
    hvsim("up", str(FAULTS_LAB), "--state", str(lab.state_dir))
    mid = vms_of(lab, HOST)
    if all(vm["state"] == "Running" for name, vm in mid.items() if before[name] == "Running"):
        raise Precondition(f"the simulator stopped when no VM was off: {mid}")
    try:
        assert_converged(lab, tmp_path)
    except AssertionError as exc:
        raise Precondition(f"the reruns did not converge: {exc}") from exc
    assert_nothing_left_off(before, lab)


# ------------------------------------------------------------------ model faults


def test_cmdlet_failing_in_the_middle_of_the_plan(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    lab.fault("fail_cmdlet_once", host=HOST, cmdlet="Set-VMMemory", message="Injected: the operation failed.")
    played = run_play(lab, [play(vm_task())], tmp_path)
    result = first_result(played)
    assert played.run.rc != 0 and result["failed"] is True
    assert "Injected: the operation failed." in result["msg"]
    statuses = [op["status"] for op in result["operations"]]
    assert "failed" in statuses and statuses.index("failed") > 0  # something ran before it
    assert statuses[statuses.index("failed") + 1 :] == ["not_run"] * (len(statuses) - statuses.index("failed") - 1)
    # on_failure brought the stopped VM back.
    assert result["on_failure"] and all(op["status"] == "ok" for op in result["on_failure"])
    assert_nothing_left_off(before, lab)
    assert_converged(lab, tmp_path)


def test_vm_ignoring_graceful_shutdown(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    lab.fault("ignore_shutdown", host=HOST, vm="F2", value=True)
    played = run_play(lab, [play(vm_task({**ARGS, "shutdown_timeout": 2}))], tmp_path)
    result = first_result(played)
    assert played.run.rc != 0 and result["failed"] is True
    assert "F2" in result["msg"] and "shut down" in result["msg"]
    vms = vms_of(lab, HOST)
    assert vms["F2"]["state"] == "Running" and vms["F2"]["expose_virtualization_extensions"] is False
    assert_nothing_left_off(before, lab)
    # The guest honours shutdown again (its OS was fixed): the rerun finishes the job.
    lab.fault("ignore_shutdown", host=HOST, vm="F2", value=False)
    assert_converged(lab, tmp_path)


def test_vm_ignoring_shutdown_is_turned_off_when_the_user_asks(lab: Lab, tmp_path: Path) -> None:
    lab.fault("ignore_shutdown", host=HOST, vm="F2", value=True)
    played = run_play(lab, [play(vm_task({**ARGS, "power": "turn_off"}))], tmp_path)
    assert played.run.rc == 0, first_result(played).get("msg")
    assert power_states(lab)["F2"] == "Running"  # turned off, changed, started again
    assert vms_of(lab, HOST)["F2"]["expose_virtualization_extensions"] is True


def test_simulator_restart_between_plays(lab: Lab, tmp_path: Path) -> None:
    """Play 1 changes F1; a play on the controller restarts the simulator (same state dir);
    play 3 changes F2. Nothing of play 1 is lost and every VM ends as asked."""
    before = power_states(lab)
    pid_before = json.loads((Path(lab.state_dir) / "daemon.json").read_text(encoding="utf-8"))["pid"]
    simulator = str(Path(__file__).resolve().parents[1] / "simulator" / "hvsim")
    restart = f"{sys.executable} {simulator} down --state {lab.state_dir} && {sys.executable} {simulator} up {FAULTS_LAB} --state {lab.state_dir}"
    plays = [
        play(vm_task({**ARGS, "name": ["F1"]}, name="first VM")),
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "tasks": [{"name": "restart the simulator", "ansible.builtin.shell": restart}],
        },
        play(vm_task({**ARGS, "name": ["F2"]}, name="second VM"), {"name": "check", "hyperv.nested.win_nested_info": {"name": ["F1", "F2"]}, "register": "info"}),
    ]
    played = run_play(lab, plays, tmp_path)
    assert played.run.rc == 0, played.run.stdout[-3000:]
    names = [task.name for task in played.tasks]
    assert names == ["first VM", "restart the simulator", "second VM", "check"]
    pid_after = json.loads((Path(lab.state_dir) / "daemon.json").read_text(encoding="utf-8"))["pid"]
    assert pid_after != pid_before  # another simulator process answered the third play
    info = played.tasks[3].hosts[HOST]
    assert info["verdict"]["vms"]["F1"]["ready"] is True and info["verdict"]["vms"]["F2"]["ready"] is True
    vms = vms_of(lab, HOST)
    for name in ("F1", "F2"):
        assert vms[name]["expose_virtualization_extensions"] is True and vms[name]["state"] == "Running"
    assert_nothing_left_off(before, lab)
    assert_converged(lab, tmp_path)


# ------------------------------------------------------------------ slow hosts


def slow_inventory(lab: Lab, tmp_path: Path, operation_timeout: int, read_timeout: int) -> Path:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    host_vars = inventory["all"]["children"]["hyperv_hosts"]["hosts"][HOST]
    host_vars["ansible_winrm_operation_timeout_sec"] = operation_timeout
    host_vars["ansible_winrm_read_timeout_sec"] = read_timeout
    path = tmp_path / "slow-inventory.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def test_slow_host_beyond_the_read_timeout_fails_unreachable_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    settings = vms_of(lab, HOST)
    slow = Lab(lab.state_dir, slow_inventory(lab, tmp_path, operation_timeout=1, read_timeout=2))
    lab.fault("latency", host=HOST, seconds=3)
    started = time.monotonic()
    played = run_play(slow, [play(vm_task())], tmp_path)
    elapsed = time.monotonic() - started
    result = first_result(played)
    assert played.run.rc != 0
    assert result.get("unreachable") is True or result.get("failed") is True
    assert elapsed < 120, f"the run hung for {elapsed:.0f}s instead of timing out"
    lab.fault("latency", host=HOST, seconds=0)
    assert "execute" not in script_names(lab.transcript(HOST))
    assert vms_of(lab, HOST) == settings
    assert_nothing_left_off(before, lab)
    assert_converged(lab, tmp_path)


def test_slow_host_within_the_timeouts_converges(lab: Lab, tmp_path: Path) -> None:
    before = power_states(lab)
    slow = Lab(lab.state_dir, slow_inventory(lab, tmp_path, operation_timeout=2, read_timeout=4))
    lab.fault("latency", host=HOST, seconds=0.3)
    played = run_play(slow, [play(vm_task())], tmp_path)
    assert played.run.rc == 0, first_result(played).get("msg")
    assert first_result(played)["changed"] is True
    executes = requests(lab.transcript(HOST), "execute")
    assert len(executes) == 1  # slow replies did not make anything re-send the change
    lab.fault("latency", host=HOST, seconds=0)
    assert_nothing_left_off(before, lab)
    assert_converged(lab, tmp_path)
