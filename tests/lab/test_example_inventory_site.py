"""The newcomer's path: inventories/example copied and adapted as docs/getting-started.md says, the
vault made from vault.yml.example, then check and site by their FQCNs - against the simulated fleet,
whose machines are the example's (hv01, hv02; LAB-HV1..3; LAB-VM1..4).

The only adaptations are those of a fleet's own: where each host listens (host_vars) and NTLM for
hosts outside a domain (the simulator has no KDC), as group_vars/windows/connection.yml describes
for workgroup hosts. One more is the simulator's: its endpoints' certificate names 127.0.0.1 only,
so the hosts are reached over HTTP with NTLM message encryption (as the README allows) instead of
HTTPS; tests/reliability/test_transport.py covers HTTPS with validation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

from tests.lab.report_file import load_report

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Example inventory name -> simulated machine.
MACHINES = {
    "hv01.lab.example.com": "hv01",
    "hv02.lab.example.com": "hv02",
    "lab-hv1.lab.example.com": "lab-hv1",
    "lab-hv2.lab.example.com": "lab-hv2",
    "lab-hv3.lab.example.com": "lab-hv3",
}
GUESTS = ("lab-vm1", "lab-vm2", "lab-vm3", "lab-vm4")


def run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False"}
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)


def recap(output: str) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for line in output[output.rfind("PLAY RECAP") :].splitlines()[1:]:
        if " : " in line:
            host, counts = line.split(" : ", 1)
            found[host.strip()] = {key: int(value) for key, value in (pair.split("=") for pair in counts.split())}
    return found


def empty_headers(output: str) -> list[str]:
    """Task headers with nothing under them (the default callback prints one per host for a meta task)."""
    lines = [line for line in output.splitlines() if line.strip()]
    followed = zip(lines, [*lines[1:], ""], strict=True)
    return [line for line, following in followed if line.startswith("TASK [") and (not following or following.startswith(("TASK [", "PLAY")))]


def noise(output: str) -> list[str]:
    """Lines that teach operators to ignore the output: expected findings shown as warnings, wrong promises."""
    found = [line for line in output.splitlines() if "[host.is_virtual_machine]" in line or "fixed by the next roles" in line]
    # The NAT-mode L1 hosts need no MAC address spoofing: no warning about it for their VMs.
    found += [line for line in output.splitlines() if "[vm.mac_spoofing_off]" in line and ("LAB-HV1" in line or "LAB-HV3" in line)]
    return found + empty_headers(output)


def adapt(project: Path, lab: Lab) -> None:
    """What an operator edits for their own fleet: addresses, NTLM (HTTP: see above); the vault from its example."""
    simulated = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))["all"]["children"]
    endpoints = {name: variables for group in simulated.values() for name, variables in (group.get("hosts") or {}).items()}
    prod = project / "inventories" / "prod"
    (prod / "host_vars").mkdir()
    for host, machine in MACHINES.items():
        address = {"ansible_host": endpoints[machine]["ansible_host"], "ansible_port": endpoints[machine]["ansible_port"]}
        (prod / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(address), encoding="utf-8")
    (prod / "group_vars" / "windows" / "workgroup.yml").write_text(
        yaml.safe_dump({"ansible_winrm_transport": "ntlm", "ansible_winrm_scheme": "http", "ansible_winrm_message_encryption": "always"}),
        encoding="utf-8",
    )
    vault = prod / "group_vars" / "all" / "vault.yml"
    values = yaml.safe_load(vault.read_text(encoding="utf-8"))
    assert set(values) == {"vault_winrm_user", "vault_winrm_password", "vault_nested_guest_username", "vault_nested_guest_password"}
    values.update(vault_winrm_user="Administrator", vault_winrm_password="Passw0rd!", vault_nested_guest_password="GuestPassw0rd!")
    vault.write_text(yaml.safe_dump(values), encoding="utf-8")


def test_the_example_inventory_copied_as_documented_converges_on_the_first_run(healthy_lab: Lab, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "inventories").mkdir(parents=True)
    # docs/getting-started.md, section 2, word for word (paths relative to the collection's root).
    shutil.copytree(REPO / "inventories" / "example", project / "inventories" / "prod")
    shutil.copy(project / "inventories/prod/group_vars/all/vault.yml.example", project / "inventories/prod/group_vars/all/vault.yml")
    adapt(project, healthy_lab)
    password_file = tmp_path / "vault-pass"
    password_file.write_text("correct horse battery staple\n", encoding="utf-8")
    vault = ("--vault-password-file", str(password_file))
    encrypted = run(project, "ansible-vault", "encrypt", "inventories/prod/group_vars/all/vault.yml", *vault)
    assert encrypted.returncode == 0, encrypted.stderr
    assert (project / "inventories/prod/group_vars/all/vault.yml").read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT;")

    graph = run(project, "ansible-inventory", "-i", "inventories/prod", "--graph", *vault)
    assert graph.returncode == 0 and "@nested_guests:" in graph.stdout, graph.stderr
    ping = run(project, "ansible", "-i", "inventories/prod", "hyperv_hosts", "-m", "ansible.windows.win_ping", *vault)
    assert ping.returncode == 0, ping.stdout[-3000:] + ping.stderr[-2000:]

    check = run(project, "ansible-playbook", "-i", "inventories/prod", "hyperv.nested.check", *vault)
    assert check.returncode == 0, check.stdout[-5000:]
    assert "PENDING [vm.extensions_not_exposed]" in check.stdout and "BLOCKER [" not in check.stdout
    assert noise(check.stdout) == []

    site = run(project, "ansible-playbook", "-i", "inventories/prod", "hyperv.nested.site", "--diff", *vault)
    assert site.returncode == 0, site.stdout[-8000:]
    assert all(counts["failed"] == 0 and counts["unreachable"] == 0 for counts in recap(site.stdout).values())
    assert noise(site.stdout) == []
    for guest in GUESTS:
        assert healthy_lab.connectivity(guest)["connected"] is True, guest
    # The example's values reached the fleet: 16 GB and 4 processors on every L1 VM, lab-vm1 at its nested_ip.
    for parent in ("hv01", "hv02"):
        for vm in healthy_lab.show(parent)["vms"]["vms"]:
            assert (vm["startup_memory_bytes"], vm["processor_count"]) == (16 * 1024**3, 4), vm

    again = run(project, "ansible-playbook", "-i", "inventories/prod", "hyperv.nested.site", *vault)
    assert again.returncode == 0 and all(counts["changed"] == 0 for counts in recap(again.stdout).values()), again.stdout[-5000:]
    assert noise(again.stdout) == []

    # The report's default directory is the project, where ansible-playbook ran.
    report = load_report(project / "reports")
    rows = {row["host"]: row for row in report["hosts"]}
    assert set(rows) == {"lab-hv1.lab.example.com", "lab-hv2.lab.example.com", "lab-hv3.lab.example.com"}
    assert all(row["status"] == "ready" for row in rows.values()), rows
    vm1 = next(guest for guest in rows["lab-hv1.lab.example.com"]["guests"] if guest["host"] == "lab-vm1")
    assert vm1["ip"] == "192.168.100.11" and vm1["connected"] is True
