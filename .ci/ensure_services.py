"""Make sure PostgreSQL and Redis answer on loopback; start them if installed but stopped."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVICES = {
    "PostgreSQL": (5432, "pg"),
    "Redis": (6379, "redis"),
}


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start(kind: str) -> None:
    if kind == "pg" and shutil.which("pg_ctlcluster"):
        for version_dir in sorted(Path("/etc/postgresql").glob("*")):
            version = version_dir.name
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
            )
    elif kind == "redis" and shutil.which("redis-server"):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
        )


def main() -> int:
    missing = []
    for name, (port, kind) in SERVICES.items():
        if reachable(port):
            continue
        print(f"{name} is not answering on 127.0.0.1:{port}; starting it")
        start(kind)
        for _ in range(30):
            if reachable(port):
                break
            time.sleep(0.5)
        else:
            missing.append(f"{name} (127.0.0.1:{port})")
    if missing:
        print("not reachable: " + ", ".join(missing) + "; install and start them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
