"""PSRP runspace pools and pipelines of one WinRM endpoint, on psrpcore's server classes.

psrpcore does the protocol (fragments, messages, state machines, negotiation); this module
decides what a pipeline does: it runs the pipeline's script on the backend "in the runspace"
and writes the result back as Windows PowerShell would (output objects, error records, and the
host's SetShouldExit call for a non-zero exit code, which is what ansible's psrp plugin reads).

Outgoing fragments are queued per target (the pool, or one pipeline) because WinRM hands them
out per Receive: a Receive without CommandId gets the pool's, one with CommandId the pipeline's.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psrpcore
from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    HostMethodIdentifier,
    NETException,
    PSInvocationState,
    RunspacePoolState,
)

from ..winrm import errors
from ..winrm.backend import CommandBackend, CommandObserver
from ..winrm.faults import ConnectionDropped
from . import script

log = logging.getLogger(__name__)

_CHUNK = 32 * 1024  # largest PSRP payload handed to one Receive stream element


@dataclass
class PsrpPipeline:
    id: uuid.UUID
    server: psrpcore.ServerPipeline
    user: str
    drop_reply: bool = False
    commands: list[tuple[str, bool]] = field(default_factory=list)  # (text, is_script)
    input: list[Any] = field(default_factory=list)
    started: bool = False
    finished: bool = False


@dataclass
class PsrpPool:
    id: str
    owner: str
    runspace: psrpcore.ServerRunspacePool
    pipelines: dict[uuid.UUID, PsrpPipeline] = field(default_factory=dict)
    outgoing: dict[uuid.UUID | None, deque[bytes]] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)


class PsrpRegistry:
    """Every runspace pool (WinRM shell of the PowerShell resource URI) of one endpoint."""

    def __init__(self, host: str, backend: CommandBackend, observer: CommandObserver | None = None) -> None:
        self._host = host
        self._backend = backend
        self._observer = observer
        self._lock = threading.Lock()
        self._pools: dict[str, PsrpPool] = {}

    # -- pools -------------------------------------------------------------------------------

    def create_pool(self, owner: str, shell_id: str | None, creation: bytes) -> PsrpPool:
        """A new pool from the Create request's creationXml (negotiation and InitRunspacePool)."""
        pool = PsrpPool(id=(shell_id or str(uuid.uuid4())).upper(), owner=owner,
                        runspace=psrpcore.ServerRunspacePool())
        with self._lock:
            if pool.id in self._pools:
                raise errors.invalid_parameter(f"A shell with ShellId {pool.id} already exists.")
            self._pools[pool.id] = pool
        with pool.lock:
            self._feed(pool, creation)
        return pool

    def delete_pool(self, shell_id: str, owner: str) -> None:
        pool = self.pool(shell_id, owner)
        with self._lock:
            self._pools.pop(pool.id, None)
        with pool.lock:
            for pipeline in list(pool.pipelines.values()):
                self._close_pipeline(pool, pipeline)
            if pool.runspace.state == RunspacePoolState.Opened:
                pool.runspace.close()
            pool.lock.notify_all()

    def receive_pool(self, shell_id: str, owner: str, timeout_s: float, budget: int) -> list[bytes]:
        pool = self.pool(shell_id, owner)
        with pool.lock:
            if not pool.lock.wait_for(lambda: bool(pool.outgoing.get(None)), timeout_s):
                raise errors.operation_timed_out()
            return _take(pool.outgoing[None], budget)

    def send(self, shell_id: str, command_id: str | None, data: bytes, owner: str) -> None:
        pool = self.pool(shell_id, owner)
        with pool.lock:
            if command_id is not None:
                self._pipeline(pool, command_id)
            self._feed(pool, data)

    # -- pipelines ---------------------------------------------------------------------------

    def create_pipeline(self, shell_id: str, command_id: str | None, creation: bytes, owner: str,
                        drop_reply: bool = False) -> str:
        pool = self.pool(shell_id, owner)
        try:
            pipeline_id = uuid.UUID(command_id) if command_id else uuid.uuid4()
        except ValueError:
            raise errors.invalid_parameter(f"The CommandId {command_id!r} is not a GUID.") from None
        with pool.lock:
            if pool.runspace.state != RunspacePoolState.Opened:
                raise errors.invalid_parameter("The runspace pool is not opened.")
            server = psrpcore.ServerPipeline(pool.runspace, pipeline_id)
            pool.pipelines[pipeline_id] = PsrpPipeline(pipeline_id, server, owner, drop_reply)
            self._feed(pool, creation)
        return str(pipeline_id).upper()

    def receive_pipeline(self, shell_id: str, command_id: str, owner: str, timeout_s: float,
                         budget: int) -> tuple[list[bytes], bool]:
        """(payloads, done): done once the pipeline finished and everything was handed out."""
        pool = self.pool(shell_id, owner)
        with pool.lock:
            pipeline = self._pipeline(pool, command_id)
            queue = pool.outgoing.setdefault(pipeline.id, deque())
            if not pool.lock.wait_for(lambda: bool(queue) or pipeline.finished, timeout_s):
                raise errors.operation_timed_out()
            if pipeline.drop_reply and pipeline.finished:
                pipeline.drop_reply = False
                raise ConnectionDropped(f"reply to Receive for pipeline {pipeline.id} dropped")
            payloads = _take(queue, budget)
            return payloads, pipeline.finished and not queue

    def signal(self, shell_id: str, command_id: str, owner: str) -> None:
        """Stop (ctrl_c) or terminate: a pipeline that has not started never runs; a finished one is forgotten."""
        pool = self.pool(shell_id, owner)
        with pool.lock:
            pipeline = self._pipeline(pool, command_id)
            if not pipeline.started:
                pipeline.started = pipeline.finished = True
                if pipeline.server.state == PSInvocationState.Running:
                    pipeline.server.stop()
                self._drain(pool)
            if pipeline.finished:
                self._close_pipeline(pool, pipeline)
            pool.lock.notify_all()

    # -- internals ---------------------------------------------------------------------------

    def pool(self, shell_id: str, owner: str | None) -> PsrpPool:
        with self._lock:
            pool = self._pools.get(shell_id.upper())
        if pool is None or (owner is not None and pool.owner.lower() != owner.lower()):
            raise errors.shell_not_found(shell_id)
        return pool

    @staticmethod
    def _close_pipeline(pool: PsrpPool, pipeline: PsrpPipeline) -> None:
        """Forget a pipeline (a running one keeps running in the backend; its result is dropped)."""
        pipeline.finished = True
        if pipeline.server.state == PSInvocationState.Running:
            pipeline.server.stop()
        pipeline.server.close()
        pool.pipelines.pop(pipeline.id, None)
        pool.outgoing.pop(pipeline.id, None)

    @staticmethod
    def _pipeline(pool: PsrpPool, command_id: str) -> PsrpPipeline:
        try:
            pipeline = pool.pipelines.get(uuid.UUID(command_id))
        except ValueError:
            pipeline = None
        if pipeline is None:
            raise errors.command_not_found()
        return pipeline

    def _feed(self, pool: PsrpPool, data: bytes) -> None:
        """Give psrpcore the client's fragments and act on the events they complete. Lock held."""
        try:
            pool.runspace.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, None))
            while (event := pool.runspace.next_event()) is not None:
                self._on_event(pool, event)
        except psrpcore.PSRPCoreError as exc:
            raise errors.invalid_parameter(f"The PSRP data could not be processed: {exc}") from exc
        self._drain(pool)

    def _on_event(self, pool: PsrpPool, event: Any) -> None:
        pipeline = pool.pipelines.get(event.pipeline_id) if event.pipeline_id else None
        if isinstance(event, psrpcore.CreatePipelineEvent) and pipeline is not None:
            described = event.pipeline
            pipeline.commands = [(str(c.command_text), bool(c.is_script)) for c in described.commands]
            if described.no_input:
                self._start(pool, pipeline)
        elif isinstance(event, psrpcore.PipelineInputEvent) and pipeline is not None:
            pipeline.input.append(event.data)
        elif isinstance(event, psrpcore.EndOfPipelineInputEvent) and pipeline is not None:
            self._start(pool, pipeline)
        # Negotiation, key exchange, host responses: psrpcore has answered or nothing is due.

    def _start(self, pool: PsrpPool, pipeline: PsrpPipeline) -> None:
        if pipeline.started:
            return
        pipeline.started = True
        pipeline.server.start()
        threading.Thread(target=self._run, args=(pool, pipeline), name=f"psrp-{self._host}", daemon=True).start()

    def _run(self, pool: PsrpPool, pipeline: PsrpPipeline) -> None:
        command_line = script.command_line(pipeline.commands)
        stdin = script.input_text(pipeline.input)
        started = time.monotonic()
        try:
            result = self._backend.run_command(self._host, command_line, stdin, user=pipeline.user)
        except Exception:  # a backend bug must not leave the client waiting forever
            log.exception("%s: PSRP pipeline failed in the backend", self._host)
            result = None
        with pool.lock:
            if pipeline.finished:  # stopped meanwhile
                return
            if result is None:
                _write_error(pipeline.server, "hvsim: the simulated host failed to run the pipeline.")
                pipeline.server.host_call(HostMethodIdentifier.SetShouldExit, [1])
            else:
                self._write_result(pool, pipeline, result.rc, result.stdout, result.stderr)
            pipeline.server.complete()
            pipeline.finished = True
            self._drain(pool)
            pool.lock.notify_all()
        if result is not None and self._observer is not None:
            self._observer(self._host, command_line, stdin, result.rc, result.stdout, result.stderr,
                           time.monotonic() - started)

    @staticmethod
    def _write_result(pool: PsrpPool, pipeline: PsrpPipeline, rc: int, stdout: bytes, stderr: bytes) -> None:
        for line in script.output_lines(stdout):
            pipeline.server.write_output(line)
        for message in script.error_messages(stderr):
            _write_error(pipeline.server, message)
        host = pool.runspace.host
        if rc != 0 and host is not None and not host.IsHostNull:
            # What `exit <rc>` does in a remote runspace: the server asks the client's host to exit.
            pipeline.server.host_call(HostMethodIdentifier.SetShouldExit, [rc])

    @staticmethod
    def _drain(pool: PsrpPool) -> None:
        while (payload := pool.runspace.data_to_send(_CHUNK)) is not None:
            pool.outgoing.setdefault(payload.pipeline_id, deque()).append(payload.data)


def _write_error(pipeline: psrpcore.ServerPipeline, message: str) -> None:
    pipeline.write_error(
        NETException(Message=message),
        ErrorCategoryInfo(Category=ErrorCategory.NotSpecified, Reason="RuntimeException"),
        fully_qualified_error_id="RuntimeException",
    )


def _take(queue: deque[bytes], budget: int) -> list[bytes]:
    """Whole payloads, at least one, at most `budget` bytes together when more than one."""
    taken: list[bytes] = []
    used = 0
    while queue and (not taken or used + len(queue[0]) <= budget):
        used += len(queue[0])
        taken.append(queue.popleft())
    return taken
