"""Transport security as an operator sets it up: WinRM over HTTPS with certificate validation
refuses a certificate it cannot trust before anything is sent, and works once the CA is trusted;
a wrong connection password is refused and not shown. (The lab CA's certificate for a host names
its lab hostname and its address; these tests use healthy-intel's hv01.)"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml
from hvsim.pytest_plugin import LABS as SHIPPED_LABS

from tests.reliability._support import Lab, run_play

HEALTHY = SHIPPED_LABS / "healthy-intel.yml"
HOST = "hv01"
WRONG = "Wr0ng-Conn-S3cret-88"


@pytest.fixture(scope="module")
def lab(module_labs: t.Callable[[Path], Lab]) -> Lab:
    return module_labs(HEALTHY)


def https_lab(lab: Lab, workdir: Path, **overrides: t.Any) -> Lab:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    host = dict(inventory["all"]["children"]["hyperv_hosts"]["hosts"][HOST])
    host.update({"ansible_port": host["hvsim_https_port"], "ansible_winrm_scheme": "https"})
    host.pop("ansible_winrm_message_encryption", None)  # TLS protects the messages
    host.update(overrides)
    path = workdir / f"inventory-{len(list(workdir.glob('inventory-*.yml')))}.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {HOST: host}}}), encoding="utf-8")
    return Lab(lab.state_dir, path)


def info(lab: Lab, workdir: Path) -> dict[str, t.Any]:
    played = run_play(lab, [{"hosts": HOST, "gather_facts": False, "tasks": [{"hyperv.nested.win_nested_info": {"name": ["LAB-HV1"]}}]}], workdir)
    assert played.tasks, played.run.stderr[-2000:]
    return played.tasks[0].hosts[HOST]


def test_https_with_validation_refuses_an_untrusted_certificate_before_sending_anything(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(HOST))
    result = info(https_lab(lab, tmp_path, ansible_winrm_server_cert_validation="validate"), tmp_path)
    assert result.get("unreachable") is True or result.get("failed") is True
    assert "CERTIFICATE_VERIFY_FAILED" in str(result.get("msg"))
    assert len(lab.transcript(HOST)) == seen  # no command reached the host


def test_https_with_the_ca_trusted_works(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(HOST))
    trusted = https_lab(lab, tmp_path, ansible_winrm_server_cert_validation="validate", ansible_winrm_ca_trust_path=str(lab.state_dir / "tls" / "ca.crt"))
    result = info(trusted, tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    assert result["host"]["computer_name"] == "HV01"
    assert len(lab.transcript(HOST)) == seen + 1


def test_wrong_connection_password_is_refused_and_not_shown(lab: Lab, tmp_path: Path) -> None:
    seen = len(lab.transcript(HOST))
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    inventory["all"]["children"]["hyperv_hosts"]["hosts"][HOST]["ansible_password"] = WRONG
    path = tmp_path / "wrong.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    played = run_play(Lab(lab.state_dir, path), [{"hosts": HOST, "gather_facts": False, "tasks": [{"hyperv.nested.win_nested_info": {}}]}], tmp_path)
    result = played.tasks[0].hosts[HOST]
    assert result.get("unreachable") is True or result.get("failed") is True
    assert len(lab.transcript(HOST)) == seen
    assert WRONG not in played.run.stdout and WRONG not in played.run.stderr
