"""Out-Default: objects written to the output stream as Windows PowerShell 5.1 prints them.

The default views of the types the simulated cmdlets write (their format.ps1xml table or list),
close enough for an operator reading the output and for tests; exact column widths of Windows'
table layout (which it computes from the first objects it sees) are approximated the same way.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import Any

from .signatures import ObjectRef

MB = 1024 * 1024
Column = tuple[str, Callable[[ObjectRef], Any]]


def _prop(name: str) -> Callable[[ObjectRef], Any]:
    def read(obj: ObjectRef) -> Any:
        try:
            return obj.property(name)
        except KeyError:
            return None
    return read


def _megabytes(name: str) -> Callable[[ObjectRef], Any]:
    def read(obj: ObjectRef) -> Any:
        value = _prop(name)(obj)
        return int(value) // MB if isinstance(value, int) else value
    return read


def _columns(*names: str) -> list[Column]:
    return [(name, _prop(name)) for name in names]


TABLES: dict[str, list[Column]] = {
    "VirtualMachine": [("Name", _prop("Name")), ("State", _prop("State")), ("CPUUsage(%)", _prop("CPUUsage")),
                       ("MemoryAssigned(M)", _megabytes("MemoryAssigned")), ("Uptime", _prop("Uptime")),
                       ("Status", _prop("Status")), ("Version", _prop("Version"))],
    "VMNetworkAdapter": _columns("Name", "IsManagementOs", "VMName", "SwitchName", "MacAddress", "Status",
                                 "IPAddresses"),
    "VMSwitch": _columns("Name", "SwitchType", "NetAdapterInterfaceDescription"),
    "VMProcessor": _columns("VMName", "Count", "CompatibilityForMigrationEnabled",
                            "CompatibilityForOlderOperatingSystemsEnabled"),
    "VMMemory": [("VMName", _prop("VMName")), ("DynamicMemoryEnabled", _prop("DynamicMemoryEnabled")),
                 ("Minimum(M)", _megabytes("Minimum")), ("Startup(M)", _megabytes("Startup")),
                 ("Maximum(M)", _megabytes("Maximum"))],
    "VMIntegrationComponent": _columns("VMName", "Name", "Enabled", "PrimaryStatusDescription",
                                       "SecondaryStatusDescription"),
    "VMSnapshot": _columns("VMName", "Name", "SnapshotType", "ParentSnapshotName"),
    "MSFT_NetAdapter": _columns("Name", "InterfaceDescription", "ifIndex", "Status", "MacAddress", "LinkSpeed"),
    "MSFT_DNSClientServerAddress": [("InterfaceAlias", _prop("InterfaceAlias")),
                                    ("Interface Index", _prop("InterfaceIndex")),
                                    ("Address Family", _prop("AddressFamily")),
                                    ("ServerAddresses", _prop("ServerAddresses"))],
    "FeatureOperationResult": [("Success", _prop("Success")), ("Restart Needed", _prop("RestartNeeded")),
                               ("Exit Code", _prop("ExitCode")), ("Feature Result", _prop("FeatureResult"))],
}
LISTS: dict[str, list[str]] = {
    "MSFT_NetIPAddress": ["IPAddress", "InterfaceIndex", "InterfaceAlias", "AddressFamily", "Type", "PrefixLength",
                          "PrefixOrigin", "SuffixOrigin", "AddressState", "ValidLifetime", "PreferredLifetime",
                          "SkipAsSource", "PolicyStore"],
}


# The decimal separator of the culture whose output is being formatted: Out-Default formats numbers
# with the current culture (a decimal comma on de-DE and fr-FR hosts, RULES #47), unlike string
# expansion ("$x"), which is culture-invariant.
_DECIMAL = contextvars.ContextVar("decimal_separator", default=".")


def text(value: Any) -> str:
    """A value as PowerShell shows it inside a table cell or a list."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        shown = repr(value) if value != int(value) else str(int(value))
        return shown.replace(".", _DECIMAL.get())
    if isinstance(value, list):
        return "{" + ", ".join(text(v) for v in value) + "}"
    if isinstance(value, ObjectRef):
        if value.type_name == "SecureString":
            return "System.Security.SecureString"
        if value.type_name == "PSCredential":
            return "System.Management.Automation.PSCredential"
        return value.type_name
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return str(value)


