"""One command line + stdin -> CommandResult: the simulator's PowerShell front door."""
from __future__ import annotations

import json
from typing import Any

from ..winrm.backend import CommandResult
from . import ansible_modules, commandline, costs, module_logging, raw
from .dhcp import run_dhcp
from .errors import PSError, clixml_error, clixml_for
from .executor import execute
from .probe import probe
from .provision import provision
from .session import Session


def _out(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _json_line(document: Any) -> bytes:
    return _out(json.dumps(document, separators=(",", ":")) + "\n")


def _request(stdin: bytes) -> dict[str, Any] | None:
    text = stdin.decode("utf-8-sig", errors="replace").strip()
    if not text.startswith("{") or "hyperv_nested_request" not in text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "hyperv_nested_request" in document else None


def _run_request(session: Session, request: dict[str, Any], stub: str = "", stdin: bytes = b"") -> CommandResult:
    module_logging.record_request(session, stub, stdin, request)
    result = _answer_request(session, request)
    name = request.get("script_name")
    if name in ("probe", "execute"):
        given = request.get("parameters")
        parameters: dict[str, Any] = given if isinstance(given, dict) else {}
        try:
            answer = json.loads(result.stdout.decode("utf-8"))
        except ValueError:
            answer = {}
        done = answer.get("result") if isinstance(answer, dict) else None
        done = done if isinstance(done, dict) else None
        items = costs.probe_items(parameters, done) if name == "probe" else costs.execute_items(parameters, done)
        session.charge(f"{name} script", items)
    return result


# The collection's stub (plugins/plugin_utils/powershell/stub.ps1) checks the language mode first
# and answers this; Windows would otherwise fail deep inside the script (RULES #46).
LANGUAGE_MODE_MESSAGE = ("PowerShell runs in {mode} mode on this host (a WDAC or AppLocker policy): hyperv.nested "
                         "needs FullLanguage. Allow its scripts in the policy, or connect with an account the "
                         "policy does not constrain.")


def _answer_request(session: Session, request: dict[str, Any]) -> CommandResult:
    name = request.get("script_name")
    mode = session.host.os_state.language_mode
    if mode != "FullLanguage":
        return CommandResult(0, _json_line({"ok": False, "error": {
            "message": LANGUAGE_MODE_MESSAGE.format(mode=mode), "category": "SecurityError", "id": "LanguageMode"}}), b"")
    parameters = request.get("parameters") or {}
    if not isinstance(request.get("script"), str) or not request["script"].strip():
        # The stub builds a script block from request.script: without it Windows would fail too.
        error = PSError("Cannot convert null to type \"System.Management.Automation.ScriptBlock\".",
                        "InvalidArgument", "RuntimeException")
        return CommandResult(1, b"", clixml_for(error))
    try:
        if name == "probe":
            result = probe(session, parameters)
        elif name == "execute":
            result = execute(session, parameters)
        elif name == "provision":
            result = provision(session, parameters)
        elif name == "dhcp":
            result = run_dhcp(session, parameters)
        else:
            return CommandResult(0, _json_line({"ok": False, "error": {
                "message": f"Unknown script '{name}'.", "category": "InvalidArgument", "id": "UnknownScript"}}), b"")
    except PSError as error:
        return CommandResult(0, _json_line({"ok": False, "error": {
            "message": error.message, "category": error.category, "id": error.fully_qualified_id()}}), b"")
    except (ValueError, KeyError, TypeError) as error:
        return CommandResult(0, _json_line({"ok": False, "error": {
            "message": str(error), "category": "InvalidArgument", "id": "InvalidRequest"}}), b"")
    return CommandResult(0, _json_line({"ok": True, "result": result}), b"")


def run(session: Session, command_line: str, stdin: bytes) -> CommandResult:
    try:
        invocation = commandline.parse(command_line)
    except commandline.CommandLineError as error:
        return CommandResult(1, b"", clixml_error([f"PowerShell: {error}"]))
    session.charge(f"{invocation.shell}.exe", [("process:powershell" if invocation.shell == "powershell"
                                                else "process:native", 1)])
    if invocation.shell == "cmd":
        result = raw.run_raw(session, invocation.script) or raw.run_cmd(session, invocation.script)
        if result is not None:
            return CommandResult(result.rc, _out(result.stdout), _out(result.stderr))
        word = invocation.script.split()[0]
        return CommandResult(1, b"", _out(f"'{word}' is not recognized as an internal or external command,\n"
                                          "operable program or batch file.\n"))
    request = _request(stdin)
    if request is not None:
        return _run_request(session, request, invocation.script, stdin)
    module = ansible_modules.parse_payload(stdin)
    if module is not None:
        session.charge("exec wrapper", [("exec_wrapper:module", 1)])
        rc, document = ansible_modules.run_module(session, module)
        session.charge(module.name, costs.module_items(module.name, module.args, document))
        return CommandResult(rc, _json_line(document), b"")
    script = stdin.decode("utf-8", errors="replace") if invocation.read_stdin_as_script else invocation.script
    outcome = raw.run_script(session, commandline.strip_rc_suffix(script))
    return CommandResult(outcome.rc, _out(outcome.stdout), outcome.stderr)
