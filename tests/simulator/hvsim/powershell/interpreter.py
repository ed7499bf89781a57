"""Plain PowerShell on a simulated host: a script parsed by tree-sitter-powershell, run against the model.

What it runs (tests/simulator/README.md, "Plain PowerShell"): statements separated by newlines or
`;`; pipelines bound by the documented pipeline parameters (signatures.bind_invocation); named
parameters by unique prefix, positional ones by their documented positions; literals, arrays,
hashtables, variables, member access, comparisons, `if`, `foreach`, `try`/`catch`, `throw` and
`exit`; the simulated subset's cmdlets (cmdlets.py changes the model, queries.py reads it,
features.py installs Hyper-V), PowerShell Direct with Invoke-Command, and netsh's DNS command
(native.py). Anything else stops the script with a sentence saying the simulator does not
interpret it, or fails as "not recognized" as on Windows: never a silent success.

Errors follow PowerShell's rules: a cmdlet's error is written to the error stream and the script
goes on (non-terminating), a binding error ends its statement, `-ErrorAction Stop`,
`$ErrorActionPreference = 'Stop'` and `throw` end the script unless a `try` catches them.
Commands take `session.lock` one at a time; waiting (Stop-VM) happens without it.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..model import lifecycle
from ..model.accounts import Rights
from ..model.errors import HyperVError
from ..model.objects import VM, OSState
from . import costs, features, native, psobjects
from .cmdlets import HOST_HANDLERS, OS_HANDLERS, admit, as_ps_error, run_bound, select_vms
from .errors import PSError, command_not_found, error_record_lines
from .formatting import HostLine
from .queries import HOST_QUERIES, QUERIES
from .session import Session
from .signatures import (
    NO_INPUT,
    NO_VALUE,
    Bound,
    NamedArgument,
    ObjectRef,
    bind_invocation,
    is_switch_parameter,
    module_of,
    resolve_cmdlet,
    resolve_parameter,
)
from .syntax import Node, NotInterpreted, Script, parse

# Commands every Windows PowerShell 5.1 has that a script may well use, but that the simulator does
# not run: they fail with the "does not interpret" sentence rather than "not recognized".
KNOWN_UNINTERPRETED = {
    "select-object", "sort-object", "group-object", "measure-object",
    "format-table", "format-list", "out-string", "out-file", "out-host", "write-error", "write-warning",
    "write-verbose", "write-debug", "write-information", "start-sleep", "test-path", "get-item", "set-item",
    "get-itemproperty", "set-itemproperty", "new-item", "remove-item", "get-content", "set-content",
    "add-content", "get-childitem", "get-service", "start-service", "stop-service", "restart-service",
    "get-process", "stop-process", "start-process", "get-date", "get-member", "convertto-json",
    "convertfrom-json", "import-module", "get-module", "get-command", "get-credential", "read-host",
    "new-pssession", "enter-pssession", "remove-pssession", "get-wmiobject", "invoke-cimmethod",
    "get-netfirewallrule", "new-netfirewallrule", "set-netfirewallrule", "get-vmhost", "set-vmhost",
    "add-computer", "rename-computer", "set-executionpolicy", "get-executionpolicy", "select-string",
    "tee-object", "get-acl", "set-acl", "invoke-expression", "invoke-webrequest", "invoke-restmethod",
    "select", "sort", "ft", "fl", "gci", "ls", "dir", "echo", "cat", "sleep",
}
ALIASES = {"write": "Write-Output", "where": "Where-Object", "?": "Where-Object", "foreach": "ForEach-Object",
           "%": "ForEach-Object"}
_NUMBER = re.compile(r"^(?P<sign>[+-]?)(?:(?P<hex>0x[0-9a-f]+)|(?P<dec>\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)"
                     r"(?P<suffix>l|d|u|ul|lu)?(?P<mult>kb|mb|gb|tb|pb)?$", re.IGNORECASE)
_MULTIPLIERS = {"kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4, "pb": 1024 ** 5}
_REDIRECTION = re.compile(r"^(?P<stream>[1-6*]?)>(?P<append>>?)(?P<target>.*)$")
_STOP_WAIT_SHUTDOWNS = 20     # Stop-VM waits up to this many shutdown_seconds (as the executor does)


def _implemented(cmdlet: str) -> bool:
    """The interpreter runs this cmdlet (a query, a special form or a model change)."""
    return cmdlet in QUERIES or cmdlet in _SPECIAL or cmdlet in HOST_HANDLERS or cmdlet in OS_HANDLERS


class ScriptTerminated(Exception):
    """A script-terminating error: -ErrorAction Stop, $ErrorActionPreference Stop, or throw."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(record.error.message)
        self.record = record


class ScriptExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _LoopBreak(Exception):
    pass


class _LoopContinue(Exception):
    pass


class _Return(Exception):
    pass


class _StatementFailed(Exception):
    """A statement-terminating error (binding, command not found): the statement ends, the script goes on."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(record.error.message)
        self.record = record


@dataclass
class ErrorRecord:
    error: PSError
    line: int = 1
    char: int = 1
    line_text: str = ""
    extent: int | None = None
    computer: str | None = None      # PSComputerName of an error that came back from PowerShell Direct

    def lines(self) -> list[str]:
        return error_record_lines(self.error, self.line_text, self.line, self.char, self.extent, self.computer)

    def as_object(self) -> ObjectRef:
        """$_ in a catch block: the ErrorRecord with its Exception."""
        exception = ObjectRef("Exception", self.error, properties={"Message": self.error.message})
        return ObjectRef("ErrorRecord", self, properties={
            "Exception": exception, "FullyQualifiedErrorId": self.error.fully_qualified_id(),
            "CategoryInfo": f"{self.error.category}: ({self.error.target}:String) [{self.error.command}], "
                            f"{self.error.exception_type.rsplit('.', 1)[-1]}",
            "TargetObject": self.error.target or None})


@dataclass
class Context:
    """Where commands run: a host's own OS (os_state None), or a guest reached by PowerShell Direct."""

    session: Session
    os_state: OSState | None = None
    rights: Rights | None = None
    fault_host: str | None = None
    computer: str | None = None        # set inside PowerShell Direct: the VM name errors carry

    @property
    def effective_os(self) -> OSState:
        return self.os_state or self.session.host.os_state

    @property
    def effective_rights(self) -> Rights:
        return self.rights or self.session.rights

    @property
    def computer_name(self) -> str:
        if self.os_state is None:
            return self.session.computer_name
        return (self.computer or "").upper()[:15]


@dataclass
class RunResult:
    output: list[Any] = field(default_factory=list)          # the output stream, in order
    console: list[Any] = field(default_factory=list)         # output objects and HostLines, in order
    errors: list[ErrorRecord] = field(default_factory=list)  # every error record written
    warnings: list[str] = field(default_factory=list)
    terminated: ErrorRecord | None = None                    # what ended the script, if anything did
    exit_code: int | None = None                             # `exit N`
    last_ok: bool = True                                     # $? after the last statement
    last_exit_code: int | None = None                        # $LASTEXITCODE
    variables: dict[str, Any] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)         # PowerShell modules the script loaded, in order

    @property
    def rc(self) -> int:
        """powershell.exe's exit code: `exit N`, 1 after a terminating error or when the last statement failed."""
        if self.exit_code is not None:
            return self.exit_code
        if self.terminated is not None or not self.last_ok:
            return 1
        return 0


@dataclass(frozen=True)
class ScriptBlock:
    script: Script
    node: Node               # script_block_expression

    @property
    def text(self) -> str:
        return self.script.text(self.node)[1:-1]


@dataclass(frozen=True)
class TypeName:
    name: str


