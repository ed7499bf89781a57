"""The inventory plugin hyperv.nested.hyperv against the simulated fleet, through ansible-inventory and
ansible-playbook: every VM in its readiness group, an unreachable host, the cache, bad options,
secrets, and playbooks/site.yml run from the dynamic inventory plus a static credentials file."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from hvsim.pytest_plugin import Lab, requests_in, started_labs

REPO = Path(__file__).resolve().parents[2]

LAB_FILE = Path(__file__).parent / "labs" / "inventory-fleet.yml"
VENV_BIN = Path(sys.executable).parent
PASSWORD = "Passw0rd!"


def documented_example() -> dict[str, t.Any]:
    """The plugin's second EXAMPLES document: VM notes choose nested_hosts and nested_network_mode."""
    tree = ast.parse((REPO / "plugins" / "inventory" / "hyperv.py").read_text(encoding="utf-8"))
    text = next(node.value.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES")
    return t.cast(dict[str, t.Any], list(yaml.safe_load_all(t.cast(str, text)))[1])


def plain(value: t.Any) -> t.Any:
    """ansible-inventory --list marks strings from inventory plugins as untrusted: {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


class Listing(t.NamedTuple):
    rc: int
    stdout: str
    stderr: str

    @property
    def data(self) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], plain(json.loads(self.stdout)))

    def members(self, group: str) -> list[str]:
        return sorted(self.data.get(group, {}).get("hosts", []))

    def hostvars(self, host: str) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], self.data["_meta"]["hostvars"][host])


def inventory(*sources: Path, args: tuple[str, ...] = ("--list",), env: dict[str, str] | None = None) -> Listing:
    command = [str(VENV_BIN / "ansible-inventory")]
    for source in sources:
        command += ["-i", str(source)]
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "PYTHONWARNINGS": "ignore", **(env or {})},
        timeout=300,
        check=False,
    )
    return Listing(done.returncode, done.stdout, done.stderr)


def source(lab: Lab, name: str, **options: t.Any) -> Path:
    """The lab's fleet.hyperv.yml (written by hvsim up) with `options` added, as `name` in the lab's directory."""
    config = yaml.safe_load((lab.state_dir / "fleet.hyperv.yml").read_text(encoding="utf-8"))
    config.update(options)
    path = lab.state_dir / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def commands_run(lab: Lab) -> dict[str, int]:
    return {host: len(lab.transcript(host)) for host in ("hv01", "hv02")}


@pytest.fixture(scope="module")
def fleet_lab(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Lab]:
    """One running inventory-fleet lab for the read-only tests of this module."""
    root = tmp_path_factory.mktemp("inventory-fleet")
    with started_labs(lambda _lab_file, count: root / f"lab-{count}") as start:
        yield start(LAB_FILE)


def test_hvsim_up_writes_a_source_and_the_graph_shows_every_vm_in_its_readiness_group(healthy_lab: Lab) -> None:
    fleet_source = healthy_lab.state_dir / "fleet.hyperv.yml"
    graph = inventory(fleet_source, args=("--graph",))
    assert graph.rc == 0, graph.stderr
    assert "@nested_possible:\n  |  |--LAB-HV1\n  |  |--LAB-HV2\n  |  |--LAB-HV3" in graph.stdout
    listing = inventory(fleet_source)
    assert listing.members("hyperv_hosts") == ["hv01", "hv02"]
    assert listing.members("hyperv_vms") == ["LAB-HV1", "LAB-HV2", "LAB-HV3"]
    assert listing.members("nested_ready") == [] and listing.members("nested_blocked") == []
    assert listing.hostvars("LAB-HV3")["nested_parent"] == "hv02"
    # The source holds the lab's password; the inventory never does.
    assert PASSWORD in fleet_source.read_text(encoding="utf-8")
    assert PASSWORD not in listing.stdout and PASSWORD not in listing.stderr


def test_every_vm_is_a_host_in_its_readiness_group_with_one_read_only_probe_per_host(fleet_lab: Lab) -> None:
    before = {host: len(fleet_lab.transcript(host)) for host in ("hv01", "hv02")}
    listing = inventory(source(fleet_lab, "readiness.hyperv.yml"))
    assert listing.rc == 0 and "WARNING" not in listing.stderr, listing.stderr
    assert listing.members("hyperv_vms") == ["AMD-VM1", "FUTURE-VM", "LAB-HV1", "LAB-HV2", "NOTES-VM", "READY-VM"]
    assert listing.members("nested_ready") == ["READY-VM"]
    assert listing.members("nested_possible") == ["LAB-HV1", "LAB-HV2", "NOTES-VM"]
    assert listing.members("nested_blocked") == ["AMD-VM1", "FUTURE-VM"]
    assert listing.members("hyperv_processor_intel") == ["hv01"] and listing.members("hyperv_processor_amd") == ["hv02"]
    assert listing.members("hyperv_build_20348") == ["hv01"] and listing.members("hyperv_build_17763") == ["hv02"]

    assert listing.hostvars("AMD-VM1")["hyperv_vm_nested_blockers"] == ["host.processor_unsupported"]
    assert listing.hostvars("FUTURE-VM")["hyperv_vm_nested_blockers"] == ["vm.version_unsupported_by_host"]
    lab_hv1 = listing.hostvars("LAB-HV1")
    assert lab_hv1["hyperv_vm_nested_changes"] == ["vm.extensions_not_exposed"]
    assert "vm.dynamic_memory_enabled" in lab_hv1["hyperv_vm_nested_warnings"]
    assert lab_hv1["hyperv_vm_notes"] == "Lab L1 host.\nnested: nat"
    assert lab_hv1["hyperv_vm_guest_dns_name"] == "lab-hv1.lab.example"
    # What KVP reports: the IPv4 address, then the IPv6 link-local one (never chosen for ansible_host).
    assert lab_hv1["hyperv_vm_ip_addresses"][0] == "127.22.1.1" and [ip[:6] for ip in lab_hv1["hyperv_vm_ip_addresses"][1:]] == ["fe80::"]
    assert lab_hv1["hyperv_vm_memory_startup"] == 4 * 1024**3 and lab_hv1["hyperv_vm_dynamic_memory"] is True
    assert "ansible_host" not in lab_hv1  # only with vm_ansible_host
    # An Off VM reports nothing through KVP.
    assert listing.hostvars("READY-VM")["hyperv_vm_ip_addresses"] == [] and listing.hostvars("READY-VM")["hyperv_vm_guest_os"] is None

    hv01 = listing.hostvars("hv01")
    assert {k: hv01[k] for k in ("ansible_connection", "ansible_host", "ansible_winrm_transport", "ansible_user")} == {
        "ansible_connection": "winrm",
        "ansible_host": "127.22.0.1",
        "ansible_winrm_transport": "ntlm",
        "ansible_user": "Administrator",
    }
    assert PASSWORD not in listing.stdout and PASSWORD not in listing.stderr

    for host in ("hv01", "hv02"):
        new = fleet_lab.transcript(host)[before[host] :]
        assert len(new) == 1, f"{host}: one round trip, not {len(new)}"
        assert [request["parameters"] for request in requests_in(new, "probe")] == [{"sections": ["host", "vms"], "vm_names": None}]
        assert requests_in(new, "execute") == []
        assert new[0]["command_line"].startswith("PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand ")


def test_the_documented_notes_example_with_names_filters_and_addresses(fleet_lab: Lab) -> None:
    example = documented_example()
    path = source(
        fleet_lab,
        "notes.hyperv.yml",
        strict=True,
        vm_filters={"names": ["lab-*", "*-VM*"], "exclude_names": ["future-*"]},
        hostname_source="guest_dns_name",
        vm_ansible_host=True,
        groups=example["groups"],
        compose=example["compose"],
        keyed_groups=example["keyed_groups"],
    )
    listing = inventory(path)
    assert listing.rc == 0, listing.stderr
    assert listing.members("hyperv_vms") == ["AMD-VM1", "NOTES-VM", "READY-VM", "lab-hv1.lab.example", "lab-hv2.lab.example"]
    assert listing.members("nested_hosts") == ["lab-hv1.lab.example", "lab-hv2.lab.example"]
    assert listing.hostvars("lab-hv1.lab.example")["nested_network_mode"] == "nat"
    assert listing.hostvars("lab-hv2.lab.example")["nested_network_mode"] == "mac_spoofing"
    assert listing.hostvars("lab-hv1.lab.example")["ansible_host"] == "127.22.1.1"
    assert listing.members("vms_on_hv02") == ["AMD-VM1"]
    # The template in a VM's notes is text: nothing looked HOME up.
    assert listing.hostvars("NOTES-VM")["hyperv_vm_notes"] == "owner: {{ lookup('env', 'HOME') }}"
    assert os.environ["HOME"] not in json.dumps(listing.hostvars("NOTES-VM"))


def https_hosts(lab: Lab) -> tuple[list[dict[str, t.Any]], str]:
    """The L0 hosts' HTTPS endpoints and the lab CA, from the lab's inventory.https.yml."""
    hosts = yaml.safe_load((lab.state_dir / "inventory.https.yml").read_text(encoding="utf-8"))["all"]["children"]["hyperv_hosts"]["hosts"]
    entries = [{"name": name, "address": v["ansible_host"], "port": v["ansible_port"]} for name, v in hosts.items()]
    return entries, str(hosts["hv01"]["ansible_winrm_ca_trust_path"])


@pytest.mark.parametrize(
    ("variant", "options", "connection_vars"),
    [
        ("psrp", {"connection": "psrp", "transport": "ntlm"},
         {"ansible_connection": "psrp", "ansible_psrp_protocol": "http", "ansible_psrp_auth": "ntlm"}),
        ("credssp", {"transport": "credssp"}, {"ansible_connection": "winrm", "ansible_winrm_transport": "credssp"}),
        ("https", {"scheme": "https", "message_encryption": "auto"},
         {"ansible_connection": "winrm", "ansible_winrm_scheme": "https", "ansible_winrm_server_cert_validation": "validate"}),
        ("psrp-https", {"connection": "psrp", "transport": "ntlm", "scheme": "https", "message_encryption": "auto"},
         {"ansible_connection": "psrp", "ansible_psrp_protocol": "https", "ansible_psrp_cert_validation": "validate"}),
    ],
)
def test_every_transport_reads_the_fleet_through_its_own_library(
    fleet_lab: Lab, variant: str, options: dict[str, t.Any], connection_vars: dict[str, str]
) -> None:
    if options.get("scheme") == "https":
        hosts, ca_cert = https_hosts(fleet_lab)
        options = {**options, "hosts": hosts, "ca_cert": ca_cert}
    before = commands_run(fleet_lab)
    listing = inventory(source(fleet_lab, f"{variant}.hyperv.yml", **options))
    assert listing.rc == 0 and "WARNING" not in listing.stderr, listing.stderr
    assert listing.members("hyperv_vms") == ["AMD-VM1", "FUTURE-VM", "LAB-HV1", "LAB-HV2", "NOTES-VM", "READY-VM"]
    assert listing.members("nested_ready") == ["READY-VM"]
    hv01 = listing.hostvars("hv01")
    assert {key: hv01[key] for key in connection_vars} == connection_vars
    assert commands_run(fleet_lab) == {host: count + 1 for host, count in before.items()}
    assert PASSWORD not in listing.stdout + listing.stderr


def test_an_untrusted_certificate_is_a_warning_naming_the_host(fleet_lab: Lab) -> None:
    hosts, _ca_cert = https_hosts(fleet_lab)
    listing = inventory(source(fleet_lab, "untrusted.hyperv.yml", scheme="https", message_encryption="auto", hosts=hosts))
    assert "Could not read the Hyper-V host hv01: the TLS connection failed (certificate validation?)" in listing.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in listing.stderr
    assert listing.members("hyperv_hosts_unreachable") == ["hv01", "hv02"]
    assert listing.members("hyperv_vms") == []


def test_an_unreachable_host_is_a_warning_naming_it_and_strict_makes_it_an_error(fleet_lab: Lab) -> None:
    config = yaml.safe_load((fleet_lab.state_dir / "fleet.hyperv.yml").read_text(encoding="utf-8"))
    hosts = [*config["hosts"], {"name": "hv-gone", "address": "127.22.9.9", "port": 9}]
    listing = inventory(source(fleet_lab, "gone.hyperv.yml", hosts=hosts))
    assert listing.rc == 0
    assert "Could not read the Hyper-V host hv-gone: could not connect (Connection refused) (http://127.22.9.9:9/wsman)" in listing.stderr
    assert listing.members("hyperv_hosts_unreachable") == ["hv-gone"]
    assert len(listing.members("hyperv_vms")) == 6
    assert PASSWORD not in listing.stdout + listing.stderr

    strict = inventory(source(fleet_lab, "gone-strict.hyperv.yml", hosts=hosts, strict=True), env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert strict.rc != 0
    assert "could not read 1 Hyper-V host(s) (strict is on): hv-gone: could not connect (Connection refused)" in strict.stderr


def test_wrong_credentials_are_a_warning_without_the_password(fleet_lab: Lab) -> None:
    listing = inventory(source(fleet_lab, "wrong.hyperv.yml", password="Wr0ng-Secret!"))
    assert "Could not read the Hyper-V host hv01: the credentials were rejected (HTTP 401)" in listing.stderr
    assert "Wr0ng-Secret!" not in listing.stdout + listing.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"vm_filters": {"states": ["Runing"]}}, "option 'vm_filters.states': 'Runing' is not a VM state"),
        ({"scheme": "htp"}, "Invalid value 'htp' for config 'scheme'"),
        ({"max_concurrency": 0}, "option 'max_concurrency': must be a whole number of at least 1"),
    ],
)
def test_bad_options_are_errors_naming_the_option_and_nothing_is_read(fleet_lab: Lab, options: dict[str, t.Any], message: str) -> None:
    before = commands_run(fleet_lab)
    listing = inventory(source(fleet_lab, "bad.hyperv.yml", **options), env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert listing.rc != 0 and message in listing.stderr, listing.stderr
    assert commands_run(fleet_lab) == before


def test_a_cache_hit_sends_no_winrm_command_and_the_cache_holds_no_password(fleet_lab: Lab, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    path = source(fleet_lab, "cached.hyperv.yml", cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir))
    first = inventory(path)
    assert first.rc == 0
    after_first = commands_run(fleet_lab)
    cached = "".join(p.read_text(encoding="utf-8") for p in cache_dir.iterdir())
    assert "LAB-HV1" in cached and PASSWORD not in cached

    second = inventory(path)
    assert commands_run(fleet_lab) == after_first, "the cache was hit: no WinRM command"
    assert second.data == first.data

    third = inventory(path, args=("--list", "--flush-cache"))
    assert third.rc == 0
    assert commands_run(fleet_lab) == {host: count + 1 for host, count in after_first.items()}


@pytest.fixture
def site_lab(tmp_path: Path) -> t.Iterator[Lab]:
    """The same lab on addresses of its own: the L1 hosts listen on port 5985, which the module's
    read-only lab holds on 127.22.1.x while it runs."""
    text = LAB_FILE.read_text(encoding="utf-8").replace("127.22.1.", "127.22.11.").replace("127.22.0.", "127.22.10.")
    lab_file = tmp_path / "inventory-fleet-site.yml"
    lab_file.write_text(text, encoding="utf-8")
    with started_labs(lambda _lab_file, count: tmp_path / f"site-{count}") as start:
        lab = start(lab_file)
        ports = json.loads((lab.state_dir / "ports.json").read_text(encoding="utf-8"))
        assert {ports[host]["http"] for host in ("lab-hv1", "lab-hv2")} == {5985}, f"port 5985 of an L1 host is taken: {ports}"
        yield lab


def test_site_converges_the_l1_hosts_chosen_by_notes_from_the_dynamic_inventory(site_lab: Lab, tmp_path: Path) -> None:
    example = documented_example()
    dynamic = source(
        site_lab,
        "site.hyperv.yml",
        groups=example["groups"],
        compose=example["compose"],
        hostname_lowercase=True,
        vm_ansible_host=True,
    )
    # What an operator keeps next to the source: credentials (and how the L1 hosts listen), no host list.
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "hyperv_hosts": {"vars": {"ansible_password": PASSWORD}},
                        "nested_hosts": {
                            "vars": {
                                "ansible_connection": "winrm",
                                "ansible_port": 5985,
                                "ansible_winrm_scheme": "http",
                                "ansible_winrm_transport": "ntlm",
                                "ansible_winrm_message_encryption": "always",
                                "ansible_user": "Administrator",
                                "ansible_password": PASSWORD,
                            }
                        },
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    from_dynamic = dataclasses.replace(site_lab, inventory=dynamic)  # the first -i of Lab.playbook
    extra = ("-i", str(credentials), "-e", f"nested_report_dir={tmp_path / 'reports'}")
    first = from_dynamic.playbook(REPO / "playbooks" / "site.yml", *extra)
    first.assert_ok()
    # The L0 hosts appear only through site.yml's provisioning play, which creates nothing for existing VMs.
    assert {host for host in first.recap if host.startswith("lab-")} == {"lab-hv1", "lab-hv2"}
    assert all(stats["changed"] == 0 for host, stats in first.recap.items() if not host.startswith("lab-")), first.recap
    assert first.total("changed") > 0
    second = from_dynamic.playbook(REPO / "playbooks" / "site.yml", *extra)
    second.assert_ok()
    assert second.total("changed") == 0, second.recap

    listing = inventory(dynamic)
    assert listing.members("nested_ready") == ["lab-hv1", "lab-hv2", "ready-vm"]
    assert listing.hostvars("lab-hv1")["hyperv_vm_expose_virtualization_extensions"] is True
    assert listing.hostvars("lab-hv1")["ansible_host"] == "127.22.11.1"
    # Only the VMs the notes chose were changed on the parent.
    changed = {op["vm"] for request in site_lab.requests("hv01", "execute") for op in request["parameters"]["operations"] if "vm" in op}
    assert changed == {"LAB-HV1", "LAB-HV2"}
    assert site_lab.requests("hv02", "execute") == []
    report = json.loads((tmp_path / "reports" / "nested-report.json").read_text(encoding="utf-8"))
    assert {row["host"]: row["network_mode"] for row in report["hosts"]} == {"lab-hv1": "nat", "lab-hv2": "mac_spoofing"}
