"""nested_settings_groups: L1 hosts grouped by parent and by their own values of the role's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_settings_groups import FilterModule, nested_settings_groups

DEFAULTS = {"memory": None, "cpus": None, "power": "shutdown"}
L1 = ["lab-hv1", "lab-hv2", "lab-hv3", "lab-hv4"]


def hostvars(**extra: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """lab-hv1, lab-hv2 and lab-hv4 on hv01, lab-hv3 on hv02; `extra` adds variables per host."""
    found = {
        "hv01": {},
        "hv02": {},
        "lab-hv1": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV1"},
        "lab-hv2": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV2"},
        "lab-hv3": {"nested_parent": "hv02", "nested_vm_name": "LAB-HV3"},
        "lab-hv4": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV4"},
    }
    for host, variables in extra.items():
        found[host.replace("_", "-")] = {**found[host.replace("_", "-")], **variables}
    return found


def seen(**values: t.Any) -> dict[str, t.Any]:
    """The settings as the calling task sees them: the defaults, changed by `values`."""
    return {**DEFAULTS, **values}


def grouped(*args: t.Any, **kwargs: t.Any) -> list[dict[str, t.Any]]:
    """The groups in order; each is keyed by the host that acts for it, its first host."""
    groups = nested_settings_groups(*args, **kwargs)
    assert list(groups) == [group["acting"] for group in groups.values()] == [group["hosts"][0] for group in groups.values()]
    return list(groups.values())


def layout(groups: list[dict[str, t.Any]]) -> list[tuple[str, str, list[str]]]:
    return [(group["parent"], group["acting"], group["hosts"]) for group in groups]


def test_registered_under_its_name() -> None:
    assert FilterModule().filters()["nested_settings_groups"] is nested_settings_groups


def test_equal_values_make_one_group_per_parent_in_input_order() -> None:
    variables = hostvars(lab_hv1={"memory": "8GB"}, lab_hv2={"memory": "8GB"}, lab_hv4={"memory": "8GB"}, lab_hv3={"memory": "8GB"})
    groups = grouped(L1, variables, seen(memory="8GB"), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv2", "lab-hv4"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert [group["settings"] for group in groups] == [seen(memory="8GB")] * 2
    reordered = grouped(["lab-hv3", "lab-hv4", "lab-hv2", "lab-hv1"], variables, seen(memory="8GB"), DEFAULTS, host="lab-hv3")
    assert layout(reordered) == [("hv02", "lab-hv3", ["lab-hv3"]), ("hv01", "lab-hv4", ["lab-hv4", "lab-hv2", "lab-hv1"])]


def test_nothing_set_anywhere_is_one_group_per_parent_with_the_defaults() -> None:
    groups = grouped(L1, hostvars(), seen(), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv2", "lab-hv4"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert groups[0]["settings"] == DEFAULTS


def test_each_host_gets_its_own_inventory_values() -> None:
    """The reported bug: lab-hv1 (the host the task runs for) has 8GB, lab-hv2 16GB: each its own."""
    variables = hostvars(lab_hv1={"memory": "8GB", "cpus": 4}, lab_hv2={"memory": "16GB", "cpus": 4}, lab_hv4={"memory": "8GB", "cpus": 4})
    groups = grouped(L1, variables, seen(memory="8GB", cpus=4), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv4"]), ("hv01", "lab-hv2", ["lab-hv2"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert [(group["settings"]["memory"], group["settings"]["cpus"]) for group in groups] == [("8GB", 4), ("16GB", 4), (None, None)]


def test_hosts_without_an_inventory_value_get_the_default_not_the_acting_hosts_value() -> None:
    variables = hostvars(lab_hv1={"memory": "8GB"})
    groups = grouped(L1, variables, seen(memory="8GB"), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1"]), ("hv01", "lab-hv2", ["lab-hv2", "lab-hv4"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert [group["settings"]["memory"] for group in groups] == ["8GB", None, None]


def test_a_play_or_role_value_applies_to_every_host_over_their_inventory_values() -> None:
    """What the task sees differs from the seeing host's inventory value: a play/role variable, above the inventory."""
    variables = hostvars(lab_hv1={"memory": "8GB", "power": "turn_off"}, lab_hv2={"memory": "16GB"})
    groups = grouped(L1, variables, seen(memory="8GB", power="fail"), DEFAULTS, host="lab-hv1")
    assert {group["settings"]["power"] for group in groups} == {"fail"}
    assert [(group["hosts"], group["settings"]["memory"]) for group in groups] == [
        (["lab-hv1"], "8GB"),
        (["lab-hv2"], "16GB"),
        (["lab-hv3"], None),
        (["lab-hv4"], None),
    ]


