"""The program that runs one function invocation inside the sandbox process.

``sandbox.py`` starts ``python -I -S -B -c <this file's text>`` in an empty temporary directory,
with an empty environment (only the function's own variables), resource limits and a new session,
and writes one JSON job to stdin. This program then:

1. imports the standard-library modules functions may use (after step 2 the interpreter's files
   are no longer readable, so these are the modules a function can import);
2. drops root privileges to ``nobody`` (65534) when it runs as root;
3. installs an audit hook that refuses - and records - writes outside the working directory,
   reads outside it and the standard library, process spawning, signals, sockets, ``ctypes``
   and imports of modules that give those back, and an ``os.environ`` that refuses to be
   enumerated by the function;
4. runs the handler under a timer, captures its output, and writes one result line, prefixed
   with the job's nonce, to the real stdout.

Any recorded violation fails the invocation even if the function caught the ``PermissionError``.
Audit hooks are not a security boundary on their own; the OS limits, the unprivileged user and
the empty environment are the containment, the hook makes attempts visible and fails them early.
"""

from __future__ import annotations

import builtins
import importlib
import io
import json
import os
import signal
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

PRELOAD = (
    "base64",
    "bisect",
    "calendar",
    "collections",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "ipaddress",
    "itertools",
    "logging",
    "math",
    "operator",
    "pathlib",
    "pprint",
    "random",
    "re",
    "secrets",
    "shutil",
    "statistics",
    "string",
    "struct",
    "tempfile",
    "textwrap",
    "time",
    "typing",
    "unicodedata",
    "urllib.parse",
    "uuid",
    "zlib",
    "zoneinfo",
)
BLOCKED_IMPORTS = frozenset(
    {
        "ctypes",
        "_ctypes",
        "subprocess",
        "_posixsubprocess",
        "multiprocessing",
        "_multiprocessing",
        "socket",
        "_socket",
        "ssl",
        "pty",
        "asyncio",
        "urllib.request",
        "http.client",
        "ftplib",
        "smtplib",
        "socketserver",
        "xmlrpc",
        "_xxsubinterpreters",
        "resource",
    }
)
SPAWN_EVENTS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "pty.spawn",
        "os.startfile",
    }
)
SIGNAL_EVENTS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill"})
PATH_EVENTS: dict[str, tuple[int, ...]] = {
    "os.remove": (0,),
    "os.rename": (0, 1),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.symlink": (1,),
    "os.link": (0, 1),
    "os.truncate": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "os.chdir": (0,),
}
LIST_EVENTS = frozenset({"os.listdir", "os.scandir"})
NOBODY = 65534
USER_FILE = "<function>"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_PASSIVE_FILES = frozenset(
    {
        "os.py",
        "<frozen os>",
        "_collections_abc.py",
        "<frozen _collections_abc>",
        "<string>",
    }
)
MAX_CAPTURE = 64 * 1024
MAX_BODY = 1024 * 1024

_reserve: bytearray | None = bytearray(2 * 1024 * 1024)  # freed on MemoryError to report it


class Deadline(BaseException):
    """Raised by the interval timer; a BaseException so ``except Exception`` cannot eat it."""


class BadResponse(Exception):
    """The handler returned something that cannot be an HTTP response."""


