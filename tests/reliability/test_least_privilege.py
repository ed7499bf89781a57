"""What README's "Rights the connecting account needs" promises, through real ansible-playbook runs
as accounts that are not administrators (tests/reliability/labs/least-privilege.yml; the simulator's
rules for them are tests/simulator/hvsim/model/RULES.md #31-#36):

- a member of Hyper-V Administrators (hvop) reads the host and its VMs and converges win_nested_vm,
  but host networking (win_nested_nat) is refused, in a sentence, with nothing changed;
- an account in neither group (viewer) is told it lacks Hyper-V Administrators, and win_nested_vm
  sends no change;
- an account WinRM does not admit (hvonly: Hyper-V Administrators but not Remote Management Users)
  cannot connect at all, and no command reaches the host."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml

from tests.reliability._support import Lab, entries_between, run_play, script_names

LAB_FILE = Path(__file__).parent / "labs" / "least-privilege.yml"
L0 = "hvl0"
L1 = "lab-hv1"
ACCOUNTS = {"hvop": "Hv0p-S3cret-23", "viewer": "V1ewer-S3cret-37", "hvonly": "HvOnly-S3cret-41"}
# What a PowerShell error record or a Python traceback looks like when it leaks into a message.
STACK_MARKERS = ("At line:", "CategoryInfo", "FullyQualifiedErrorId", "+ ~~~", "Traceback (most recent call last)", "#< CLIXML")


@pytest.fixture(scope="module")
def lab(module_labs: t.Callable[[Path], Lab]) -> Lab:
    return module_labs(LAB_FILE)


def as_account(lab: Lab, workdir: Path, user: str) -> Lab:
    """The lab's inventory with every host connecting as `user` (the same account exists on hvl0 and lab-hv1)."""
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    for group in inventory["all"]["children"].values():
        for host_vars in (group.get("hosts") or {}).values():
            if "ansible_user" in host_vars:
                host_vars.update({"ansible_user": user, "ansible_password": ACCOUNTS[user]})
    path = workdir / f"inventory-{user}.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return Lab(lab.state_dir, path)


def one_task(lab: Lab, workdir: Path, host: str, module: str, args: dict[str, t.Any], *flags: str) -> tuple[dict[str, t.Any], list[dict[str, t.Any]]]:
    """Run one task on `host`; its result and the transcript entries it caused there."""
    played = run_play(lab, [{"hosts": host, "gather_facts": False, "tasks": [{"name": "probe", module: args}]}], workdir, *flags)
    assert played.tasks, played.run.stdout[-3000:] + played.run.stderr[-3000:]
    task = played.tasks[0]
    return task.hosts[host], entries_between(lab, host, task.start, None)


def plain_sentence(msg: t.Any) -> str:
    """A message a user can read: text, no PowerShell error record, no traceback."""
    assert isinstance(msg, str) and msg.strip(), msg
    for marker in STACK_MARKERS:
        assert marker not in msg, msg
    return msg


def codes(findings: t.Any) -> list[str]:
    return [str(finding.get("code")) for finding in findings or []]


def l1_network(lab: Lab) -> dict[str, t.Any]:
    shown = lab.show(L1)
    return {"switches": shown["network"]["switches"], "nats": shown["network"]["nats"],
            "ip_addresses": shown["network"]["ip_addresses"], "adapters": shown["network"]["adapters"]}


# -- Hyper-V Administrators ---------------------------------------------------------------------


def test_a_hyperv_administrator_reads_the_host_as_not_an_administrator(lab: Lab, tmp_path: Path) -> None:
    result, entries = one_task(as_account(lab, tmp_path, "hvop"), tmp_path, L0, "hyperv.nested.win_nested_info", {"name": ["LP-VM1"]})
    assert result.get("failed") is not True, result.get("msg")
    assert result["host"]["is_administrator"] is False
    assert result["host"]["is_hyperv_administrator"] is True
    assert [vm["name"] for vm in result["vms"]] == ["LP-VM1"]
    verdict = result["verdict"]["host"]
    assert "host.not_hyperv_admin" not in codes(verdict["blockers"])
    # README: without an administrator the OFFERNESTEDVIRT check is reported as not done.
    assert result["host"]["bcd_offer_nested_virt_disabled"] is None
    assert "host.bcd_unreadable" in codes(verdict["warnings"])
    assert {entry["user"] for entry in entries} == {"hvop"}


def test_a_hyperv_administrator_converges_win_nested_vm_with_a_shutdown(lab: Lab, tmp_path: Path) -> None:
    hvop = as_account(lab, tmp_path, "hvop")
    first, entries = one_task(hvop, tmp_path, L0, "hyperv.nested.win_nested_vm", {"name": ["LP-VM1"], "power": "shutdown"})
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] is True
    assert "execute" in script_names(entries) and {entry["user"] for entry in entries} == {"hvop"}
    vm = lab.show(L0)["vms"]["vms"]
    shown = next(entry for entry in vm if entry["name"] == "LP-VM1")
    assert shown["state"] == "Running" and shown["expose_virtualization_extensions"] is True
    assert shown["dynamic_memory_enabled"] is False and shown["restart_mark"] is None
    second, entries = one_task(hvop, tmp_path, L0, "hyperv.nested.win_nested_vm", {"name": ["LP-VM1"], "power": "shutdown"})
    assert second.get("failed") is not True, second.get("msg")
    assert second["changed"] is False
    assert "execute" not in script_names(entries)


