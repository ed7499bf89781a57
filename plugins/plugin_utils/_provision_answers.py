# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""First-boot answers for a new VM: Windows unattend.xml, cloud-init NoCloud seed files.

Pure text rendering: every inventory value is escaped for the format it lands in (XML, YAML),
and none reaches a command line. The administrator password is written the way Windows Setup
reads an obfuscated password (`<PlainText>false</PlainText>`: base64 of the UTF-16-LE text of
password + "AdministratorPassword"), so the file never holds it in clear; it is still a secret
(the encoding is reversible) and travels only as request data, never in a result.
"""

from __future__ import annotations

import base64
import json
import re
import typing as t
from xml.sax.saxutils import escape

# NetBIOS computer names: at most 15 characters, letters, digits and hyphens, not only digits
# (https://learn.microsoft.com/troubleshoot/windows-server/active-directory/naming-conventions-for-computer-domain-site-ou).
_COMPUTER_NAME = re.compile(r"^[A-Za-z0-9-]{1,15}$")
# Windows time zone IDs (tzutil /l) are short printable names such as "UTC" or "W. Europe Standard Time".
_TIME_ZONE = re.compile(r"^[A-Za-z0-9 .()+\-]{1,64}$")
# Linux user names (useradd's default NAME_REGEX).
_LINUX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")

# Specialize pass, run as SYSTEM before anyone logs on: turn WinRM on and add an HTTPS listener
# with a self-signed certificate for the computer's own name, and open its port. No inventory
# value is pasted into it: the computer name is read from the environment.
WINRM_HTTPS_COMMAND = (
    "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "
    "\"Enable-PSRemoting -SkipNetworkProfileCheck -Force; "
    "$c = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME -CertStoreLocation Cert:\\LocalMachine\\My; "
    "New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS -Address * -CertificateThumbPrint $c.Thumbprint -Force; "
    "New-NetFirewallRule -Name hyperv.nested-winrm-https -DisplayName 'Windows Remote Management (HTTPS-In)' "
    "-Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow\""
)

_COMPONENT = (
    '<component name="{name}" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" '
    'language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">'
)


def computer_name_problem(name: t.Any) -> str | None:
    if not isinstance(name, str) or not _COMPUTER_NAME.match(name):
        return "must be 1 to 15 letters, digits or hyphens (a NetBIOS computer name)"
    if name.isdigit():
        return "must not be only digits"
    return None


def time_zone_problem(zone: t.Any) -> str | None:
    if not isinstance(zone, str) or not _TIME_ZONE.match(zone):
        return "must be a Windows time zone ID such as 'UTC' or 'W. Europe Standard Time' (tzutil /l lists them)"
    return None


def linux_user_problem(name: t.Any) -> str | None:
    if not isinstance(name, str) or not _LINUX_USER.match(name):
        return "must be a Linux user name (lower-case letters, digits, '_' or '-', at most 32 characters)"
    return None


def encoded_password(password: str, kind: str = "AdministratorPassword") -> str:
    """What Windows Setup expects with <PlainText>false</PlainText>."""
    return base64.b64encode((password + kind).encode("utf-16-le")).decode("ascii")


def unattend_xml(computer_name: str, admin_password: str, time_zone: str) -> str:
    """A minimal answer file for a generalized (sysprepped) Windows image's first boot."""
    shell = "Microsoft-Windows-Shell-Setup"
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8"?>',
        '<unattend xmlns="urn:schemas-microsoft-com:unattend">',
        '  <settings pass="specialize">',
        "    " + _COMPONENT.format(name=shell),
        f"      <ComputerName>{escape(computer_name)}</ComputerName>",
        f"      <TimeZone>{escape(time_zone)}</TimeZone>",
        "    </component>",
        "    " + _COMPONENT.format(name="Microsoft-Windows-Deployment"),
        "      <RunSynchronous>",
        '        <RunSynchronousCommand wcm:action="add">',
        "          <Order>1</Order>",
        "          <Description>hyperv.nested: WinRM HTTPS listener</Description>",
        f"          <Path>{escape(WINRM_HTTPS_COMMAND)}</Path>",
        "        </RunSynchronousCommand>",
        "      </RunSynchronous>",
        "    </component>",
        "  </settings>",
        '  <settings pass="oobeSystem">',
        "    " + _COMPONENT.format(name=shell),
        "      <OOBE>",
        "        <HideEULAPage>true</HideEULAPage>",
        "        <HideWirelessSetupInOOBE>true</HideWirelessSetupInOOBE>",
        "        <ProtectYourPC>3</ProtectYourPC>",
        "      </OOBE>",
        "      <UserAccounts>",
        "        <AdministratorPassword>",
        f"          <Value>{encoded_password(admin_password)}</Value>",
        "          <PlainText>false</PlainText>",
        "        </AdministratorPassword>",
        "      </UserAccounts>",
        "    </component>",
        "  </settings>",
        "</unattend>",
        "",
    ])


def _yaml_string(value: str) -> str:
    # A JSON string is a valid YAML flow scalar: quotes and escapes every special character.
    return json.dumps(value, ensure_ascii=True)


def nocloud_seed(instance_id: str, hostname: str, user: str, password: str | None,
                 ssh_authorized_keys: list[str]) -> dict[str, str]:
    """The files of a cloud-init NoCloud seed volume (label `cidata`): meta-data and user-data
    (https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html)."""
    meta = f"instance-id: {_yaml_string(instance_id)}\nlocal-hostname: {_yaml_string(hostname)}\n"
    lines = [
        "#cloud-config",
        f"hostname: {_yaml_string(hostname)}",
        "users:",
        f"  - name: {_yaml_string(user)}",
        "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"",
        "    shell: /bin/bash",
        "    lock_passwd: " + ("false" if password else "true"),
    ]
    if ssh_authorized_keys:
        lines.append("    ssh_authorized_keys:")
        lines.extend(f"      - {_yaml_string(key)}" for key in ssh_authorized_keys)
    if password:
        lines += ["chpasswd:", "  expire: false", "  users:",
                  f"    - {{name: {_yaml_string(user)}, password: {_yaml_string(password)}, type: text}}"]
    lines.append("ssh_pwauth: " + ("true" if password else "false"))
    return {"meta-data": meta, "user-data": "\n".join(lines) + "\n"}
