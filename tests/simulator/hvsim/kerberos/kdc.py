"""A real MIT Kerberos KDC for a lab: its own realm on loopback, keytabs for the hosts' HTTP services.

Debian's krb5-kdc (krb5kdc, kdb5_util) and krb5-admin-server (kadmin.local) do the work; this
module writes their configuration into the state directory, creates the database once, adds the
principals, and runs krb5kdc in the foreground as a child of the daemon. Clients use the lab's
krb5.conf (KRB5_CONFIG): the realm's KDC on 127.0.0.1, no DNS lookups and no hostname
canonicalisation, so a host's service principal is HTTP/<its lab hostname> whatever address it
listens on.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REALM = "HVSIM.TEST"
DOMAIN = "hvsim.test"
# The lab's domain account: a member of every simulated host's Administrators group, as a
# domain admin is on a domain-joined Hyper-V host.
DOMAIN_ADMIN = "hvadmin"
PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
_SEARCH_PATH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


class KerberosUnavailable(RuntimeError):
    pass


def find_program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SEARCH_PATH))
    if found is None:
        raise KerberosUnavailable(
            f"{name} is not installed: the lab's Kerberos realm needs MIT Kerberos "
            "(Debian packages krb5-kdc, krb5-admin-server, krb5-user; `make deps` installs them)")
    return found


def hostname_of(host: str) -> str:
    """The lab FQDN of a simulated host (service principal and certificate name)."""
    label = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in host.lower()).strip("-") or "host"
    return f"{label}.{DOMAIN}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class KDC:
    directory: Path
    port: int = 0
    admin_password: str = ""
    _process: subprocess.Popen[bytes] | None = None

    @property
    def krb5_conf(self) -> Path:
        return self.directory / "krb5.conf"

    @property
    def kdc_conf(self) -> Path:
        return self.directory / "kdc.conf"

    @property
    def database(self) -> Path:
        return self.directory / "principal"

    def keytab(self, host: str) -> Path:
        return self.directory / "keytabs" / f"{host}.keytab"

    def env(self) -> dict[str, str]:
        return {**os.environ, "KRB5_CONFIG": str(self.krb5_conf), "KRB5_KDC_PROFILE": str(self.kdc_conf)}

    def start(self, hosts: list[str], remembered_port: int = 0) -> None:
        """Configure (first time: create the database and principals), then run krb5kdc."""
        for program in PROGRAMS:
            find_program(program)
        self.directory.mkdir(parents=True, exist_ok=True)
        secret_file = self.directory / "admin.password"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(18))
            secret_file.chmod(0o600)
        self.admin_password = secret_file.read_text().strip()
        self.port = remembered_port or _free_port()
        self._write_config()
        if not (self.directory / "principal.ok").exists():
            self._create_database()
        self._add_hosts(hosts)
        self._run()

    def _write_config(self) -> None:
        self.krb5_conf.write_text(
            "# Written by hvsim: the lab's Kerberos realm. Use with KRB5_CONFIG=<this file>.\n"
            "[libdefaults]\n"
            f"    default_realm = {REALM}\n"
            "    dns_lookup_realm = false\n"
            "    dns_lookup_kdc = false\n"
            "    rdns = false\n"
            "    dns_canonicalize_hostname = false\n"
            "    udp_preference_limit = 1\n"
            "    forwardable = true\n"
            "[realms]\n"
            f"    {REALM} = {{\n"
            f"        kdc = 127.0.0.1:{self.port}\n"
            "    }\n"
            "[domain_realm]\n"
            f"    .{DOMAIN} = {REALM}\n"
            f"    {DOMAIN} = {REALM}\n",
            encoding="utf-8")
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            f"    kdc_listen = 127.0.0.1:{self.port}\n"
            f"    kdc_tcp_listen = 127.0.0.1:{self.port}\n"
            "[realms]\n"
            f"    {REALM} = {{\n"
            f"        database_name = {self.database}\n"
            f"        key_stash_file = {self.directory / 'stash'}\n"
            f"        acl_file = {self.directory / 'kadm5.acl'}\n"
            "        max_life = 10h 0m 0s\n"
            "        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n"
            "    }\n"
            "[logging]\n"
            f"    kdc = FILE:{self.directory / 'kdc.log'}\n",
            encoding="utf-8")

    def _create_database(self) -> None:
        master = secrets.token_urlsafe(18)
        self._tool(find_program("kdb5_util"), "create", "-s", "-r", REALM, "-P", master)
        self._kadmin(f"addprinc -pw {self.admin_password} {DOMAIN_ADMIN}@{REALM}")
        (self.directory / "principal.ok").write_text("")

    def _add_hosts(self, hosts: list[str]) -> None:
        """One service principal and keytab per host, in one kadmin.local session (big labs)."""
        (self.directory / "keytabs").mkdir(exist_ok=True)
        missing = [host for host in hosts if not self.keytab(host).exists()]
        queries = []
        for host in missing:
            principal = f"HTTP/{hostname_of(host)}@{REALM}"
            queries += [f"addprinc -randkey {principal}", f"ktadd -k {self.keytab(host)} {principal}"]
        if queries:
            self._kadmin(*queries)
        for host in missing:
            self.keytab(host).chmod(0o600)

    def _kadmin(self, *queries: str) -> None:
        self._tool(find_program("kadmin.local"), "-r", REALM, stdin="\n".join(queries) + "\nquit\n")

    def _tool(self, *command: str, stdin: str = "") -> None:
        done = subprocess.run(list(command), env=self.env(), capture_output=True, text=True, input=stdin,
                              timeout=120, check=False)
        if done.returncode != 0 or "error" in done.stderr.lower():
            shown = " ".join(command).replace(self.admin_password, "********") if self.admin_password else " ".join(command)
            raise KerberosUnavailable(f"{shown} failed: {done.stderr.strip() or done.stdout.strip()}")

    def _run(self) -> None:
        log = open(self.directory / "krb5kdc.out", "ab")
        self._process = subprocess.Popen(
            [find_program("krb5kdc"), "-n", "-r", REALM, "-P", str(self.directory / "krb5kdc.pid")],
            env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise KerberosUnavailable(f"krb5kdc exited with {self._process.returncode}; see {self.directory / 'kdc.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise KerberosUnavailable(f"krb5kdc did not listen on 127.0.0.1:{self.port} within 15 s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
