"""Run a function's handler for real, contained in a throw-away subprocess.

Every invocation gets a fresh ``python -I -S -B`` process (no site-packages, no ``PYTHON*``
variables, no bytecode files) started with:

* an empty environment plus only the function's own ``env`` (and ``HOME``/``TMPDIR`` pointing
  at its working directory) - the service's secrets are never inherited;
* a new empty temporary working directory, removed afterwards;
* no inherited file descriptors besides its three pipes (``close_fds``);
* a new session, so the whole process group can be killed;
* ``RLIMIT_AS`` (the function's memory), ``RLIMIT_CPU`` (its timeout, rounded up, + 1 s),
  ``RLIMIT_FSIZE`` (1 MiB), ``RLIMIT_NOFILE``, ``RLIMIT_NPROC`` (when dropping from root) and no
  core dumps;
* a wall-clock limit of the timeout + 1 s enforced here, by killing the process group.

Inside, ``_sandbox_child`` drops root to ``nobody`` and installs the audit hook. Output is read
with a size limit, so a function cannot flood the service's memory. Invocations run as asyncio
subprocesses (at most ``max_concurrency`` at once), so they never block the event loop; whatever
the function does, the caller gets a ``SandboxResult`` back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_core.cluster.manifests import RUNTIME_SOURCE
from platform_core.cluster.schemas import FunctionErrorKind

CHILD_SOURCE = (Path(__file__).parent / "_sandbox_child.py").read_text()
WALL_GRACE = 1.0
MAX_STDERR = 64 * 1024


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    timeout_seconds: float
    memory_bytes: int
    memory_text: str = ""
    max_output_bytes: int = 2 * 1024 * 1024
    max_file_bytes: int = 1024 * 1024
    max_open_files: int = 64
    max_processes: int = 64


@dataclass(frozen=True, slots=True)
class SandboxResult:
    ok: bool
    status_code: int
    body: str
    duration_ms: float
    headers: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: FunctionErrorKind | None = None


def _apply_limits(limits: SandboxLimits) -> None:
    """Runs in the forked child before ``exec``: the limits the function lives under."""
    cpu = math.ceil(limits.timeout_seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.getuid() == 0:  # counts the unprivileged user's processes once the child drops root
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))


class Sandbox:
    """Runs handlers in contained subprocesses; one instance per twin."""

    def __init__(self, *, max_concurrency: int = 2, python: str | None = None) -> None:
        self._python = python or sys.executable
        self._max_concurrency = max_concurrency
        self._slots: asyncio.Semaphore | None = None

    async def run(
        self,
        *,
        source: str,
        handler: str,
        request: dict[str, Any],
        env: dict[str, str],
        limits: SandboxLimits,
    ) -> SandboxResult:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_concurrency)
        async with self._slots:
            return await self._run(source, handler, request, env, limits)

    async def _run(
        self,
        source: str,
        handler: str,
        request: dict[str, Any],
        env: dict[str, str],
        limits: SandboxLimits,
    ) -> SandboxResult:
        nonce = secrets.token_hex(16)
        job = {
            **request,
            "source": source,
            "handler": handler,
            "runtime": RUNTIME_SOURCE,
            "nonce": nonce,
            "timeout": limits.timeout_seconds,
            "memory": limits.memory_text,
        }
        workdir = tempfile.mkdtemp(prefix="hxb-fn-")
        started = time.perf_counter()
        proc: asyncio.subprocess.Process | None = None
        try:
            proc = await asyncio.create_subprocess_exec(
                self._python,
                "-I",
                "-S",
                "-B",
                "-c",
                CHILD_SOURCE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=workdir,
                env={**env, "HOME": workdir, "TMPDIR": workdir},
                preexec_fn=lambda: _apply_limits(limits),
                start_new_session=True,
                close_fds=True,
            )
            try:
                async with asyncio.timeout(limits.timeout_seconds + WALL_GRACE):
                    out, err, overflow = await _communicate(
                        proc, json.dumps(job).encode(), limits.max_output_bytes
                    )
            except TimeoutError:
                return _failure(
                    started,
                    "timeout",
                    504,
                    f"function timed out after {limits.timeout_seconds}s (killed)",
                )
            if overflow:
                return _failure(started, "bad_response", 502, "function output exceeded the limit")
            return _interpret(started, proc.returncode, out, err, nonce, limits)
        finally:
            if proc is not None:
                await _reap(proc)
            shutil.rmtree(workdir, ignore_errors=True)


async def _read_limited(stream: asyncio.StreamReader | None, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    total = 0
    if stream is None:
        return b"", False
    while chunk := await stream.read(65536):
        total += len(chunk)
        if total > limit:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


async def _communicate(
    proc: asyncio.subprocess.Process, payload: bytes, limit: int
) -> tuple[bytes, bytes, bool]:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(payload)
        await proc.stdin.drain()
    proc.stdin.close()
    errors = asyncio.ensure_future(_read_limited(proc.stderr, MAX_STDERR))
    try:
        out, overflow = await _read_limited(proc.stdout, limit)
        if overflow:
            return out, b"", True
        err, _ = await errors
    finally:
        errors.cancel()
    await proc.wait()
    return out, err, False


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill the process group and drain its pipes: ``wait()`` returns only once they are closed."""
    _kill_group(proc)

    async def drain(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and await stream.read(65536):
            pass

    with contextlib.suppress(TimeoutError, ProcessLookupError):
        async with asyncio.timeout(5.0):
            await asyncio.gather(drain(proc.stdout), drain(proc.stderr))
            await proc.wait()


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def _failure(
    started: float, kind: FunctionErrorKind, status: int, error: str, logs: list[str] | None = None
) -> SandboxResult:
    return SandboxResult(
        ok=False,
        status_code=status,
        body="",
        duration_ms=_elapsed(started),
        logs=logs or [],
        error=error,
        error_kind=kind,
    )


def _interpret(
    started: float,
    returncode: int | None,
    out: bytes,
    err: bytes,
    nonce: str,
    limits: SandboxLimits,
) -> SandboxResult:
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        if line.startswith(nonce):
            data = json.loads(line[len(nonce) :])
            return SandboxResult(
                ok=bool(data["ok"]),
                status_code=int(data["status"]),
                body=str(data["body"]),
                duration_ms=_elapsed(started),
                headers=dict(data["headers"]),
                logs=list(data.get("logs", [])),
                error=data.get("error"),
                error_kind=data.get("error_kind"),
            )
    stderr = err.decode("utf-8", "replace").strip().splitlines()[-5:]
    if returncode is not None and returncode < 0:
        sig = signal.Signals(-returncode)
        if sig in {signal.SIGXCPU, signal.SIGKILL}:
            return _failure(
                started,
                "timeout",
                504,
                f"function exceeded its CPU time limit ({sig.name})",
                stderr,
            )
        return _failure(started, "crashed", 502, f"function process killed by {sig.name}", stderr)
    if any("MemoryError" in line for line in stderr):
        return _failure(
            started,
            "memory_limit",
            502,
            f"function exceeded its memory limit ({limits.memory_text})",
            stderr,
        )
    tail = stderr[-1] if stderr else "no output"
    return _failure(
        started, "crashed", 502, f"function process exited with code {returncode}: {tail}", stderr
    )
