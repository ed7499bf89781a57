# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Memory sizes as users write them ('8GB', '512MB', 4294967296) and as Hyper-V shows them.

Units are binary, the way Hyper-V Manager and PowerShell's 8GB literal count: 1GB = 1024**3 bytes.
"""

from __future__ import annotations

import re
import typing as t
from decimal import Decimal

_UNITS = {
    "": 1,
    "B": 1,
    "KB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
}
# '8GB', '8 GB', '8G', '1.5gb', '512MiB': all binary units, the 'i' forms mean the same.
_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>(?:[KMGT]i?B?|B)?)\s*$", re.IGNORECASE)


class SizeError(ValueError):
    """A size that cannot be understood; the message names the option."""


def parse_size(option: str, value: t.Any) -> int:
    """Return `value` in bytes, or raise SizeError naming `option`."""
    if isinstance(value, bool):
        raise SizeError(f"{option} must be a size such as '8GB', '512MB' or a number of bytes, not a boolean.")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        size = _parse_text(option, value)
    else:
        raise SizeError(f"{option} must be a size such as '8GB', '512MB' or a number of bytes, got {value!r}.")
    if size <= 0:
        raise SizeError(f"{option} must be greater than zero, got {value!r}.")
    return size


def _parse_text(option: str, text: str) -> int:
    match = _SIZE.match(text)
    unit = match.group("unit").upper().replace("I", "") if match else ""
    if unit and not unit.endswith("B"):
        unit += "B"
    if match is None or unit not in _UNITS or (unit == "" and "." in match.group("number")):
        raise SizeError(f"{option} must be a size such as '8GB', '512MB' or a number of bytes, got {text!r}.")
    exact = Decimal(match.group("number")) * _UNITS[unit]
    if exact != exact.to_integral_value():
        raise SizeError(f"{option} must be a whole number of bytes, {text!r} is not.")
    return int(exact)


def format_size(size: int) -> str:
    """The shortest exact form: 8589934592 -> '8GB', 1610612736 -> '1536MB', 1000 -> '1000B'."""
    for unit in ("TB", "GB", "MB", "KB"):
        factor = _UNITS[unit]
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"
