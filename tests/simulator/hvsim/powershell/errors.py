"""PowerShell errors as the simulator raises them, and their CLIXML rendering on stderr."""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

CLIXML_HEADER = "#< CLIXML\r\n"
_OBJS_OPEN = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
_CONTROL = re.compile(r"[\x00-\x1f]")


@dataclass
class PSError(Exception):
    """A PowerShell ErrorRecord: message, category and FullyQualifiedErrorId."""

    message: str
    category: str = "NotSpecified"
    error_id: str = "NotSpecified"
    exception_type: str = "Microsoft.PowerShell.Commands.WriteErrorException"
    target: str = ""
    command: str = ""
    prefix: str = ""          # what precedes " : " when printed, when not the command (CommandNotFound)

    def __str__(self) -> str:
        return self.message

    def fully_qualified_id(self) -> str:
        return f"{self.error_id},{self.command}" if self.command else self.error_id


def command_not_found(name: str) -> PSError:
    return PSError(
        f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
        "or operable program. Check the spelling of the name, or if a path was included, "
        "verify that the path is correct and try again.",
        category="ObjectNotFound", error_id="CommandNotFoundException",
        exception_type="System.Management.Automation.CommandNotFoundException", target=name, prefix=name)


def hyperv_permission_denied(cmdlet: str, computer: str) -> PSError:
    """A Hyper-V cmdlet run by an account outside Hyper-V Administrators (RULES #32)."""
    return PSError(
        "You do not have the required permission to complete this task. Contact the administrator of the "
        f"authorization policy for the computer '{computer}'.",
        category="NotSpecified", error_id="Unspecified",
        exception_type="Microsoft.HyperV.PowerShell.VirtualizationException", command=cmdlet)


def vmms_unavailable(cmdlet: str, computer: str) -> PSError:
    """A Hyper-V cmdlet on a host whose Virtual Machine Management service does not run (RULES #43)."""
    from ..model.hyperv_service import service_unavailable_message
    return PSError(service_unavailable_message(computer), category="ObjectNotFound", error_id="ObjectNotFound",
                   exception_type="Microsoft.HyperV.PowerShell.VirtualizationException", command=cmdlet)


def switch_access_denied(cmdlet: str) -> PSError:
    """New-VMSwitch / Remove-VMSwitch run by a member of Hyper-V Administrators who is not an administrator (RULES #33)."""
    doing = "removing" if cmdlet.lower().startswith("remove") else "creating"
    return PSError(
        f"Failed while {doing} virtual Ethernet switch. General access denied error ('0x80070005').",
        category="PermissionDenied", error_id="AccessDenied",
        exception_type="Microsoft.HyperV.PowerShell.VirtualizationException", command=cmdlet)


def cim_access_denied(cmdlet: str, cim_class: str) -> PSError:
    """A NetTCPIP / NetNat / DnsClient cmdlet run without administrator rights (RULES #33)."""
    return PSError(
        "Access is denied.", category="PermissionDenied", error_id="Windows System Error 5",
        exception_type="Microsoft.Management.Infrastructure.CimException",
        target=f"{cim_class}:root/StandardCimv2/{cim_class}", command=cmdlet)


def _serialize(text: str) -> str:
    # CLIXML strings escape control characters as _xHHHH_ (what _parse_clixml decodes).
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", escape(text))


def error_record_lines(error: PSError, script_line: str = "", line: int = 1, char: int = 1,
                       extent: int | None = None, computer: str | None = None) -> list[str]:
    """The lines PowerShell prints for an error record: where it happened (line, char and the
    length of the failing command in the script), or the remote computer it came from."""
    shown = error.prefix or error.command
    prefix = f"{shown} : " if shown else ""
    lines = [f"{prefix}{error.message}"]
    if computer is None:
        lines.append(f"At line:{line} char:{char}")
        if script_line:
            rest = len(script_line) - (char - 1)
            width = min(extent if extent is not None else rest, rest)
            lines.append(f"+ {script_line}")
            lines.append("+ " + " " * (char - 1) + "~" * max(1, width))
    target = error.target or ""
    short_type = error.exception_type.rsplit(".", 1)[-1]
    where = f" [{error.command}]" if error.command else ""
    lines.append(f"    + CategoryInfo          : {error.category}: ({target}:String){where}, {short_type}")
    lines.append(f"    + FullyQualifiedErrorId : {error.fully_qualified_id()}")
    if computer is not None:
        lines.append(f"    + PSComputerName        : {computer}")
    lines.append(" ")
    return lines


def clixml_error(lines: list[str]) -> bytes:
    """stderr bytes for error-stream lines, in the shape Windows PowerShell writes them."""
    body = "".join(f'<S S="Error">{_serialize(line + chr(13) + chr(10))}</S>' for line in lines)
    return (CLIXML_HEADER + _OBJS_OPEN + body + "</Objs>").encode("utf-8")


def clixml_streams(error_lines: list[str], warnings: list[str]) -> bytes:
    """stderr bytes for a script's warning and error streams (CLIXML, as powershell.exe writes them
    when its output is redirected); empty when there is nothing to report."""
    if not error_lines and not warnings:
        return b""
    body = "".join(f'<S S="warning">{_serialize(w + chr(13) + chr(10))}</S>' for w in warnings)
    body += "".join(f'<S S="Error">{_serialize(line + chr(13) + chr(10))}</S>' for line in error_lines)
    return (CLIXML_HEADER + _OBJS_OPEN + body + "</Objs>").encode("utf-8")


def clixml_for(error: PSError, script_line: str = "") -> bytes:
    return clixml_error(error_record_lines(error, script_line))
