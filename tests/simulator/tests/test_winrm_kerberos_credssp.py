"""Kerberos (a real MIT KDC, pyspnego's acceptor) and CredSSP (pyspnego's acceptor) on the WinRM
endpoint, with message encryption over HTTP, driven by pywinrm."""

from __future__ import annotations

import os
import subprocess
import typing as t
from pathlib import Path

import pytest
import winrm
from hvsim.kerberos import DOMAIN_ADMIN, KDC, REALM, hostname_of
from hvsim.winrm import CommandResult, Endpoint
from hvsim.winrm.auth import KerberosConfig
from winrm.exceptions import InvalidCredentialsError

USER, PASSWORD = "Administrator", "Passw0rd!"


class Backend:
    def __init__(self) -> None:
        self.users: list[str | None] = []

    def reachable(self, host: str) -> bool:
        return True

    def credentials(self, host: str) -> tuple[str, str]:
        return USER, PASSWORD

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        self.users.append(user)
        return CommandResult(0, f"ran {command_line} for {user}\r\n".encode(), b"")


@pytest.fixture(scope="module")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[KDC]:
    realm = KDC(tmp_path_factory.mktemp("krb5"))
    previous = os.environ.get("KRB5_CONFIG")
    realm.start(["hv01"])
    os.environ["KRB5_CONFIG"] = str(realm.krb5_conf)
    yield realm
    realm.stop()
    if previous is None:
        os.environ.pop("KRB5_CONFIG", None)
    else:
        os.environ["KRB5_CONFIG"] = previous


def kinit(kdc: KDC, password: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**kdc.env(), "KRB5CCNAME": f"FILE:{cache}"}
    return subprocess.run(["kinit", f"{DOMAIN_ADMIN}@{REALM}"], input=password + "\n", text=True, env=env,
                          capture_output=True, check=False)


def test_kerberos_with_message_encryption_runs_as_the_mapped_account(kdc: KDC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = Backend()
    config = KerberosConfig(kdc.keytab("hv01"), hostname_of("hv01"),
                            lambda principal: USER if principal == f"{DOMAIN_ADMIN}@{REALM}" else None)
    cache = tmp_path / "ccache"
    assert kinit(kdc, kdc.admin_password, cache).returncode == 0
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    with Endpoint("hv01", backend, kerberos=config) as endpoint:
        session = winrm.Session(f"http://127.0.0.1:{endpoint.port}/wsman", auth=(f"{DOMAIN_ADMIN}@{REALM}", ""),
                                transport="kerberos", message_encryption="always",
                                kerberos_hostname_override=hostname_of("hv01"))
        result = session.run_cmd("hostname")
    assert result.status_code == 0 and result.std_out == b"ran hostname for Administrator\r\n"
    assert backend.users == [USER]


def test_kerberos_for_the_wrong_service_is_refused(kdc: KDC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = Backend()
    config = KerberosConfig(kdc.keytab("hv01"), hostname_of("hv01"), lambda principal: USER)
    cache = tmp_path / "ccache"
    assert kinit(kdc, kdc.admin_password, cache).returncode == 0
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    with Endpoint("hv01", backend, kerberos=config) as endpoint:
        # A ticket for another host's service cannot be decrypted with hv01's keytab.
        session = winrm.Session(f"http://127.0.0.1:{endpoint.port}/wsman", auth=(f"{DOMAIN_ADMIN}@{REALM}", ""),
                                transport="kerberos", message_encryption="always",
                                kerberos_hostname_override=hostname_of("hv02"))
        with pytest.raises(Exception):  # noqa: B017 - the KDC has no such principal, or the acceptor refuses
            session.run_cmd("hostname")
    assert backend.users == []


def test_kinit_with_a_wrong_password_fails(kdc: KDC, tmp_path: Path) -> None:
    assert kinit(kdc, "not-the-password", tmp_path / "ccache").returncode != 0


def test_credssp_with_message_encryption_runs_as_the_delegated_account() -> None:
    backend = Backend()
    with Endpoint("hv01", backend, credssp=True) as endpoint:
        session = winrm.Session(f"http://127.0.0.1:{endpoint.port}/wsman", auth=(USER, PASSWORD), transport="credssp",
                                message_encryption="always")
        result = session.run_cmd("hostname")
    assert result.status_code == 0 and result.std_out == b"ran hostname for Administrator\r\n"


def test_credssp_with_a_wrong_password_is_refused() -> None:
    backend = Backend()
    with Endpoint("hv01", backend, credssp=True) as endpoint:
        session = winrm.Session(f"http://127.0.0.1:{endpoint.port}/wsman", auth=(USER, "wrong"), transport="credssp",
                                message_encryption="always")
        with pytest.raises(Exception):  # noqa: B017 - requests_credssp raises its own error types
            session.run_cmd("hostname")
    assert backend.users == []


def test_credssp_is_offered_only_where_enabled() -> None:
    backend = Backend()
    with Endpoint("hv01", backend) as endpoint:
        session = winrm.Session(f"http://127.0.0.1:{endpoint.port}/wsman", auth=(USER, PASSWORD), transport="credssp",
                                message_encryption="always")
        with pytest.raises((InvalidCredentialsError, Exception)):
            session.run_cmd("hostname")
    assert backend.users == []
