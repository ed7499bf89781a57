"""Turn a WinRS command line into the PowerShell script it runs (or a cmd.exe command)."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_POWERSHELL = re.compile(r'^"?(?:[a-z]:\\[^"]*\\)?powershell(?:\.exe)?"?$', re.IGNORECASE)
_RC_SUFFIX = re.compile(r"[;\r\n]\s*If \(-not \$\?\) \{ If \(Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue\) "
                        r"\{ exit \$LASTEXITCODE \} Else \{ exit 1 \} \}\s*$", re.IGNORECASE)
# Parameters of powershell.exe taking a value (prefixes are accepted like any PowerShell parameter).
_VALUE_OPTIONS = ("executionpolicy", "inputformat", "outputformat", "windowstyle", "configurationname",
                  "file", "psconsolefile", "version")


@dataclass(frozen=True)
class Invocation:
    shell: str                  # "powershell" | "cmd"
    script: str                 # decoded PowerShell text, "-" for stdin, or the cmd line
    read_stdin_as_script: bool = False


class CommandLineError(ValueError):
    pass


def parse(command_line: str) -> Invocation:
    tokens = command_line.strip().split()
    if not tokens:
        raise CommandLineError("empty command line")
    if not _POWERSHELL.match(tokens[0]):
        return Invocation("cmd", command_line.strip())
    index = 1
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith(("-", "/")):
            return Invocation("powershell", " ".join(tokens[index:]))
        name = token.lstrip("-/").lower()
        if name in ("e", "ec") or (name.startswith("enc") and "encodedcommand".startswith(name)):
            if index + 1 >= len(tokens):
                raise CommandLineError("-EncodedCommand needs a value")
            return Invocation("powershell", decode(tokens[index + 1]))
        if name == "c" or (len(name) > 1 and "command".startswith(name)):
            rest = " ".join(tokens[index + 1:])
            if rest.strip() == "-":
                return Invocation("powershell", "-", read_stdin_as_script=True)
            return Invocation("powershell", _unquote(rest))
        if any(len(name) >= 2 and option.startswith(name) for option in _VALUE_OPTIONS):
            index += 2
            continue
        index += 1
    return Invocation("powershell", "-", read_stdin_as_script=True)


def decode(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise CommandLineError(f"invalid -EncodedCommand value: {error}") from None


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def strip_rc_suffix(script: str) -> str:
    """Drop the exit-code propagation line Ansible appends to raw commands."""
    return _RC_SUFFIX.sub("", script).strip()


def first_command_word(script: str) -> str:
    for line in script.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word = re.split(r"[\s;(|]", line.lstrip("&. "), maxsplit=1)[0]
            return word or line
    return script.strip() or "''"
