"""The inventory plugin's parse(): options, strict, cache, compose/groups (the documented example),
warnings without secrets, Vault and templated passwords. The hosts answer through a scripted
runner in place of pywinrm; tests/lab/test_inventory_plugin.py reads a simulated fleet."""

from __future__ import annotations

import ast
import json
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret, VaultSecretsContext
from ansible.plugins import inventory as inventory_base

from ansible_collections.hyperv.nested.plugins.inventory import hyperv
from ansible_collections.hyperv.nested.plugins.plugin_utils import _inventory_remote as remote
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import Connection, HostEntry

from ...probe_fixtures import NESTED, probe_host, probe_vm, vms_section

PLUGIN_FILE = Path(hyperv.__file__)
PASSWORD = "S3cret-pass!"


def _plugin_docs(name: str) -> t.Any:
    tree = ast.parse(PLUGIN_FILE.read_text(encoding="utf-8"))
    text = next(node.value.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name)
    return list(yaml.safe_load_all(t.cast(str, text)))


def _register_options() -> None:
    """What ansible's plugin loader does when it loads the plugin: its documented options become config definitions."""
    from ansible import constants as C
    from ansible._internal._datatag._tags import TrustedAsTemplate
    from ansible.parsing.yaml.loader import AnsibleLoader
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import add_fragments

    documentation = yaml.load(TrustedAsTemplate().tag(hyperv.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, str(PLUGIN_FILE), fragment_loader=fragment_loader, is_module=False)
    C.config.initialize_plugin_configuration_definitions("inventory", hyperv.InventoryModule.NAME, documentation["options"])


class Fleet:
    """Scripted hosts: name -> probe answer (the `result`) or an exception; counts the reads."""

    def __init__(self, answers: dict[str, dict[str, t.Any] | Exception]) -> None:
        self.answers = answers
        self.reads: list[str] = []

    def __call__(self, connection: Connection, entry: HostEntry, command: list[str], stdin: bytes) -> remote.Outcome:
        self.reads.append(entry.name)
        answer = self.answers[entry.name]
        if isinstance(answer, Exception):
            raise answer
        return remote.Outcome(0, json.dumps({"ok": True, "result": answer}), "")


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Fleet:
    scripted = Fleet(
        {
            "hv01": {
                "host": probe_host(),
                "vms": vms_section(
                    probe_vm("LAB-HV1", notes="L1 for the lab\nnested: nat"),
                    probe_vm("LAB-HV2", notes="nested:mac_spoofing", **NESTED),
                    probe_vm("WEB1", notes="owner: {{ lookup('pipe', 'id') }}"),
                ),
            },
            "hv02": {"host": probe_host(computer_name="HV02"), "vms": vms_section(probe_vm("DB1", state="Off", **NESTED))},
            "hv03": ConnectionRefusedError(f"[Errno 111] Connection refused while logging in with {PASSWORD}"),
        }
    )
    monkeypatch.setitem(remote.RUNNERS, "winrm", scripted)
    monkeypatch.setitem(remote.RUNNERS, "psrp", scripted)
    return scripted


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(inventory_base.display, "warning", lambda message, *args, **kwargs: shown.append(message))
    return shown


def parse(path: Path, *, cache: bool = True, vault_password: str | None = None) -> InventoryData:
    """What InventoryManager does with a source: parse it, then let the plugin write its cache."""
    _register_options()
    VaultSecretsContext._current = VaultSecretsContext([("default", VaultSecret(vault_password.encode()))] if vault_password else [])
    plugin = hyperv.InventoryModule()
    plugin._load_name = hyperv.InventoryModule.NAME
    plugin.ansible_name = hyperv.InventoryModule.NAME
    inventory = InventoryData()
    try:
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        if plugin.get_option("cache"):
            plugin.update_cache_if_changed()
    finally:
        VaultSecretsContext._current = None
    return inventory


def source(tmp_path: Path, name: str = "fleet.hyperv.yml", **options: t.Any) -> Path:
    config = {"plugin": "hyperv.nested.hyperv", "hosts": ["hv01", "hv02"], "user": "ansible", "password": PASSWORD, **options}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def groups_of(inventory: InventoryData, host: str) -> set[str]:
    return {group.name for group in inventory.hosts[host].get_groups()} - {"all"}


def test_only_sources_named_hyperv_yml_are_read(tmp_path: Path) -> None:
    plugin = hyperv.InventoryModule()
    for name, accepted in [("fleet.hyperv.yml", True), ("hyperv.yaml", True), ("fleet.yml", False), ("fleet.hyperv.json", False)]:
        path = tmp_path / name
        path.write_text("plugin: hyperv.nested.hyperv\n", encoding="utf-8")
        assert plugin.verify_file(str(path)) is accepted, name


def test_builds_hosts_groups_and_vars_from_the_probe_answers(tmp_path: Path, fleet: Fleet, warnings: list[str]) -> None:
    inventory = parse(source(tmp_path, hostname_lowercase=True))
    assert sorted(inventory.hosts) == ["db1", "hv01", "hv02", "lab-hv1", "lab-hv2", "web1"]
    assert groups_of(inventory, "lab-hv1") == {"hyperv_vms", "nested_possible"}
    assert groups_of(inventory, "lab-hv2") == {"hyperv_vms", "nested_ready"}
    assert groups_of(inventory, "hv01") == {"hyperv_hosts", "hyperv_processor_intel", "hyperv_build_20348"}
    variables = inventory.hosts["db1"].vars
    assert variables["nested_parent"] == "hv02" and variables["nested_vm_name"] == "DB1" and variables["hyperv_vm_state"] == "Off"
    assert inventory.hosts["hv01"].vars["ansible_user"] == "ansible" and "ansible_password" not in inventory.hosts["hv01"].vars
    assert fleet.reads == ["hv01", "hv02"] and warnings == []


def test_the_documented_notes_example_builds_nested_hosts_with_their_network_mode(tmp_path: Path, fleet: Fleet) -> None:
    documented = _plugin_docs("EXAMPLES")[1]
    inventory = parse(source(tmp_path, strict=True, groups=documented["groups"], compose=documented["compose"], hostname_lowercase=True))
    members = sorted(host.name for host in inventory.groups["nested_hosts"].get_hosts())
    assert members == ["lab-hv1", "lab-hv2"]
    assert inventory.hosts["lab-hv1"].vars["nested_network_mode"] == "nat"
    assert inventory.hosts["lab-hv2"].vars["nested_network_mode"] == "mac_spoofing"
    # Notes are the VM owner's text: a template in them stays text, it is never run.
    assert to_text(inventory.hosts["web1"].vars["hyperv_vm_notes"]) == "owner: {{ lookup('pipe', 'id') }}"
    assert "nested_hosts" not in groups_of(inventory, "web1")


def test_an_unreachable_host_is_a_warning_without_the_password_and_the_rest_builds(tmp_path: Path, fleet: Fleet, warnings: list[str]) -> None:
    inventory = parse(source(tmp_path, hosts=["hv01", "hv03", "hv02"]))
    assert groups_of(inventory, "hv03") == {"hyperv_hosts", "hyperv_hosts_unreachable"}
    assert "DB1" in inventory.hosts and "LAB-HV1" in inventory.hosts
    assert len(warnings) == 1 and warnings[0].startswith("Could not read the Hyper-V host hv03: ConnectionRefusedError: [Errno 111] Connection refused")
    assert PASSWORD not in warnings[0] and PASSWORD not in repr(inventory.hosts["hv03"].vars)


def test_strict_makes_an_unreachable_host_an_error_naming_it(tmp_path: Path, fleet: Fleet) -> None:
    with pytest.raises(AnsibleParserError, match=r"could not read 1 Hyper-V host\(s\) \(strict is on\): hv03: ConnectionRefusedError") as raised:
        parse(source(tmp_path, hosts=["hv01", "hv03"], strict=True))
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"vm_filters": {"states": ["Runing"]}}, "option 'vm_filters.states': 'Runing' is not a VM state"),
        ({"hosts": [{"name": "hv01", "prot": 5986}]}, "option 'hosts[0]': unknown key(s) prot"),
        ({"password": None}, "option 'password': is required with transport ntlm"),
        ({"transport": "negotiate"}, "option 'transport': 'negotiate' is not available with connection winrm"),
    ],
)
def test_bad_options_are_errors_naming_the_option(tmp_path: Path, fleet: Fleet, options: dict[str, t.Any], words: str) -> None:
    with pytest.raises(AnsibleParserError) as raised:
        parse(source(tmp_path, **options))
    assert words in str(raised.value)
    assert fleet.reads == []