class Interpreter:
    """Runs one script to the end (one powershell.exe, or one runspace)."""

    def __init__(self, context: Context, error_action: str = "Continue",
                 variables: dict[str, Any] | None = None) -> None:
        self.ctx = context
        self.result = RunResult()
        self.vars: dict[str, Any] = {"erroractionpreference": error_action}
        for name, value in (variables or {}).items():
            self.vars[name.lower()] = value
        self.script: Script | None = None
        self._errors_written = 0          # error records written so far, shown or not ($? turns false)
        self._last_ok = True

    # ----------------------------------------------------------------------------- running

    def run(self, text: str, parameters: dict[str, Any] | None = None, arguments: list[Any] | None = None) -> RunResult:
        try:
            self.script = parse(text)
        except PSError as error:
            self.result.terminated = ErrorRecord(error)
            self.result.errors.append(self.result.terminated)
            return self.result
        try:
            self._bind_script_parameters(self.script.root, parameters or {}, arguments or [])
            self._statements(self._child(self.script.root, "statement_list"))
        except ScriptTerminated as stop:
            self.result.terminated = stop.record
            if stop.record not in self.result.errors:
                self.result.errors.append(stop.record)
        except ScriptExit as done:
            self.result.exit_code = done.code
        except NotInterpreted as error:
            line = error.line or 1
            lines = self.script.lines
            record = ErrorRecord(PSError(str(error), "NotImplemented", "HvsimNotInterpreted",
                                         "System.NotImplementedException"), line, 1,
                                 lines[line - 1] if line <= len(lines) else "", computer=self.ctx.computer)
            self.result.terminated = record
            self.result.errors.append(record)
        except (_LoopBreak, _LoopContinue, _Return):
            pass
        self.result.variables = self.vars
        self.result.last_exit_code = self.vars.get("lastexitcode")
        return self.result

    def _bind_script_parameters(self, root: Node, parameters: dict[str, Any], arguments: list[Any]) -> None:
        block = self._child(root, "param_block")
        names: list[tuple[str, Node | None]] = []
        if block is not None:
            for param in self._descendants(block, "script_parameter"):
                variable = self._child(param, "variable")
                default = self._child(param, "script_parameter_default")
                if variable is not None:
                    names.append((self._var_name(variable), default))
        given = {k.lower(): v for k, v in parameters.items()}
        for index, (name, default) in enumerate(names):
            if name in given:
                self.vars[name] = given.pop(name)
            elif index < len(arguments):
                self.vars[name] = arguments[index]
            elif default is not None:
                self.vars[name] = self._eval(default.children[-1])
            else:
                self.vars[name] = None
        if given:
            unknown = next(iter(parameters))
            raise ScriptTerminated(ErrorRecord(PSError(
                f"A parameter cannot be found that matches parameter name '{unknown}'.", "InvalidArgument",
                "NamedParameterNotFound", "System.Management.Automation.ParameterBindingException")))
        self.vars["args"] = list(arguments[len(names):])

    # ----------------------------------------------------------------------------- statements

    def _statements(self, node: Node | None) -> None:
        if node is None:
            return
        for child in node.named_children:
            if child.type in ("empty_statement", "comment"):
                continue
            self._statement(child)

    def _statement(self, node: Node) -> None:
        try:
            if node.type == "pipeline":
                self._emit_all(self._pipeline(node))
            elif node.type == "if_statement":
                self._if(node)
            elif node.type == "foreach_statement":
                self._foreach(node)
            elif node.type == "flow_control_statement":
                self._flow(node)
            elif node.type == "try_statement":
                self._try(node)
            elif node.type == "statement_block":
                self._statements(self._child(node, "statement_list"))
            else:
                raise NotInterpreted(f"the {node.type.replace('_', ' ')}", self._line(node))
        except _StatementFailed as failed:
            self._write_error(failed.record, statement_terminating=True)

    def _if(self, node: Node) -> None:
        condition = self._child(node, "pipeline")
        if self._truthy(self._collect(condition)):
            self._statements(self._child(self._child(node, "statement_block"), "statement_list"))
            return
        elseifs = self._child(node, "elseif_clauses")
        for clause in (elseifs.named_children if elseifs is not None else []):
            if self._truthy(self._collect(self._child(clause, "pipeline"))):
                self._statements(self._child(self._child(clause, "statement_block"), "statement_list"))
                return
        otherwise = self._child(node, "else_clause")
        if otherwise is not None:
            self._statements(self._child(self._child(otherwise, "statement_block"), "statement_list"))

    def _foreach(self, node: Node) -> None:
        variable = self._var_name(self._child(node, "variable"))
        items = self._as_list(self._collect(self._child(node, "pipeline")))
        body = self._child(self._child(node, "statement_block"), "statement_list")
        for item in items:
            self.vars[variable] = item
            try:
                self._statements(body)
            except _LoopContinue:
                continue
            except _LoopBreak:
                break

    def _flow(self, node: Node) -> None:
        keyword = self.script_text(node.children[0]).lower()
        value_node = self._child(node, "pipeline")
        value = self._collect(value_node) if value_node is not None else None
        if keyword == "exit":
            raise ScriptExit(int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0)
        if keyword == "throw":
            if isinstance(value, ObjectRef) and isinstance(value.target, ErrorRecord):
                raise ScriptTerminated(value.target)     # `throw $_` in a catch block rethrows
            message = str(value) if value is not None else "ScriptHalted"
            record = self._record(PSError(message, "OperationStopped", message if value is not None else "ScriptHalted",
                                          "System.Management.Automation.RuntimeException"), node)
            raise ScriptTerminated(record)
        if keyword == "return":
            if value is not None:
                self._emit_all(self._as_list(value))
            raise _Return()
        if keyword == "break":
            raise _LoopBreak()
        if keyword == "continue":
            raise _LoopContinue()
        raise NotInterpreted(f"the '{keyword}' statement", self._line(node))

    def _try(self, node: Node) -> None:
        blocks = [c for c in node.named_children if c.type == "statement_block"]
        catches = self._child(node, "catch_clauses")
        final = self._child(node, "finally_clause")
        try:
            self._statements(self._child(blocks[0], "statement_list"))
        except ScriptTerminated as stop:
            clause = catches.named_children[0] if catches is not None and catches.named_children else None
            if clause is None:
                raise
            if self._child(clause, "catch_type_list") is not None:
                raise NotInterpreted("typed catch clauses", self._line(clause)) from None
            saved = self.vars.get("_")
            self.vars["_"] = stop.record.as_object()
            try:
                self._statements(self._child(self._child(clause, "statement_block"), "statement_list"))
            finally:
                self.vars["_"] = saved
        finally:
            if final is not None:
                self._statements(self._child(self._child(final, "statement_block"), "statement_list"))

    # ----------------------------------------------------------------------------- pipelines

    def _pipeline(self, node: Node) -> list[Any]:
        """The objects a pipeline writes (an assignment writes none)."""
        assignment = self._child(node, "assignment_expression")
        if assignment is not None:
            self._assign(assignment)
            return []
        chain = self._child(node, "pipeline_chain")
        if chain is None:
            inner = node.named_children
            if len(inner) == 1 and inner[0].type == "command":
                return self._run_pipeline([inner[0]])
            if len(inner) == 1:
                return self._expression_output(inner[0])
            raise NotInterpreted("this pipeline", self._line(node))
        elements = [c for c in chain.named_children if c.type != "comment"]
        for child in chain.children:
            if self.script_text(child) in ("&&", "||"):
                raise NotInterpreted("pipeline chain operators (&&, ||: PowerShell 7 only)", self._line(child))
        return self._run_pipeline(elements)

    def _run_pipeline(self, elements: list[Node]) -> list[Any]:
        # PowerShell finds every command of a pipeline before it runs any of them.
        for element in elements:
            if element.type == "command":
                self._check_command(element)
        items: Any = NO_INPUT
        self.vars["?"] = True
        errors_before = self._errors_written
        ok = True
        for index, element in enumerate(elements):
            if element.type == "command":
                items, stage_ok = self._command(element, items)
                ok = ok and stage_ok
            elif index == 0:
                items = self._expression_output(element)
            else:
                raise NotInterpreted("an expression after '|'", self._line(element))
        self._last_ok = ok and self._errors_written == errors_before
        return [] if items is NO_INPUT else list(items)

    def _expression_output(self, node: Node) -> list[Any]:
        value = self._eval(node)
        if isinstance(value, _Discard):
            return []
        return self._as_list(value) if isinstance(value, list) else [value]

    def _emit_all(self, values: list[Any]) -> None:
        ok = getattr(self, "_last_ok", True)
        self._last_ok = True
        for value in values:
            if value is None:
                continue
            self.result.output.append(value)
            self.result.console.append(value)
        self.result.last_ok = ok
        self.vars["?"] = ok

    def _collect(self, node: Node | None) -> Any:
        """A pipeline's or expression's value as an expression sees it: $null, one object or an array."""
        if node is None:
            return None
        expression = self._lone_expression(node)
        if expression is not None:
            # An expression's value is kept as it is: `$a = @('x')` is an array of one, `@()` an empty
            # array, `$b = $a` the same array (about_Arrays, about_Assignment_Operators); only a
            # command pipeline's output is unrolled to one object or $null below.
            value = self._eval(expression)
            return None if isinstance(value, _Discard) else value
        values = self._pipeline(node) if node.type == "pipeline" else self._expression_output(node)
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _lone_expression(self, node: Node) -> Node | None:
        """The expression a pipeline consists of (no command, no assignment), else None."""
        if node.type != "pipeline":
            return node
        if self._child(node, "assignment_expression") is not None:
            return None
        chain = self._child(node, "pipeline_chain")
        children = [c for c in (chain or node).named_children if c.type != "comment"]
        if len(children) != 1 or children[0].type == "command":
            return None
        return children[0]

    def _assign(self, node: Node) -> None:
        target = self._unwrap(self._child(node, "left_assignment_expression"))
        operator = self.script_text(self._child(node, "assignement_operator")).strip()
        value = self._collect(self._child(node, "pipeline"))
        if operator == "+=":
            value = self._binary("+", self._eval(target), value)
        elif operator == "-=":
            value = self._binary("-", self._eval(target), value)
        elif operator != "=":
            raise NotInterpreted(f"the '{operator}' assignment", self._line(node))
        self._store(target, value)

    def _store(self, target: Node, value: Any) -> None:
        if target.type == "variable":
            name = self._var_name(target)
            if name == "null":
                return
            self.vars[name] = value
        elif target.type == "member_access":
            owner = self._eval(target.named_children[0])
            member = self.script_text(target.named_children[-1])
            if isinstance(owner, dict):
                owner[self._key(owner, member)] = value
            elif isinstance(owner, AnsibleObject):
                owner.set(member, value)
            else:
                raise NotInterpreted(f"setting the property {member} of this object", self._line(target))
        elif target.type == "element_access":
            owner = self._eval(target.named_children[0])
            key = self._eval(target.named_children[1])
            if isinstance(owner, dict):
                owner[key] = value
            elif isinstance(owner, list) and isinstance(key, int):
                owner[key] = value
            else:
                raise NotInterpreted("this element assignment", self._line(target))
        elif target.type == "cast_expression":
            self._store(self._unwrap(target.named_children[-1]), value)
        else:
            raise NotInterpreted(f"assigning to a {target.type.replace('_', ' ')}", self._line(target))

    # ----------------------------------------------------------------------------- commands

    def _command(self, node: Node, pipeline_input: Any) -> tuple[Any, bool]:
        """(the objects a command writes, whether it wrote no error)."""
        name_node = self._child(node, "command_name") or self._child(node, "command_name_expr")
        operator = self._child(node, "command_invokation_operator")
        elements = self._child(node, "command_elements")
        if name_node is None:
            skipped = ("command_invokation_operator", "command_elements")
            target = next((c for c in node.named_children if c.type not in skipped), None)
            value = self._eval(target) if target is not None else None
            if isinstance(value, ObjectRef) and isinstance(value.target, ScriptBlock) and operator is not None:
                return self._invoke_block(value.target, self._plain_arguments(elements)), True
            raise NotInterpreted("invoking this expression", self._line(node))
        name = self.script_text(name_node).strip()
        if name_node.type == "command_name_expr":
            # `& <expression>`: a script block, or a name held by a string or a variable.
            inner = name_node.named_children[0] if name_node.named_children else name_node
            if inner.type == "path_command_name" and inner.named_children:
                inner = inner.named_children[0]
            value = self._eval(inner) if inner.type in ("script_block_expression", "variable", "string_literal") \
                else self.script_text(inner)
            if isinstance(value, ObjectRef) and isinstance(value.target, ScriptBlock):
                return self._invoke_block(value.target, self._plain_arguments(elements)), True
            name = str(value).strip()
        return self._invoke(name, node, elements, pipeline_input)

    def _check_command(self, node: Node) -> None:
        name_node = self._child(node, "command_name")
        if name_node is not None:
            self._resolve(self.script_text(name_node).strip().strip("'\""), node)

    def _resolve(self, name: str, node: Node) -> tuple[str | None, str]:
        """(module qualifier, cmdlet) of a command name, or (None, name) for a native program."""
        qualified = name.split("\\")
        module, bare = (qualified[0], qualified[1]) if len(qualified) == 2 and not name.lower().endswith(".exe") \
            else (None, name)
        if native.is_native(bare):
            return None, bare
        try:
            cmdlet = resolve_cmdlet(ALIASES.get(bare.lower(), bare))
        except PSError:
            if bare.lower() in KNOWN_UNINTERPRETED:
                raise NotInterpreted(f"the command '{bare}'", self._line(node)) from None
            raise _StatementFailed(self._record(command_not_found(name), node)) from None
        if module is not None and module.lower() != module_of(cmdlet).lower():
            raise _StatementFailed(self._record(command_not_found(name), node))
        if cmdlet.lower() in KNOWN_UNINTERPRETED and not _implemented(cmdlet):
            # A documented cmdlet (cmdlets.json has its signature) outside the interpreted subset:
            # refused when the pipeline is checked, before any part of it runs.
            raise NotInterpreted(f"the command '{bare}'", self._line(node))
        return module, cmdlet

    def _invoke(self, name: str, node: Node, elements: Node | None, pipeline_input: Any) -> tuple[Any, bool]:
        _module, cmdlet = self._resolve(name, node)
        if native.is_native(cmdlet):
            return self._native(cmdlet, node, elements)
        named, positional, redirections = self._arguments(cmdlet, elements)
        return self._run_cmdlet(cmdlet, node, named, positional, pipeline_input, redirections)

    def _arguments(self, cmdlet: str | None, elements: Node | None
                   ) -> tuple[list[NamedArgument], list[Any], list[str]]:
        """Named arguments (a switch gets NO_VALUE), positional ones, and redirections of a command."""
        named: list[NamedArgument] = []
        positional: list[Any] = []
        redirections: list[str] = []
        if elements is None:
            return named, positional, redirections
        nodes = list(elements.children)
        index = 0
        while index < len(nodes):
            child = nodes[index]
            index += 1
            if child.type == "command_argument_sep":
                continue
            if child.type == "redirection":
                redirections.append(self.script_text(child).replace(" ", ""))
                continue
            if child.type == "generic_token" and _REDIRECTION.match(self.script_text(child)) \
                    and self.script_text(child)[:1] in "12345*>":
                redirections.append(self.script_text(child))
                continue
            if child.type == "command_parameter":
                given = self.script_text(child)[1:]
                colon = given.endswith(":")
                given = given.rstrip(":")
                if index < len(nodes) and nodes[index].type == "command_argument_sep" \
                        and self.script_text(nodes[index]) == ":":
                    colon = True
                    index += 1
                is_switch = False
                if cmdlet is not None and not colon:
                    try:
                        canonical = resolve_parameter(cmdlet, given)
                    except PSError as error:
                        raise _StatementFailed(self._record(error, child)) from None
                    is_switch = is_switch_parameter(cmdlet, canonical)
                if is_switch:
                    named.append(NamedArgument(given, NO_VALUE))
                    continue
                value_node = self._next_value(nodes, index)
                if value_node is None:
                    named.append(NamedArgument(given, NO_VALUE))
                    continue
                index = nodes.index(value_node) + 1
                value, index = self._joined_value(value_node, nodes, index)
                named.append(NamedArgument(given, value))
                continue
            value, index = self._joined_value(child, nodes, index)
            positional.append(value)
        return named, positional, redirections

    def _joined_value(self, node: Node, nodes: list[Node], index: int) -> tuple[Any, int]:
        """An argument's value; `A,B` (barewords joined by a comma) is one array, as in PowerShell."""
        value = self._argument_value(node)
        items: list[Any] | None = None
        while index + 1 < len(nodes) and nodes[index].type == "command_argument_sep" \
                and not self.script_text(nodes[index]).strip() and not self.script_text(nodes[index]) \
                and nodes[index + 1].type == "generic_token" and self.script_text(nodes[index + 1]).startswith(","):
            items = items if items is not None else self._as_list(value)
            rest = self.script_text(nodes[index + 1])[1:]
            items.extend(self._bareword(part) for part in rest.split(",") if part)
            index += 2
        return (items if items is not None else value), index

    def _next_value(self, nodes: list[Node], index: int) -> Node | None:
        while index < len(nodes):
            node = nodes[index]
            if node.type == "command_argument_sep":
                index += 1
                continue
            if node.type in ("command_parameter", "redirection"):
                return None
            return node
        return None

    def _argument_value(self, node: Node) -> Any:
        """An argument in command mode: a bareword is a string unless it reads as a number."""
        if node.type == "generic_token":
            return self._bareword(self.script_text(node))
        value = self._eval(node)
        return value

    def _bareword(self, text: str) -> Any:
        number = self._number(text)
        if number is not None:
            return number
        if "," in text and not any(q in text for q in "'\"$"):
            return [self._bareword(part) for part in text.split(",") if part]
        return self._expand(text, bareword=True)

    def _plain_arguments(self, elements: Node | None) -> list[Any]:
        named, positional, _redirections = self._arguments(None, elements)
        if named:
            raise NotInterpreted("named arguments to a script block", None)
        return positional

    def _run_cmdlet(self, cmdlet: str, node: Node, named: list[NamedArgument], positional: list[Any],
                    pipeline_input: Any, redirections: list[str]) -> tuple[Any, bool]:
        error_action = self._error_action(cmdlet, named)
        if pipeline_input is NO_INPUT:
            records: list[Any] = [NO_INPUT]
        else:
            records = list(pipeline_input)
            if not records:
                return [], True
        output: list[Any] = []
        ok = True
        self._charge_cmdlet(cmdlet)
        if cmdlet in _STREAMING:
            # Bound once from the command line; the objects go to the cmdlet's process block one by one.
            if cmdlet == "ForEach-Object" and len(positional) > 1:
                # Script blocks after the first go to RemainingScripts (ValueFromRemainingArguments).
                named = [*named, NamedArgument("RemainingScripts", positional[1:])]
                positional = positional[:1]
            try:
                bound = bind_invocation(cmdlet, named, positional)
            except PSError as error:
                raise _StatementFailed(self._record(error, node)) from None
            inputs = [bound.get("InputObject")] if pipeline_input is NO_INPUT else records
            return _STREAMING[cmdlet](self, bound, inputs, node), True
        for item in records:
            try:
                bound = bind_invocation(cmdlet, named, positional, item)
            except PSError as error:
                if item is NO_INPUT or error.error_id in ("NamedParameterNotFound", "AmbiguousParameter",
                                                          "ParameterAlreadyBound", "MissingArgument",
                                                          "PositionalParameterNotFound"):
                    raise _StatementFailed(self._record(error, node)) from None
                ok = False
                self._write_error(self._record(error, node), error_action=error_action,
                                  redirections=redirections)
                continue
            try:
                output.extend(self._execute(cmdlet, bound, node))
            except PSError as error:
                ok = False
                self._write_error(self._record(error, node), error_action=error_action,
                                  redirections=redirections)
        if any(r.replace(" ", "") in (">$null", "1>$null", "*>$null") for r in redirections):
            output = []
        return output, ok

    def _error_action(self, cmdlet: str, named: list[NamedArgument]) -> str:
        for argument in named:
            lowered = argument.given.lower()
            if lowered in ("ea", "erroraction") or ("erroraction".startswith(lowered) and len(lowered) > 5):
                return str(argument.value)
        return str(self.vars.get("erroractionpreference") or "Continue")

    def _charge_cmdlet(self, cmdlet: str) -> None:
        """Charge the host for the cmdlet (and for loading its module the first time): costs.py."""
        module = module_of(cmdlet)
        items = [(costs.cmdlet_key(cmdlet), 1)]
        if module not in self.result.modules:
            self.result.modules.append(module)
            imported = costs.import_key(module)
            if imported is not None:
                items.insert(0, (imported, 1))
        self.ctx.session.charge(cmdlet, items)

    def _write_error(self, record: ErrorRecord, statement_terminating: bool = False,
                     error_action: str | None = None, redirections: list[str] | None = None) -> None:
        action = (error_action or str(self.vars.get("erroractionpreference") or "Continue")).lower()
        self._errors_written += 1
        self._last_ok = False
        self.result.last_ok = False
        self.vars["?"] = False
        if action == "stop":
            raise ScriptTerminated(record)
        if statement_terminating and str(self.vars.get("erroractionpreference") or "").lower() == "stop":
            raise ScriptTerminated(record)
        if action in ("silentlycontinue", "ignore"):
            return
        if redirections and any(r.replace(" ", "") in ("2>$null", "*>$null") for r in redirections):
            return
        self.result.errors.append(record)

    def _record(self, error: PSError, node: Node | None) -> ErrorRecord:
        if node is None or self.script is None:
            return ErrorRecord(error, computer=self.ctx.computer)
        line, char = self.script.position(node)
        extent = len(self.script_text(node).splitlines()[0]) if self.script_text(node) else None
        return ErrorRecord(error, line, char, self.script.line_of(node), extent, self.ctx.computer)

    # ----------------------------------------------------------------------------- cmdlet bodies

    def _execute(self, cmdlet: str, bound: Bound, node: Node) -> list[Any]:
        session = self.ctx.session
        if cmdlet in QUERIES:
            if self.ctx.os_state is not None and cmdlet in HOST_QUERIES:
                raise command_not_found(cmdlet)
            with session.lock:
                session.refresh()
                admit(session, cmdlet, self.ctx.os_state, self.ctx.fault_host, self.ctx.rights)
                try:
                    return list(QUERIES[cmdlet](session, self.ctx.effective_os, bound))
                except HyperVError as error:
                    raise as_ps_error(error, cmdlet) from None
        special = _SPECIAL.get(cmdlet)
        if special is not None:
            return special(self, bound, node)
        if cmdlet in HOST_HANDLERS or cmdlet in OS_HANDLERS:
            return self._change(cmdlet, bound)
        raise NotInterpreted(f"the cmdlet {cmdlet}", self._line(node))

    def _change(self, cmdlet: str, bound: Bound) -> list[Any]:
        session = self.ctx.session
        if bound.common.get("WhatIf") or bound.values.get("WhatIf"):
            return []
        with session.lock:
            session.refresh()
            if cmdlet in ("Start-VM", "Stop-VM") and self.ctx.os_state is None:
                skipped = self._already_there(cmdlet, bound)
                if skipped is not None:
                    return skipped
            changed = run_bound(session, bound, self.ctx.os_state, self.ctx.fault_host, self.ctx.rights)
            now = session.clock()
            waiting = cmdlet == "Stop-VM" and not any(bound.get(k) for k in ("TurnOff", "Save", "AsJob"))
            objects = self._objects_of(cmdlet, changed, now)
        if waiting:
            self._wait_off([vm for vm in changed if isinstance(vm, VM)])
        if cmdlet.startswith(("New-", "Add-")) or bound.get("Passthru") or bound.get("PassThru"):
            return objects
        return []

    def _already_there(self, cmdlet: str, bound: Bound) -> list[Any] | None:
        """Start-VM of a running VM, Stop-VM of an Off one: Hyper-V warns and does nothing."""
        vms = select_vms(self.ctx.session, bound, "Name")
        wanted = "Running" if cmdlet == "Start-VM" else "Off"
        if vms and all(vm.state == wanted for vm in vms):
            for vm in vms:
                self.result.warnings.append(f"The virtual machine '{vm.name}' is already in the specified state.")
            return []
        return None

    def _objects_of(self, cmdlet: str, changed: list[Any], now: float) -> list[Any]:
        host = self.ctx.session.host
        objects: list[Any] = []
        for item in changed:
            if isinstance(item, VM):
                objects.append(psobjects.vm_object(host, item, now))
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], VM):
                vm, adapter = item
                objects.append(psobjects.adapter_object(host, vm, adapter, vm.state == "Running"))
            elif isinstance(item, tuple) and len(item) == 2:
                objects.extend(psobjects.ip_address_objects(item[0], str(item[1])))
            elif type(item).__name__ == "Switch":
                objects.append(psobjects.switch_object(item))
            elif type(item).__name__ == "Nat":
                objects.append(psobjects.nat_object(item))
            elif type(item).__name__ == "StaticMapping":
                objects.append(psobjects.static_mapping_object(item))
            elif type(item).__name__ == "NetAdapter":
                objects.append(psobjects.net_adapter_object(item))
        return objects

    def _wait_off(self, vms: list[VM]) -> None:
        """Stop-VM returns once the guest has shut down (the shutdown itself is the model's timer)."""
        session = self.ctx.session
        timeout = max(1.0, _STOP_WAIT_SHUTDOWNS * session.world.timing["shutdown_seconds"])
        deadline = time.monotonic() + timeout
        for vm in vms:
            while True:
                with session.lock:
                    session.refresh()
                    if vm.state == "Off":
                        break
                if time.monotonic() >= deadline:
                    raise PSError(f"'{vm.name}' failed to shut down: the guest operating system did not respond "
                                  "within the time allowed.", "OperationTimeout", "OperationTimeout",
                                  "Microsoft.HyperV.PowerShell.VirtualizationException", command="Stop-VM")
                session.sleep()

    def _install_windows_feature(self, bound: Bound, node: Node) -> list[Any]:
        session = self.ctx.session
        if self.ctx.os_state is not None:
            raise NotInterpreted("Install-WindowsFeature inside a guest that is not a simulated host", self._line(node))
        if session.host.os_state.os.get("product_type") == "client":
            raise command_not_found("Install-WindowsFeature")
        names = [str(n) for n in (bound.get("Name") or [])]
        unknown = [n for n in names if n.lower() not in features.HYPERV_FEATURES | features.TOOLS]
        if unknown:
            raise PSError(f"ArgumentNotValid: The role, role service, or feature name is not valid: '{unknown[0]}'. "
                          "The name was not found.", "InvalidArgument",
                          "NameDoesNotExist,Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand",
                          "System.Exception", target=unknown[0])
        if not self.ctx.effective_rights.administrator:
            raise PSError("The requested operation requires elevation.", "PermissionDenied",
                          "Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand",
                          "System.UnauthorizedAccessException")
        what_if = bool(bound.common.get("WhatIf") or bound.values.get("WhatIf"))
        self.ctx.session.charge("Install-WindowsFeature", [("feature:install", 1)])
        with session.lock:
            session.refresh()
            admit(session, "Install-WindowsFeature", None, self.ctx.fault_host, self.ctx.rights)
            wants_hyperv = any(n.lower() in features.HYPERV_FEATURES for n in names)
            changed, restart, error = features.enable_hyperv(session, what_if) if wants_hyperv else (False, False, None)
            if error:
                raise PSError(f"A prerequisite check for the Hyper-V feature failed.\r\n1. {error}",
                              "InvalidOperation",
                              "Alteration_PrerequisiteCheck_Failed,Microsoft.Windows.ServerManager.Commands."
                              "AddWindowsFeatureCommand", "System.Exception")
            installed = ["Hyper-V"] if changed else []
            if changed and bound.get("IncludeManagementTools"):
                installed += ["Hyper-V Module for Windows PowerShell", "Hyper-V GUI Management Tools"]
            result = psobjects.feature_result_object(
                True, "Yes" if changed and restart else "No",
                "SuccessRestartRequired" if changed and restart else ("Success" if changed else "NoChangeNeeded"),
                installed)
            if restart and not what_if:
                if bound.get("Restart"):
                    _restart_soon(session)
                else:
                    self.result.warnings.append("You must restart this server to finish the installation process.")
        return [result]

    def _invoke_command(self, bound: Bound, node: Node) -> list[Any]:
        block = bound.get("ScriptBlock")
        if not isinstance(block, ObjectRef) or not isinstance(block.target, ScriptBlock):
            raise NotInterpreted("Invoke-Command without a literal script block", self._line(node))
        arguments = list(bound.get("ArgumentList") or [])
        if bound.parameter_set == "InProcess":
            return self._invoke_block(block.target, arguments)
        if bound.parameter_set != "VMName":
            raise NotInterpreted(f"Invoke-Command's {bound.parameter_set} parameter set (only -VMName, PowerShell "
                                 "Direct, and script blocks run in process are simulated)", self._line(node))
        credential = bound.get("Credential")
        if credential is None:
            raise PSError("Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not "
                          "available.", "InvalidOperation", "System.Management.Automation.PSInvalidOperationException",
                          "System.Management.Automation.PSInvalidOperationException", command="Invoke-Command")
        username, password = credential.target
        output: list[Any] = []
        for name in bound.get("VMName") or []:
            output.extend(self._powershell_direct(str(name), username, password, block.target, arguments))
        return output

    def _powershell_direct(self, vm_name: str, username: str, password: str, block: ScriptBlock,
                           arguments: list[Any]) -> list[Any]:
        from .executor import OpFailed, check_powershell_direct
        session = self.ctx.session
        if self.ctx.os_state is not None:
            raise NotInterpreted("PowerShell Direct from inside a guest", None)
        self.ctx.session.charge("PowerShell Direct", [("powershell_direct:session", 1)])
        with session.lock:
            session.refresh()
            admit(session, "Get-VM", None, self.ctx.fault_host, self.ctx.rights)
            matches = [vm for vm in session.host.vms if vm.name.lower() == vm_name.lower()]
            if len(matches) != 1:
                raise PSError(f"The input VMName {vm_name} does not resolve to a single virtual machine.",
                              "InvalidArgument", "InvalidVMNameNotSingle,Microsoft.PowerShell.Commands."
                              "InvokeCommandCommand", "System.ArgumentException", target=vm_name)
            vm = matches[0]
            try:
                rights = check_powershell_direct(session, vm, username, password)
            except OpFailed as failed:
                raise PSError(str(failed), "InvalidOperation", "PSSessionOpenFailed",
                              "System.Management.Automation.Remoting.PSRemotingTransportException",
                              target=vm.name) from None
        if vm.nested_host is not None:
            inner = Context(session=_nested_session(session, vm), rights=rights, computer=vm.name)
        else:
            inner = Context(session=session, os_state=vm.guest, rights=rights, computer=vm.name,
                            fault_host=vm.inventory_name or vm.name)
        remote = Interpreter(inner, error_action=str(self.vars.get("erroractionpreference") or "Continue"))
        result = remote.run(block.text, arguments=arguments)
        for record in result.errors:
            record.computer = vm.name
            if record is result.terminated:
                continue
            self._write_error(record)
        self.result.warnings.extend(result.warnings)
        if result.terminated is not None:
            result.terminated.computer = vm.name
            self._write_error(result.terminated)
        return [self._with_computer(value, vm.name) for value in result.output]

    def _with_computer(self, value: Any, computer: str) -> Any:
        if isinstance(value, ObjectRef):
            return ObjectRef(value.type_name, value.target, value.bases,
                             {**value.properties, "PSComputerName": computer})
        return value

    def _invoke_block(self, block: ScriptBlock, arguments: list[Any]) -> list[Any]:
        inner = Interpreter(self.ctx, error_action=str(self.vars.get("erroractionpreference") or "Continue"),
                            variables=dict(self.vars))
        result = inner.run(block.text, arguments=arguments)
        for record in result.errors:
            if record is not result.terminated:
                self._write_error(record)
        self.result.warnings.extend(result.warnings)
        self.result.console.extend(c for c in result.console if isinstance(c, HostLine))
        if result.terminated is not None:
            raise ScriptTerminated(result.terminated)
        return result.output

    def _convertto_securestring(self, bound: Bound, node: Node) -> list[Any]:
        if bound.parameter_set != "PlainText":
            raise NotInterpreted("ConvertTo-SecureString of an encrypted string", self._line(node))
        if not bound.get("AsPlainText"):
            raise NotInterpreted("ConvertTo-SecureString without -AsPlainText", self._line(node))
        if not bound.get("Force"):
            raise PSError("The system cannot protect plain text input. To suppress this warning and convert the "
                          "plain text to a SecureString, reissue the command specifying the Force parameter. For "
                          "more information ,type: get-help ConvertTo-SecureString.", "InvalidArgument",
                          "ImportSecureString_ForceRequired,Microsoft.PowerShell.Commands."
                          "ConvertToSecureStringCommand", "System.ArgumentException", command="ConvertTo-SecureString")
        return [psobjects.secure_string(str(bound.get("String")))]

    def _new_object(self, bound: Bound, node: Node) -> list[Any]:
        type_name = str(bound.get("TypeName") or "")
        if type_name.lower() in ("system.management.automation.pscredential", "pscredential"):
            return [self._credential(list(bound.get("ArgumentList") or []), node)]
        if type_name.lower() in ("psobject", "pscustomobject", "system.management.automation.psobject") \
                and bound.has("Property"):
            return [psobjects.custom_object(dict(bound.get("Property")))]
        raise NotInterpreted(f"New-Object -TypeName {type_name}", self._line(node))

    def _credential(self, arguments: list[Any], node: Node | None) -> ObjectRef:
        if len(arguments) != 2 or not isinstance(arguments[1], ObjectRef) or arguments[1].type_name != "SecureString":
            raise PSError("Cannot find an overload for \"PSCredential\" and the argument count: "
                          f"\"{len(arguments)}\".", "InvalidOperation", "ConstructorInvokedThrowException",
                          "System.Management.Automation.MethodException")
        return psobjects.credential(str(arguments[0]), arguments[1])

    def _where_object(self, bound: Bound, inputs: list[Any], node: Node) -> list[Any]:
        kept = []
        if bound.parameter_set == "ScriptBlockSet":
            block = self._block_of(bound.get("FilterScript"), node)
            return [item for item in inputs if self._truthy(self._run_inline(block, item))]
        operator = next((f"-{name.lower()}" for name in _WHERE_OPERATORS if bound.get(name)), None)
        for item in inputs:
            value = self._member(item, str(bound.get("Property")))
            if operator is None and not bound.has("Value"):
                hit = self._truthy(value)
            elif operator in ("-is", "-isnot"):
                raise NotInterpreted("Where-Object -Is / -IsNot", self._line(node))
            elif operator in ("-in", "-notin", "-cin", "-cnotin"):
                hit = self._truthy(self._compare(operator, value, bound.get("Value")))
            else:
                hit = self._truthy(self._compare(operator or "-eq", value, bound.get("Value")))
            if hit:
                kept.append(item)
        return kept

    def _foreach_object(self, bound: Bound, inputs: list[Any], node: Node) -> list[Any]:
        output: list[Any] = []
        if bound.parameter_set == "PropertyAndMethodSet":
            member = str(bound.get("MemberName"))
            arguments = list(bound.get("ArgumentList") or [])
            for item in inputs:
                if arguments or (isinstance(item, str) and member.lower() in ("split", "toupper", "tolower", "trim")):
                    output.extend(self._as_list(self._call_method(item, member.lower(), arguments, node)))
                else:
                    output.extend(self._as_list(self._member(item, member)))
            return output
        blocks = [self._block_of(b, node) for b in self._as_list(bound.get("Process"))
                  + self._as_list(bound.get("RemainingScripts"))]
        begin = [self._block_of(bound.get("Begin"), node)] if bound.get("Begin") is not None else []
        end = [self._block_of(bound.get("End"), node)] if bound.get("End") is not None else []
        if not bound.has("Begin") and not bound.has("End") and len(blocks) > 1:
            # The documented mapping of several positional blocks: first begin, last end (3 or more).
            begin, blocks = [blocks[0]], blocks[1:]
            if len(blocks) > 1:
                blocks, end = blocks[:-1], [blocks[-1]]
        for block in begin:
            output.extend(self._run_inline(block, None))
        for item in inputs:
            for block in blocks:
                output.extend(self._run_inline(block, item))
        for block in end:
            output.extend(self._run_inline(block, None))
        return output

    def _block_of(self, value: Any, node: Node) -> ScriptBlock:
        if isinstance(value, ObjectRef) and isinstance(value.target, ScriptBlock):
            return value.target
        raise NotInterpreted("a script block that is not written in the script", self._line(node))

    def _run_inline(self, block: ScriptBlock, current: Any) -> list[Any]:
        """A script block run in the caller's scope with $_ set (Where-Object, ForEach-Object)."""
        saved_script, saved_item = self.script, self.vars.get("_")
        self.script = block.script
        self.vars["_"] = current
        self.vars["psitem"] = current
        try:
            body = self._descendant(block.node, "statement_list")
            return self._statement_values(body)
        finally:
            self.script = saved_script
            self.vars["_"] = saved_item
            self.vars["psitem"] = saved_item

    def _descendant(self, node: Node, kind: str) -> Node | None:
        return next(iter(self._descendants(node, kind)), None)

    def _out_null(self, bound: Bound, node: Node) -> list[Any]:
        return []

    def _write_output(self, bound: Bound, node: Node) -> list[Any]:
        values = bound.get("InputObject")
        return list(values) if isinstance(values, list) else [values]

    def _write_host(self, bound: Bound, node: Node) -> list[Any]:
        value = bound.get("Object")
        separator = str(bound.get("Separator") if bound.has("Separator") else " ")
        from .formatting import text
        line = separator.join(text(v) for v in value) if isinstance(value, list) else text(value)
        self.result.console.append(HostLine(line))
        return []

    def _native(self, name: str, node: Node, elements: Node | None) -> tuple[Any, bool]:
        arguments: list[str] = []
        redirections: list[str] = []
        for child in (elements.children if elements is not None else []):
            if child.type == "command_argument_sep":
                continue
            text = self.script_text(child)
            redirected = child.type == "generic_token" and _REDIRECTION.match(text) and text[:1] in "12345*>"
            if child.type == "redirection" or redirected:
                redirections.append(text)
                continue
            value = self._eval(child) if child.type != "generic_token" else self._expand(text, bareword=True)
            arguments.extend(str(v) for v in (value if isinstance(value, list) else [value]))
        self.ctx.session.charge(name, [("process:native", 1)])   # netsh, hostname
        with self.ctx.session.lock:
            self.ctx.session.refresh()
            done = native.run(name, arguments, self.ctx.effective_os, self.ctx.effective_rights,
                              self.ctx.computer_name)
            self.ctx.session.changed()
        self.vars["lastexitcode"] = done.rc
        # A native program's stdout reaches PowerShell as strings, one per line (`$x = netsh ...` keeps them).
        lines = done.stdout.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        quiet = any(r.replace(" ", "") in (">$null", "1>$null", "*>$null") for r in redirections)
        return ([] if quiet else lines), done.rc == 0

    # ----------------------------------------------------------------------------- expressions

    def _eval(self, node: Node) -> Any:
        kind = node.type
        handler = getattr(self, f"_eval_{kind}", None)
        if handler is not None:
            return handler(node)
        named = node.named_children
        if kind in _PASS_THROUGH_NODES or (len(named) == 1 and len(node.children) == 1):
            if len(named) == 1 and len(node.children) == 1:
                return self._eval(named[0])
            return self._binary_chain(node)
        raise NotInterpreted(f"the expression '{self.script_text(node)[:40]}' ({kind})", self._line(node))

    def _binary_chain(self, node: Node) -> Any:
        children = [c for c in node.children if c.type != "comment"]
        if len(children) == 1:
            return self._eval(children[0])
        value = self._eval(children[0])
        index = 1
        while index + 1 < len(children):
            operator = self.script_text(children[index]).strip().lower()
            right_node = children[index + 1]
            if operator in ("-and", "-or"):
                if operator == "-and" and not self._truthy(value):
                    return False
                if operator == "-or" and self._truthy(value):
                    return True
                value = self._truthy(self._eval(right_node))
            else:
                value = self._binary(operator, value, self._eval(right_node))
            index += 2
        return value

    def _eval_array_literal_expression(self, node: Node) -> Any:
        items = list(node.named_children)
        if len(items) == 1 and not any(self.script_text(c) == "," for c in node.children):
            return self._eval(items[0])
        return [self._eval(c) for c in items]

    def _eval_unary_expression(self, node: Node) -> Any:
        return self._eval(node.named_children[0]) if node.named_children else None

    def _eval_expression_with_unary_operator(self, node: Node) -> Any:
        first = node.children[0]
        if first.type == "cast_expression":
            return self._eval(first)
        operator = self.script_text(first).strip().lower()
        operand = self._eval(node.children[-1])
        if operator in ("-not", "!"):
            return not self._truthy(operand)
        if operator == "-":
            return -operand if isinstance(operand, (int, float)) else self._fail_operator(operator, node)
        if operator == "+":
            return operand
        if operator == ",":
            return [operand]
        if operator == "-join":
            return "".join(self._string(v) for v in self._as_list(operand))
        return self._fail_operator(operator, node)

    def _fail_operator(self, operator: str, node: Node) -> Any:
        raise NotInterpreted(f"the operator '{operator}'", self._line(node))

    def _eval_cast_expression(self, node: Node) -> Any:
        type_name = self._type_name(node.named_children[0]).lower()
        value = self._eval(node.named_children[-1])
        if type_name == "void":
            return _Discard()
        if type_name in ("string", "system.string"):
            return self._string(value)
        if type_name in ("int", "int32", "long", "int64"):
            return int(value) if not isinstance(value, str) else int(value.strip())
        if type_name in ("bool", "boolean"):
            return self._truthy(value)
        if type_name in ("array", "object[]"):
            return self._as_list(value)
        if type_name in ("pscustomobject", "ordered", "hashtable") and isinstance(value, dict):
            return psobjects.custom_object(value) if type_name == "pscustomobject" else value
        raise NotInterpreted(f"the cast [{type_name}]", self._line(node))

    def _eval_integer_literal(self, node: Node) -> Any:
        number = self._number(self.script_text(node))
        if number is None:
            raise NotInterpreted(f"the number {self.script_text(node)}", self._line(node))
        return number

    def _eval_real_literal(self, node: Node) -> Any:
        return self._eval_integer_literal(node)

    def _eval_string_literal(self, node: Node) -> Any:
        return self._eval(node.named_children[0])

    def _eval_verbatim_string_characters(self, node: Node) -> Any:
        return self.script_text(node)[1:-1].replace("''", "'")

    def _eval_verbatim_here_string_characters(self, node: Node) -> Any:
        text = self.script_text(node)
        return "\n".join(text.splitlines()[1:-1])

    def _eval_expandable_string_literal(self, node: Node) -> Any:
        return self._expand(self.script_text(node)[1:-1])

    def _eval_expandable_here_string_literal(self, node: Node) -> Any:
        return self._expand("\n".join(self.script_text(node).splitlines()[1:-1]))

    def _eval_variable(self, node: Node) -> Any:
        name = self._var_name(node)
        return self._variable(name, node)

    def _variable(self, name: str, node: Node | None) -> Any:
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "null":
            return None
        if name.startswith("env:"):
            return self._environment(name[4:])
        if name.startswith("using:"):
            name = name[6:]
        return self.vars.get(name)

    def _environment(self, name: str) -> Any:
        known = {"computername": self.ctx.computer_name, "username": self.ctx.effective_rights.username,
                 "programdata": "C:\\ProgramData", "systemroot": "C:\\Windows", "windir": "C:\\Windows"}
        return known.get(name.lower())

    def _eval_member_access(self, node: Node) -> Any:
        owner_node = node.named_children[0]
        member = self.script_text(node.named_children[-1])
        if owner_node.type == "type_literal":
            raise NotInterpreted(f"the static member [{self._type_name(owner_node)}]::{member}", self._line(node))
        return self._member(self._eval(owner_node), member)

    def _member(self, owner: Any, member: str) -> Any:
        lowered = member.lower()
        if isinstance(owner, AnsibleObject):
            return owner.get(member)
        if isinstance(owner, ObjectRef):
            try:
                return owner.property(member)
            except KeyError:
                return None
        if isinstance(owner, dict):
            key = self._key(owner, member)
            if key in owner:
                return owner[key]
            return len(owner) if lowered in ("count", "length") else None
        if isinstance(owner, list):
            if lowered in ("count", "length"):
                return len(owner)
            values = [self._member(item, member) for item in owner]
            values = [v for v in values if v is not None]
            return values[0] if len(values) == 1 else values
        if isinstance(owner, str) and lowered == "length":
            return len(owner)
        if owner is not None and lowered == "count":
            return 1
        return None

    def _eval_element_access(self, node: Node) -> Any:
        owner = self._eval(node.named_children[0])
        key = self._eval(node.named_children[1])
        if isinstance(owner, dict):
            return owner.get(self._key(owner, key) if isinstance(key, str) else key)
        if isinstance(owner, (list, str)) and isinstance(key, int):
            try:
                return owner[key]
            except IndexError:
                return None
        if owner is not None and key in (0, -1):
            return owner
        return None

    def _eval_invokation_expression(self, node: Node) -> Any:
        owner_node = node.named_children[0]
        member = self.script_text(self._child(node, "member_name")).lower()
        arguments_node = self._child(node, "argument_list")
        arguments = []
        if arguments_node is not None:
            listing = self._child(arguments_node, "argument_expression_list")
            for argument in (listing.named_children if listing is not None else []):
                arguments.append(self._eval(argument))
        if owner_node.type == "type_literal":
            type_name = self._type_name(owner_node).lower()
            if member == "new" and type_name in ("pscredential", "system.management.automation.pscredential"):
                try:
                    return self._credential(arguments, node)
                except PSError as error:
                    raise ScriptTerminated(self._record(error, node)) from None
            raise NotInterpreted(f"[{type_name}]::{member}()", self._line(node))
        return self._call_method(self._eval(owner_node), member, arguments, node)

    def _call_method(self, owner: Any, member: str, arguments: list[Any], node: Node) -> Any:
        if isinstance(owner, str):
            methods: dict[str, Callable[..., Any]] = {
                "tostring": lambda: owner, "toupper": owner.upper, "tolower": owner.lower, "trim": owner.strip,
                "contains": lambda s: str(s) in owner, "startswith": lambda s: owner.lower().startswith(str(s).lower()),
                "endswith": lambda s: owner.lower().endswith(str(s).lower()), "split": lambda s: owner.split(str(s)),
                "replace": lambda a, b: owner.replace(str(a), str(b))}
            if member in methods:
                return methods[member](*arguments)
        if member == "tostring" and not arguments:
            return self._string(owner)
        if isinstance(owner, ObjectRef) and owner.type_name == "PSCredential" and member == "getnetworkcredential":
            return ObjectRef("NetworkCredential", owner.target, properties={
                "UserName": owner.target[0], "Password": owner.target[1]})
        raise NotInterpreted(f"the method call .{member}()", self._line(node))

    def _eval_argument_expression(self, node: Node) -> Any:
        return self._eval(node.named_children[0])

    def _eval_parenthesized_expression(self, node: Node) -> Any:
        inner = self._child(node, "pipeline")
        return self._collect(inner)

    def _eval_sub_expression(self, node: Node) -> Any:
        values = self._statement_values(self._child(node, "statement_list"))
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _eval_array_expression(self, node: Node) -> Any:
        return self._statement_values(self._child(node, "statement_list"))

    def _statement_values(self, statements: Node | None) -> list[Any]:
        """The output of statements run inside $( ) or @( ): captured instead of written."""
        mark = len(self.result.output)
        console_mark = len(self.result.console)
        self._statements(statements)
        values = self.result.output[mark:]
        del self.result.output[mark:]
        self.result.console[console_mark:] = [c for c in self.result.console[console_mark:]
                                              if isinstance(c, HostLine)]
        return values

    def _eval_hash_literal_expression(self, node: Node) -> Any:
        table: dict[str, Any] = {}
        body = self._child(node, "hash_literal_body")
        for entry in (body.named_children if body is not None else []):
            if entry.type != "hash_entry":
                continue
            key_node = self._child(entry, "key_expression")
            key_inner = key_node.named_children[0] if key_node is not None and key_node.named_children else key_node
            key = self.script_text(key_inner) if key_inner is not None and key_inner.type == "simple_name" \
                else self._eval(key_inner) if key_inner is not None else ""
            table[str(key)] = self._collect(self._child(entry, "pipeline"))
        return table

    def _eval_script_block_expression(self, node: Node) -> Any:
        assert self.script is not None
        return ObjectRef("ScriptBlock", ScriptBlock(self.script, node))

    def _eval_type_literal(self, node: Node) -> Any:
        return TypeName(self._type_name(node))

    def _eval_command(self, node: Node) -> Any:
        output, _ok = self._command(node, NO_INPUT)
        return output[0] if len(output) == 1 else (None if not output else output)

    def _eval_pipeline(self, node: Node) -> Any:
        return self._collect(node)

    # ----------------------------------------------------------------------------- values

    def _binary(self, operator: str, left: Any, right: Any) -> Any:
        op = operator.lower()
        if op == "+":
            if isinstance(left, list):
                return left + self._as_list(right)
            if isinstance(left, str):
                return left + self._string(right)
            if isinstance(left, dict) and isinstance(right, dict):
                return {**left, **right}
            return (left or 0) + (right or 0)
        if op in ("-", "*", "/", "%"):
            if not all(isinstance(v, (int, float)) for v in (left, right)):
                if op == "*" and isinstance(left, str) and isinstance(right, int):
                    return left * right
                raise NotInterpreted(f"'{op}' on these values", None)
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "/":
                result = left / right
                return int(result) if result == int(result) else result
            return left % right
        if op == "-f":
            values = self._as_list(right)
            return re.sub(r"\{(\d+)\}", lambda m: self._string(values[int(m.group(1))]), str(left))
        if op == "..":
            return list(range(int(left), int(right) + 1)) if left <= right else list(range(int(left), int(right) - 1, -1))
        return self._compare(op, left, right)

    def _compare(self, operator: str, left: Any, right: Any) -> Any:
        case, base = False, operator
        if operator[:2] in ("-c", "-i") and operator[2:] in _COMPARISONS:
            case, base = operator[1] == "c", "-" + operator[2:]
        if isinstance(left, list) and base == "-join":
            return self._truthy_compare(base, left, right, case)
        if isinstance(left, list) and base in ("-replace", "-split"):
            # about_Comparison_Operators: with an array on the left, -replace and -split act on each element.
            mapped = [self._truthy_compare(base, item, right, case) for item in left]
            return [part for item in mapped for part in item] if base == "-split" else mapped
        if isinstance(left, list) and base not in ("-contains", "-notcontains", "-in", "-notin"):
            return [item for item in left if self._truthy_compare(base, item, right, case)]
        return self._truthy_compare(base, left, right, case)

    def _truthy_compare(self, operator: str, left: Any, right: Any, case: bool) -> Any:
        def norm(value: Any) -> Any:
            return value if case or not isinstance(value, str) else value.lower()

        if operator in ("-eq", "-ne"):
            equal = norm(left) == norm(self._coerce(right, left))
            return equal if operator == "-eq" else not equal
        if operator in ("-gt", "-ge", "-lt", "-le"):
            right = self._coerce(right, left)
            try:
                return {"-gt": norm(left) > norm(right), "-ge": norm(left) >= norm(right),
                        "-lt": norm(left) < norm(right), "-le": norm(left) <= norm(right)}[operator]
            except TypeError:
                return False
        if operator in ("-like", "-notlike"):
            pattern = re.compile(fnmatch.translate(str(right)), 0 if case else re.IGNORECASE)
            matched = bool(pattern.fullmatch(self._string(left)))
            return matched if operator == "-like" else not matched
        if operator in ("-match", "-notmatch"):
            found = re.search(str(right), self._string(left), 0 if case else re.IGNORECASE)
            return bool(found) if operator == "-match" else not found
        if operator in ("-contains", "-notcontains"):
            hit = any(norm(item) == norm(self._coerce(right, item)) for item in self._as_list(left))
            return hit if operator == "-contains" else not hit
        if operator in ("-in", "-notin"):
            hit = any(norm(item) == norm(self._coerce(left, item)) for item in self._as_list(right))
            return hit if operator == "-in" else not hit
        if operator == "-replace":
            pattern, replacement = (self._as_list(right) + [""])[:2]
            return re.sub(str(pattern), str(replacement), self._string(left), flags=0 if case else re.IGNORECASE)
        if operator == "-split":
            return re.split(str(right), self._string(left))
        if operator == "-join":
            return str(right).join(self._string(v) for v in self._as_list(left))
        raise NotInterpreted(f"the operator '{operator}'", None)

    def _coerce(self, value: Any, like: Any) -> Any:
        """PowerShell converts the right operand to the left operand's type."""
        if isinstance(like, bool):
            return self._truthy(value)
        if isinstance(like, (int, float)) and isinstance(value, str):
            number = self._number(value.strip())
            return number if number is not None else value
        if isinstance(like, str) and value is not None and not isinstance(value, str):
            return self._string(value)
        return value

    def _truthy(self, value: Any) -> bool:
        if isinstance(value, list):
            if not value:
                return False
            return self._truthy(value[0]) if len(value) == 1 else True
        if isinstance(value, _Discard):
            return False
        return bool(value)

    def _string(self, value: Any) -> str:
        from .formatting import text
        if isinstance(value, list):
            return " ".join(self._string(v) for v in value)
        if isinstance(value, float) and value == int(value):
            return str(int(value))
        return text(value)

    def _as_list(self, value: Any) -> list[Any]:
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def _number(self, text: str) -> int | float | None:
        match = _NUMBER.match(text)
        if not match:
            return None
        sign = -1 if match.group("sign") == "-" else 1
        multiplier = _MULTIPLIERS.get((match.group("mult") or "").lower(), 1)
        if match.group("hex"):
            return sign * int(match.group("hex"), 16) * multiplier
        digits = text[len(match.group("sign")):].lower()
        for suffix in ("kb", "mb", "gb", "tb", "pb"):
            if digits.endswith(suffix):
                digits = digits[:-2]
        digits = digits.rstrip("ldu")
        value = float(digits) if any(c in digits for c in ".e") else int(digits)
        result = value * multiplier * sign
        if isinstance(result, float) and result == int(result) and multiplier > 1:
            return int(result)
        return result

    def _expand(self, text: str, bareword: bool = False) -> str:
        """Variable references, $( ) subexpressions and backtick escapes in a string."""
        out: list[str] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char == "`" and index + 1 < len(text):
                out.append(_ESCAPES.get(text[index + 1], text[index + 1]))
                index += 2
                continue
            if char == "$" and index + 1 < len(text):
                if text[index + 1] == "(":
                    end = _matching_paren(text, index + 1)
                    inner = Interpreter(self.ctx, variables=dict(self.vars))
                    done = inner.run(text[index + 2:end])
                    if done.terminated is not None:
                        raise ScriptTerminated(done.terminated)
                    out.append(self._string(done.output[0] if len(done.output) == 1 else done.output))
                    index = end + 1
                    continue
                match = re.match(r"\{([^}]+)\}|([A-Za-z_][\w]*(?::[\w]+)?|\?|_)", text[index + 1:])
                if match:
                    name = (match.group(1) or match.group(2)).lower()
                    out.append(self._string(self._variable(name, None)))
                    index += 1 + match.end()
                    continue
            if bareword and char in "'\"":
                end = text.find(char, index + 1)
                if end > index:
                    segment = text[index + 1:end]
                    out.append(self._expand(segment) if char == '"' else segment)
                    index = end + 1
                    continue
            out.append(char)
            index += 1
        return "".join(out)

    # ----------------------------------------------------------------------------- tree helpers

    def script_text(self, node: Node | None) -> str:
        return node.text.decode("utf-8") if node is not None and node.text is not None else ""

    def _line(self, node: Node | None) -> int | None:
        if node is None or self.script is None:
            return None
        return self.script.position(node)[0]

    @staticmethod
    def _child(node: Node | None, kind: str) -> Node | None:
        if node is None:
            return None
        return next((c for c in node.named_children if c.type == kind), None)

    @staticmethod
    def _descendants(node: Node, kind: str) -> Iterator[Node]:
        for child in node.named_children:
            if child.type == kind:
                yield child
            else:
                yield from Interpreter._descendants(child, kind)

    def _unwrap(self, node: Node | None) -> Node:
        assert node is not None
        while len(node.named_children) == 1 and len(node.children) == 1:
            node = node.named_children[0]
        return node

    def _var_name(self, node: Node | None) -> str:
        text = self.script_text(node).strip()
        if text.startswith("${") and text.endswith("}"):
            return text[2:-1].lower()
        return text.lstrip("$@").lower()

    def _type_name(self, node: Node) -> str:
        return self.script_text(node).strip("[] ")

    @staticmethod
    def _key(table: dict[str, Any], key: Any) -> Any:
        if isinstance(key, str):
            for existing in table:
                if isinstance(existing, str) and existing.lower() == key.lower():
                    return existing
        return key


