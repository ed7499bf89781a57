"""What each transport refuses, and the ssh plugin's file transfers: HTTPS validation fails before
any command on a wrong CA or a wrong name; a wrong Kerberos password never reaches the host;
ssh logs on with a password too (never shown), and put_file/fetch_file work over sftp and scp."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader, shell_loader
from hvsim.winrm.tls import LabCA

from tests.transports.conftest import Lab, TransportLab, hvsim, start_lab, write_playbook

REPO = Path(__file__).resolve().parents[2]
HEALTHY = REPO / "tests" / "simulator" / "labs" / "healthy-intel.yml"
HOST = "hv01"  # listens on 127.0.0.1, which `localhost` also names


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Lab]:
    started = start_lab(HEALTHY, tmp_path_factory.mktemp("security") / "lab")
    yield started
    hvsim("down", "--state", str(started.state_dir), check=False)


def host_vars(lab: Lab, transport: str) -> dict[str, t.Any]:
    path = lab.state_dir / ("inventory.yml" if transport == "winrm" else f"inventory.{transport}.yml")
    inventory = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(inventory["all"]["children"]["hyperv_hosts"]["hosts"][HOST])


def info(lab: Lab, transport: str, tmp_path: Path, *flags: str, **overrides: t.Any) -> tuple[dict[str, t.Any], str]:
    """win_nested_info on HOST with the transport's variables changed by `overrides`; (result line, output)."""
    variables = {**host_vars(lab, transport), **overrides}
    variables = {key: value for key, value in variables.items() if value is not None}
    inventory = tmp_path / f"inventory-{len(list(tmp_path.glob('inventory-*.yml')))}.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {HOST: variables}}}), encoding="utf-8")
    task = {"hyperv.nested.win_nested_info": {"name": ["LAB-HV1"]}}
    play = write_playbook(tmp_path / "info.yml", [{"hosts": HOST, "gather_facts": False, "tasks": [task]}])
    run = TransportLab(lab, transport).playbook(play, *flags, inventory=inventory)
    return run.recap.get(HOST, {}), run.stdout + run.stderr


def test_https_with_a_ca_nobody_trusts_fails_before_any_command(lab: Lab, tmp_path: Path) -> None:
    other = LabCA.at(tmp_path / "other-ca", "some other CA")
    seen = len(lab.transcript(HOST))
    recap, output = info(lab, "https", tmp_path, ansible_winrm_ca_trust_path=str(other.certfile))
    assert recap["unreachable"] + recap["failed"] == 1
    assert "CERTIFICATE_VERIFY_FAILED" in output
    assert len(lab.transcript(HOST)) == seen


def test_https_to_a_name_the_certificate_does_not_carry_fails_before_any_command(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(HOST))
    recap, output = info(lab, "https", tmp_path, ansible_host="localhost")
    assert recap["unreachable"] + recap["failed"] == 1
    assert "CERTIFICATE_VERIFY_FAILED" in output and "localhost" in output
    assert len(lab.transcript(HOST)) == seen


def test_kerberos_with_a_wrong_password_never_reaches_the_host(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(HOST))
    wrong = "Wr0ng-Kerberos-S3cret"
    recap, output = info(lab, "kerberos", tmp_path, "-vvvv", ansible_password=wrong)
    assert recap["unreachable"] + recap["failed"] == 1
    assert "kinit" in output.lower()
    assert wrong not in output
    assert len(lab.transcript(HOST)) == seen


def test_ssh_logs_on_with_a_password_that_is_never_shown(lab: Lab, tmp_path: Path) -> None:
    variables = host_vars(lab, "ssh")
    password = host_vars(lab, "winrm")["ansible_password"]
    known_hosts = lab.state_dir / "ssh" / "known_hosts"
    recap, output = info(lab, "ssh", tmp_path, "-vvvv", ansible_ssh_private_key_file=None, ansible_password=password,
                         ansible_ssh_common_args=f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes "
                                                 "-o PubkeyAuthentication=no")
    assert recap == {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}, output[-3000:]
    assert password not in output
    assert variables["ansible_user"] == "Administrator"
    # A new connection (not the master of the run before, which ControlPersist keeps open).
    recap, output = info(lab, "ssh", tmp_path, ansible_ssh_private_key_file=None, ansible_password="Wr0ng-Ssh-S3cret",
                         ansible_ssh_args="-o ControlMaster=no -o ControlPath=none",
                         ansible_ssh_common_args=f"-o UserKnownHostsFile={known_hosts} -o PubkeyAuthentication=no")
    assert recap["unreachable"] + recap["failed"] == 1, (recap, output[-2000:])
    assert "Wr0ng-Ssh-S3cret" not in output


@pytest.mark.parametrize("method", ["sftp", "scp"])
def test_ssh_put_file_and_fetch_file(lab: Lab, tmp_path: Path, method: str) -> None:
    variables = {**host_vars(lab, "ssh"), "ansible_ssh_transfer_method": method}
    if method == "scp":
        variables["ansible_scp_extra_args"] = "-O"  # OpenSSH 9 clients speak sftp unless told: use the scp protocol
    connection = connection_loader.get("ssh", PlayContext(), None, shell=shell_loader.get("powershell"))
    connection.set_options(var_options=variables)
    source = tmp_path / "payload.bin"
    source.write_bytes(bytes(range(256)) * 64)
    remote = f"C:\\Windows\\Temp\\hvsim-{method}.bin"
    try:
        connection.put_file(str(source), remote)
        connection.fetch_file(remote, str(tmp_path / "back.bin"))
    finally:
        connection.close()
    assert (lab.state_dir / "files" / HOST / "C" / "Windows" / "Temp" / f"hvsim-{method}.bin").read_bytes() == source.read_bytes()
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