def test_a_choice_outside_the_documented_ones_is_an_error_naming_it(tmp_path: Path, fleet: Fleet) -> None:
    with pytest.raises(Exception, match="scheme"):
        parse(source(tmp_path, scheme="htp"))


def test_the_cache_answers_the_second_read_and_holds_no_password(tmp_path: Path, fleet: Fleet) -> None:
    cache_dir = tmp_path / "cache"
    path = source(tmp_path, cache=True, cache_plugin="jsonfile", cache_connection=str(cache_dir), hosts=["hv01", "hv03", "hv02"])
    first = parse(path)
    assert fleet.reads == ["hv01", "hv03", "hv02"]
    written = "".join(p.read_text(encoding="utf-8") for p in cache_dir.iterdir())
    assert "LAB-HV1" in written and PASSWORD not in written and "hv03: " not in written

    second = parse(path)
    # Answers come from the cache; the host that failed is tried again.
    assert fleet.reads == ["hv01", "hv03", "hv02", "hv03"]
    assert sorted(second.hosts) == sorted(first.hosts)

    parse(path, cache=False)  # --flush-cache / refresh_inventory
    assert fleet.reads[4:] == ["hv01", "hv03", "hv02"]


def test_a_changed_host_list_does_not_use_the_cache(tmp_path: Path, fleet: Fleet) -> None:
    cache_dir = tmp_path / "cache"
    parse(source(tmp_path, cache=True, cache_plugin="jsonfile", cache_connection=str(cache_dir)))
    parse(source(tmp_path, cache=True, cache_plugin="jsonfile", cache_connection=str(cache_dir), hosts=["hv02"]))
    assert fleet.reads == ["hv01", "hv02", "hv02"]


