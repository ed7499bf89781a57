"""The WS-Management faults Windows answers, by situation (shapes from recorded exchanges)."""

from __future__ import annotations

from .soap import WsmanFault

# The code pywinrm and ansible turn into "retry the Receive".
OPERATION_TIMEOUT_CODE = 2150858793
# ERROR_WINRS_SHELL_NOT_FOUND / unknown command id: both come back as InvalidSelectors.
INVALID_SELECTORS_CODE = 2150858843

_UNEXPECTED_SELECTORS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
_INVALID_SELECTORS_REASON = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "


def operation_timed_out() -> WsmanFault:
    text = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    return WsmanFault(reason=text, code="s:Receiver", subcode="w:TimedOut", wsman_code=OPERATION_TIMEOUT_CODE)


def shell_not_found(shell_id: str) -> WsmanFault:
    return WsmanFault(
        reason=_INVALID_SELECTORS_REASON,
        subcode="w:InvalidSelectors",
        wsman_code=INVALID_SELECTORS_CODE,
        fault_detail=_UNEXPECTED_SELECTORS,
        message=(
            f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was not found on the server. "
            "Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. "
            "Provide the correct ShellId or create a new shell and retry the operation. "
        ),
    )


def command_not_found() -> WsmanFault:
    return WsmanFault(
        reason=_INVALID_SELECTORS_REASON,
        subcode="w:InvalidSelectors",
        wsman_code=INVALID_SELECTORS_CODE,
        fault_detail=_UNEXPECTED_SELECTORS,
        message=(
            "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. "
            "Either the command has completed execution or the client specified an invalid command identifier. "
        ),
    )


def action_not_supported(action: str) -> WsmanFault:
    return WsmanFault(
        reason=f"The action is not supported by the service: {action}",
        subcode="a:ActionNotSupported",
        fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ActionMismatch",
    )


def resource_uri_not_supported(resource_uri: str | None) -> WsmanFault:
    return WsmanFault(
        reason=f"The WS-Management service cannot process the request. The resource URI is not supported: {resource_uri}",
        subcode="w:DestinationUnreachable",
        fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI",
    )


def invalid_parameter(reason: str) -> WsmanFault:
    return WsmanFault(reason=reason, subcode="w:InvalidParameter")
