"""The roles act on exactly the hosts that run them: when, include_role/import_role, --limit, tags,
serial batches and failed hosts, on the simulated fleet (healthy-intel: hv01 runs LAB-HV1 (nat) and
LAB-HV2 (mac_spoofing), hv02 runs LAB-HV3 (nat); none is nested yet)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml

from tests.lab.report_file import load_report

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
GB = 1024**3
ROLES = ("nested_prerequisites", "nested_vm_settings", "nested_hyperv", "nested_networking", "nested_report")
VM_OF = {"lab-hv1": ("hv01", "LAB-HV1"), "lab-hv2": ("hv01", "LAB-HV2"), "lab-hv3": ("hv02", "LAB-HV3")}
GUESTS_OF = {"lab-hv1": ["lab-vm1", "lab-vm2"], "lab-hv2": ["lab-vm3"], "lab-hv3": ["lab-vm4"]}


def write_play(path: Path, plays: list[dict[str, t.Any]]) -> Path:
    path.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    return path


def role_tasks(how: str, when: str | None, reports: Path, **role_vars: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Each of the five roles as a task (include_role or import_role), with a condition."""
    tasks = []
    for role in ROLES:
        task: dict[str, t.Any] = {"name": role, f"ansible.builtin.{how}": {"name": f"hyperv.nested.{role}"}}
        if when:
            task["when"] = when
        variables = dict(role_vars.get(role) or {})
        if role == "nested_report":
            variables["nested_report_dir"] = str(reports)
        if variables:
            task["vars"] = variables
        tasks.append(task)
    return tasks


def vm(lab: Lab, host: str) -> dict[str, t.Any]:
    parent, name = VM_OF[host]
    return next(entry for entry in lab.show(parent)["vms"]["vms"] if entry["name"] == name)


def untouched(lab: Lab, host: str) -> None:
    """The L1 VM of `host` is as the lab made it, nothing inside it was set up, no executor op named it."""
    state = vm(lab, host)
    assert state["state"] == "Running" and state["expose_virtualization_extensions"] is False, state
    assert state["dynamic_memory_enabled"] is True and state["startup_memory_bytes"] == 4 * GB, state
    assert {adapter["mac_address_spoofing"] for adapter in state["adapters"]} == {"Off"}, state
    parent, name = VM_OF[host]
    named = [op for request in lab.requests(parent, "execute") for op in request["parameters"]["operations"] if op.get("vm") == name]
    assert named == [], named
    assert lab.requests(host, "execute") == [], f"an executor request reached {host}"
    assert all(not lab.connectivity(guest)["connected"] for guest in GUESTS_OF[host])


def converged(lab: Lab, host: str, memory_gb: int = 4) -> None:
    state = vm(lab, host)
    assert state["expose_virtualization_extensions"] is True and state["dynamic_memory_enabled"] is False, state
    assert state["startup_memory_bytes"] == memory_gb * GB, state
    for guest in GUESTS_OF[host]:
        assert lab.connectivity(guest)["connected"] is True, (host, guest)


def report(reports: Path) -> dict[str, t.Any]:
    return load_report(reports)


def rows(reports: Path) -> dict[str, dict[str, t.Any]]:
    return {row["host"]: row for row in report(reports)["hosts"]}


@pytest.mark.parametrize(
    ("how", "excluded"),
    [
        # lab-hv2 shares hv01 with lab-hv1, which acts for it when both run a role.
        pytest.param("include_role", "lab-hv2", id="include_role-skipping-a-later-host"),
        # lab-hv1 is the first host of the batch: run_once must not follow it.
        pytest.param("import_role", "lab-hv1", id="import_role-skipping-the-first-host"),
    ],
)
def test_roles_under_when_change_only_the_hosts_that_run_them(healthy_lab: Lab, tmp_path: Path, how: str, excluded: str) -> None:
    reports = tmp_path / "reports"
    play = {
        "name": "Roles for a subset",
        "hosts": "nested_hosts",
        "gather_facts": False,
        "tasks": role_tasks(how, f"inventory_hostname != '{excluded}'", reports, nested_vm_settings={"nested_vm_settings_startup_memory": "8GB"}),
    }
    run = healthy_lab.playbook(write_play(tmp_path / "subset.yml", [play]))
    run.assert_ok()
    assert run.recap[excluded]["changed"] == 0 and run.recap[excluded]["ok"] == 0, run.recap
    untouched(healthy_lab, excluded)
    for host in set(VM_OF) - {excluded}:
        converged(healthy_lab, host, memory_gb=8)
    # Every change shows under the host it was made for.
    assert all(run.recap[host]["changed"] > 0 for host in set(VM_OF) - {excluded}), run.recap
    assert set(rows(reports)) == set(VM_OF) - {excluded}