def out_default(items: Iterable[Any], culture: str = "en-US") -> str:
    """The console text of output-stream objects (and host lines, given as HostLine), formatted
    for the host's `culture`."""
    from ..model.culture import decimal_separator

    token = _DECIMAL.set(decimal_separator(culture))
    try:
        return _out_default(items)
    finally:
        _DECIMAL.reset(token)


def _out_default(items: Iterable[Any]) -> str:
    chunks: list[str] = []
    batch: list[ObjectRef] = []

    def flush() -> None:
        if batch:
            chunks.append(_render(batch))
            batch.clear()

    for item in items:
        if isinstance(item, HostLine):
            flush()
            chunks.append(item.text + "\r\n")
        elif isinstance(item, ObjectRef):
            if batch and batch[0].type_name != item.type_name:
                flush()
            batch.append(item)
        elif isinstance(item, dict):
            flush()
            chunks.append(_hashtable(item))
        elif item is None:
            continue
        else:
            flush()
            chunks.append(text(item) + "\r\n")
    flush()
    return "".join(chunks)


class HostLine:
    """A line Write-Host (or a native program) printed, kept in order with the output objects."""

    def __init__(self, line: str) -> None:
        self.text = line


def _render(objects: list[ObjectRef]) -> str:
    kind = objects[0].type_name
    if kind == "Feature":
        return _features(objects)
    if kind in TABLES:
        return _table(TABLES[kind], objects)
    names = LISTS.get(kind) or list(objects[0].properties)
    if kind not in LISTS and len(names) <= 4:
        return _table(_columns(*names), objects)
    return _list(names, objects)


def _table(columns: list[Column], objects: list[ObjectRef]) -> str:
    rows = [[read(obj) for _header, read in columns] for obj in objects]
    numeric = [all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
               for i in range(len(columns))]
    cells = [[text(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, (header, _read) in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            last = i == len(values) - 1
            if numeric[i]:
                parts.append(value.rjust(widths[i]))
            else:
                parts.append(value if last else value.ljust(widths[i]))
        return " ".join(parts).rstrip()

    out = ["", line([header for header, _read in columns]),
           line(["-" * len(header) for header, _read in columns])]
    out += [line(row) for row in cells]
    return "\r\n".join(out) + "\r\n\r\n\r\n"


def _list(names: list[str], objects: list[ObjectRef]) -> str:
    width = max(len(n) for n in names)
    out = [""]
    for obj in objects:
        for name in names:
            out.append(f"{name.ljust(width)} : {text(_prop(name)(obj))}".rstrip())
        out.append("")
    return "\r\n".join(out) + "\r\n\r\n"


def _hashtable(table: dict[str, Any]) -> str:
    width = max([4] + [len(str(k)) for k in table])
    out = ["", f"{'Name'.ljust(width)} Value", f"{'----'.ljust(width)} -----"]
    out += [f"{str(k).ljust(width)} {text(v)}".rstrip() for k, v in table.items()]
    return "\r\n".join(out) + "\r\n\r\n\r\n"


def _features(objects: list[ObjectRef]) -> str:
    rows = []
    for obj in objects:
        installed = _prop("InstallState")(obj)
        mark = "[X]" if installed == "Installed" else "[ ]"
        display = f"{mark} {text(_prop('DisplayName')(obj))}"
        rows.append((display, text(_prop("Name")(obj)), text(installed)))
    width_display = max(len("Display Name"), *(len(r[0]) for r in rows)) + 4
    width_name = max(len("Name"), *(len(r[1]) for r in rows)) + 4
    out = ["", f"{'Display Name'.ljust(width_display)}{'Name'.ljust(width_name)}Install State",
           f"{'------------'.ljust(width_display)}{'----'.ljust(width_name)}-------------"]
    out += [f"{d.ljust(width_display)}{n.ljust(width_name)}{s}" for d, n, s in rows]
    return "\r\n".join(out) + "\r\n\r\n\r\n"
