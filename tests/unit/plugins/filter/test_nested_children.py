"""nested_children: select L1 VMs of an L0 host, or L2 guests of an L1 host, from inventory."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import typing as t
from collections.abc import Mapping
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_children import FilterModule, nested_children

HOSTVARS: dict[str, dict[str, t.Any]] = {
    "hv01": {},
    "hv02": {},
    "lab-hv1": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV1", "nested_network_mode": "nat"},
    "lab-hv2": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV2", "nested_network_mode": "mac_spoofing"},
    "lab-hv3": {"nested_parent": "hv02", "nested_vm_name": "LAB-HV3", "nested_network_mode": "nat"},
    "lab-vm1": {"nested_parent": "lab-hv1", "nested_vm_name": "LAB-VM1", "nested_ip": "192.168.100.2"},
    "lab-vm2": {"nested_parent": "lab-hv1", "nested_vm_name": "LAB-VM2"},
    "odd": {"nested_parent": 'we`ird\' "parent"', "nested_vm_name": "ODD"},
}
L1 = ["lab-hv1", "lab-hv2", "lab-hv3"]
L2 = ["lab-vm1", "lab-vm2"]


def test_registered_under_its_name() -> None:
    assert FilterModule().filters()["nested_children"] is nested_children


def test_children_of_an_l0_host_in_input_order() -> None:
    assert nested_children(L1, HOSTVARS, "hv01") == ["lab-hv1", "lab-hv2"]
    assert nested_children(list(reversed(L1)), HOSTVARS, "hv01") == ["lab-hv2", "lab-hv1"]
    assert nested_children(L1, HOSTVARS, "hv02") == ["lab-hv3"]


def test_guests_of_an_l1_host() -> None:
    assert nested_children(L2, HOSTVARS, "lab-hv1") == ["lab-vm1", "lab-vm2"]
    assert nested_children(L2, HOSTVARS, "lab-hv2") == []


def test_attribute_returns_that_variable() -> None:
    assert nested_children(L1, HOSTVARS, "hv01", attribute="nested_vm_name") == ["LAB-HV1", "LAB-HV2"]


def test_missing_attribute_names_the_host() -> None:
    with pytest.raises(AnsibleFilterError, match="lab-vm2 have no variable 'nested_ip'"):
        nested_children(L2, HOSTVARS, "lab-hv1", attribute="nested_ip")


def test_match_narrows_the_selection() -> None:
    assert nested_children(L1, HOSTVARS, "hv01", match={"nested_network_mode": "mac_spoofing"}) == ["lab-hv2"]
    assert nested_children(L1, HOSTVARS, "hv01", attribute="nested_vm_name", match={"nested_network_mode": "nat"}) == ["LAB-HV1"]
    assert nested_children(L1, HOSTVARS, "hv01", match={"nested_network_mode": "nat", "nested_vm_name": "LAB-HV2"}) == []


def test_values_with_quotes_and_backticks_are_data_not_query_text() -> None:
    hosts = [*L1, "odd"]
    assert nested_children(hosts, HOSTVARS, 'we`ird\' "parent"') == ["odd"]
    assert nested_children(hosts, HOSTVARS, "hv01' || parent != '") == []


def test_hosts_without_a_parent_are_never_children() -> None:
    assert nested_children(["hv01", "hv02"], HOSTVARS, "hv01") == []


@pytest.mark.parametrize(
    ("hosts", "parent", "message"),
    [
        ("lab-hv1", "hv01", "expects a list of inventory host names"),
        (["nope"], "hv01", "'nope' is not in hostvars"),
        (L1, "", "'parent' must be the inventory name"),
    ],
)
def test_wrong_input_is_a_clear_error(hosts: t.Any, parent: str, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        nested_children(hosts, HOSTVARS, parent)


def test_works_with_real_hostvars_in_a_playbook(tmp_path: Path) -> None:
    """Through ansible-playbook: HostVars is a lazy mapping, not a dict; templated values count."""
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {
                "hyperv_hosts": {"hosts": {"hv01": {}}},
                "nested_hosts": {
                    "hosts": {
                        "lab-hv1": {"nested_parent": "{{ 'hv' ~ '01' }}", "nested_vm_name": "LAB-HV1"},
                        "lab-hv2": {"nested_parent": "hv02", "nested_vm_name": "LAB-HV2"},
                    }
                },
            },
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    (tmp_path / "play.yml").write_text(
        "- hosts: hv01\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"{{ groups['nested_hosts'] | hyperv.nested.nested_children(hostvars, inventory_hostname, attribute='nested_vm_name') }}\"\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml")],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["hv01"]
    assert result["msg"] == ["LAB-HV1"]


class CountingHostvars(Mapping[str, t.Any]):
    """Like ansible-core's HostVars: each lookup computes the host's variables (here: counts it)."""

    def __init__(self, variables: dict[str, dict[str, t.Any]]) -> None:
        self._variables = variables
        self.lookups: dict[str, int] = {}

    def __getitem__(self, host: str) -> dict[str, t.Any]:
        self.lookups[host] = self.lookups.get(host, 0) + 1
        return self._variables[host]

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)


def _lookups_after_three_scans(answer: t.Any) -> None:
    hostvars = CountingHostvars(HOSTVARS)
    scans = [nested_children(L2, hostvars, "lab-hv1") for scan in range(3)]
    assert scans == [["lab-vm1", "lab-vm2"]] * 3
    answer.put(hostvars.lookups)


def test_a_worker_reads_each_host_once_however_often_the_task_names_the_children() -> None:
    """Ansible runs each task on each host in a forked worker, and Jinja templates a variable again at
    every reference: in a worker the second and third scans reuse the first one's reads."""
    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    worker = context.Process(target=_lookups_after_three_scans, args=(answer,))
    worker.start()
    lookups = answer.get(timeout=60)
    worker.join(timeout=60)
    assert lookups == {"lab-vm1": 1, "lab-vm2": 1}


def test_the_controllers_main_process_reads_again_as_facts_change_between_tasks() -> None:
    hostvars = CountingHostvars({name: dict(values) for name, values in HOSTVARS.items()})
    assert nested_children(L2, hostvars, "lab-hv1") == ["lab-vm1", "lab-vm2"]
    hostvars._variables["lab-vm2"]["nested_parent"] = "lab-hv3"  # as a later set_fact could
    assert nested_children(L2, hostvars, "lab-hv1") == ["lab-vm1"]
    assert hostvars.lookups == {"lab-vm1": 2, "lab-vm2": 2}
