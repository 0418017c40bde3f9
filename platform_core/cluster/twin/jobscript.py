"""What a Job's container does, read from its command.

The twin cannot run arbitrary images, but most CronJobs are either a shell one-liner or a program
invocation. So:

* ``sh -c "<script>"`` (also ``/bin/sh``, ``bash``) is interpreted: statements separated by
  ``;``, ``&&``, ``||`` or newlines; ``echo`` prints, ``sleep N`` takes N seconds, ``exit N``
  ends with code N, ``false`` fails, ``true``/``:`` do nothing, ``date`` prints the time; other
  commands take a second or two and print nothing.
* anything else (``python manage.py clearsessions``, the image's entrypoint) runs for 5-40 s and
  logs like a batch program.

A ``failing_cronjob`` fault turns the run into a crash with a traceback and its exit code. The
plan is a pure function of the command and a seed, so a pod's logs can be regenerated at any time
and always match what the pod did.
"""

from __future__ import annotations

import random
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime

_SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/env sh"}
_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\n)\s*")


@dataclass(slots=True)
class JobPlan:
    duration: float
    exit_code: int
    lines: list[tuple[float, str]] = field(default_factory=list)


def plan(
    command: list[str] | None,
    args: list[str] | None,
    *,
    seed: int,
    start: float,
    failure: tuple[int, str] | None = None,
) -> JobPlan:
    """The run of a job container started at ``start``."""
    argv = [*(command or []), *(args or [])]
    rng = random.Random(seed)
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        result = _shell(argv[2], rng, start)
    else:
        result = _program(argv, rng)
    if failure is not None:
        return _crash(result, failure, argv)
    return result


def _shell(script: str, rng: random.Random, start: float) -> JobPlan:
    result = JobPlan(duration=0.05, exit_code=0)
    for statement in filter(None, _SEPARATORS.split(script.strip())):
        words = _split(statement)
        name, rest = words[0], words[1:]
        if name == "echo":
            result.lines.append((result.duration, " ".join(rest)))
        elif name == "sleep":
            result.duration += _seconds(rest)
        elif name == "exit":
            result.exit_code = int(rest[0]) if rest and rest[0].isdigit() else 0
            return result
        elif name == "false":
            result.exit_code = 1
            return result
        elif name == "date":
            moment = datetime.fromtimestamp(start + result.duration, UTC)
            result.lines.append((result.duration, moment.strftime("%a %b %d %H:%M:%S UTC %Y")))
        elif name not in {"true", ":"}:
            result.duration += rng.uniform(0.5, 2.0)
        result.duration += 0.01
    return result


def _split(statement: str) -> list[str]:
    try:
        return shlex.split(statement) or [":"]
    except ValueError:
        return statement.split() or [":"]


def _seconds(rest: list[str]) -> float:
    try:
        return max(0.0, float(rest[0].rstrip("s"))) if rest else 0.0
    except ValueError:
        return 0.0


def _program(argv: list[str], rng: random.Random) -> JobPlan:
    task = " ".join(argv) if argv else "entrypoint"
    duration = rng.uniform(5.0, 40.0)
    records = rng.randrange(50, 20_000)
    batches = max(1, min(5, records // 1000))
    lines = [(0.2, f"INFO starting {task}")]
    for i in range(batches):
        done = records * (i + 1) // batches
        lines.append(
            (duration * (i + 1) / (batches + 1), f"INFO processed {done}/{records} records")
        )
    lines.append((duration - 0.1, f"INFO finished {task}: {records} records in {duration:.1f}s"))
    return JobPlan(duration=duration, exit_code=0, lines=lines)


def _crash(result: JobPlan, failure: tuple[int, str], argv: list[str]) -> JobPlan:
    code, error = failure
    cut = max(0.5, min(result.duration, 3.0))
    script = next((a for a in argv if a.endswith(".py")), "/app/main.py")
    lines = [line for line in result.lines if line[0] < cut]
    lines += [
        (cut, "Traceback (most recent call last):"),
        (cut, f'  File "{script}", line 12, in <module>'),
        (cut, "    main()"),
        (cut, error),
    ]
    return JobPlan(duration=cut + 0.05, exit_code=code, lines=lines)