class _Discard:
    """[void](...) and friends: a value that writes nothing."""


class AnsibleObject:
    """$Ansible in ansible.windows.win_powershell: Changed, Failed, Result, Diff, CheckMode, Verbosity, Tmpdir."""

    def __init__(self, check_mode: bool, verbosity: int = 0) -> None:
        self.values: dict[str, Any] = {"Changed": True, "Failed": False, "Result": {}, "Diff": {},
                                       "CheckMode": check_mode, "Verbosity": verbosity,
                                       "Tmpdir": "C:\\Windows\\TEMP\\ansible-tmp"}

    def get(self, name: str) -> Any:
        for key, value in self.values.items():
            if key.lower() == name.lower():
                return value
        return None

    def set(self, name: str, value: Any) -> None:
        for key in self.values:
            if key.lower() == name.lower():
                self.values[key] = value
                return
        raise NotInterpreted(f"setting $Ansible.{name}", None)


RESTART_GRACE_SECONDS = 1.0


def _restart_soon(session: Session) -> None:
    """Install-WindowsFeature -Restart: Windows starts restarting once the cmdlet has returned, and
    WinRM stops a moment into the shutdown, so the command's reply (and the shell's deletion) still
    reach the client. The host goes down RESTART_GRACE_SECONDS later (an assumption, README)."""
    def restart() -> None:
        with session.lock:
            session.refresh()
            if session.host.rebooting_until is None:
                lifecycle.begin_reboot(session.world, session.host, session.clock())
                session.changed()
    timer = threading.Timer(RESTART_GRACE_SECONDS, restart)
    timer.daemon = True
    timer.start()


