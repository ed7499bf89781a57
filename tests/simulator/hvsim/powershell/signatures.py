"""Bind a cmdlet the way PowerShell's binder does: a splatted parameter dictionary (`bind`, what the
executor sends), or a command line's named and positional arguments and one pipeline input object
(`bind_invocation`, what the script interpreter sends).

Signatures come from data/cmdlets.json (Microsoft's documented syntax). Values are JSON values
(what ConvertFrom-Json yields) or ObjectRef for .NET objects the simulator made itself (Get-VM
results, adapters): never from JSON.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PSError, command_not_found

DATA = Path(__file__).with_name("data") / "cmdlets.json"

_INT_RANGES: dict[str, tuple[int, int, str]] = {
    "Byte": (0, 255, "Value was either too large or too small for an unsigned byte."),
    "Int16": (-32768, 32767, "Value was either too large or too small for an Int16."),
    "UInt16": (0, 65535, "Value was either too large or too small for a UInt16."),
    "Int32": (-2**31, 2**31 - 1, "Value was either too large or too small for an Int32."),
    "UInt32": (0, 2**32 - 1, "Value was either too large or too small for a UInt32."),
    "Int64": (-2**63, 2**63 - 1, "Value was either too large or too small for an Int64."),
    "UInt64": (0, 2**64 - 1, "Value was either too large or too small for a UInt64."),
}
# Feature (ServerManager) converts from a feature's name, as every Install-WindowsFeature example passes it.
_STRINGISH = {"String", "TimeSpan", "Feature", "IPAddress"}   # IPAddress: PowerShell converts its text form
_PASS_THROUGH = {"Object", "PSObject", "IDictionary"}   # any value binds as it is
_FULL_TYPE = {"Boolean": "System.Boolean", "String": "System.String", "SwitchParameter":
              "System.Management.Automation.SwitchParameter"}


@dataclass(frozen=True)
class ObjectRef:
    """A .NET object the simulator made itself (Get-VM result, adapter), never from JSON."""

    type_name: str          # e.g. "VirtualMachine", "VMNetworkAdapter"
    target: Any
    bases: tuple[str, ...] = ()   # .NET base classes it also binds to (VMNetworkAdapterBase)
    # What PowerShell shows of the object (name -> value), in its order: pipeline binding by
    # property name, member access and output formatting read these.
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def is_a(self, type_name: str) -> bool:
        return type_name == self.type_name or type_name in self.bases

    def property(self, name: str) -> Any:
        """The value of a property, matched case-insensitively; KeyError when there is none."""
        for key, value in self.properties.items():
            if key.lower() == name.lower():
                return value
        raise KeyError(name)


@dataclass
class Bound:
    cmdlet: str
    parameter_set: str
    values: dict[str, Any] = field(default_factory=dict)     # canonical name -> converted value
    common: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values


@functools.cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


def known_cmdlets() -> list[str]:
    return sorted(_data()["cmdlets"])


def resolve_cmdlet(name: str) -> str:
    data = _data()
    lowered = name.lower()
    for known in data["cmdlets"]:
        if known.lower() == lowered:
            return str(known)
    for alias, info in data["aliases"].items():
        if alias.lower() == lowered:
            return str(info["resolves_to"])
    raise command_not_found(name)


def _type_error(cmdlet: str, param: str, value: Any, type_name: str, detail: str = "") -> PSError:
    full = _FULL_TYPE.get(type_name, f"System.{type_name}")
    shown = "System.String" if isinstance(value, str) and type_name == "Boolean" else _show(value)
    if type_name == "Boolean":
        message = (f"Cannot process argument transformation on parameter '{param}'. Cannot convert "
                   f"value \"{shown}\" to type \"{full}\". Boolean parameters accept only Boolean "
                   "values and numbers, such as $True, $False, 1 or 0.")
        return PSError(message, "InvalidData", "ParameterArgumentTransformationError",
                       "System.Management.Automation.ParameterBindingArgumentTransformationException",
                       command=cmdlet)
    message = f"Cannot bind parameter '{param}'. Cannot convert value \"{shown}\" to type \"{full}\"."
    if detail:
        message += f" Error: \"{detail}\""
    return PSError(message, "InvalidArgument", "CannotConvertArgumentNoMessage",
                   "System.Management.Automation.ParameterBindingException", command=cmdlet)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return "System.Management.Automation.PSCustomObject" if isinstance(value, dict) else "System.Object[]"
    return str(value)


def _convert_int(cmdlet: str, param: str, value: Any, type_name: str) -> int:
    low, high, range_message = _INT_RANGES[type_name]
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if value != int(value):
            # PowerShell would round with banker's rounding; sizes and counts must be exact here.
            raise _type_error(cmdlet, param, value, type_name, "Input string was not in a correct format.")
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 0) if value.strip().lower().startswith("0x") else int(value.strip())
        except ValueError:
            raise _type_error(cmdlet, param, value, type_name,
                              "Input string was not in a correct format.") from None
    else:
        raise _type_error(cmdlet, param, value, type_name)
    if not low <= number <= high:
        raise _type_error(cmdlet, param, value, type_name, range_message)
    return number


def _convert_enum(cmdlet: str, param: str, value: Any, type_name: str, accepted: list[str]) -> str:
    if isinstance(value, str):
        for candidate in accepted:
            if candidate.lower() == value.strip().lower():
                return candidate
    listing = ",".join(accepted)
    if type_name == "String":
        raise PSError(f"Cannot validate argument on parameter '{param}'. The argument \"{_show(value)}\" "
                      f"does not belong to the set \"{listing}\" specified by the ValidateSet attribute. "
                      "Supply an argument that is in the set and then try the command again.",
                      "InvalidData", "ParameterArgumentValidationError",
                      "System.Management.Automation.ParameterBindingValidationException", command=cmdlet)
    # Enum-typed parameters: PowerShell lists the enumerator names (we know the documented ones).
    raise _type_error(cmdlet, param, value, type_name,
                      f"Unable to match the identifier name {_show(value)} to a valid enumerator name. "
                      f"Specify one of the following enumerator names and try again:\n{', '.join(accepted)}")


def _convert_scalar(cmdlet: str, param: str, value: Any, type_name: str,
                    accepted: list[str] | None) -> Any:
    if type_name in _PASS_THROUGH:
        if type_name == "IDictionary" and not isinstance(value, dict):
            raise _type_error(cmdlet, param, value, "Collections.IDictionary")
        return value
    if isinstance(value, ObjectRef):
        if value.is_a(type_name):
            return value
        raise _type_error(cmdlet, param, value.type_name, type_name)
    if accepted and type_name in _INT_RANGES:
        # A ValidateSet of numbers on an integer parameter (New-VM -Generation 1, 2): convert, then validate.
        number = _convert_int(cmdlet, param, value, type_name)
        if str(number) not in accepted:
            raise PSError(f"Cannot validate argument on parameter '{param}'. The argument \"{number}\" does not "
                          f"belong to the set \"{','.join(accepted)}\" specified by the ValidateSet attribute. "
                          "Supply an argument that is in the set and then try the command again.",
                          "InvalidData", "ParameterArgumentValidationError",
                          "System.Management.Automation.ParameterBindingValidationException", command=cmdlet)
        return number
    if accepted:
        return _convert_enum(cmdlet, param, value, type_name, accepted)
    if type_name == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        raise _type_error(cmdlet, param, value, type_name)
    if type_name == "SwitchParameter":
        if isinstance(value, bool):
            return value
        raise _type_error(cmdlet, param, value, type_name)
    if type_name in _INT_RANGES:
        return _convert_int(cmdlet, param, value, type_name)
    if type_name in _STRINGISH:
        if isinstance(value, (dict, list)):
            raise _type_error(cmdlet, param, value, type_name)
        if isinstance(value, bool):
            return "True" if value else "False"
        return value if isinstance(value, str) or value is None else str(value)
    # Objects (VirtualMachine, CimSession, PSCredential...): JSON data cannot become one.
    raise PSError(f"Cannot bind parameter '{param}'. Cannot convert the \"{_show(value)}\" value of type "
                  f"\"{_json_type(value)}\" to type \"{type_name}\".", "InvalidArgument",
                  "CannotConvertArgument", "System.Management.Automation.ParameterBindingException",
                  command=cmdlet)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -2**31 <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, list):
        return "System.Object[]"
    return "System.Management.Automation.PSCustomObject"


def convert(cmdlet: str, param: str, value: Any, type_name: str, accepted: list[str] | None) -> Any:
    if type_name.endswith("[]"):
        element = type_name[:-2]
        items = value if isinstance(value, list) else [value]
        return [_convert_scalar(cmdlet, param, item, element, accepted) for item in items]
    if isinstance(value, list):
        if len(value) == 1:
            return _convert_scalar(cmdlet, param, value[0], type_name, accepted)
        raise _type_error(cmdlet, param, value, type_name)
    return _convert_scalar(cmdlet, param, value, type_name, accepted)


@dataclass(frozen=True)
class _ParamInfo:
    name: str
    aliases: tuple[str, ...]
    common: bool


def _catalog(cmdlet: str) -> dict[str, _ParamInfo]:
    entry = _data()["cmdlets"][cmdlet]
    found: dict[str, _ParamInfo] = {}
    for pset in entry["parameter_sets"]:
        for p in pset["parameters"]:
            found.setdefault(p["name"], _ParamInfo(p["name"], tuple(p.get("aliases") or ()), False))
    if entry.get("common_parameters", True):
        for name, info in _data()["common_parameters_reference"]["parameters"].items():
            if info.get("available_in_windows_powershell_5_1", True):
                found.setdefault(name, _ParamInfo(name, tuple(info.get("aliases") or ()), True))
    return found


def resolve_parameter(cmdlet: str, given: str) -> str:
    """Canonical parameter name for `given`: exact name or alias first, then unique prefix."""
    catalog = _catalog(cmdlet)
    lowered = given.lower()
    for info in catalog.values():
        if info.name.lower() == lowered or lowered in (a.lower() for a in info.aliases):
            return info.name
    matches = [info.name for info in catalog.values()
               if info.name.lower().startswith(lowered)
               or any(a.lower().startswith(lowered) for a in info.aliases)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise PSError(f"Parameter cannot be processed because the parameter name '{given}' is ambiguous. "
                      f"Possible matches include: {' '.join('-' + m for m in matches)}.",
                      "InvalidArgument", "AmbiguousParameter",
                      "System.Management.Automation.ParameterBindingException", command=cmdlet)
    raise PSError(f"A parameter cannot be found that matches parameter name '{given}'.",
                  "InvalidArgument", "NamedParameterNotFound",
                  "System.Management.Automation.ParameterBindingException", command=cmdlet)


def _ambiguous_set(cmdlet: str) -> PSError:
    return PSError("Parameter set cannot be resolved using the specified named parameters. One or more "
                   "parameters issued cannot be used together or an insufficient number of parameters "
                   "were provided.", "InvalidArgument", "AmbiguousParameterSet",
                   "System.Management.Automation.ParameterBindingException", command=cmdlet)


def _choose_set(cmdlet: str, names: set[str]) -> dict[str, Any]:
    sets: list[dict[str, Any]] = _data()["cmdlets"][cmdlet]["parameter_sets"]
    candidates = [s for s in sets if names <= {p["name"] for p in s["parameters"]}]
    if not candidates:
        raise _ambiguous_set(cmdlet)
    if len(candidates) == 1:
        return candidates[0]
    satisfied = [s for s in candidates
                 if all(p["name"] in names for p in s["parameters"] if p["required"])]
    if len(satisfied) == 1:
        return satisfied[0]
    defaults = [s for s in candidates if s["is_default"]]
    if defaults:
        return defaults[0]
    raise _ambiguous_set(cmdlet)


def bind(cmdlet_name: str, parameters: dict[str, Any]) -> Bound:
    """Bind as PowerShell would for `& $cmdlet @parameters` under -NonInteractive."""
    cmdlet = resolve_cmdlet(cmdlet_name)
    catalog = _catalog(cmdlet)
    canonical: dict[str, Any] = {}
    for given, value in parameters.items():
        name = resolve_parameter(cmdlet, given)
        if name in canonical:
            raise PSError(f"Cannot bind parameter because parameter '{name}' is specified more than once. "
                          "To provide multiple values to parameters that can accept multiple values, use "
                          "the array syntax.", "InvalidArgument", "ParameterAlreadyBound",
                          "System.Management.Automation.ParameterBindingException", command=cmdlet)
        canonical[name] = value
    common = {n: v for n, v in canonical.items() if catalog[n].common}
    own = {n: v for n, v in canonical.items() if not catalog[n].common}
    pset = _choose_set(cmdlet, set(own))
    by_name = {p["name"]: p for p in pset["parameters"]}
    missing = [p["name"] for p in pset["parameters"] if p["required"] and p["name"] not in own]
    if missing:
        raise PSError("Cannot process command because of one or more missing mandatory parameters: "
                      f"{' '.join(missing)}.", "InvalidArgument", "MissingMandatoryParameter",
                      "System.Management.Automation.ParameterBindingException", command=cmdlet)
    bound = Bound(cmdlet, pset["name"])
    for name, value in own.items():
        info = by_name[name]
        if info["required"] and not info["switch"]:
            _check_mandatory_value(cmdlet, name, value)
        bound.values[name] = convert(cmdlet, name, value, info["type"], info.get("accepted_values"))
    reference = _data()["common_parameters_reference"]["parameters"]
    for name, value in common.items():
        info = reference[name]
        bound.common[name] = convert(cmdlet, name, value, info["type"], info.get("accepted_values"))
    return bound


def _check_mandatory_value(cmdlet: str, name: str, value: Any) -> None:
    if value is None:
        raise PSError(f"Cannot bind argument to parameter '{name}' because it is null.", "InvalidData",
                      "ParameterArgumentValidationErrorNullNotAllowed",
                      "System.Management.Automation.ParameterBindingValidationException", command=cmdlet)
    if value == "" or value == []:
        what = "an empty string" if value == "" else "an empty array"
        raise PSError(f"Cannot bind argument to parameter '{name}' because it is {what}.", "InvalidData",
                      "ParameterArgumentValidationErrorEmptyStringNotAllowed",
                      "System.Management.Automation.ParameterBindingValidationException", command=cmdlet)


# --------------------------------------------------------------------------- command lines


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()     # a named parameter written without an argument (a switch: -Force)
NO_INPUT: Any = _NoValue()     # a command that is first in its pipeline
_ANY_TYPES = {"Object", "PSObject"}
_SCALARS: dict[type, set[str]] = {
    str: {"String"}, bool: {"Boolean", "SwitchParameter"},
    int: set(_INT_RANGES), float: {"Double", "Single", "Decimal"},
}


@dataclass(frozen=True)
class NamedArgument:
    given: str        # the parameter name as written, without its dash
    value: Any        # NO_VALUE when nothing followed it


def module_of(cmdlet: str) -> str:
    return str(_data()["cmdlets"][cmdlet].get("module", ""))


def _ordered_sets(cmdlet: str) -> list[dict[str, Any]]:
    sets: list[dict[str, Any]] = _data()["cmdlets"][cmdlet]["parameter_sets"]
    return sorted(sets, key=lambda s: not s["is_default"])


def _names(pset: dict[str, Any]) -> set[str]:
    return {p["name"] for p in pset["parameters"]}


def _binding_error(cmdlet: str, message: str, error_id: str) -> PSError:
    return PSError(message, "InvalidArgument", error_id, "System.Management.Automation.ParameterBindingException",
                   command=cmdlet)


def is_switch_parameter(cmdlet: str, name: str) -> bool:
    reference = _data()["common_parameters_reference"]["parameters"]
    if name in reference:
        return str(reference[name]["type"]) == "SwitchParameter"
    return any(p["switch"] for s in _data()["cmdlets"][cmdlet]["parameter_sets"] for p in s["parameters"]
               if p["name"] == name)


def _type_of(cmdlet: str, name: str) -> str:
    for pset in _data()["cmdlets"][cmdlet]["parameter_sets"]:
        for p in pset["parameters"]:
            if p["name"] == name:
                return str(p["type"])
    return "Object"


def _element(type_name: str) -> str:
    return type_name[:-2] if type_name.endswith("[]") else type_name


def _matches_exactly(value: Any, type_name: str) -> bool:
    """Does `value` bind to `type_name` without a conversion (PowerShell's first binding pass)?"""
    element = _element(type_name)
    if element in _ANY_TYPES:
        return True
    if isinstance(value, ObjectRef):
        return value.is_a(element)
    return element in _SCALARS.get(type(value), set())


def _converts(cmdlet: str, param: dict[str, Any], value: Any) -> bool:
    try:
        convert(cmdlet, param["name"], value, param["type"], param.get("accepted_values"))
    except PSError:
        return False
    return True


def _fits_position(param: dict[str, Any], value: Any, strict: bool) -> bool:
    """Can a positional argument go to this parameter? A .NET object goes to its own type (and,
    when nothing takes it so, `strict` False, to a string parameter)."""
    element = _element(param["type"])
    if element in _ANY_TYPES or _matches_exactly(value, param["type"]):
        return True
    if isinstance(value, ObjectRef):
        return not strict and element == "String"
    known_scalars = {"String", "Boolean", "SwitchParameter", "Double", "Single", "Decimal", "Guid", "TimeSpan",
                     "Uri", "Version", "Char", *_INT_RANGES}
    return element in known_scalars or bool(param.get("accepted_values"))


def _shown(value: Any) -> str:
    return value.type_name if isinstance(value, ObjectRef) else _show(value)


def _bind_named(cmdlet: str, named: list[NamedArgument]) -> dict[str, Any]:
    canonical: dict[str, Any] = {}
    for argument in named:
        name = resolve_parameter(cmdlet, argument.given)
        if name in canonical:
            raise _binding_error(cmdlet, f"Cannot bind parameter because parameter '{name}' is specified more than "
                                 "once. To provide multiple values to parameters that can accept multiple values, "
                                 "use the array syntax.", "ParameterAlreadyBound")
        value = argument.value
        if value is NO_VALUE:
            if not is_switch_parameter(cmdlet, name):
                full = _FULL_TYPE.get(_type_of(cmdlet, name), f"System.{_type_of(cmdlet, name)}")
                raise _binding_error(cmdlet, f"Missing an argument for parameter '{name}'. Specify a parameter of "
                                     f"type '{full}' and try again.", "MissingArgument")
            value = True
        canonical[name] = value
    return canonical


def _bind_positional(cmdlet: str, candidates: list[dict[str, Any]], canonical: dict[str, Any],
                     values: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Positional arguments to the parameters of the first candidate set that takes them all."""
    fitted_most = 0
    for strict in (True, False):
        for pset in candidates:
            slots: list[dict[str, Any]] = []
            taken: set[int] = set()
            # Required parameters first where a page lists two at one position.
            for param in sorted(pset["parameters"],
                                key=lambda p: (p["position"] is None, p["position"] or 0, not p["required"])):
                if param["position"] is None or param["switch"] or param["name"] in canonical \
                        or param["position"] in taken:
                    continue
                taken.add(param["position"])
                slots.append(param)
            assigned: dict[str, Any] = {}
            for value, slot in zip(values, slots, strict=False):
                if not _fits_position(slot, value, strict):
                    break
                assigned[slot["name"]] = value
            if len(assigned) == len(values):
                wanted = set(assigned) | {n for n in canonical if n in _names(pset)}
                return [s for s in candidates if wanted <= _names(s)], assigned
            fitted_most = max(fitted_most, len(assigned))
    raise _binding_error(cmdlet, "A positional parameter cannot be found that accepts argument "
                         f"'{_shown(values[fitted_most])}'.", "PositionalParameterNotFound")


def _property_for(value: Any, param: dict[str, Any]) -> Any:
    if not isinstance(value, ObjectRef):
        return NO_VALUE
    for name in (param["name"], *(param.get("aliases") or ())):
        try:
            return value.property(name)
        except KeyError:
            continue
    return NO_VALUE


def _bind_pipeline(cmdlet: str, candidates: list[dict[str, Any]], canonical: dict[str, Any],
                   value: Any) -> dict[str, Any]:
    """One pipeline object, PowerShell's four passes: by value, then by property name, each first
    without and then with type conversion; the default set first."""
    for coerce in (False, True):
        for how in ("ByValue", "ByPropertyName"):
            for pset in candidates:
                found: dict[str, Any] = {}
                for param in pset["parameters"]:
                    if param["name"] in canonical or how not in (param.get("pipeline_by") or []):
                        continue
                    given = value if how == "ByValue" else _property_for(value, param)
                    if given is NO_VALUE:
                        continue
                    if _matches_exactly(given, param["type"]) or (coerce and _converts(cmdlet, param, given)):
                        found[param["name"]] = given
                        if how == "ByValue":
                            break
                if found:
                    return found
    raise PSError("The input object cannot be bound to any parameters for the command either because the command "
                  "does not take pipeline input or the input and its properties do not match any of the parameters "
                  "that take pipeline input.", "InvalidArgument", "InputObjectNotBound",
                  "System.Management.Automation.ParameterBindingException", target=_shown(value), command=cmdlet)


def bind_invocation(cmdlet_name: str, named: list[NamedArgument], positional: list[Any],
                    pipeline: Any = NO_INPUT) -> Bound:
    """Bind a command as written in a script: named arguments (switches given NO_VALUE), positional
    arguments by their documented positions, then one pipeline input object (NO_INPUT: none)."""
    cmdlet = resolve_cmdlet(cmdlet_name)
    catalog = _catalog(cmdlet)
    canonical = _bind_named(cmdlet, named)
    own = {n for n in canonical if not catalog[n].common}
    candidates = [s for s in _ordered_sets(cmdlet) if own <= _names(s)]
    if not candidates:
        raise _ambiguous_set(cmdlet)
    if positional:
        candidates, assigned = _bind_positional(cmdlet, candidates, canonical, positional)
        canonical.update(assigned)
    if pipeline is not NO_INPUT:
        canonical.update(_bind_pipeline(cmdlet, candidates, canonical, pipeline))
    return bind(cmdlet, canonical)
