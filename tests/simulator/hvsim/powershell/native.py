"""Native programs a plain script calls: netsh's DNS server command, hostname.

`netsh interface ip add dnsserver "<alias>" address=<ip>` is the DNS step of Microsoft's nested
virtualization guide. netsh matches its context and command words by unique prefix (`ip` is the
`ipv4` context, `dnsserver` the `dnsservers` command), takes `name=`/`address=`/`index=`/`validate=`
by tag or by position, and answers in text on stdout with exit code 0 or 1.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..model.accounts import Rights
from ..model.objects import OSState

NOT_INTERPRETED = 9009      # cmd.exe's exit code for a program it cannot find


@dataclass(frozen=True)
class NativeResult:
    rc: int
    stdout: str
    stderr: str = ""


def is_native(name: str) -> bool:
    return _program(name) in PROGRAMS


def _program(name: str) -> str:
    base = name.replace("/", "\\").rsplit("\\", 1)[-1].lower()
    return base[:-4] if base.endswith(".exe") else base


def run(name: str, args: list[str], os_state: OSState, rights: Rights, computer_name: str) -> NativeResult:
    return PROGRAMS[_program(name)](args, os_state, rights, computer_name)


def _hostname(args: list[str], os_state: OSState, rights: Rights, computer_name: str) -> NativeResult:
    return NativeResult(0, computer_name + "\r\n")


def _matches(word: str, *names: str) -> bool:
    lowered = word.lower()
    return any(name.startswith(lowered) for name in names) and len(lowered) >= 2


def _netsh(args: list[str], os_state: OSState, rights: Rights, computer_name: str) -> NativeResult:
    words = list(args)
    if len(words) >= 4 and _matches(words[0], "interface") and words[1].lower() in ("ip", "ipv4") \
            and _matches(words[2], "add") and _matches(words[3], "dnsservers"):
        return _add_dns_server(words[4:], os_state, rights)
    shown = " ".join(args)
    return NativeResult(1, f"hvsim does not interpret the netsh command \"{shown}\": only "
                           "`netsh interface ip add dnsserver <name> address=<ip>` is simulated.\r\n")


def _add_dns_server(args: list[str], os_state: OSState, rights: Rights) -> NativeResult:
    tags = ("name", "address", "index", "validate")
    values: dict[str, str] = {}
    position = 0
    for arg in args:
        tag, sep, value = arg.partition("=")
        if sep and any(t.startswith(tag.lower()) and tag for t in tags):
            key = next(t for t in tags if t.startswith(tag.lower()))
        else:
            if position >= len(tags):
                return NativeResult(1, "The syntax supplied for this command is not valid. Check help for the "
                                       "correct syntax.\r\n")
            key, value = tags[position], arg
        values[key] = value
        position = tags.index(key) + 1
    if "name" not in values or "address" not in values:
        return NativeResult(1, "The syntax supplied for this command is not valid. Check help for the correct "
                               "syntax.\r\n")
    if not rights.administrator:
        return NativeResult(1, "The requested operation requires elevation (Run as administrator).\r\n\r\n")
    adapter = next((a for a in os_state.adapters if a.name.lower() == values["name"].lower()), None)
    if adapter is None:
        return NativeResult(1, "The filename, directory name, or volume label syntax is incorrect.\r\n\r\n")
    try:
        server = str(ipaddress.IPv4Address(values["address"]))
    except ValueError:
        return NativeResult(1, f"Invalid address parameter ({values['address']}). It should be a valid IPv4 "
                               "address.\r\n\r\n")
    if server in adapter.dns_servers:
        return NativeResult(1, "The object already exists.\r\n\r\n")
    index = values.get("index")
    position_in_list = len(adapter.dns_servers)
    if index is not None:
        try:
            position_in_list = max(0, min(int(index) - 1, len(adapter.dns_servers)))
        except ValueError:
            return NativeResult(1, "The parameter is incorrect.\r\n\r\n")
    adapter.dns_servers.insert(position_in_list, server)
    return NativeResult(0, "")


PROGRAMS = {"netsh": _netsh, "hostname": _hostname}