def test_a_vault_encrypted_password_is_decrypted_for_the_connection(tmp_path: Path, fleet: Fleet) -> None:
    seen: list[str | None] = []
    scripted = remote.RUNNERS["winrm"]
    remote.RUNNERS["winrm"] = lambda connection, *rest: (seen.append(connection.password), scripted(connection, *rest))[1]
    ciphertext = VaultLib([("default", VaultSecret(b"vault-pass"))]).encrypt(PASSWORD).decode()
    path = tmp_path / "vault.hyperv.yml"
    indented = "\n".join("  " + line for line in ciphertext.splitlines())
    path.write_text(f"plugin: hyperv.nested.hyperv\nhosts: [hv02]\nuser: ansible\npassword: !vault |\n{indented}\n", encoding="utf-8")
    parse(path, vault_password="vault-pass")
    assert seen == [PASSWORD]


def test_a_templated_password_is_rendered(tmp_path: Path, fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []
    scripted = remote.RUNNERS["winrm"]
    monkeypatch.setitem(remote.RUNNERS, "winrm", lambda connection, *rest: (seen.append(connection.password), scripted(connection, *rest))[1])
    monkeypatch.setenv("HV_TEST_PASSWORD", PASSWORD)
    parse(source(tmp_path, hosts=["hv02"], password="{{ lookup('env', 'HV_TEST_PASSWORD') }}"))
    assert seen == [PASSWORD]


def test_the_password_may_come_from_the_environment(tmp_path: Path, fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []
    scripted = remote.RUNNERS["winrm"]
    monkeypatch.setitem(remote.RUNNERS, "winrm", lambda connection, *rest: (seen.append(connection.password), scripted(connection, *rest))[1])
    monkeypatch.setenv("HYPERV_NESTED_PASSWORD", PASSWORD)
    path = tmp_path / "env.hyperv.yml"
    path.write_text("plugin: hyperv.nested.hyperv\nhosts: [hv02]\nuser: ansible\n", encoding="utf-8")
    parse(path)
    assert seen == [PASSWORD]


def test_the_readme_example_is_the_documented_one() -> None:
    readme = (PLUGIN_FILE.parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("# fleet.hyperv.yml\n", 1)[1].split("```", 1)[0]
    example = yaml.safe_load(block)
    documented = _plugin_docs("EXAMPLES")[1]
    assert example["plugin"] == "hyperv.nested.hyperv"
    assert (example["groups"], example["compose"]) == (documented["groups"], documented["compose"])
