"""Serving settings and `python -m app`: what reaches uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import ValidationError
from uvicorn.config import STARTUP_FAILURE

from app import serving
from app.__main__ import uvicorn_options
from app.settings import ROOT, Settings


def test_defaults_serve_one_worker_on_loopback() -> None:
    options = uvicorn_options(Settings())
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 8000
    assert options["workers"] == 1
    assert options["root_path"] == ""
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "127.0.0.1"
    # asyncio, not uvicorn's "auto" (uvloop when installed): bench/fairness.py.
    assert options["loop"] == "asyncio"


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_event_loop_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    monkeypatch.setenv("EVENT_LOOP", loop)
    assert uvicorn_options(Settings())["loop"] == loop


@pytest.mark.parametrize("value", ["auto", "trio", ""])
def test_an_unknown_event_loop_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(event_loop=value)
    assert "event_loop" in str(exc.value)


def test_environment_sets_port_workers_and_root_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setenv("ROOT_PATH", "/tools/tune/")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8")
    options = uvicorn_options(Settings())
    assert (options["port"], options["workers"]) == (9001, 4)
    # One canonical form: a trailing slash would double when joined with a route.
    assert options["root_path"] == "/tools/tune"
    assert options["forwarded_allow_ips"] == "10.0.0.0/8"


@pytest.mark.parametrize("value", ["tools", "/a b", "/x?y=1", "http://host/x"])
def test_root_path_must_be_a_url_path(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(root_path=value)
    assert "ROOT_PATH" in str(exc.value)


@pytest.mark.parametrize(("name", "value"), [("port", 0), ("port", 70000), ("workers", 0)])
def test_out_of_range_port_and_workers_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Settings(**{name: value})


# --- several workers: one SO_REUSEPORT socket each (app/serving.py) ----------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": str(workers)}
    return subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    pids = [int(p) for p in children]
    # multiprocessing may start a resource tracker next to the workers; it serves nothing.
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def wait_until_serving(server: subprocess.Popen[bytes], port: int, workers: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        pids = workers_of(server)
        if len(pids) == workers and all(listening(pid, port) for pid in pids):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert r.status == 200
            return pids
        time.sleep(0.1)
    output = server.stdout.read().decode() if server.stdout and server.poll() is not None else ""
    raise AssertionError(f"not serving with {workers} workers: {output}")


def tcp_sockets(pid: int, port: int) -> list[tuple[str, str]]:
    """(state, inode) of the process's TCP sockets whose local port is `port` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[9] in inodes:
            found.append((fields[3], fields[9]))  # state: 0A listening, 01 established
    return found


def listening(pid: int, port: int) -> list[str]:
    return [inode for state, inode in tcp_sockets(pid, port) if state == "0A"]


@pytest.mark.skipif(not serving.reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux's")
def test_each_worker_listens_on_its_own_socket_and_connections_reach_both() -> None:
    port = free_port()
    server = start_app(port, workers=2)
    try:
        pids = wait_until_serving(server, port, workers=2)
        sockets = [listening(pid, port) for pid in pids]
        assert all(len(s) == 1 for s in sockets) and sockets[0] != sockets[1]
        # 32 keep-alive connections opened at once: with one shared socket the first worker to
        # wake could take them all; the kernel spreads them across the two sockets (all on one
        # worker has a chance of 2 in 2**32).
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(32)]
        for c in connections:
            c.connect()
        for c in connections:
            c.request("GET", "/healthz")
        for c in connections:
            assert c.getresponse().read()
        held = [sum(1 for state, _ in tcp_sockets(pid, port) if state == "01") for pid in pids]
        assert sum(held) == 32 and min(held) > 0, held
        for c in connections:
            c.close()
        server.send_signal(signal.SIGTERM)  # graceful: the supervisor stops its workers
        assert server.wait(timeout=15) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        assert server.stdout is not None
        server.stdout.close()


@pytest.mark.skipif(not serving.reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux's")
def test_connections_accepted_by_asyncio_on_a_worker_socket_have_tcp_nodelay() -> None:
    # asyncio turns Nagle off only for sockets that name IPPROTO_TCP; with it on, an answer
    # written as head then body waited for the client's delayed ACK (~40 ms each).
    sock = serving.reuse_port_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    seen: list[int] = []

    async def accept_one() -> None:
        accepted = asyncio.Event()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                conn = transport.get_extra_info("socket")
                seen.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()
                accepted.set()

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        port = sock.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), timeout=5)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(accept_one())
    assert seen and seen[0] != 0


@pytest.mark.skipif(not serving.reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux's")
def test_a_port_already_taken_stops_start_up_with_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = start_app(port, workers=2)
        try:
            code = server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert server.stdout is not None
        output = server.stdout.read().decode()
        server.stdout.close()
    assert code == STARTUP_FAILURE
    assert f"Could not bind 127.0.0.1:{port}" in output


@pytest.mark.parametrize(
    ("workers", "supported", "plain"), [(1, True, True), (2, False, True), (2, True, False)]
)
def test_plain_uvicorn_serves_one_worker_or_where_reuse_port_does_not_balance(
    monkeypatch: pytest.MonkeyPatch, workers: int, supported: bool, plain: bool
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(serving, "reuse_port_supported", lambda: supported)
    monkeypatch.setattr(serving.uvicorn, "run", lambda app, **kw: calls.append("uvicorn.run"))

    class Supervisor:
        def __init__(self, config: object, sockets: list[socket.socket]) -> None:
            assert sockets == []  # each worker binds its own

        def run(self) -> None:
            calls.append("reuse_port")

    monkeypatch.setattr(serving.multiprocess, "Multiprocess", Supervisor)
    monkeypatch.setattr(serving.multiprocess, "Process", serving.multiprocess.Process)
    serving.run("app.main:app", host="127.0.0.1", port=free_port(), workers=workers)
    assert calls == (["uvicorn.run"] if plain else ["reuse_port"])
