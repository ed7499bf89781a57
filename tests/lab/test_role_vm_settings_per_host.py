"""nested_vm_settings with per-host values: each L1 VM gets its own L1 host's values, and L1 hosts of
one parent with equal values still share one win_nested_vm task (one probe, one executor request)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import yaml
from hvsim.pytest_plugin import hvsim

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab, PlaybookRun

REPO = Path(__file__).resolve().parents[2]
GB = 1024**3
TASK = "Set nested virtualization on the L1 VMs"


def set_host_vars(lab: Lab, **hosts: dict[str, t.Any]) -> None:
    """host_vars/<host>.yml next to the lab's inventory, as users keep per-host values."""
    folder = lab.inventory.parent / "host_vars"
    folder.mkdir(exist_ok=True)
    for host, variables in hosts.items():
        (folder / f"{host.replace('_', '-')}.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")


def role_playbook(path: Path, role_vars: dict[str, t.Any] | None = None) -> Path:
    """The role alone on the L1 hosts, then what the roles after it read: did this host's own VM change."""
    role: dict[str, t.Any] = {"role": "hyperv.nested.nested_vm_settings"}
    if role_vars:
        role["vars"] = role_vars
    play = {
        "name": "VM settings",
        "hosts": "nested_hosts",
        "gather_facts": False,
        "roles": [role],
        "post_tasks": [
            {
                "name": "Own VM changed",
                "ansible.builtin.debug": {
                    "msg": "{{ (hostvars[nested_vm_settings_plan.acting_for[inventory_hostname]]['nested_vm_settings_result']"
                    " | hyperv.nested.nested_vm_outcome(nested_vm_name)).changed }}"
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump([play]), encoding="utf-8")
    return path


def acted(run: PlaybookRun) -> set[str]:
    """The L1 hosts that ran the win_nested_vm task (on their parent); the others skipped it."""
    return {host for host, result in run.task_results(TASK).items() if not result.get("skipped")}


def vm_sets(lab: Lab, host: str) -> list[set[str]]:
    """Per executor request on a host, the VMs it changed."""
    return [{op["vm"] for op in request["parameters"]["operations"] if "vm" in op} for request in lab.requests(host, "execute")]


def vms(lab: Lab, host: str) -> dict[str, dict[str, t.Any]]:
    return {vm["name"]: vm for vm in lab.show(host)["vms"]["vms"]}


def sizes(lab: Lab, host: str) -> dict[str, tuple[int, int]]:
    """Per VM: startup memory in GB and processor count."""
    return {name: (vm["startup_memory_bytes"] // GB, vm["processor_count"]) for name, vm in vms(lab, host).items()}


def test_each_l1_vm_gets_its_own_hosts_values(healthy_lab: Lab, tmp_path: Path) -> None:
    set_host_vars(
        healthy_lab,
        lab_hv1={"nested_vm_settings_startup_memory": "8GB", "nested_vm_settings_processor_count": 4},
        lab_hv2={"nested_vm_settings_startup_memory": "6GB", "nested_vm_settings_processor_count": 3},
    )
    playbook = role_playbook(tmp_path / "settings.yml")

    run = healthy_lab.playbook(playbook)
    run.assert_ok()
    assert sizes(healthy_lab, "hv01") == {"LAB-HV1": (8, 4), "LAB-HV2": (6, 3)}
    # lab-hv3 sets nothing: its VM keeps its size (the lab's 4GB, 2 processors), nested settings on.
    assert sizes(healthy_lab, "hv02") == {"LAB-HV3": (4, 2)}
    assert all(vm["expose_virtualization_extensions"] and not vm["dynamic_memory_enabled"] for vm in vms(healthy_lab, "hv01").values())
    # One task per set of values on hv01 (two), one on hv02; each changed only its own VM.
    assert acted(run) == {"lab-hv1", "lab-hv2", "lab-hv3"}
    assert sorted(vm_sets(healthy_lab, "hv01"), key=sorted) == [{"LAB-HV1"}, {"LAB-HV2"}]
    assert len(healthy_lab.requests("hv01", "probe")) == 2 and len(healthy_lab.requests("hv02", "probe")) == 1

    # Converged: nothing changes, nothing is sent to an executor.
    again = healthy_lab.playbook(playbook)
    again.assert_ok()
    assert again.total("changed") == 0, again.recap
    assert len(healthy_lab.requests("hv01", "execute")) == 2

    # Only lab-hv2's value changes: only its VM is changed, under its own name, and the roles
    # after this one learn that lab-hv2's VM changed and lab-hv1's did not.
    set_host_vars(healthy_lab, lab_hv2={"nested_vm_settings_startup_memory": "10GB", "nested_vm_settings_processor_count": 3})
    changed = healthy_lab.playbook(playbook)
    changed.assert_ok()
    assert sizes(healthy_lab, "hv01") == {"LAB-HV1": (8, 4), "LAB-HV2": (10, 3)}
    assert vm_sets(healthy_lab, "hv01")[2:] == [{"LAB-HV2"}]
    assert changed.task_results(TASK)["lab-hv1"].get("changed") is False
    own_changed = {host: result["msg"] for host, result in changed.task_results("Own VM changed").items()}
    assert own_changed == {"lab-hv1": False, "lab-hv2": True, "lab-hv3": False}
    assert changed.recap["lab-hv1"]["changed"] == 0 and changed.recap["lab-hv2"]["changed"] == 1, changed.recap


def test_play_role_and_extra_vars_are_every_hosts_value(healthy_lab: Lab, tmp_path: Path) -> None:
    """Variables of the role (or play) and extra vars take precedence over host_vars, as in Ansible."""
    set_host_vars(
        healthy_lab,
        lab_hv1={"nested_vm_settings_startup_memory": "8GB", "nested_vm_settings_processor_count": 4},
        lab_hv2={"nested_vm_settings_startup_memory": "6GB", "nested_vm_settings_processor_count": 3},
    )
    run = healthy_lab.playbook(role_playbook(tmp_path / "role-vars.yml", {"nested_vm_settings_processor_count": 6}))
    run.assert_ok()
    assert sizes(healthy_lab, "hv01") == {"LAB-HV1": (8, 6), "LAB-HV2": (6, 6)}
    assert sizes(healthy_lab, "hv02") == {"LAB-HV3": (4, 6)}

    extra = healthy_lab.playbook(role_playbook(tmp_path / "plain.yml"), "-e", "nested_vm_settings_startup_memory=12GB")
    extra.assert_ok()
    assert sizes(healthy_lab, "hv01") == {"LAB-HV1": (12, 4), "LAB-HV2": (12, 3)}
    assert sizes(healthy_lab, "hv02") == {"LAB-HV3": (12, 6)}


def test_equal_values_still_make_one_task_per_parent(healthy_lab: Lab, tmp_path: Path) -> None:
    same = {"nested_vm_settings_startup_memory": "8GB", "nested_vm_settings_processor_count": 4}
    set_host_vars(healthy_lab, lab_hv1=same, lab_hv2=same)

    run = healthy_lab.playbook(role_playbook(tmp_path / "settings.yml"))
    run.assert_ok()
    assert sizes(healthy_lab, "hv01") == {"LAB-HV1": (8, 4), "LAB-HV2": (8, 4)}
    # One win_nested_vm task per parent: one probe and one executor request for both VMs on hv01.
    assert acted(run) == {"lab-hv1", "lab-hv3"}
    assert len(healthy_lab.requests("hv01", "probe")) == 1
    assert vm_sets(healthy_lab, "hv01") == [{"LAB-HV1", "LAB-HV2"}]
    assert len(healthy_lab.requests("hv02", "probe")) == 1


def test_a_failed_group_fails_its_own_hosts_only(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    """Three L1 VMs on hv01: hv01-vm2 and hv01-vm3 ask for more processors than the host has."""
    lab_file = tmp_path / "one-by-three.yml"
    hvsim("generate", "--hosts", "1", "--vms", "3", "--out", str(lab_file))
    lab = lab_factory(str(lab_file.with_suffix("")))
    set_host_vars(lab, hv01_vm2={"nested_vm_settings_processor_count": 64}, hv01_vm3={"nested_vm_settings_processor_count": 64})

    run = lab.playbook(role_playbook(tmp_path / "settings.yml"))
    assert run.rc != 0
    assert {host: stats["failures"] for host, stats in run.recap.items()} == {"hv01-vm1": 0, "hv01-vm2": 1, "hv01-vm3": 1}
    assert acted(run) == {"hv01-vm1", "hv01-vm2"}
    assert "more than the 32 logical processors" in run.task_results(TASK)["hv01-vm2"]["msg"]
    stopped = run.task_results("changed by the task on its parent")["hv01-vm3"]["msg"]
    assert stopped.startswith("The settings of HV01-VM3 were not applied: the task on hv01 for its VMs (run for hv01-vm2) failed: ")
    assert "more than the 32 logical processors" in stopped

    state = vms(lab, "hv01")
    assert state["HV01-VM1"]["expose_virtualization_extensions"] is True
    assert [state[name]["expose_virtualization_extensions"] for name in ("HV01-VM2", "HV01-VM3")] == [False, False]
    assert vm_sets(lab, "hv01") == [{"HV01-VM1"}]
