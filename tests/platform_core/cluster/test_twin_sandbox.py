"""Functions really run on the twin, and hostile ones are contained and reported."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from platform_core.cluster import FunctionRequest, FunctionResponse, FunctionSpec, SimulatedCluster

WS, NS = "ws-1", "default"


async def invoke(
    twin: SimulatedCluster,
    source: str,
    *,
    name: str = "fn",
    body: str = "",
    env: dict[str, str] | None = None,
) -> FunctionResponse:
    spec = FunctionSpec(name=name, source=source, timeout_seconds=1, memory="96Mi", env=env or {})
    await twin.deploy_function(WS, NS, spec)
    await twin.advance(60)
    assert (await twin.get_function(WS, NS, name)).ready
    return await twin.invoke_function(WS, NS, name, FunctionRequest(body=body))


def _children() -> list[int]:
    """Processes whose parent is this test process."""
    mine = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            mine.append(int(stat.parent.name))
    return mine


def _exists(path: str) -> bool:
    return Path(path).exists()


def _workdirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("hxb-fn-*")}


async def test_a_function_computes_its_answer(twin: SimulatedCluster) -> None:
    source = (
        "import hashlib, os\n"
        "def handle(request):\n"
        "    text = request['json']['text']\n"
        "    print('hashing', len(text), 'chars')\n"
        "    return {'sha256': hashlib.sha256(text.encode()).hexdigest(),\n"
        "            'greeting': os.environ['GREETING'], 'uid': os.getuid()}\n"
    )
    response = await invoke(
        twin, source, body=json.dumps({"text": "hexabase"}), env={"GREETING": "hello"}
    )
    assert response.ok, response.error
    answer = json.loads(response.body)
    assert answer["sha256"] == hashlib.sha256(b"hexabase").hexdigest()
    assert answer["greeting"] == "hello"
    if os.getuid() == 0:
        assert answer["uid"] == 65534  # root is dropped to nobody
    assert response.logs == ["hashing 8 chars"]


async def test_status_codes_and_handler_errors(twin: SimulatedCluster) -> None:
    custom = await invoke(twin, "def handle(r):\n    return {'status_code': 201, 'body': 'made'}\n")
    assert (custom.ok, custom.status_code, custom.body) == (True, 201, "made")
    raising = await invoke(twin, "def handle(r):\n    raise ValueError('bad input')\n", name="e")
    assert not raising.ok and raising.status_code == 500 and raising.error_kind == "exception"
    assert raising.error == "ValueError: bad input (line 2)"
    missing = await invoke(twin, "def main(r):\n    return 1\n", name="m")
    assert not missing.ok and "handler 'handle' is not defined" in (missing.error or "")


HOSTILE = {
    "infinite loop": ("def handle(r):\n    while True:\n        pass\n", "timeout"),
    "loop in C": ("def handle(r):\n    return sum(range(10**13))\n", "timeout"),
    "memory bomb": (
        "def handle(r):\n    hog = []\n    while True:\n"
        "        hog.append(bytearray(16 * 2**20))\n",
        "memory_limit",
    ),
    "huge allocation": ("def handle(r):\n    return len(bytearray(2**34))\n", "memory_limit"),
    "list the environment": (
        "import os\ndef handle(r):\n    return dict(os.environ)\n",
        "sandbox_violation",
    ),
    "parent's environ": (
        "import os\ndef handle(r):\n    return open(f'/proc/{os.getppid()}/environ').read()\n",
        "sandbox_violation",
    ),
    "read a host file": (
        "def handle(r):\n    return open('/etc/passwd').read()\n",
        "sandbox_violation",
    ),
    "fork bomb": (
        "import os\ndef handle(r):\n    while True:\n        os.fork()\n",
        "sandbox_violation",
    ),
    "subprocess": (
        "import subprocess\ndef handle(r):\n"
        "    return subprocess.run(['id'], capture_output=True).stdout.decode()\n",
        "sandbox_violation",
    ),
    "os.system": (
        "import os\ndef handle(r):\n    return str(os.system('id'))\n",
        "sandbox_violation",
    ),
    "network": (
        "def handle(r):\n    import socket\n    socket.create_connection(('10.0.0.1', 443))\n",
        "sandbox_violation",
    ),
    "kill the parent": (
        "import os, signal\ndef handle(r):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
        "sandbox_violation",
    ),
    "flood stdout": (
        "import os\ndef handle(r):\n    while True:\n        os.write(1, b'x' * 65536)\n",
        "bad_response",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_code_is_contained(twin: SimulatedCluster, case: str) -> None:
    source, kind = HOSTILE[case]
    pid, before = os.getpid(), _workdirs()
    started = time.monotonic()
    response = await invoke(twin, source)
    assert not response.ok
    assert response.error_kind == kind, response.error
    assert response.error and response.status_code >= 500
    assert time.monotonic() - started < 6
    assert os.getpid() == pid and not _children() and _workdirs() == before
    logged = [line.message for line in await twin.get_function_logs(WS, NS, "fn")]
    assert any(str(response.status_code) in line and "error=" in line for line in logged)


async def test_writing_outside_the_working_directory_fails_even_if_caught(
    twin: SimulatedCluster,
) -> None:
    target = f"/tmp/hxb-escape-{uuid.uuid4().hex}"
    source = (
        "def handle(r):\n"
        "    try:\n"
        f"        open({target!r}, 'w').write('pwned')\n"
        "    except OSError:\n"
        "        pass\n"
        "    open('scratch.txt', 'w').write('fine')\n"
        "    return open('scratch.txt').read()\n"
    )
    response = await invoke(twin, source)
    assert not response.ok and response.error_kind == "sandbox_violation"
    assert target in (response.error or "") and "outside the function's working directory" in (
        response.error or ""
    )
    assert not _exists(target)
    inside = await invoke(
        twin, source.replace(f"open({target!r}, 'w').write('pwned')", "pass"), name="ok"
    )
    assert inside.ok and inside.body == "fine"


async def test_open_files_of_the_service_are_not_inherited(
    twin: SimulatedCluster, tmp_path: Path
) -> None:
    with _open(tmp_path / "secret.txt", "s3cr3t") as handle:
        fd = handle.fileno()
        source = (
            "import os\n"
            "def handle(r):\n"
            "    try:\n"
            f"        return os.read({fd}, 100).decode()\n"
            "    except OSError as exc:\n"
            "        return f'closed: {exc.strerror}'\n"
        )
        response = await invoke(twin, source)
    assert response.ok and response.body == "closed: Bad file descriptor"


def _open(path: Path, text: str) -> Any:
    path.write_text(text)
    return path.open()


async def test_service_secrets_do_not_reach_functions(
    twin: SimulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HXB_TEST_SECRET", "s3cr3t-value")
    source = "import os\ndef handle(r):\n    return os.environ.get('HXB_TEST_SECRET') or 'absent'\n"
    response = await invoke(twin, source)
    assert response.ok and response.body == "absent"
    assert "s3cr3t" not in json.dumps(response.model_dump())


async def test_a_runaway_function_does_not_block_the_service(twin: SimulatedCluster) -> None:
    await twin.deploy_function(
        WS,
        NS,
        FunctionSpec(
            name="spin", timeout_seconds=1, source="def handle(r):\n    while True: pass\n"
        ),
    )
    await twin.deploy_function(
        WS, NS, FunctionSpec(name="quick", source="def handle(r):\n    return 'pong'\n")
    )
    await twin.advance(60)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.05)

    beat = asyncio.create_task(heartbeat())
    spin = asyncio.create_task(twin.invoke_function(WS, NS, "spin", FunctionRequest()))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    quick = await twin.invoke_function(WS, NS, "quick", FunctionRequest())
    quick_took = time.monotonic() - started
    spun = await spin
    beat.cancel()
    assert quick.ok and quick.body == "pong" and quick_took < 1.0
    assert spun.error_kind == "timeout" and ticks >= 15
