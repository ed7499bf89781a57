"""What a newcomer copies from the documentation, run as written against the simulated fleet
(healthy-intel: hv01 runs LAB-HV1 (nat) and LAB-HV2 (mac_spoofing), hv02 runs LAB-HV3 (nat); none
is nested yet). The documentation's host names are the example inventory's FQDNs; the lab's
inventory names the same machines without the domain."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab, PlaybookRun

REPO = Path(__file__).resolve().parents[2]
GB = 1024**3
VM_OF = {"lab-hv1": ("hv01", "LAB-HV1"), "lab-hv2": ("hv01", "LAB-HV2"), "lab-hv3": ("hv02", "LAB-HV3")}


def documented_play(doc: str, heading: str) -> str:
    """The first ```yaml block after `heading` in docs/<doc>, with the example's FQDNs as the lab names them."""
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"no yaml block after {heading!r} in docs/{doc}"
    return block.group(1).replace(".lab.example.com", "")


def failure_messages(run: PlaybookRun, host: str) -> str:
    """Every failed task's message for `host`, in order (ansible.posix.json output)."""
    messages = [
        str(task["hosts"][host].get("msg", ""))
        for play in json.loads(run.stdout)["plays"]
        for task in play["tasks"]
        if task["hosts"].get(host, {}).get("failed")
    ]
    return "\n".join(messages)


def vm(lab: Lab, host: str) -> dict[str, t.Any]:
    parent, name = VM_OF[host]
    return next(entry for entry in lab.show(parent)["vms"]["vms"] if entry["name"] == name)


def test_getting_started_own_playbook_runs_as_written_and_leaves_the_excluded_vm_alone(healthy_lab: Lab, tmp_path: Path) -> None:
    """docs/getting-started.md section 5: the roles in your own playbook, one L1 host excluded with `when`."""
    source = documented_play("getting-started.md", "## 5. Use the roles in your own playbooks")
    plays = yaml.safe_load(source)
    assert any("when" in task or "block" in task for task in plays[0]["tasks"]), "the example excludes a host with when"
    playbook = tmp_path / "own.yml"
    playbook.write_text(source, encoding="utf-8")

    first = healthy_lab.playbook(playbook)
    first.assert_ok()
    excluded = vm(healthy_lab, "lab-hv2")
    assert excluded["expose_virtualization_extensions"] is False and excluded["dynamic_memory_enabled"] is True, excluded
    assert excluded["startup_memory_bytes"] == 4 * GB and excluded["state"] == "Running", excluded
    assert healthy_lab.requests("lab-hv2", "execute") == [], "something was run inside the excluded L1 host"
    for host in ("lab-hv1", "lab-hv3"):
        state = vm(healthy_lab, host)
        assert state["expose_virtualization_extensions"] is True and state["startup_memory_bytes"] == 16 * GB, state
    assert first.recap["lab-hv2"]["changed"] == 0, first.recap

    again = healthy_lab.playbook(playbook)
    again.assert_ok()
    assert again.total("changed") == 0, again.recap


def test_nested_hyperv_before_the_vm_settings_says_which_phase_to_run_first(healthy_lab: Lab, tmp_path: Path) -> None:
    """nested_hyperv alone on a fresh fleet (its README's example, or --tags hyperv): the VM does not expose
    virtualization extensions yet. The failure must say what to run first, as nested_networking's does."""
    playbook = tmp_path / "hyperv-only.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Hyper-V inside the L1 hosts, before their VM settings",
                    "hosts": "nested_hosts",
                    "gather_facts": False,
                    "tasks": [{"name": "Install Hyper-V", "ansible.builtin.include_role": {"name": "hyperv.nested.nested_hyperv"}}],
                }
            ]
        ),
        encoding="utf-8",
    )
    run = healthy_lab.playbook(playbook, "--limit", "lab-hv1")
    assert run.rc != 0 and run.recap["lab-hv1"]["failures"] == 1, run.recap
    messages = failure_messages(run, "lab-hv1")
    assert "vm_settings" in messages, messages
    assert vm(healthy_lab, "lab-hv1")["expose_virtualization_extensions"] is False


def test_the_readme_lists_every_module_role_playbook_and_filter_the_collection_ships() -> None:
    """A newcomer reads the README's Contents table to know what there is; ansible-doc -l is the truth."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    contents = readme[readme.index("## Contents") : readme.index("## Documentation")]
    shipped = [f"module | `hyperv.nested.{path.stem}`" for path in (REPO / "plugins" / "modules").glob("*.py") if not path.stem.startswith("_")]
    shipped += [f"role | `hyperv.nested.{path.name}`" for path in (REPO / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file()]
    shipped += [f"playbook | `hyperv.nested.{path.stem}`" for path in (REPO / "playbooks").glob("*.yml")]
    missing = [entry for entry in shipped if entry not in contents]
    filters = [path.stem for path in (REPO / "plugins" / "filter").glob("*.yml")]
    missing += [name for name in filters if f"`hyperv.nested.{name}`" not in contents and f"`_{name.rsplit('_', 1)[-1]}`" not in contents]
    assert missing == [], missing


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("192.168.100.0", id="no-prefix-length"),
        pytest.param("192.168.100.1/24", id="host-bits-set"),
        pytest.param("10.0.0.0/31", id="too-small"),
    ],
)
def test_a_nat_prefix_the_nat_module_refuses_stops_site_before_any_host_is_asked(healthy_lab: Lab, tmp_path: Path, prefix: str) -> None:
    """A plausible slip in host_vars (the /24 forgotten, the gateway's address for the network): with no
    nested_ip to compare it with, it used to pass the inventory check, and win_nested_nat refused it
    only after the VM settings and Hyper-V had been changed, naming its own option `prefix`."""
    inventory = yaml.safe_load(healthy_lab.inventory.read_text(encoding="utf-8"))
    guests = inventory["all"]["children"]["nested_guests"]["hosts"]
    assert not any("nested_ip" in guest for guest in guests.values()), "the case is a NAT prefix with nothing to compare it with"
    inventory["all"]["children"]["nested_hosts"]["hosts"]["lab-hv1"]["nested_networking_nat_prefix"] = prefix
    healthy_lab.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")

    run = healthy_lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={tmp_path}")
    assert run.rc != 0
    (result,) = run.task_results("Check the inventory model").values()
    message = "\n".join(result.get("msg") or [])
    assert "lab-hv1's nested_networking_nat_prefix" in message and prefix in message, message
    for host in ("hv01", "hv02", "lab-hv1", "lab-hv2", "lab-hv3"):
        assert healthy_lab.requests(host, "execute") == [], f"{host} was changed"


@pytest.mark.parametrize(("missing", "variable"), [("password", "HYPERV_NESTED_PASSWORD"), ("user", "HYPERV_NESTED_USER")])
def test_the_dynamic_inventory_without_a_credential_says_where_to_put_it(tmp_path: Path, missing: str, variable: str) -> None:
    """The README's source (`user: ...  # password: HYPERV_NESTED_PASSWORD, ...`) run without the variable set:
    ansible-inventory must say which option is missing and how to give it, before any host is contacted."""
    source = {"plugin": "hyperv.nested.hyperv", "hosts": [{"name": "hv01", "address": "127.0.0.1", "port": 9}], "transport": "ntlm", "scheme": "http"}
    if missing == "password":
        source["user"] = "Administrator"
    (tmp_path / "fleet.hyperv.yml").write_text(yaml.safe_dump(source), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("HYPERV_NESTED_")}
    env.update(ANSIBLE_INVENTORY_UNPARSED_FAILED="True", ANSIBLE_INVENTORY_ENABLED="hyperv.nested.hyperv", PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", "fleet.hyperv.yml", "--graph"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert f"option '{missing}'" in result.stderr and variable in result.stderr, result.stderr


def test_a_guest_vm_name_typo_names_the_guest_and_its_inventory_variable(healthy_lab: Lab, tmp_path: Path) -> None:
    inventory = yaml.safe_load(healthy_lab.inventory.read_text(encoding="utf-8"))
    inventory["all"]["children"]["nested_guests"]["hosts"]["lab-vm2"]["nested_vm_name"] = "LAB-VM22"
    healthy_lab.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")

    run = healthy_lab.playbook(REPO / "playbooks" / "site.yml", "--limit", "lab-hv1", "-e", f"nested_report_dir={tmp_path}")
    assert run.rc != 0 and run.recap["lab-hv1"]["failures"] == 1, run.recap
    message = failure_messages(run, "lab-hv1")
    assert "LAB-VM22" in message, message
    assert "lab-vm2" in message and "nested_vm_name" in message, message


def test_a_parent_named_by_its_vm_or_short_name_is_answered_with_the_inventory_name(healthy_lab: Lab, tmp_path: Path) -> None:
    """The README's model uses short names (hv01), the example inventory FQDNs, Hyper-V the VM's name (LAB-HV1):
    a parent written the other way is named back as the inventory has it, without the job-slicing explanation."""
    inventory = yaml.safe_load(healthy_lab.inventory.read_text(encoding="utf-8"))
    groups = inventory["all"]["children"]
    groups["nested_hosts"]["hosts"]["lab-hv3"]["nested_parent"] = "HV02.lab.example.com"
    groups["nested_guests"]["hosts"]["lab-vm1"]["nested_parent"] = "LAB-HV1"
    healthy_lab.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")

    run = healthy_lab.playbook(REPO / "playbooks" / "check.yml", "-e", f"nested_report_dir={tmp_path}")
    assert run.rc != 0
    (result,) = run.task_results("Check the inventory model").values()
    message = "\n".join(result.get("msg") or [])
    assert "lab-hv3's nested_parent 'HV02.lab.example.com' is not a host of this inventory" in message, message
    assert "Did you mean 'hv02'?" in message and "Did you mean 'lab-hv1'?" in message, message
    assert "slic" not in message, message
    for host in ("hv01", "hv02", "lab-hv1", "lab-hv2", "lab-hv3"):
        assert healthy_lab.requests(host, "probe") == [] and healthy_lab.requests(host, "execute") == [], host


def test_a_memory_size_written_in_megabytes_without_a_unit_says_so(healthy_lab: Lab, tmp_path: Path) -> None:
    """Hyper-V Manager shows memory in MB, so 16384 is a likely way to write 16 GB; without a unit it is bytes,
    which Hyper-V cannot allocate. The message must show how to write it, and nothing must change."""
    run = healthy_lab.playbook(
        REPO / "playbooks" / "site.yml", "--limit", "lab-hv3", "-e", "nested_vm_settings_startup_memory=16384", "-e", f"nested_report_dir={tmp_path}"
    )
    assert run.rc != 0 and run.recap["lab-hv3"]["failures"] == 1, run.recap
    message = failure_messages(run, "lab-hv3")
    assert "16384MB" in message and "bytes" in message, message
    assert healthy_lab.requests("hv02", "execute") == [], "the parent was changed"
    state = vm(healthy_lab, "lab-hv3")
    assert state["startup_memory_bytes"] == 4 * GB and state["expose_virtualization_extensions"] is False, state


def test_remove_takes_away_a_guest_the_collection_created_inside_an_existing_l1_host(tmp_path: Path) -> None:
    """An existing L1 host (no nested_provision) with a golden image, and one L2 guest the inventory describes."""
    from hvsim.pytest_plugin import started_labs

    lab_yaml = yaml.safe_load((REPO / "tests" / "simulator" / "labs" / "healthy-intel.yml").read_text(encoding="utf-8"))
    l1 = next(vm for vm in lab_yaml["hosts"][0]["vms"] if vm["name"] == "LAB-HV1")["guest"]["nested_host"]
    os_info = lab_yaml["hosts"][0]["os"]
    l1["golden_images"] = [{"path": "C:\\Golden\\ws2022.vhdx", "family": "windows", "sysprepped": True, "os": os_info}]
    lab_file = tmp_path / "existing-l1-created-guest.yml"
    lab_file.write_text(yaml.safe_dump(lab_yaml, sort_keys=False), encoding="utf-8")
    with started_labs(lambda _file, count: tmp_path / f"lab-{count}") as start:
        lab = start(lab_file)
        inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
        inventory["all"]["children"]["nested_guests"]["hosts"]["lab-vm9"] = {
            "nested_parent": "lab-hv1",
            "nested_vm_name": "LAB-VM9",
            "nested_guest_username": "Administrator",
            "nested_guest_password": "GuestPassw0rd!",
            "nested_provision": {"image": "C:\\Golden\\ws2022.vhdx", "memory": "1GB", "expose_virtualization_extensions": False, "adapters": [{}]},
        }
        lab.inventory.write_text(yaml.safe_dump(inventory), encoding="utf-8")
        # Room for three guests (2 + 2 + 1 GB) in the L1 host.
        extra = ("-e", "nested_vm_settings_startup_memory=8GB", "-e", f"nested_report_dir={tmp_path}")
        site = lab.playbook(REPO / "playbooks" / "site.yml", "--limit", "lab-hv1", *extra)
        site.assert_ok()
        names = {vm["name"] for vm in lab.show("lab-hv1")["vms"]["vms"]}
        assert "LAB-VM9" in names, names

        lab.playbook(REPO / "playbooks" / "remove.yml").assert_ok()
        left = {vm["name"] for vm in lab.show("lab-hv1")["vms"]["vms"]}
        assert left == names - {"LAB-VM9"}, left
