"""ansible.windows.win_shell and ansible.windows.win_powershell: the modules that run an operator's own
PowerShell, emulated by running their script through the interpreter.

The results have the modules' shapes (ansible.windows 2.x `plugins/modules/win_shell.ps1` and
`win_powershell.ps1`): win_shell runs a child powershell.exe and returns its stdout, its stderr
(CLIXML error lines made plain text by the module's Format-Stderr) and rc, failing on a non-zero
rc; win_powershell runs the script in a runspace and returns the output objects (converted to
depth `depth`), the error records, the warning stream, host output and what the script set on
`$Ansible` (Changed, Failed, Result). Neither supports what would need a file system (`creates`,
`removes`, `chdir`, `path`) or another executable: those fail with a sentence, never silently.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from .formatting import HostLine, out_default, text
from .interpreter import AnsibleObject, Context, ErrorRecord, Interpreter
from .psobjects import PSEnum, credential, secure_string
from .raw import run_cmd
from .session import Session
from .signatures import ObjectRef

_SHOULD_PROCESS = re.compile(r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]",
                             re.IGNORECASE)
_UNSIMULATED = ("creates", "removes", "chdir")


def _unsupported(name: str, args: dict[str, Any]) -> dict[str, Any] | None:
    for option in _UNSIMULATED:
        if args.get(option):
            return {"failed": True, "changed": False,
                    "msg": f"hvsim does not simulate {name}'s '{option}' option (the simulated hosts have no file "
                           "system)."}
    return None


def _timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _delta(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:09.6f}"


def win_shell(session: Session, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if args.get("_ansible_check_mode"):
        # Ansible.ModuleUtils.Legacy's Parse-Args for a module without check-mode support.
        return 0, {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}
    refusal = _unsupported("win_shell", args)
    if refusal is not None:
        return 1, refusal
    command = str(args.get("_raw_params") or "").strip()
    executable = str(args.get("executable") or "powershell").lower()
    started = time.time()
    if executable in ("powershell", "powershell.exe"):
        session.charge("win_shell child", [("process:powershell", 1)])
        result = Interpreter(Context(session)).run(command)
        stdout = out_default(result.console, session.host.os_state.culture)
        # Format-Stderr: the Error strings of the child's CLIXML, CRLFs removed, one per line, trimmed.
        stderr = "\r\n".join(line for record in result.errors for line in record.lines()).strip()
        rc = result.rc
    elif executable in ("cmd", "cmd.exe"):
        native = run_cmd(session, command)
        if native is None:
            word = command.split()[0] if command.split() else command
            stdout, stderr, rc = "", f"'{word}' is not recognized as an internal or external command,\r\noperable " \
                                     "program or batch file.", 1
        else:
            stdout, stderr, rc = native.stdout, native.stderr.strip(), native.rc
    else:
        return 1, {"failed": True, "changed": False,
                   "msg": f"hvsim does not interpret win_shell's executable '{args.get('executable')}'."}
    ended = time.time()
    document: dict[str, Any] = {"changed": True, "cmd": command, "stdout": stdout, "stderr": stderr, "rc": rc,
                                "start": _timestamp(started), "end": _timestamp(ended),
                                "delta": _delta(ended - started)}
    if rc != 0:
        document.update({"failed": True, "msg": "non-zero return code"})
        return 1, document
    return 0, document


def win_powershell(session: Session, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    document: dict[str, Any] = {"changed": False, "result": {}, "host_out": "", "host_err": "", "output": [],
                                "error": [], "warning": [], "verbose": [], "debug": [], "information": []}
    refusal = _unsupported("win_powershell", args)
    if refusal is not None:
        return 1, {**document, **refusal}
    for option in ("path", "executable"):
        if args.get(option):
            return 1, {**document, "failed": True,
                       "msg": f"hvsim does not simulate win_powershell's '{option}' option (only 'script' runs)."}
    script = str(args.get("script") or "")
    check_mode = bool(args.get("_ansible_check_mode"))
    should_process = bool(_SHOULD_PROCESS.search(script))
    if check_mode and not should_process:
        return 0, {**document, "changed": True, "msg": "skipped, running in check mode"}
    parameters: dict[str, Any] = dict(args.get("parameters") or {})
    for entry in args.get("sensitive_parameters") or []:
        if entry.get("username") is not None:
            parameters[str(entry["name"])] = credential(str(entry["username"]),
                                                        secure_string(str(entry.get("password") or "")))
        else:
            parameters[str(entry["name"])] = secure_string(str(entry.get("value") or ""))
    if should_process:
        parameters.update({"Confirm": False, "WhatIf": check_mode})
    error_action = {"stop": "Stop", "continue": "Continue", "silently_continue": "SilentlyContinue"}[
        str(args.get("error_action") or "continue")]
    ansible = AnsibleObject(check_mode, int(args.get("_ansible_verbosity") or 0))
    interpreter = Interpreter(Context(session), error_action=error_action, variables={"Ansible": ansible})
    result = interpreter.run(script, parameters=parameters)
    depth = int(args["depth"]) if args.get("depth") is not None else 2
    document.update({
        "host_out": "".join(item.text + "\r\n" for item in result.console if isinstance(item, HostLine)),
        "output": [convert(value, depth) for value in result.output],
        "error": [_error(record, depth) for record in result.errors],
        "warning": list(result.warnings),
        "result": convert(ansible.get("Result"), depth),
        "changed": bool(ansible.get("Changed")),
        "failed": result.terminated is not None or bool(ansible.get("Failed")),
    })
    return 0, document


def convert(value: Any, depth: int) -> Any:
    """win_powershell's Convert-OutputObject: enums as {Type, String, Value}, objects as their
    properties down to `depth`, deeper ones as their string form."""
    if value is None:
        return None
    if isinstance(value, PSEnum):
        return {"Type": value.type_name, "String": str(value), "Value": value.number} if depth >= 0 else str(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, AnsibleObject):
        return convert(value.values, depth)
    if depth < 0:
        return text(value)
    if isinstance(value, list):
        return [convert(v, depth - 1) for v in value]
    if isinstance(value, dict):
        return {str(k): convert(v, depth - 1) for k, v in value.items()}
    if isinstance(value, ObjectRef):
        if value.type_name == "SecureString":
            return {"Length": len(str(value.target))}
        return {k: convert(v, depth - 1) for k, v in value.properties.items()}
    return text(value)


def _error(record: ErrorRecord, depth: int) -> dict[str, Any]:
    error = record.error
    return {
        "output": "\r\n".join(record.lines()) + "\r\n",
        "error_details": None,
        "exception": {"message": error.message, "type": error.exception_type, "help_link": None,
                      "source": "System.Management.Automation", "hresult": -2146233087},
        "target_object": error.target or None,
        "category_info": {"category": error.category, "category_id": 0, "activity": error.command,
                          "reason": error.exception_type.rsplit(".", 1)[-1], "target_name": error.target,
                          "target_type": "String" if error.target else ""},
        "fully_qualified_error_id": error.fully_qualified_id(),
        "script_stack_trace": f"at <ScriptBlock>, <No file>: line {record.line}",
        "pipeline_iteration_info": [],
    }
