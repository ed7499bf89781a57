# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The fixed PowerShell scripts sent to the target (Windows PowerShell 5.1), read from the
collection's own `.ps1` files (plugins/plugin_utils/powershell/) as ansible-core reads collection
PowerShell: with pkgutil.get_data.

STUB travels on the command line (the connection's shell plugin encodes it); the named scripts
travel inside the JSON request on stdin. None of them ever contains a user value.
"""

from __future__ import annotations

import pkgutil

_PACKAGE = "ansible_collections.hyperv.nested.plugins.plugin_utils"


def load_script(file_name: str) -> str:
    """The text of one of the collection's PowerShell files (powershell/<file_name>)."""
    data = pkgutil.get_data(_PACKAGE, f"powershell/{file_name}")
    if data is None:  # pragma: no cover - only a broken installation lacks the file
        raise FileNotFoundError(f"The collection's PowerShell script powershell/{file_name} is missing.")
    return data.decode("utf-8")


def _without_comment_lines(script: str) -> str:
    # The stub is the command line (cmd.exe stops at 8191 characters): its comments stay in the file,
    # and its lines lose their indentation, as the PowerShell shell plugin strips them when it encodes.
    return "\n".join(line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")) + "\n"


def compose(file_name: str) -> str:
    """A named script as sent: the param block that opens its file (a script block's param block
    must come first), then common.ps1 (what the probe, the executor and provision.ps1 share), then the rest."""
    lines = load_script(file_name).splitlines(keepends=True)
    opening = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if opening is None or not lines[opening].lstrip().lower().startswith("param("):  # pragma: no cover - a unit test keeps this shape
        raise ValueError(f"powershell/{file_name} must open with its param block.")
    return "".join(lines[: opening + 1]) + load_script("common.ps1") + "\n" + "".join(lines[opening + 1 :])


STUB = _without_comment_lines(load_script("stub.ps1"))
PROBE = compose("probe.ps1")
EXECUTE = compose("execute.ps1")
PROVISION = compose("provision.ps1")
DHCP = load_script("dhcp.ps1")

SCRIPTS: dict[str, str] = {"probe": PROBE, "execute": EXECUTE, "provision": PROVISION, "dhcp": DHCP}