def test_a_play_or_role_value_when_the_seeing_host_has_none_in_the_inventory() -> None:
    """Like disable.yml: the role's vars set state/power_after; a host's inventory value does not win over them."""
    variables = hostvars(lab_hv2={"power": "turn_off", "cpus": 8})
    groups = grouped(L1, variables, seen(power="fail"), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv4"]), ("hv01", "lab-hv2", ["lab-hv2"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert [group["settings"] for group in groups] == [seen(power="fail"), seen(power="fail", cpus=8), seen(power="fail")]


def test_extra_vars_are_in_every_hosts_hostvars() -> None:
    every = {"cpus": 6}
    variables = hostvars(lab_hv1=every, lab_hv2=every, lab_hv3=every, lab_hv4=every)
    groups = grouped(L1, variables, seen(cpus=6), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv2", "lab-hv4"]), ("hv02", "lab-hv3", ["lab-hv3"])]
    assert groups[0]["settings"]["cpus"] == 6


def test_equal_values_on_different_parents_never_share_a_group() -> None:
    variables = hostvars(lab_hv3={"nested_parent": "hv01"})
    groups = grouped(["lab-hv1", "lab-hv3"], variables, seen(), DEFAULTS)
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv3"])]
    groups = grouped(["lab-hv1", "lab-hv3"], hostvars(), seen(), DEFAULTS)
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1"]), ("hv02", "lab-hv3", ["lab-hv3"])]


def test_values_are_compared_as_data() -> None:
    """Lists and dictionaries compare by content, whatever their key order."""
    variables = hostvars(lab_hv1={"power": {"a": 1, "b": [1, 2]}}, lab_hv2={"power": {"b": [1, 2], "a": 1}}, lab_hv4={"power": {"a": 1, "b": [2, 1]}})
    groups = grouped(L1, variables, seen(power={"a": 1, "b": [1, 2]}), DEFAULTS, host="lab-hv1")
    assert layout(groups) == [("hv01", "lab-hv1", ["lab-hv1", "lab-hv2"]), ("hv02", "lab-hv3", ["lab-hv3"]), ("hv01", "lab-hv4", ["lab-hv4"])]


def test_the_seeing_host_defaults_to_the_first_input_host() -> None:
    variables = hostvars(lab_hv2={"memory": "8GB"})
    # Seen by lab-hv2 (first): 8GB is its inventory value, so lab-hv1 keeps the default.
    groups = grouped(["lab-hv2", "lab-hv1"], variables, seen(memory="8GB"), DEFAULTS)
    assert [(group["hosts"], group["settings"]["memory"]) for group in groups] == [(["lab-hv2"], "8GB"), (["lab-hv1"], None)]


def test_empty_input_is_no_groups() -> None:
    assert nested_settings_groups([], hostvars(), seen(), DEFAULTS) == {}


class RaisingVars(Mapping[str, t.Any]):
    """hostvars of one host whose 'memory' cannot be templated."""

    def __init__(self, variables: dict[str, t.Any]) -> None:
        self._variables = variables

    def __getitem__(self, key: str) -> t.Any:
        if key == "memory":
            raise AnsibleError("'lab_memory' is undefined")
        return self._variables[key]

    def __contains__(self, key: object) -> bool:
        return key in self._variables

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)


def test_a_value_that_cannot_be_read_names_the_host_and_the_variable() -> None:
    variables: dict[str, t.Any] = hostvars()
    variables["lab-hv2"] = RaisingVars({**variables["lab-hv2"], "memory": "{{ lab_memory }}"})
    with pytest.raises(AnsibleFilterError, match="'memory' for the host 'lab-hv2' cannot be read: 'lab_memory' is undefined"):
        nested_settings_groups(L1, variables, seen(), DEFAULTS, host="lab-hv1")


@pytest.mark.parametrize(
    ("hosts", "variables", "settings", "defaults", "message"),
    [
        ("lab-hv1", hostvars(), seen(), DEFAULTS, "expects a list of inventory host names"),
        (["nope"], hostvars(), seen(), DEFAULTS, "'nope' is not in hostvars"),
        (["hv01"], hostvars(), seen(), DEFAULTS, "'hv01' has no 'nested_parent'"),
        (L1, hostvars(), ["memory"], DEFAULTS, "must be dictionaries"),
        (L1, hostvars(), seen(other=1), DEFAULTS, "'defaults' has no value for other"),
        (L1, {**hostvars(), "lab-hv1": "text"}, seen(), DEFAULTS, r"hostvars\['lab-hv1'\] is not a mapping"),
    ],
)
def test_wrong_input_is_a_clear_error(hosts: t.Any, variables: t.Any, settings: t.Any, defaults: t.Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        nested_settings_groups(hosts, variables, settings, defaults)


def test_precedence_with_real_hostvars_in_a_playbook(tmp_path: Path) -> None:
    """Through ansible-playbook: hostvars has inventory and extra vars, not play vars or role defaults."""
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {
                "nested_hosts": {
                    "hosts": {
                        "lab-hv1": {"nested_parent": "hv01", "my_memory": "8GB", "my_cpus": "{{ 2 * 2 }}"},
                        "lab-hv2": {"nested_parent": "hv01", "my_memory": "16GB", "my_cpus": 4},
                        "lab-hv3": {"nested_parent": "hv01"},
                    },
                    "vars": {"my_power": "turn_off"},
                },
            },
        }
    }
    role = tmp_path / "roles" / "sizes"
    (role / "defaults").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "defaults" / "main.yml").write_text("my_memory: null\nmy_cpus: null\nmy_power: shutdown\nmy_timeout: 300\n", encoding="utf-8")
    (role / "tasks" / "main.yml").write_text(
        "- ansible.builtin.debug:\n"
        "    msg: >-\n"
        "      {{ ansible_play_batch | hyperv.nested.nested_settings_groups(hostvars,\n"
        "           {'my_memory': my_memory, 'my_cpus': my_cpus, 'my_power': my_power, 'my_timeout': my_timeout},\n"
        "           lookup('ansible.builtin.file', role_path ~ '/defaults/main.yml') | from_yaml, host=inventory_hostname) }}\n"
        "  run_once: true\n",
        encoding="utf-8",
    )
    (tmp_path / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    (tmp_path / "play.yml").write_text(
        "- hosts: nested_hosts\n  gather_facts: false\n  vars:\n    my_power: fail\n  roles:\n    - sizes\n",
        encoding="utf-8",
    )

    def groups(*extra: str) -> list[tuple[list[str], dict[str, t.Any]]]:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml"), *extra],
            capture_output=True,
            text=True,
            env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_ROLES_PATH": str(tmp_path / "roles")},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["lab-hv1"]
        assert list(result["msg"]) == [group["acting"] for group in result["msg"].values()]
        return [(group["hosts"], group["settings"]) for group in result["msg"].values()]

    # Inventory values per host (templated for each host), the play's my_power over the group's.
    assert groups() == [
        (["lab-hv1"], {"my_memory": "8GB", "my_cpus": 4, "my_power": "fail", "my_timeout": 300}),
        (["lab-hv2"], {"my_memory": "16GB", "my_cpus": 4, "my_power": "fail", "my_timeout": 300}),
        (["lab-hv3"], {"my_memory": None, "my_cpus": None, "my_power": "fail", "my_timeout": 300}),
    ]
    # Extra vars are every host's.
    assert groups("-e", "my_memory=32GB") == [
        (["lab-hv1", "lab-hv2"], {"my_memory": "32GB", "my_cpus": 4, "my_power": "fail", "my_timeout": 300}),
        (["lab-hv3"], {"my_memory": "32GB", "my_cpus": None, "my_power": "fail", "my_timeout": 300}),
    ]