def _nested_session(session: Session, vm: VM) -> Session:
    """PowerShell Direct into an L1 that is itself a Hyper-V host: its commands act on that host."""
    assert vm.nested_host is not None
    from dataclasses import replace
    return replace(session, host=vm.nested_host)


def _matching_paren(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch", "contains",
                "notcontains", "in", "notin", "replace", "split"}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "v": "\v"}
_PASS_THROUGH_NODES = {
    "logical_expression", "bitwise_expression", "comparison_expression", "additive_expression",
    "multiplicative_expression", "format_expression", "range_expression", "logical_argument_expression",
    "bitwise_argument_expression", "comparison_argument_expression", "additive_argument_expression",
    "multiplicative_argument_expression", "format_argument_expression", "range_argument_expression",
    "left_assignment_expression", "key_expression", "script_parameter_default",
}
_WHERE_OPERATORS = ("EQ", "CEQ", "NE", "CNE", "GT", "CGT", "LT", "CLT", "GE", "CGE", "LE", "CLE", "Like", "CLike",
                    "NotLike", "CNotLike", "Match", "CMatch", "NotMatch", "CNotMatch", "Contains", "CContains",
                    "NotContains", "CNotContains", "In", "CIn", "NotIn", "CNotIn", "Is", "IsNot")
_STREAMING: dict[str, Callable[[Interpreter, Bound, list[Any], Node], list[Any]]] = {
    "Where-Object": Interpreter._where_object,
    "ForEach-Object": Interpreter._foreach_object,
}
_SPECIAL: dict[str, Callable[[Interpreter, Bound, Node], list[Any]]] = {
    "Install-WindowsFeature": Interpreter._install_windows_feature,
    "Invoke-Command": Interpreter._invoke_command,
    "ConvertTo-SecureString": Interpreter._convertto_securestring,
    "New-Object": Interpreter._new_object,
    "Out-Null": Interpreter._out_null,
    "Write-Output": Interpreter._write_output,
    "Write-Host": Interpreter._write_host,
}