def test_a_hyperv_administrator_cannot_build_the_nat_and_nothing_changes(lab: Lab, tmp_path: Path) -> None:
    before = l1_network(lab)
    result, entries = one_task(as_account(lab, tmp_path, "hvop"), tmp_path, L1, "hyperv.nested.win_nested_nat", {})
    assert result.get("failed") is True, result
    assert result.get("changed") is False
    msg = plain_sentence(result.get("msg"))
    # The sentence names what was denied: the operation and Windows' refusal.
    assert "New-VMSwitch" in msg or "New-NetNat" in msg or "New-NetIPAddress" in msg, msg
    assert "denied" in msg.lower() or "administrator" in msg.lower(), msg
    assert l1_network(lab) == before
    assert {entry["user"] for entry in entries} == {"hvop"}


# -- neither group ---------------------------------------------------------------------------------


def test_without_hyperv_administrators_win_nested_info_names_the_missing_right(lab: Lab, tmp_path: Path) -> None:
    result, entries = one_task(as_account(lab, tmp_path, "viewer"), tmp_path, L0, "hyperv.nested.win_nested_info", {})
    msg = plain_sentence(result.get("msg"))
    assert "Hyper-V Administrators" in msg, msg
    assert result.get("changed") is False
    assert entries and {entry["user"] for entry in entries} == {"viewer"}
    assert "execute" not in script_names(entries)


def test_without_hyperv_administrators_win_nested_info_reports_the_not_hyperv_admin_blocker(lab: Lab, tmp_path: Path) -> None:
    result, _entries = one_task(as_account(lab, tmp_path, "viewer"), tmp_path, L0, "hyperv.nested.win_nested_info", {})
    assert result.get("failed") is not True, result.get("msg")
    assert result["host"]["is_hyperv_administrator"] is False
    assert "host.not_hyperv_admin" in codes(result["verdict"]["host"]["blockers"])
    assert result["vms"] == [] and result["missing"] == [] and result["ready"] is False
    assert "Hyper-V Administrators" in plain_sentence(result["msg"]), result["msg"]


def test_without_hyperv_administrators_win_nested_vm_fails_naming_the_right_and_sends_no_change(lab: Lab, tmp_path: Path) -> None:
    before = lab.show(L0)["vms"]
    result, entries = one_task(as_account(lab, tmp_path, "viewer"), tmp_path, L0, "hyperv.nested.win_nested_vm",
                               {"name": ["LP-VM2"], "power": "shutdown"})
    assert result.get("failed") is True, result
    assert result.get("changed") is False
    msg = plain_sentence(result.get("msg"))
    assert "Hyper-V Administrators" in msg, msg
    assert entries and "execute" not in script_names(entries)
    assert lab.show(L0)["vms"] == before


def test_without_hyperv_administrators_check_mode_changes_nothing_either(lab: Lab, tmp_path: Path) -> None:
    result, entries = one_task(as_account(lab, tmp_path, "viewer"), tmp_path, L0, "hyperv.nested.win_nested_vm",
                               {"name": ["LP-VM2"], "power": "shutdown"}, "--check")
    assert result.get("failed") is True and result.get("changed") is False, result
    plain_sentence(result.get("msg"))
    assert "execute" not in script_names(entries)


# -- not admitted by WinRM ---------------------------------------------------------------------------


def test_an_account_winrm_does_not_admit_cannot_connect_and_runs_nothing(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(L0))
    played = run_play(as_account(lab, tmp_path, "hvonly"), [{"hosts": L0, "gather_facts": False, "tasks": [
        {"name": "probe", "hyperv.nested.win_nested_info": {}}]}], tmp_path)
    result = played.tasks[0].hosts[L0]
    assert result.get("unreachable") is True or result.get("failed") is True, result
    assert "credentials were rejected" in str(result.get("msg")), result.get("msg")
    assert len(lab.transcript(L0)) == seen
    assert ACCOUNTS["hvonly"] not in played.run.stdout + played.run.stderr


# -- administrators only ------------------------------------------------------------------------------


def test_installing_hyperv_is_refused_to_a_hyperv_administrator(lab: Lab, tmp_path: Path) -> None:
    before = lab.show(L1)["host"]
    played = run_play(as_account(lab, tmp_path, "hvop"), [{"hosts": L1, "gather_facts": False, "tasks": [
        {"name": "nested_hyperv", "ansible.builtin.include_role": {"name": "hyperv.nested.nested_hyperv"}}]}], tmp_path)
    failed = [(task.name, task.hosts[L1]) for task in played.tasks if task.hosts.get(L1, {}).get("failed")]
    assert failed, played.run.stdout[-3000:]
    name, result = failed[0]
    assert "Install Hyper-V" in name, name
    msg = plain_sentence(result.get("msg"))
    assert "elevation" in msg, msg
    after = lab.show(L1)
    assert after["host"] == before and after["rebooting"] is False
