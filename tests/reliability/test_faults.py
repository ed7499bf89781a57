"""Faults while win_nested_vm changes running VMs, each followed by reruns that converge with
nothing lost: connection dropped before / during / after the executor call, a cmdlet failing in
the middle of the plan, a VM that ignores graceful shutdown, the simulator restarting between
plays, slow hosts beyond the WinRM timeouts.

Each scenario is ONE ansible-playbook run on a lab of its own (labs/faults.yml: F1, F2, F3 run,
F-OFF is off): the task the fault hits (ignore_errors), a play on the controller that records
`hvsim show` and clears the fault, then the same task twice more. The scenarios run side by side
(threads), so the module costs about as long as its slowest scenario.

After every fault: no VM that was Running before is left Off, the first rerun succeeds and the
second reports changed=0 with only a probe sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hvsim.pytest_plugin import PACKAGE as SIMULATOR

from tests.reliability._support import LABS, Lab, PlayRun, entries_between, hvsim, run_play, script_names, start_lab, vms_of

FAULTS_LAB = LABS / "faults.yml"
HOST = "hvf"
GB = 1024**3
ARGS = {"name": ["F1", "F2", "F-OFF"], "power": "shutdown", "startup_memory": "4GB", "mac_address_spoofing": "on"}
BEFORE = {"F1": "Running", "F2": "Running", "F3": "Running", "F-OFF": "Off"}


def fault_argv(lab: Lab, kind: str, **values: t.Any) -> list[str]:
    return [sys.executable, str(SIMULATOR), "fault", "--state", str(lab.state_dir), kind, *(f"{k}={v}" for k, v in values.items())]


@dataclass
class Scenario:
    name: str
    faulted_args: dict[str, t.Any] = field(default_factory=lambda: dict(ARGS))
    inject: list[tuple[str, dict[str, t.Any]]] = field(default_factory=list)  # before the run
    clear: list[tuple[str, dict[str, t.Any]]] = field(default_factory=list)  # after the faulted task
    timeouts: tuple[int, int] | None = None  # (operation, read) timeout seconds in the inventory


@dataclass
class Outcome:
    lab: Lab
    played: PlayRun
    faulted: dict[str, t.Any]
    faulted_sent: list[str]
    after_fault: dict[str, dict[str, t.Any]]  # VMs as `hvsim show` saw them right after the fault
    rerun: dict[str, t.Any]
    converged: dict[str, t.Any]
    converged_sent: list[str]
    final: dict[str, dict[str, t.Any]]
    seconds: float


def inventory_with_timeouts(lab: Lab, workdir: Path, operation: int, read: int) -> Path:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    host_vars = inventory["all"]["children"]["hyperv_hosts"]["hosts"][HOST]
    host_vars["ansible_winrm_operation_timeout_sec"] = operation
    host_vars["ansible_winrm_read_timeout_sec"] = read
    path = workdir / "inventory-timeouts.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def vm_task(name: str, args: dict[str, t.Any] | None = None, **extra: t.Any) -> dict[str, t.Any]:
    return {"name": name, "hyperv.nested.win_nested_vm": args or ARGS, **extra}


def controller_play(lab: Lab, clear: list[tuple[str, dict[str, t.Any]]]) -> dict[str, t.Any]:
    tasks: list[dict[str, t.Any]] = [
        {"name": "show after fault", "ansible.builtin.command": {"argv": [sys.executable, str(SIMULATOR), "show", HOST, "--state", str(lab.state_dir)]}}
    ]
    tasks += [{"name": f"clear {kind}", "ansible.builtin.command": {"argv": fault_argv(lab, kind, **values)}} for kind, values in clear]
    return {"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}


def run_scenario(scenario: Scenario, workdir: Path) -> Outcome:
    started = time.monotonic()
    lab = start_lab(FAULTS_LAB, workdir / "lab")
    try:
        for kind, values in scenario.inject:
            lab.fault(kind, **values)
        target = lab if scenario.timeouts is None else Lab(lab.state_dir, inventory_with_timeouts(lab, workdir, *scenario.timeouts))
        plays = [
            {"hosts": HOST, "gather_facts": False, "tasks": [vm_task("faulted", scenario.faulted_args, ignore_errors=True, ignore_unreachable=True)]},
            controller_play(lab, scenario.clear),
            {"hosts": HOST, "gather_facts": False, "tasks": [vm_task("rerun"), vm_task("converged")]},
        ]
        played = run_play(target, plays, workdir)
        by_name = {task.name: task for task in played.tasks}
        assert set(by_name) >= {"faulted", "show after fault", "rerun", "converged"}, played.run.stdout[-3000:] + played.run.stderr[-3000:]
        shown = json.loads(by_name["show after fault"].hosts["localhost"]["stdout"])
        faulted_sent = script_names(entries_between(lab, HOST, by_name["faulted"].start, by_name["show after fault"].start))
        converged_sent = script_names(entries_between(lab, HOST, by_name["converged"].start, None))
        return Outcome(
            lab=lab,
            played=played,
            faulted=by_name["faulted"].hosts[HOST],
            faulted_sent=faulted_sent,
            after_fault={vm["name"]: vm for vm in shown["vms"]["vms"]},
            rerun=by_name["rerun"].hosts[HOST],
            converged=by_name["converged"].hosts[HOST],
            converged_sent=converged_sent,
            final=vms_of(lab, HOST),
            seconds=time.monotonic() - started,
        )
    finally:
        hvsim("down", "--state", str(lab.state_dir), check=False)


SCENARIOS = [
    Scenario("drop-before-execute", inject=[("drop_connection", {"host": HOST, "at_command": 2, "when": "before"})]),
    Scenario("drop-after-execute", inject=[("drop_connection", {"host": HOST, "at_command": 2, "when": "after"})]),
    # Only the running VMs: F-OFF needs no power cycle, so its change would come first and take the failure.
    Scenario(
        "cmdlet-fails-mid-plan",
        faulted_args={**ARGS, "name": ["F1", "F2"]},
        inject=[("fail_cmdlet_once", {"host": HOST, "cmdlet": "Set-VMMemory", "message": "Injected: the operation failed."})],
    ),
    Scenario(
        "vm-ignores-shutdown",
        faulted_args={**ARGS, "shutdown_timeout": 2},
        inject=[("ignore_shutdown", {"host": HOST, "vm": "F2", "value": True})],
        clear=[("ignore_shutdown", {"host": HOST, "vm": "F2", "value": False})],
    ),
    Scenario(
        "vm-ignores-shutdown-turn-off-asked",
        faulted_args={**ARGS, "power": "turn_off"},
        inject=[("ignore_shutdown", {"host": HOST, "vm": "F2", "value": True})],
        clear=[("ignore_shutdown", {"host": HOST, "vm": "F2", "value": False})],
    ),
    Scenario(
        "slow-host-beyond-timeouts",
        inject=[("latency", {"host": HOST, "seconds": 3})],
        clear=[("latency", {"host": HOST, "seconds": 0})],
        timeouts=(1, 2),
    ),
    Scenario("slow-host-within-timeouts", inject=[("latency", {"host": HOST, "seconds": 0.2})], timeouts=(2, 4)),
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("faults")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {scenario.name: pool.submit(run_scenario, scenario, root / scenario.name) for scenario in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}


def assert_nothing_left_off(vms: dict[str, dict[str, t.Any]], asked_off: t.Collection[str] = ()) -> None:
    left_off = [name for name, state in BEFORE.items() if state == "Running" and vms[name]["state"] != "Running" and name not in asked_off]
    assert not left_off, f"left off: {left_off} ({ {name: vm['state'] for name, vm in vms.items()} })"


def assert_converged(outcome: Outcome) -> None:
    assert outcome.rerun.get("failed") is not True and not outcome.rerun.get("unreachable"), outcome.rerun.get("msg")
    assert outcome.converged.get("failed") is not True, outcome.converged.get("msg")
    assert outcome.converged["changed"] is False
    assert outcome.converged_sent == ["probe"]
    for name in ARGS["name"]:
        vm = outcome.final[name]
        assert vm["expose_virtualization_extensions"] is True, name
        assert vm["dynamic_memory_enabled"] is False, name
        assert vm["startup_memory_bytes"] == 4 * GB, name
        assert {adapter["mac_address_spoofing"] for adapter in vm["adapters"]} == {"On"}, name
    assert outcome.final["F-OFF"]["state"] == "Off"  # power_after=previous: it was off
    assert outcome.final["F3"]["expose_virtualization_extensions"] is False  # never named
    assert_nothing_left_off(outcome.final)


def failed(result: dict[str, t.Any]) -> bool:
    return bool(result.get("failed") or result.get("unreachable"))


def test_connection_dropped_before_the_executor_call(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["drop-before-execute"]
    assert failed(outcome.faulted)
    assert outcome.faulted_sent == ["probe"]  # the executor never ran...
    after = outcome.after_fault
    assert all(after[name]["expose_virtualization_extensions"] is False for name in BEFORE)  # ...nothing changed
    assert_nothing_left_off(after)
    assert outcome.rerun["changed"] is True
    assert_converged(outcome)


def test_connection_dropped_after_the_executor_call(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["drop-after-execute"]
    assert failed(outcome.faulted)
    assert outcome.faulted_sent == ["probe", "execute"]  # ran once; nothing re-sent it
    assert_nothing_left_off(outcome.after_fault)
    assert outcome.rerun["changed"] is False  # the executor had finished: nothing left to do
    assert_converged(outcome)


def test_connection_dropped_after_the_executor_call_is_reported_as_unreachable(outcomes: dict[str, Outcome]) -> None:
    result = outcomes["drop-after-execute"].faulted
    assert result.get("unreachable") is True or str(result.get("msg", "")).startswith("Could not reach the host")


def test_cmdlet_failing_in_the_middle_of_the_plan(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["cmdlet-fails-mid-plan"]
    result = outcome.faulted
    assert result["failed"] is True
    assert "Injected: the operation failed." in result["msg"]
    statuses = [op["status"] for op in result["operations"]]
    first_failure = statuses.index("failed")
    assert first_failure > 0  # something ran before it (F1 and F2 were stopped together)
    assert statuses[first_failure + 1 :] == ["not_run"] * (len(statuses) - first_failure - 1)
    assert len(result["on_failure"]) == 2 and all(op["status"] == "ok" for op in result["on_failure"])  # both started again
    assert_nothing_left_off(outcome.after_fault)
    assert outcome.rerun["changed"] is True
    assert_converged(outcome)


def test_vm_ignoring_graceful_shutdown(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["vm-ignores-shutdown"]
    assert outcome.faulted["failed"] is True
    assert "F2" in outcome.faulted["msg"] and "shut down" in outcome.faulted["msg"]
    assert outcome.after_fault["F2"]["state"] == "Running"
    assert outcome.after_fault["F2"]["expose_virtualization_extensions"] is False
    assert_nothing_left_off(outcome.after_fault)
    assert_converged(outcome)  # the guest honours shutdown again: the rerun finishes


def test_vm_ignoring_shutdown_is_turned_off_when_the_user_asks(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["vm-ignores-shutdown-turn-off-asked"]
    assert outcome.faulted.get("failed") is not True, outcome.faulted.get("msg")
    assert outcome.after_fault["F2"]["expose_virtualization_extensions"] is True
    assert_nothing_left_off(outcome.after_fault)  # turned off, changed, started again
    assert_converged(outcome)


def test_slow_host_beyond_the_read_timeout_fails_and_changes_nothing(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["slow-host-beyond-timeouts"]
    assert failed(outcome.faulted)
    assert "execute" not in outcome.faulted_sent
    assert all(outcome.after_fault[name]["expose_virtualization_extensions"] is False for name in BEFORE)
    assert_nothing_left_off(outcome.after_fault)
    assert_converged(outcome)


def test_slow_host_within_the_timeouts_converges(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["slow-host-within-timeouts"]
    assert outcome.faulted.get("failed") is not True, outcome.faulted.get("msg")
    assert outcome.faulted["changed"] is True
    assert outcome.faulted_sent == ["probe", "execute"]  # slow replies made nothing re-send the change
    assert outcome.rerun["changed"] is False
    assert_converged(outcome)


# --------------------------------------------------------------- the simulator going away


def test_simulator_restart_between_plays(fresh_lab: t.Callable[[Path], Lab], tmp_path: Path) -> None:
    """Play 1 changes F1; a play on the controller restarts the simulator (same state dir);
    play 3 changes F2 and reads both back. Nothing of play 1 is lost."""
    lab = fresh_lab(FAULTS_LAB)
    pid_before = json.loads((lab.state_dir / "daemon.json").read_text(encoding="utf-8"))["pid"]
    restart = [
        {"name": "stop the simulator", "ansible.builtin.command": {"argv": [sys.executable, str(SIMULATOR), "down", "--state", str(lab.state_dir)]}},
        {"name": "start it again", "ansible.builtin.command": {"argv": [sys.executable, str(SIMULATOR), "up", str(FAULTS_LAB), "--state", str(lab.state_dir)]}},
    ]
    plays = [
        {"hosts": HOST, "gather_facts": False, "tasks": [vm_task("first VM", {**ARGS, "name": ["F1"]})]},
        {"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": restart},
        {
            "hosts": HOST,
            "gather_facts": False,
            "tasks": [
                vm_task("second VM", {**ARGS, "name": ["F2"]}),
                {"name": "check", "hyperv.nested.win_nested_info": {"name": ["F1", "F2"]}},
                vm_task("converged"),
            ],
        },
    ]
    played = run_play(lab, plays, tmp_path)
    assert played.run.rc == 0, played.run.stdout[-3000:]
    by_name = {task.name: task.hosts for task in played.tasks}
    assert list(by_name) == ["first VM", "stop the simulator", "start it again", "second VM", "check", "converged"]
    assert json.loads((lab.state_dir / "daemon.json").read_text(encoding="utf-8"))["pid"] != pid_before  # really restarted
    verdicts = by_name["check"][HOST]["verdict"]["vms"]
    assert verdicts["F1"]["ready"] is True and verdicts["F2"]["ready"] is True  # F1's change survived
    converged = by_name["converged"][HOST]
    assert converged.get("failed") is not True, converged.get("msg")
    assert converged["changed"] is True and [vm["name"] for vm in converged["vms"] if vm["changed"]] == ["F-OFF"]
    vms = vms_of(lab, HOST)
    assert_nothing_left_off(vms)
    assert all(vms[name]["expose_virtualization_extensions"] for name in ARGS["name"])


def cut_off_mid_plan(lab_file: Path, workdir: Path) -> tuple[Lab, list[str]]:
    """Run the task with the fault crash_when_stopped armed: the simulator saves its state and
    exits (as kill -9 would) at the very change that turns one of the running VMs off, that is
    after the executor shut it down and before it could start it again. No timer is raced. Restart
    the simulator on the saved state; return the lab and the VMs that were off when it died."""
    lab = start_lab(lab_file, workdir / "lab")
    try:
        daemon = json.loads((lab.state_dir / "daemon.json").read_text(encoding="utf-8"))
        lab.fault("crash_when_stopped", host=HOST)
        playbook = workdir / "during.yml"
        playbook.write_text(yaml.safe_dump([{"hosts": HOST, "gather_facts": False, "tasks": [vm_task("faulted")]}]), encoding="utf-8")
        env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_NOCOLOR": "1"}
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab.inventory), str(playbook)]
        run = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode != 0, run.stdout[-3000:]  # the host went away in the middle of the task
        # `up` refuses while another simulator holds the state directory: it succeeds, with a new
        # process, only because the faulted one is gone.
        hvsim("up", str(lab_file), "--state", str(lab.state_dir))
        assert json.loads((lab.state_dir / "daemon.json").read_text(encoding="utf-8"))["pid"] != daemon["pid"]
        off = sorted(name for name, vm in vms_of(lab, HOST).items() if vm["state"] == "Off" and BEFORE[name] == "Running")
        assert off, "no VM that was running was off when the simulator died"
        return lab, off
    except BaseException:
        hvsim("down", "--state", str(lab.state_dir), check=False)
        raise


def vms_with_finding(info: dict[str, t.Any], code: str) -> list[str]:
    """The VMs whose win_nested_info verdict has a warning or blocker whose code ends with `code`."""
    return [
        name
        for name, verdict in info["verdict"]["vms"].items()
        if any(finding["code"].endswith(code) for finding in verdict["warnings"] + verdict["blockers"])
    ]


def test_simulator_stopped_during_the_executor_call(tmp_path: Path) -> None:
    """The host goes away while the executor is in the middle of its plan, and comes back with
    the state it had: the run fails, the reruns finish the settings, and every VM that was
    running runs again: each VM caught off carries the restart mark its stop left, and the rerun
    (power_after=previous) starts it and removes the mark."""
    lab, caught = cut_off_mid_plan(FAULTS_LAB, tmp_path / "cut")
    try:
        # The stops are issued together, so the other running VMs may be off with their marks too.
        after_kill = vms_of(lab, HOST)
        for name in caught:
            assert after_kill[name]["restart_mark"] is not None, f"{name} was stopped to be started again, but carries no restart mark"
        left_off = sorted(name for name, vm in after_kill.items() if vm["state"] == "Off" and vm["restart_mark"] is not None)
        assert left_off == caught, after_kill
        tasks = [{"name": "info", "hyperv.nested.win_nested_info": {"name": list(BEFORE)}}, vm_task("rerun"), vm_task("converged")]
        rerun = run_play(lab, [{"hosts": HOST, "gather_facts": False, "tasks": tasks}], tmp_path)
        results = {task.name: task.hosts[HOST] for task in rerun.tasks}
        assert rerun.run.rc == 0, rerun.run.stdout[-3000:]
        assert sorted(vms_with_finding(results["info"], "restart_pending")) == left_off, results["info"]["verdict"]
        for name in left_off:
            actions = next(vm["actions"] for vm in results["rerun"]["vms"] if vm["name"] == name)
            assert any(action.startswith("start") for action in actions), (name, actions)
        assert results["converged"]["changed"] is False, results["converged"]
        final = vms_of(lab, HOST)
        assert_nothing_left_off(final)
        assert {name: vm["restart_mark"] for name, vm in final.items()} == dict.fromkeys(final)
    finally:
        hvsim("down", "--state", str(lab.state_dir), check=False)


def test_a_firewall_rule_failing_mid_plan_is_finished_by_the_rerun(fresh_lab: t.Callable[[Path], Lab], tmp_path: Path) -> None:
    """win_nested_nat on an L1: New-NetFirewallRule fails after the mappings were added. The task
    says what was applied; the rerun opens only the missing rules; the next run is one probe, and
    every mapping ends with exactly its own rule."""
    from tests.reliability._support import HOSTILE_LAB

    lab = fresh_lab(HOSTILE_LAB)
    l1 = "hx-l1"
    lab.fault("fail_cmdlet_once", host=l1, cmdlet="New-NetFirewallRule", message="Injected: the firewall refused the rule.")
    mappings = [
        {"external_port": 50022, "internal_ip": "192.168.100.9", "internal_port": 22},
        {"protocol": "udp", "external_port": 5353, "internal_ip": "192.168.100.9", "internal_port": 53},
    ]
    task = {"hyperv.nested.win_nested_nat": {"port_mappings": mappings}}
    tasks = [{"name": "faulted", **task, "ignore_errors": True}, {"name": "rerun", **task}, {"name": "converged", **task}]
    plays = [{"hosts": l1, "gather_facts": False, "tasks": tasks}]
    played = run_play(lab, plays, tmp_path)
    faulted, rerun, converged = (task.hosts[l1] for task in played.tasks)
    assert faulted["failed"] is True and "Injected: the firewall refused the rule." in faulted["msg"]
    statuses = [op["status"] for op in faulted["operations"]]
    assert statuses.count("failed") == 1 and statuses[-2:] == ["failed", "not_run"]
    assert rerun.get("failed") is not True, rerun.get("msg")
    assert [command.split(" ", 1)[0] for command in rerun["commands"]] == ["New-NetFirewallRule", "New-NetFirewallRule"]
    assert converged["changed"] is False
    assert script_names(entries_between(lab, l1, played.tasks[2].start, None)) == ["probe"]
    rules = sorted(rule["name"] for rule in lab.show(l1)["network"]["firewall_rules"])
    assert rules == ["hyperv.nested-nat-TCP-0.0.0.0-50022", "hyperv.nested-nat-UDP-0.0.0.0-5353"]