def test_limit_changes_only_the_limited_host_and_merges_into_the_fleet_report(healthy_lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    extra = ("-e", f"nested_report_dir={reports}")
    limited = healthy_lab.playbook(PLAYBOOKS / "site.yml", "--limit", "lab-hv2", *extra)
    limited.assert_ok()
    assert set(limited.recap) == {"lab-hv2"}
    converged(healthy_lab, "lab-hv2")
    untouched(healthy_lab, "lab-hv1")
    untouched(healthy_lab, "lab-hv3")
    first = report(reports)
    assert first["last_run"]["limit"] == "lab-hv2" and set(rows(reports)) == {"lab-hv2"}

    healthy_lab.playbook(PLAYBOOKS / "site.yml", *extra).assert_ok()
    full = rows(reports)
    assert set(full) == set(VM_OF) and all(row["status"] == "ready" for row in full.values()), full

    again = healthy_lab.playbook(PLAYBOOKS / "check.yml", "--limit", "lab-hv1", *extra)
    again.assert_ok()
    merged = report(reports)
    assert merged["last_run"]["limit"] == "lab-hv1" and merged["last_run"]["hosts"] == ["lab-hv1"]
    assert "changes nothing" in merged["last_run"]["play"]
    by_host = {row["host"]: row for row in merged["hosts"]}
    assert set(by_host) == set(VM_OF), "a limited run must not erase the other hosts' rows"
    assert by_host["lab-hv1"]["reported_at"] >= by_host["lab-hv2"]["reported_at"] == full["lab-hv2"]["reported_at"]


def test_tags_networking_on_a_fresh_fleet_stops_before_any_change(healthy_lab: Lab, tmp_path: Path) -> None:
    run = healthy_lab.playbook(PLAYBOOKS / "site.yml", "--tags", "networking", "-e", f"nested_report_dir={tmp_path}")
    assert run.rc != 0
    assert all(run.recap[host]["failures"] == 1 and run.recap[host]["changed"] == 0 for host in VM_OF), run.recap
    stopped = run.task_results("or stop where its networking cannot be set up")
    for host in VM_OF:
        assert "run the hyperv phase (or all of site.yml) first" in stopped[host]["msg"], stopped[host]
    for host in VM_OF:
        untouched(healthy_lab, host)

    # One phase after the other, as the message says: each changes only what it is for.
    settings = healthy_lab.playbook(PLAYBOOKS / "site.yml", "--tags", "vm_settings")
    settings.assert_ok()
    assert all(vm(healthy_lab, host)["expose_virtualization_extensions"] for host in VM_OF)
    assert all({a["mac_address_spoofing"] for a in vm(healthy_lab, host)["adapters"]} == {"Off"} for host in VM_OF)
    assert all(healthy_lab.requests(host, "execute") == [] for host in VM_OF), "vm_settings reached inside an L1 host"
    healthy_lab.playbook(PLAYBOOKS / "site.yml", "--tags", "hyperv").assert_ok()
    networking = healthy_lab.playbook(PLAYBOOKS / "site.yml", "--tags", "networking")
    networking.assert_ok()
    for host in VM_OF:
        converged(healthy_lab, host)


def test_serial_batches_act_per_batch_and_the_report_gathers_them(healthy_lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    play = {"name": "One L1 host at a time", "hosts": "nested_hosts", "gather_facts": False, "serial": 1, "tasks": role_tasks("import_role", None, reports)}
    run = healthy_lab.playbook(write_play(tmp_path / "serial.yml", [play]))
    run.assert_ok()
    for host in VM_OF:
        converged(healthy_lab, host)
    # hv01's two VMs were set in two batches, each by its own L1 host.
    settings = [
        {op["vm"] for op in request["parameters"]["operations"] if op.get("cmdlet") == "Set-VMProcessor"}
        for request in healthy_lab.requests("hv01", "execute")
    ]
    assert [names for names in settings if names] == [{"LAB-HV1"}, {"LAB-HV2"}]
    assert set(rows(reports)) == set(VM_OF) and all(row["status"] == "ready" for row in rows(reports).values())


def test_a_host_that_failed_before_the_roles_is_left_alone_and_reported(healthy_lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    play = {
        "name": "A task of the user fails one host, then the roles",
        "hosts": "nested_hosts",
        "gather_facts": False,
        "tasks": [{"name": "Something of the user's", "ansible.builtin.fail": {"msg": "not today"}, "when": "inventory_hostname == 'lab-hv1'"}]
        + role_tasks("include_role", None, reports),
    }
    run = healthy_lab.playbook(write_play(tmp_path / "failed.yml", [play]))
    assert run.rc != 0 and run.recap["lab-hv1"]["failures"] == 1
    assert run.recap["lab-hv2"]["failures"] == 0 and run.recap["lab-hv3"]["failures"] == 0
    untouched(healthy_lab, "lab-hv1")
    converged(healthy_lab, "lab-hv2")
    converged(healthy_lab, "lab-hv3")
    found = rows(reports)
    assert found["lab-hv1"]["status"] == "failed" and found["lab-hv1"]["error"], found["lab-hv1"]
    assert found["lab-hv2"]["status"] == "ready" and found["lab-hv3"]["status"] == "ready"


def test_role_parameters_win_over_inventory_values_for_every_host(healthy_lab: Lab, tmp_path: Path) -> None:
    """Ansible's precedence: import_role vars over host_vars, also where a host's own value equals the role's."""
    folder = healthy_lab.inventory.parent / "host_vars"
    folder.mkdir(exist_ok=True)
    (folder / "lab-hv1.yml").write_text(yaml.safe_dump({"nested_vm_settings_startup_memory": "6GB"}), encoding="utf-8")
    (folder / "lab-hv2.yml").write_text(yaml.safe_dump({"nested_vm_settings_startup_memory": "10GB"}), encoding="utf-8")
    play = {
        "name": "VM settings with a role parameter",
        "hosts": "nested_hosts",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Settings",
                "ansible.builtin.import_role": {"name": "hyperv.nested.nested_vm_settings"},
                "vars": {"nested_vm_settings_startup_memory": "6GB"},
            }
        ],
    }
    healthy_lab.playbook(write_play(tmp_path / "params.yml", [play])).assert_ok()
    for host in VM_OF:
        assert vm(healthy_lab, host)["startup_memory_bytes"] == 6 * GB, host


def test_check_mode_shows_one_power_cycle_per_vm(healthy_lab: Lab, tmp_path: Path) -> None:
    """The networking phase changes only MAC address spoofing: no second stop and start in check mode."""
    dry = healthy_lab.playbook(PLAYBOOKS / "site.yml", "--check", "--diff", "-e", f"nested_report_dir={tmp_path}")
    dry.assert_ok()
    spoofing = dry.task_results("Turn MAC address spoofing on")["lab-hv2"]
    actions = [action for entry in spoofing["vms"] for action in entry["actions"]]
    assert actions and not any("shut down" in action or action == "start" for action in actions), actions
    assert all(executed == [] for executed in (healthy_lab.requests(host, "execute") for host in ("hv01", "hv02", *VM_OF)))


def changes_by_host(events: list[dict[str, t.Any]]) -> dict[str, list[dict[str, t.Any]]]:
    found: dict[str, list[dict[str, t.Any]]] = {}
    for event in events:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            found.setdefault(data["host"], []).append(data)
    return found


def test_ansible_runner_job_events_show_each_change_under_its_own_host(healthy_lab: Lab, tmp_path: Path) -> None:
    """What AWX shows per host: LAB-HV2's power cycle under lab-hv2, although lab-hv1's task made it."""
    import os
    import sys

    ansible_runner = pytest.importorskip("ansible_runner")
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(PLAYBOOKS / "site.yml"),
        inventory=str(healthy_lab.inventory),
        extravars={"nested_report_dir": str(tmp_path / "reports")},
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        quiet=True,
        timeout=900,
    )
    assert (result.status, result.rc) == ("successful", 0), "".join(result.stdout.readlines()[-80:])
    changes = changes_by_host(list(result.events))
    wanted = ("Set nested virtualization", "changed by the task on its parent")
    settings = {host: [c for c in found if any(name in c["task"] for name in wanted)] for host, found in changes.items()}
    # lab-hv1's task on hv01 changed both VMs; its own event reports LAB-HV1, lab-hv2's event LAB-HV2 with its commands.
    (own,) = settings["lab-hv1"]
    assert own["res"]["changed"] and any("LAB-HV1" in line for line in own["res"]["commands"])
    (other,) = settings["lab-hv2"]
    assert other["res"]["msg"]["vm"] == "LAB-HV2" and other["res"]["msg"]["task_run_for"] == "lab-hv1"
    assert other["res"]["msg"]["commands"] and all("'LAB-HV2'" in line for line in other["res"]["msg"]["commands"])
    assert result.stats["changed"]["lab-hv2"] > 0
