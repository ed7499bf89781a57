"""Extract cmdlet signatures from Microsoft's reference pages into pages.json, the same shape as
cmdlets.json's entries, for the cmdlets the collection's scripts call that the shared reference
lacks (Windows PowerShell 5.1 built-ins and the NetSecurity firewall cmdlets).

Run: python extract_pages.py <PowerShell-Docs checkout> <windows-powershell-docs checkout>
(git repositories; the pages are read at the commits below with `git show`), then
build_subset.py, which merges pages.json into cmdlets.json.

The extraction is /work/shared/reference/README.md's procedure, reduced to what the binder uses:
SYNTAX blocks in PowerShell's bracket notation give each parameter set's parameters, whether each
is mandatory, positional or a switch; the PARAMETERS yaml blocks give type, aliases, accepted values,
position and pipeline input.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PS_DOCS = "MicrosoftDocs/PowerShell-Docs"
PS_DOCS_COMMIT = "27138b21b41de3e2b43cfcac4a56861ca419d5eb"
WPS_DOCS = "MicrosoftDocs/windows-powershell-docs"
WPS_DOCS_COMMIT = "f113d6bda7df4bf60fb213c320c12678b40ae571"

# (repository, module folder, cmdlet): every cmdlet of plugins/plugin_utils/powershell/*.ps1 that
# the shared reference does not have.
PAGES: list[tuple[str, str, str]] = [
    (PS_DOCS, "Microsoft.PowerShell.Utility", "ConvertFrom-Json"),
    (PS_DOCS, "Microsoft.PowerShell.Utility", "ConvertTo-Json"),
    (PS_DOCS, "Microsoft.PowerShell.Utility", "Get-Date"),
    (PS_DOCS, "Microsoft.PowerShell.Utility", "Select-Object"),
    (PS_DOCS, "Microsoft.PowerShell.Utility", "Start-Sleep"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Get-Content"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Get-ItemProperty"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Get-Service"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Join-Path"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Remove-Item"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Set-Content"),
    (PS_DOCS, "Microsoft.PowerShell.Management", "Test-Path"),
    (PS_DOCS, "Microsoft.PowerShell.Core", "Get-Module"),
    (PS_DOCS, "Microsoft.PowerShell.Core", "Receive-Job"),
    (PS_DOCS, "Microsoft.PowerShell.Core", "Wait-Job"),
    (PS_DOCS, "CimCmdlets", "Get-CimAssociatedInstance"),
    (WPS_DOCS, "NetSecurity", "Get-NetFirewallRule"),
    (WPS_DOCS, "NetSecurity", "Get-NetFirewallPortFilter"),
    (WPS_DOCS, "NetSecurity", "Get-NetFirewallAddressFilter"),
    # provision.ps1 and dhcp.ps1 (issue 21): what they read with, and the Storage cmdlets around Mount-VHD.
    (PS_DOCS, "Microsoft.PowerShell.Management", "Copy-Item"),
    (WPS_DOCS, "Hyper-V", "Get-VHD"),
    (WPS_DOCS, "Hyper-V", "Get-VMHardDiskDrive"),
    (WPS_DOCS, "Storage", "Get-Partition"),
    (WPS_DOCS, "Storage", "Initialize-Disk"),
    (WPS_DOCS, "Storage", "New-Partition"),
    (WPS_DOCS, "Storage", "Format-Volume"),
    (WPS_DOCS, "DhcpServer", "Get-DhcpServerv4Scope"),
    (WPS_DOCS, "DhcpServer", "Get-DhcpServerv4OptionValue"),
    (WPS_DOCS, "DhcpServer", "Get-DhcpServerv4Reservation"),
]

_TOKEN = re.compile(
    r"\[\[-(?P<op>[\w]+)\]\s*<(?P<opt>[^>]+)>\]"        # [[-P] <T>]  optional, positional
    r"|\[-(?P<mp>[\w]+)\]\s*<(?P<mpt>[^>]+)>"           # [-P] <T>    mandatory, positional
    r"|\[-(?P<on>[\w]+)\s+<(?P<ont>[^>]+)>\]"           # [-P <T>]    optional, named
    r"|\[-(?P<os>[\w]+)\]"                              # [-S]        optional switch
    r"|(?<![\w\[])-(?P<mn>[\w]+)\s+<(?P<mnt>[^>]+)>"    # -P <T>      mandatory, named
    r"|(?<![\w\[])-(?P<ms>[\w]+)(?![\w])"               # -S          mandatory switch
)


def _short(type_name: str) -> str:
    """The type without its namespace (System.String[] is String[])."""
    return type_name.strip().rsplit(".", 1)[-1]


def _syntax_sets(page: str, cmdlet: str) -> list[tuple[str, bool, list[dict[str, Any]], bool]]:
    """(set name, is default, parameters in SYNTAX order, takes common parameters) per set."""
    syntax = page.split("## SYNTAX", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"(?:### ([^\n]+)\n+)?```[^\n]*\n(.*?)```", syntax, re.DOTALL)
    sets = []
    for heading, body in blocks:
        heading = heading.strip()
        default = "(Default)" in heading or len(blocks) == 1
        name = " ".join(heading.replace("(Default)", "").split()) or "__AllParameterSets"
        text = " ".join(body.split()).split(cmdlet, 1)[-1]
        common = "<CommonParameters>" in text
        text = text.replace("[<CommonParameters>]", "")
        params: list[dict[str, Any]] = []
        position = 0
        for match in _TOKEN.finditer(text):
            groups = match.groupdict()
            if groups["op"]:
                params.append({"name": groups["op"], "type": groups["opt"], "required": False, "position": position})
                position += 1
            elif groups["mp"]:
                params.append({"name": groups["mp"], "type": groups["mpt"], "required": True, "position": position})
                position += 1
            elif groups["on"]:
                params.append({"name": groups["on"], "type": groups["ont"], "required": False, "position": None})
            elif groups["os"]:
                params.append({"name": groups["os"], "type": "SwitchParameter", "required": False, "position": None})
            elif groups["mn"]:
                params.append({"name": groups["mn"], "type": groups["mnt"], "required": True, "position": None})
            elif groups["ms"]:
                params.append({"name": groups["ms"], "type": "SwitchParameter", "required": True, "position": None})
        sets.append((name, default, params, common))
    return sets


def _yaml_blocks(page: str) -> dict[str, dict[str, Any]]:
    """The PARAMETERS yaml of each `### -Name` heading (the first block of each)."""
    section = page.split("## PARAMETERS", 1)[1].split("\n## ", 1)[0]
    found: dict[str, dict[str, Any]] = {}
    for name, body in re.findall(r"### -(\w+)\n(.*?)(?=\n### -|\Z)", section, re.DOTALL):
        block = re.search(r"```yaml\n(.*?)```", body, re.DOTALL)
        if block is None:
            continue
        try:
            data = yaml.safe_load(block.group(1))
        except yaml.YAMLError:
            continue
        if isinstance(data, dict):
            found[name] = data
    return found


def _list(value: Any) -> list[str]:
    if value in (None, "", "None"):
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]


def extract(page: str, cmdlet: str, module: str, repo: str, path: str, commit: str) -> dict[str, Any]:
    details = _yaml_blocks(page)
    sets = []
    all_parameters: dict[str, Any] = {}
    common = True
    should_process = False
    default_set = None
    for name, is_default, params, takes_common in _syntax_sets(page, cmdlet):
        common = common and takes_common
        entries = []
        for param in params:
            if param["name"] in ("WhatIf", "Confirm"):
                should_process = True
            info = details.get(param["name"], {})
            type_name = _short(str(info.get("Type") or param["type"]))
            position = info.get("Position")
            pipeline = str(info.get("Accept pipeline input") or "False")
            entry = {
                "name": param["name"], "type": type_name, "required": param["required"],
                "position": param["position"] if not isinstance(position, int) else position,
                "pipeline": pipeline.startswith("True"),
                "pipeline_by": re.findall(r"ByValue|ByPropertyName", pipeline),
                "accepted_values": _list(info.get("Accepted values")) or None,
                "aliases": _list(info.get("Aliases")), "wildcards": str(info.get("Accept wildcard characters")) == "True",
                "default_value": None, "switch": type_name == "SwitchParameter", "sources": ["syntax", "yaml"],
            }
            entries.append(entry)
            all_parameters.setdefault(param["name"], {k: v for k, v in entry.items() if k not in ("name", "sources")}
                                      | {"parameter_sets": []})["parameter_sets"].append(name)
        if is_default:
            default_set = name
        sets.append({"name": name, "is_default": is_default, "parameters": entries})
    return {"module": module, "cmdlet_aliases": [], "default_parameter_set": default_set or sets[0]["name"],
            "parameter_sets": sets, "all_parameters": all_parameters, "common_parameters": common,
            "supports_should_process": should_process, "source": path, "source_repo": repo,
            "source_commit": commit, "docset": path.split("/")[1] if repo == WPS_DOCS else "reference/5.1",
            "extracted_by": "extract_pages.py"}


def main(ps_docs: str, wps_docs: str) -> None:
    found: dict[str, Any] = {}
    for repo, module, cmdlet in PAGES:
        checkout, commit = (ps_docs, PS_DOCS_COMMIT) if repo == PS_DOCS else (wps_docs, WPS_DOCS_COMMIT)
        path = (f"reference/5.1/{module}/{cmdlet}.md" if repo == PS_DOCS
                else f"docset/winserver2022-ps/{module}/{cmdlet}.md")
        page = subprocess.run(["git", "-C", checkout, "show", f"{commit}:{path}"], check=True,
                              capture_output=True, text=True).stdout
        found[cmdlet] = extract(page, cmdlet, module, repo, path, commit)
    Path(__file__).with_name("pages.json").write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