class Guard:
    """The audit hook's state: where the function may read and write, and what it tried."""

    def __init__(self, workdir: str) -> None:
        self.workdir = os.path.realpath(workdir)
        # With -I -S, sys.path is just the standard library (and its lib-dynload).
        self.read_roots = [self.workdir, "/usr/share/zoneinfo"] + [
            os.path.realpath(entry) for entry in sys.path if entry
        ]
        self.read_files = {"/dev/null", "/dev/urandom"}
        self.violations: list[str] = []
        self._busy = False

    def violation(self, message: str) -> None:
        self.violations.append(message)
        raise PermissionError(f"sandbox: {message}")

    def _resolve(self, path: object) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(path)  # type: ignore[arg-type]
        return str((Path.cwd() / text).resolve())

    def _inside(self, path: str, roots: list[str]) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    def _check_open(self, args: tuple[Any, ...]) -> None:
        path = self._resolve(args[0])
        if path is None:
            return
        mode, flags = args[1], args[2] if len(args) > 2 else 0
        writing = bool((flags or 0) & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+")
        )
        if writing and not self._inside(path, [self.workdir]):
            self.violation(f"write to {path} outside the function's working directory")
        if not writing and path not in self.read_files and not self._inside(path, self.read_roots):
            self.violation(f"read of {path} outside the function's sandbox")

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._check(event, args)
        finally:
            self._busy = False

    def _check(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            self._check_open(args)
        elif event in SPAWN_EVENTS:
            self.violation(f"starting processes is not allowed ({event})")
        elif event.startswith("socket."):
            self.violation(f"network access is not allowed ({event})")
        elif event.startswith("ctypes."):
            self.violation(f"ctypes is not allowed ({event})")
        elif event in SIGNAL_EVENTS:
            self.violation(f"sending signals is not allowed ({event})")
        elif event == "import":
            name = str(args[0])
            if name in BLOCKED_IMPORTS or name.split(".")[0] in BLOCKED_IMPORTS:
                self.violation(f"importing {name!r} is not allowed in functions")
        elif event in PATH_EVENTS:
            for index in PATH_EVENTS[event]:
                path = self._resolve(args[index]) if len(args) > index else None
                if path is not None and not self._inside(path, [self.workdir]):
                    self.violation(f"{event} on {path} outside the function's working directory")
        elif event in LIST_EVENTS and args:
            path = self._resolve(args[0])
            if path is not None and not self._inside(path, self.read_roots):
                self.violation(f"listing {path} outside the function's sandbox")

    def called_by_function(self) -> bool:
        frame = sys._getframe(2)
        while frame is not None and Path(frame.f_code.co_filename).name in _PASSIVE_FILES:
            frame = frame.f_back  # type: ignore[assignment]
        return frame is not None and frame.f_code.co_filename == USER_FILE


class GuardedEnviron(MutableMapping[str, str]):
    """``os.environ`` for the function: lookups work, enumeration is a violation."""

    def __init__(self, data: dict[str, str], guard: Guard) -> None:
        self._data = data
        self._guard = guard

    def _enumerating(self) -> None:
        if self._guard.called_by_function():
            self._guard.violation("enumerating environment variables is not allowed")

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        self._enumerating()
        return iter(self._data)

    def __len__(self) -> int:
        self._enumerating()
        return len(self._data)

    def __repr__(self) -> str:
        self._enumerating()
        return "environ({...})"

    def copy(self) -> dict[str, str]:
        self._enumerating()
        return dict(self._data)


class Capture(io.StringIO):
    """The function's stdout/stderr, bounded."""

    def write(self, text: str) -> int:
        room = MAX_CAPTURE - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


def _drop_privileges(workdir: str) -> None:
    if os.getuid() != 0:
        return
    os.chown(workdir, NOBODY, NOBODY)
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    if os.getuid() == 0:  # pragma: no cover - would mean setuid silently failed
        raise SystemExit("could not drop privileges")


def _on_alarm(signum: int, frame: object) -> None:
    raise Deadline


def _run(job: dict[str, Any], guard: Guard, runtime: dict[str, Any]) -> dict[str, Any]:
    global _reserve
    result: dict[str, Any] = {"ok": False, "status": 500, "headers": {}, "body": ""}
    request = runtime["make_request"](
        job["method"], job["path"], job["headers"], job["query"], job["body"]
    )
    signal.setitimer(signal.ITIMER_REAL, float(job["timeout"]))
    try:
        code = compile(job["source"], USER_FILE, "exec")
        namespace: dict[str, Any] = {"__name__": "function", "__builtins__": builtins}
        exec(code, namespace)  # noqa: S102 - executing the user's function is the point
        handler = namespace.get(job["handler"])
        if not callable(handler):
            raise NameError(f"handler {job['handler']!r} is not defined by the function")
        answer = handler(request)
        try:
            status, headers, body = runtime["shape_response"](answer)
        except TypeError as exc:
            raise BadResponse(str(exc)) from exc
        if len(body) > MAX_BODY:
            result.update(error="response body exceeds 1 MiB", error_kind="bad_response")
        else:
            result.update(ok=True, status=status, headers=headers, body=body)
    except Deadline:
        result.update(
            status=504, error=f"function timed out after {job['timeout']}s", error_kind="timeout"
        )
    except MemoryError:
        _reserve = None
        result.update(
            status=502,
            error=f"function exceeded its memory limit ({job['memory']})",
            error_kind="memory_limit",
        )
    except BadResponse as exc:
        result.update(error=f"invalid handler response: {exc}", error_kind="bad_response")
    except BaseException as exc:  # the function's failure, whatever it is, is the answer
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == USER_FILE]
        where = f" (line {frames[-1].lineno})" if frames else ""
        result.update(error=f"{type(exc).__name__}: {exc}{where}", error_kind="exception")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if guard.violations:
        result.update(
            ok=False,
            status=500,
            body="",
            error=f"sandbox violation: {guard.violations[0]}",
            error_kind="sandbox_violation",
        )
    return result


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)
    workdir = str(Path.cwd())
    _drop_privileges(workdir)
    os.umask(0o077)
    runtime: dict[str, Any] = {"__name__": "function_runtime"}
    exec(compile(job["runtime"], "<runtime>", "exec"), runtime)  # noqa: S102 - our own code
    out = os.dup(1)
    guard = Guard(workdir)
    # Replacing (not clearing) os.environ is the point: lookups keep working, listing is refused.
    os.environ = GuardedEnviron(dict(os.environ), guard)  # type: ignore[assignment]  # noqa: B003
    capture = Capture()
    sys.stdout = sys.stderr = capture
    sys.addaudithook(guard.hook)
    result = _run(job, guard, runtime)
    result["logs"] = capture.getvalue().splitlines()[-200:]
    os.write(out, (job["nonce"] + json.dumps(result) + "\n").encode())


if __name__ == "__main__":
    main()
